"""Commands for the operator: serve the yearly schedule, backfill years of history, re-run failed loads."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import click

from flows.cli import EXIT_PROBLEMS, EXIT_USAGE, common_options


def run_flow(flow_name: str, settings: Any, **parameters: Any) -> list[Any]:
    """Run one of the ingest flows with settings.workers readers; the outcomes of its files.

    Prefect's temporary server is started first (flows.prefect_server). While it starts, the files the
    flow names (`paths`: ingest, demo, backfill) are hashed and parsed (flows.early: many in a process,
    a few here); the flow takes those results only for the very bytes it archives.
    """
    from flows.commands_ingest import outcomes_of  # here, not at the top: cli imports both modules
    from flows.early import early_start
    from flows.parsing import frozen_when_done
    from flows.settings import prepare_prefect_env

    prepare_prefect_env(settings)
    named = parameters.get("paths") or []  # files named up front (ingest, backfill): start on them at once
    with early_start(named, settings, parameters.get("province"), parameters.get("years")) as ahead:
        from flows import prefect_server

        # Prefect's start without garbage collection (≈ 400,000 objects: each full pass cost 0.2–0.4 s
        # of the writer's core, 2.4–2.6 s in a national backfill, 0.8 s since)
        with frozen_when_done():
            with prefect_server.started_ahead() as starting:
                from flows import ingest as flows_ingest

                if ahead is not None:
                    ahead.parse_here(starting)
            # after the hand-over: PREFECT_API_URL names the server, for a Dask runner's workers too
            flow_object = flows_ingest.with_workers(getattr(flows_ingest, flow_name), settings)
        state = flow_object(settings=settings, return_state=True, **parameters)
    return outcomes_of(state)


def _finish(outcomes: list[Any], usage_problem: str = "") -> None:
    """The summary, then exit 2 on a user mistake, 1 when a file was rejected or failed."""
    from flows.commands_ingest import print_summary

    print_summary(outcomes)
    outside = [o for o in outcomes if o.status == "outside"]
    if outside:
        click.echo(f"         {len(outside)} file(s) outside the years asked for: reported, not loaded")
    if usage_problem:
        click.echo(f"niengiam: {usage_problem}", err=True)
        sys.exit(EXIT_USAGE)
    if any(o.status in ("rejected", "failed") for o in outcomes):
        sys.exit(EXIT_PROBLEMS)


def _tuned(settings: Any, **options: Any) -> Any:
    changes = {k: v for k, v in options.items() if v is not None}
    return dataclasses.replace(settings, **changes)


def _readers(settings: Any) -> str:
    """Who reads and parses, for the progress line (parse processes are announced when they start)."""
    if settings.dask_address:
        return f"reading on the Dask cluster at {settings.dask_address}"
    if settings.dask_workers:
        return f"reading on a local Dask cluster of {settings.dask_workers} processes"
    return f"{settings.workers} reading at a time"


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--from", "first_year", type=int, required=True, help="First reference year to load.")
@click.option("--to", "last_year", type=int, required=True, help="Last reference year to load.")
@click.option("--workers", type=click.IntRange(1, 32), help="Files read and parsed at a time [default: 2].")
@click.option("--batch-size", type=click.IntRange(1, 1000), help="Files per read task and per write [default: about 14 batches a run, of 10 to 150 files].")
@click.option("--dask-workers", type=click.IntRange(0, 256), metavar="N",
              help="Read and parse on a local Dask cluster of N processes; 0 = threads [env: NIENGIAM_DASK_WORKERS].")
@click.option("--dask-address", metavar="ADDR",
              help="Read and parse on the Dask scheduler at ADDR, e.g. tcp://10.0.0.5:8786 (needs PREFECT_API_URL)"
                   " [env: NIENGIAM_DASK_ADDRESS].")
@click.option("--province", help="Province code or name for files that do not state it.")
@click.option("--quiet", is_flag=True, help="Print only the summary.")
@common_options
def backfill(
    settings: Any, paths: tuple[Path, ...], first_year: int, last_year: int, workers: int | None,
    batch_size: int | None, dask_workers: int | None, dask_address: str | None, province: str | None, quiet: bool,
) -> None:
    """Load years of history from many files (default: the inbox) in one run.

    Files are read, parsed and validated several at a time; one writer loads them, each file in its
    own transaction, so a bad file does not stop the others. Files holding figures outside the years
    are reported, not loaded. Files already loaded are skipped. Exit code 1 when a file was rejected
    or failed. With --dask-workers or --dask-address, reading and parsing run on Dask workers
    (docs/scaling.md); the writer stays in this process.

    Example: niengiam backfill --from 2010 --to 2015 old-yearbooks/
    """
    from flows.commands_ingest import _resolve_province
    from schemas.errors import UsageError

    if first_year > last_year:
        raise UsageError(f"--from {first_year} is after --to {last_year}")
    files = _input_files(settings, list(paths))
    if not files:
        click.echo("nothing to backfill", err=True)
        return
    settings = _tuned(settings, workers=workers, batch_size=batch_size, dask_workers=dask_workers,
                      dask_address=dask_address)
    if not quiet:
        click.echo(f"Backfilling {first_year}–{last_year} from {len(files)} file(s), "
                   f"{_readers(settings)}, into {settings.database} …", err=True)
    outcomes = run_flow(
        "ingest", settings, paths=[str(f) for f in files], label=f"backfill-{first_year}-{last_year}",
        province=_resolve_province(province), progress=not quiet, years=(first_year, last_year),
    )
    _finish(outcomes)


def _input_files(settings: Any, paths: list[Path]) -> list[Path]:
    """The spreadsheets among the given files and folders, or in the inbox."""
    from schemas.errors import UsageError
    from warehouse.archive import find_inputs

    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {missing[0]}")
    if not paths and not settings.inbox.is_dir():
        raise UsageError(f"the inbox {settings.inbox} does not exist", hint="Put files there or name them.")
    return find_inputs(paths or [settings.inbox])


@click.command()
@click.argument("load_ids", nargs=-1, type=click.IntRange(min=1))
@click.option("--failed", "every_failed", is_flag=True,
              help="Re-run every load whose last attempt failed (or was interrupted) or was rejected.")
@click.option("--only", type=click.Choice(["failed", "rejected"]), help="With --failed: only this state.")
@click.option("--province", help="Province code or name for files that do not state it.")
@click.option("--quiet", is_flag=True, help="Print only the summary.")
@common_options
def rerun(
    settings: Any, load_ids: tuple[int, ...], every_failed: bool, only: str | None, province: str | None, quiet: bool
) -> None:
    """Re-run failed or rejected loads from the archived raw file, with the current specs and contracts.

    Each new attempt is a ledger row linked to the first attempt (retry_of, attempt). A load whose
    last attempt succeeded is left alone. The inbox copy is not needed: the archive keeps every file.

    Example: niengiam rerun --failed
    """
    from flows.commands_ingest import _resolve_province
    from schemas.errors import UsageError

    if bool(load_ids) == every_failed:
        raise UsageError("give load ids or --failed (one of the two)", hint="'niengiam status' lists the loads.")
    if only and not every_failed:
        raise UsageError("--only goes with --failed")
    outcomes = run_flow(
        "rerun", settings, load_ids=list(load_ids) or None, label="failed" if every_failed else "loads",
        states=(only,) if only else ("failed", "rejected"), province=_resolve_province(province), progress=not quiet,
    )
    if not outcomes:
        click.echo("No load to re-run: no load's last attempt failed or was rejected.")
        return
    unknown = "; ".join(o.message for o in outcomes if o.status == "unknown")
    _finish([o for o in outcomes if o.status != "unknown"], unknown)


@click.command()
@click.option("--cron", default=None, help="When to run, five cron fields [default: 0 8 15 1 * = 15 Jan, 08:00].")
@click.option("--timezone", default=None, help="Time zone of the schedule [default: Asia/Ho_Chi_Minh].")
@click.option("--name", default=None, help="Deployment name [default: yearly].")
@click.option("--api-url", envvar="PREFECT_API_URL", help="The Prefect server's API [env: PREFECT_API_URL].")
@common_options
def serve(settings: Any, cron: str | None, timezone: str | None, name: str | None, api_url: str | None) -> None:
    """Register the yearly ingestion on a Prefect server and run it when scheduled, until stopped.

    Each run ingests the inbox, then checks that the reference year (parameter reference_year,
    default the previous calendar year) has figures in every dataset. Needs a running server
    ('prefect server start --host 127.0.0.1 --port 4200', then
    PREFECT_API_URL=http://127.0.0.1:4200/api). Stop with Ctrl-C or SIGTERM: the schedule is paused
    until serve runs again.

    Example: niengiam serve --cron "0 8 15 1 *" --timezone Asia/Ho_Chi_Minh
    """
    import os

    from flows import schedule
    from flows.settings import prepare_prefect_env

    cron, timezone = cron or schedule.DEFAULT_CRON, timezone or schedule.DEFAULT_TIMEZONE
    when = schedule.yearly_schedule(cron, timezone)
    os.environ["PREFECT_API_URL"] = schedule.check_server(api_url)
    prepare_prefect_env(settings)
    name = name or schedule.DEPLOYMENT_NAME
    ui = api_url.rstrip("/").removesuffix("/api")  # type: ignore[union-attr]
    click.echo(
        f"Serving 'niengiam-yearly/{name}': cron '{cron}' ({timezone}), inbox {settings.inbox}.\n"
        f"Prefect UI: {ui}  ·  run it now: prefect deployment run 'niengiam-yearly/{name}'"
        " -p reference_year=YYYY\nStop with Ctrl-C.",
        err=True,
    )
    try:
        schedule.serve_yearly(settings, when, name)
    finally:  # Prefect's runner may end a SIGTERM with SystemExit(0)
        click.echo("Stopped serving; the schedule is paused until 'niengiam serve' runs again.", err=True)


COMMANDS = [serve, backfill, rerun]
