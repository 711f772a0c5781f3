"""The yearly schedule: a deployment of the yearly ingest flow, served against a running Prefect server.

A scheduled run ingests every new file in the inbox (files often carry several years, and revisions
of earlier years are welcome as new vintages), then checks that the reference year — by default the
previous calendar year — has figures in every dataset. Missing datasets make the run Failed, naming
them, so the operator sees in the UI that the department's workbooks have not arrived yet.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.runtime import flow_run
from prefect.states import Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from flows.ingest import FileOutcome, exclusive, finish_state, flow_failure, ingest_paths
from flows.settings import Settings, load_settings
from schemas.errors import NiengiamError, UsageError
from warehouse import db, load
from warehouse.archive import find_inputs

DEFAULT_CRON = "0 8 15 1 *"  # 08:00 on 15 January: the department's figures for last year are in by then
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
DEPLOYMENT_NAME = "yearly"


def previous_year(timezone: str = DEFAULT_TIMEZONE, now: datetime | None = None) -> int:
    """The previous calendar year, as it is in `timezone` (now, unless `now` is given)."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).year - 1


def _yearly_run_name() -> str:
    year = flow_run.parameters.get("reference_year") or previous_year()
    return f"yearly-{year}"


@task
def check_year(settings: Settings, reference_year: int) -> dict[str, tuple[int, int]]:
    """Per dataset: current rows for the reference year and for any year."""
    with db.reading(settings.database, settings.lock_timeout_s) as con:
        return load.year_coverage(con, reference_year)


def year_state(
    reference_year: int, outcomes: list[FileOutcome], coverage: dict[str, tuple[int, int]], inbox: Path
) -> State:
    """Failed when a file failed, or a dataset the warehouse holds has no figures for the year.

    The datasets expected are those the warehouse already holds for some year (every dataset while it
    is empty): a province that never sends one dataset is not reminded of it every year.
    """
    expected = [name for name, (_, ever) in coverage.items() if ever] or list(coverage)
    missing = [name for name in expected if not coverage[name][0]]
    have = ", ".join(f"{name} {rows} rows" for name, (rows, _) in coverage.items() if rows) or "nothing"
    state = finish_state(outcomes, note=f"; {reference_year}: {have}")
    if missing and state.is_completed():
        return Failed(data=outcomes, message=(
            f"no figures for {reference_year} yet in: {', '.join(missing)} ({len(outcomes)} file(s) handled)."
            f" Put the workbooks in {inbox} and run the deployment again."
        ))
    return state


@flow(name="niengiam-yearly", flow_run_name=_yearly_run_name, task_runner=ThreadPoolTaskRunner(max_workers=2))
def yearly_ingest(reference_year: int | None = None, home: str | None = None, database: str | None = None) -> State:
    """The scheduled run: ingest the inbox, then check that the reference year has figures in every dataset."""
    settings = load_settings(home=Path(home) if home else None).with_database(Path(database) if database else None)
    year = reference_year or previous_year()
    files = [str(p) for p in find_inputs([settings.inbox])] if settings.inbox.is_dir() else []
    try:
        with exclusive(settings, progress=True):
            outcomes = ingest_paths(files, settings) if files else []
            coverage = check_year(settings, year)
    except NiengiamError as exc:
        return flow_failure(f"yearly-{year}", exc)
    return year_state(year, outcomes, coverage, settings.inbox)


def yearly_schedule(cron: str, timezone: str) -> Any:
    """The Cron schedule, or a UsageError saying what a valid one looks like."""
    from prefect.schedules import Cron

    try:
        ZoneInfo(timezone)
        return Cron(cron, timezone=timezone)
    except Exception as exc:  # pydantic and zoneinfo say it in their own words
        raise UsageError(
            f"not a valid schedule: cron {cron!r}, timezone {timezone!r}",
            hint="Give five cron fields (minute hour day month weekday) and an IANA zone such as Asia/Ho_Chi_Minh.",
        ) from exc


def check_server(api_url: str | None) -> str:
    """The Prefect API address, after checking that a server answers there."""
    import httpx

    start = "Start one with 'prefect server start --host 127.0.0.1 --port 4200'"
    if not api_url:
        raise UsageError(
            "serve needs a running Prefect server and PREFECT_API_URL pointing at it",
            hint=f"{start}, then set PREFECT_API_URL=http://127.0.0.1:4200/api.",
        )
    try:
        httpx.get(f"{api_url.rstrip('/')}/health", timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        raise UsageError(f"no Prefect server answers at {api_url} ({exc})", hint=f"{start}.") from exc
    return api_url


def serve_yearly(settings: Settings, schedule: Any, name: str = DEPLOYMENT_NAME) -> None:
    """Register the yearly deployment and run its scheduled runs until SIGTERM or Ctrl-C."""
    from prefect.deployments.runner import EntrypointType

    yearly_ingest.serve(
        name=name,
        schedule=schedule,
        parameters={"home": str(settings.home), "database": str(settings.database)},
        description="Ingest the inbox and check the reference year (default: the previous calendar year).",
        tags=["niengiam"],
        pause_on_shutdown=True,
        print_starting_message=False,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
