"""Commands that write files from the warehouse: report (HTML + Excel) and export (CSV, Parquet, SDMX-CSV)."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from flows.cli import common_options
from flows.commands_query import LANG_OPTION, read_timeout, warehouse_path

_PERIOD = re.compile(r"^\s*(\d{4})\s*[-–]\s*(\d{4})\s*$")
DEFAULT_PERIOD_YEARS = 5
EXPORT_FORMATS = ("csv", "parquet", "sdmx")
FIGURE_TABLES = ("industrial_by_year", "industrial_structure", "trade_by_year", "awards")  # one row = one figure


def _steps(label: str, steps: list[tuple[str, Callable[[], Any]]]) -> list[Any]:
    """Run named steps under a progress bar on stderr; returns their results."""
    results = []
    with click.progressbar(steps, label=label, file=sys.stderr, item_show_func=lambda s: s[0] if s else "") as bar:
        for _name, step in bar:
            results.append(step())
    return results


# --- report ------------------------------------------------------------------------------------------


def parse_period(period: str | None, year: int, available: list[int]) -> tuple[int, int]:
    """'2010-2015' -> (2010, 2015); by default the five years before the report year (those with figures)."""
    from schemas.errors import UsageError

    if period is None:
        earlier = [y for y in available if year - DEFAULT_PERIOD_YEARS <= y <= year]
        return (min(earlier) if earlier else year), year
    match = _PERIOD.match(period)
    if not match:
        raise UsageError(f"--period {period!r} is not a range of years.", hint="Write it like 2010-2015.")
    first, last = int(match.group(1)), int(match.group(2))
    if first > last:
        raise UsageError(f"--period {period}: the first year is after the last")
    if not first <= year <= last:
        raise UsageError(f"--year {year} is outside --period {period}")
    return first, last


def choose_province(coverage: dict[str, list[int]], province: str | None) -> str:
    """The province to report on: the one asked for, or the only one in the warehouse."""
    from schemas.catalogs import load_catalog
    from schemas.errors import UsageError

    if not coverage:
        raise UsageError("the warehouse holds no figures yet.", hint="Run 'niengiam ingest' first.")
    if province is None:
        if len(coverage) > 1:
            raise UsageError("the warehouse holds several provinces: choose one with --province.",
                             hint="Known: " + ", ".join(sorted(coverage)) + ".")
        return next(iter(coverage))
    code = load_catalog("provinces").lookup(province)
    if code not in coverage:
        raise UsageError(f"no figures for province {province!r} in the warehouse.",
                         hint="Known: " + ", ".join(sorted(coverage)) + ".")
    return code


def check_year(year: int, years: list[int]) -> None:
    """Refuse a report year without figures, naming the years there are."""
    from schemas.errors import UsageError

    if year not in years:
        span = f"{years[0]}–{years[-1]}" if years else "none"
        raise UsageError(f"there are no figures for {year} in the warehouse (years with figures: {span})")


def prepare_folder(folder: Path) -> Path:
    """Create the output folder, or say plainly why it cannot be."""
    from schemas.errors import UsageError

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file, not a folder.", hint="Choose another --output.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the folder {folder}: {exc.strerror}") from exc
    return folder


@click.command()
@click.option("--year", type=int, required=True, help="The report year (shown in detail).")
@click.option("--period", help="Years in the charts, e.g. 2010-2015 [default: the five years before --year].")
@click.option("--province", help="Province code or name, when the warehouse holds several.")
@LANG_OPTION
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the report files [default: HOME/reports].")
@common_options
def report(settings: Any, year: int, period: str | None, province: str | None, lang: str,
           output: Path | None) -> None:
    """Write the yearly report: one self-contained HTML file with charts, and an Excel workbook.

    Charts and tables cover industrial output and growth, trade, and awards by level and recipient kind;
    each figure shows its status (final, preliminary, estimate) and source; a notes part lists sources,
    statuses and revisions.

    Example: niengiam report --year 2015 --period 2010-2015 --lang en -o reports/
    """
    from warehouse.report import coverage

    database, timeout = warehouse_path(settings), read_timeout(settings)
    known = coverage(database, timeout)
    code = choose_province(known, province)
    check_year(year, known[code])
    first, last = parse_period(period, year, known[code])
    folder = prepare_folder(output or settings.home / "reports")
    html_path, xlsx_path = folder / f"report-{year}-{lang}.html", folder / f"report-{year}-{lang}.xlsx"
    state: dict[str, Any] = {}
    _steps("Writing the report", [
        ("figures", lambda: state.update(data=_fetch(database, code, first, last, timeout))),
        ("layout", lambda: state.update(model=_build(state["data"], code, year, first, last, lang))),
        ("html", lambda: _write_html(state["model"], html_path)),
        ("excel", lambda: _write_xlsx(state["model"], xlsx_path)),
    ])
    figures = sum(len(state["data"][key]) for key in FIGURE_TABLES)
    click.echo(f"Report {year} ({first}–{last}, {lang}): {figures} figures from {len(state['data']['sources'])}"
               f" source files, {len(state['data']['revisions'])} revised")
    click.echo(f"  {html_path}\n  {xlsx_path}")


def _fetch(database: Path, province: str, first: int, last: int, timeout: float) -> dict[str, list[dict]]:
    from warehouse.report import fetch_report_data

    return fetch_report_data(database, province, first, last, timeout)


def _build(data: dict[str, list[dict]], province: str, year: int, first: int, last: int, lang: str) -> Any:
    from niengiam.report_model import build_report

    return build_report(data, province, year, first, last, lang)


def _write_html(model: Any, path: Path) -> None:
    from niengiam.report_html import render_html

    _write_file(path, lambda: path.write_text(render_html(model), encoding="utf-8"))


def _write_xlsx(model: Any, path: Path) -> None:
    from niengiam.report_xlsx import write_report_workbook

    _write_file(path, lambda: write_report_workbook(path, model))


def _write_file(path: Path, write: Callable[[], Any]) -> None:
    from schemas.errors import UsageError

    try:
        write()
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}.",
                         hint="Close the file if another program has it open, or choose another --output.") from exc


# --- export ------------------------------------------------------------------------------------------


@click.command()
@click.option("--format", "formats", type=click.Choice(EXPORT_FORMATS), multiple=True,
              help="csv, parquet or sdmx; repeat for several [default: all three].")
@click.option("--view", "views", multiple=True, help="Only this reporting view (repeatable) [default: all].")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the files [default: HOME/exports].")
@common_options
def export(settings: Any, formats: tuple[str, ...], views: tuple[str, ...], output: Path | None) -> None:
    """Export the reporting views to CSV and Parquet, and the published figures to SDMX-CSV.

    SDMX-CSV files (one per dataflow) carry OBS_STATUS A (final), P (preliminary) or E (estimate), for
    a PxWeb or .Stat portal. CSV text that a spreadsheet would run as a formula is prefixed with '.

    Example: niengiam export --format csv --format sdmx --output exports/
    """
    from warehouse.report import reporting_view_names

    database, timeout = warehouse_path(settings), read_timeout(settings)
    chosen = list(formats or EXPORT_FORMATS)
    folder = prepare_folder(output or settings.home / "exports")
    names = [v.removeprefix("reporting.") for v in views] or reporting_view_names(database, timeout)
    written: dict[str, int] = {}
    table_formats = [f for f in chosen if f != "sdmx"]
    if table_formats:
        with click.progressbar(length=len(names), label="Exporting views", file=sys.stderr) as bar:
            for name, table in _views(database, names, timeout):
                for fmt in table_formats:
                    written[fmt] = written.get(fmt, 0) + 1
                    _write_file(folder / fmt / f"{name}.{fmt}", functools.partial(_export, fmt, table, folder, name))
                bar.update(1)
    if "sdmx" in chosen:
        written["sdmx"] = _export_sdmx(database, folder / "sdmx", timeout)
    parts = ", ".join(f"{count} {fmt.upper()}" for fmt, count in written.items())
    click.echo(f"Exported {parts} file(s) to {folder}")


def _views(database: Path, names: list[str], timeout: float) -> Iterator[tuple[str, Any]]:
    from warehouse.report import iter_views

    return iter_views(database, names, timeout)


def _export(fmt: str, table: Any, folder: Path, name: str) -> None:
    path = folder / fmt / f"{name}.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        from flows.output import write_parquet

        write_parquet(table, path)
        return
    from niengiam.tabular import write_csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        write_csv(handle, table.column_names, (row.values() for row in table.to_pylist()))


def _export_sdmx(database: Path, folder: Path, timeout: float) -> int:
    from niengiam.sdmx import sdmx_tables
    from niengiam.tabular import write_csv
    from warehouse.report import sdmx_observations

    folder.mkdir(parents=True, exist_ok=True)
    tables = sdmx_tables(sdmx_observations(database, timeout))
    for flow_id, (columns, rows) in tables.items():
        path = folder / f"{flow_id}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            write_csv(handle, columns, rows)
    return len(tables)


COMMANDS = [report, export]
