"""Commands that load data: ingest and demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from flows.cli import EXIT_PROBLEMS, common_options
from flows.output import render


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--province", help="Province code or name for files that do not state it (e.g. 25 or 'Phú Thọ').")
@click.option("--quiet", is_flag=True, help="Print only the summary.")
@common_options
def ingest(settings: Any, paths: tuple[Path, ...], province: str | None, quiet: bool) -> None:
    """Load spreadsheet files (default: everything in the inbox) into the warehouse.

    Each file is archived untouched, read, parsed by a layout spec, validated and loaded in one
    transaction. Files already loaded are skipped. Exit code 1 when a file was rejected or failed.

    Example: niengiam ingest niengiam-home/inbox/phu-tho_2014_gia-tri-sxcn.xlsx
    """
    outcomes = run_ingest(settings, list(paths), province, progress=not quiet)
    print_summary(outcomes)
    if any(o.status in ("rejected", "failed") for o in outcomes):
        sys.exit(EXIT_PROBLEMS)


def _resolve_province(province: str | None) -> str | None:
    if province is None:
        return None
    from schemas.catalogs import load_catalog
    from schemas.errors import UsageError

    code = load_catalog("provinces").lookup(province)
    if code is None:
        raise UsageError(f"unknown province {province!r}", hint="Use a GSO code such as 25, or a name such as 'Phú Thọ'.")
    return code


def run_ingest(settings: Any, paths: list[Path], province: str | None, progress: bool = True) -> list[Any]:
    """Find the input files and run the ingest flow over them; returns one outcome per file."""
    from schemas.errors import UsageError
    from warehouse.archive import find_inputs

    code = _resolve_province(province)
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {missing[0]}")
    sources = paths or [settings.inbox]
    if not paths and not settings.inbox.exists():
        raise UsageError(f"the inbox {settings.inbox} does not exist", hint="Put files there or name them.")
    files = find_inputs(sources)
    if not files:
        click.echo(f"nothing to ingest in {', '.join(map(str, sources))}", err=True)
        return []
    label = sources[0].name if len(sources) == 1 else f"{len(files)}-files"
    from flows.commands_ops import run_flow

    if progress:
        click.echo(f"Ingesting {len(files)} file(s) into {settings.database} …", err=True)
    return run_flow("ingest", settings, paths=[str(f) for f in files], label=label, province=code, progress=progress)


def outcomes_of(state: Any) -> list[Any]:
    """The per-file outcomes of a finished flow run; a run that crashed becomes one clear error."""
    from schemas.errors import NiengiamError

    result = state.result(raise_on_failure=False)
    if isinstance(result, NiengiamError):
        raise result
    if isinstance(result, BaseException):
        raise NiengiamError(
            f"the ingestion stopped before any file was handled ({type(result).__name__}: {result})",
            hint="Run again with --debug for details; nothing was loaded.",
        ) from result
    return list(result)


def print_summary(outcomes: list[Any]) -> None:
    """One line per file, then the problems of rejected files, then the totals."""
    if not outcomes:
        return
    counts: dict[str, int] = {}
    click.echo("")
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
        detail = f"{o.rows} rows, {o.datasets} {o.years}" if o.status == "loaded" else o.message
        load = f"load {o.load_id}" if o.load_id else ""
        click.echo(f"  {o.status:<9} {o.file}  {load}  {detail}".rstrip())
        for text in o.problems[:5]:
            click.echo(f"            - {text}")
    order = ["loaded", "skipped", "rejected", "failed"]
    click.echo("Summary: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in order))


@click.command()
@click.option("--province", default="25", show_default=True, hidden=True)
@common_options
def demo(settings: Any, province: str) -> None:
    """Write the sample Phú Thọ workbooks (2010–2015) into the inbox, ingest them and show a report.

    Running it again changes nothing: the same files are recognised by their hash and skipped.

    Example: niengiam demo
    """
    from niengiam.samples import write_samples

    settings.inbox.mkdir(parents=True, exist_ok=True)
    written = write_samples(settings.inbox)
    click.echo(f"Sample workbooks: {len(written)} files in {settings.inbox}", err=True)
    outcomes = run_ingest(settings, [settings.inbox], None)
    print_summary(outcomes)
    print_demo_report(settings)
    if any(o.status in ("rejected", "failed") for o in outcomes):
        sys.exit(EXIT_PROBLEMS)


def print_demo_report(settings: Any) -> None:
    """A short report from the warehouse, and how to query it."""
    from warehouse.query import run_query

    click.echo("\nIndustrial output, all industries, current prices (tỷ đồng):")
    columns, rows = run_query(
        settings.database,
        "select reference_year, value_bn_vnd, status, yoy_growth_pct from reporting.rpt_industrial_output_by_year",
    )
    click.echo(render(columns, rows, "table"), nl=False)
    click.echo("\nAwards 2010–2015 by recipient kind:")
    columns, rows = run_query(
        settings.database,
        "select award_name, award_level, sum(award_count) filter (where recipient_kind = 'collective') as collectives,"
        " sum(award_count) filter (where recipient_kind = 'individual') as individuals"
        " from reporting.rpt_awards group by all order by award_level, award_name",
    )
    click.echo(render(columns, rows, "table"), nl=False)
    home = f" --home {settings.home}" if settings.home != Path("niengiam-home").absolute() else ""
    click.echo(
        "\nQuery it yourself, for example:\n"
        f"  .venv/bin/niengiam sql{home} \"select * from reporting.rpt_trade_by_year\"\n"
        f"  .venv/bin/niengiam sql{home} \"select * from reporting.observations limit 10\"\n"
        f"  .venv/bin/niengiam status{home}"
    )



COMMANDS = [ingest, demo]
