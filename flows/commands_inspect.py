"""The inspect command: what a workbook holds, and a starting layout spec for one of its sheets.

It reads files only (no warehouse, no Prefect), so it starts fast and is safe to run on anything.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from flows.cli import EXIT_PROBLEMS, EXIT_USAGE


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--sheet", help="Show only this sheet.")
@click.option("--rows", default=5, show_default=True, help="How many data rows to show per table.")
@click.option("--write-spec", "spec_sheet", metavar="SHEET",
              help="Write a starting layout spec (TOML) for this sheet instead of the report.")
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="Write the spec to this file (default: print it). Put it in HOME/layouts to use it.")
@click.option("--debug", is_flag=True, help="Show the full traceback when something goes wrong.")
def inspect(path: Path, sheet: str | None, rows: int, spec_sheet: str | None, output: Path | None,
            debug: bool) -> None:
    """Show the sheets of a spreadsheet (hidden ones marked), each table's title, header band and first
    data rows, with legacy-encoded text (TCVN3, VNI) decoded to Unicode.

    With --write-spec SHEET, write a starting layout spec for that sheet, to review and save in
    HOME/layouts/, so that 'niengiam ingest' reads files like this one.

    Example: niengiam inspect Bieu-T12.2024.xlsx --write-spec 10.IIPthang
    """
    from schemas.errors import NiengiamError, UsageError

    try:
        _run(path, sheet, rows, spec_sheet, output)
    except NiengiamError as exc:
        if debug:
            raise
        click.echo(f"niengiam: {exc}", err=True)
        sys.exit(EXIT_USAGE if isinstance(exc, UsageError) else EXIT_PROBLEMS)


def _run(path: Path, sheet: str | None, rows: int, spec_sheet: str | None, output: Path | None) -> None:
    from schemas.errors import UsageError
    from schemas.grid import read_workbook
    from schemas.inspect import describe, format_report

    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    book = read_workbook(path)
    names = [s.name for s in book.sheets]
    for wanted in (sheet, spec_sheet):
        if wanted is not None and wanted not in names:
            raise UsageError(f"the file has no sheet {wanted!r}", hint=f"Its sheets are: {', '.join(names)}.")
    if spec_sheet is not None:
        _write_spec(book, spec_sheet, output)
        return
    click.echo(format_report(book, describe(book, rows, sheet)), nl=False)


def _write_spec(book: Any, sheet: str, output: Path | None) -> None:
    from schemas.errors import UsageError
    from schemas.inspect import starting_spec

    try:
        text = starting_spec(book, sheet)
    except ValueError as exc:
        raise UsageError(str(exc), hint="Choose a sheet that holds a table of figures.") from exc
    if output is None:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote a starting spec for sheet '{sheet}' to {output}; review it, then put it in HOME/layouts.",
               err=True)


COMMANDS = [inspect]
