"""Commands for rejected files: show the problems of a load, export an annotated copy to correct."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from flows.cli import common_options
from flows.output import render


@click.group()
def quarantine() -> None:
    """Problems of rejected files, and annotated copies to correct and send again.

    Example: niengiam quarantine export 12
    """


@quarantine.command("show")
@click.argument("load_id", type=int)
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@common_options
def show(settings: Any, load_id: int, output_format: str) -> None:
    """List the problems recorded for a load: sheet, cell, rule and message in Vietnamese and English.

    Example: niengiam quarantine show 12
    """
    from warehouse.db import reading
    from warehouse.quarantine import quarantined_load

    with reading(settings.database, settings.lock_timeout_s) as con:
        found = quarantined_load(con, load_id)
    columns = ["severity", "sheet", "cell", "rule", "message_vi", "message"]
    rows = [tuple(p[c] for c in columns) for p in found.problems]
    click.echo(f"Load {load_id}: {found.file_name} ({found.status}), {len(rows)} problem(s)", err=True)
    click.echo(render(columns, rows, output_format), nl=False)


@quarantine.command("export")
@click.argument("load_id", type=int)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the annotated copy [default: HOME/quarantine/load-ID/<file name>.xlsx].")
@common_options
def export(settings: Any, load_id: int, output: Path | None) -> None:
    """Write an annotated copy of a rejected file: bad cells highlighted, each with a comment in Vietnamese
    and English, and a first sheet listing every problem.

    Correct the copy and ingest it again under the same file name: the new load is linked to the rejected
    one in the ledger (meta.loads.corrects_load_id).

    Example: niengiam quarantine export 12 --output phu-tho_2014_gia-tri-sxcn.xlsx
    """
    from schemas.annotate import write_annotated
    from schemas.errors import UsageError
    from schemas.grid import read_workbook
    from warehouse.db import reading
    from warehouse.quarantine import quarantined_load

    with reading(settings.database, settings.lock_timeout_s) as con:
        found = quarantined_load(con, load_id)
    if not found.archive_path.is_file():
        raise UsageError(f"the archived copy of {found.file_name} is missing: {found.archive_path}",
                         hint="Restore the archive folder, or ingest the original file again.")
    target = output or settings.home / "quarantine" / f"load-{load_id}" / f"{Path(found.file_name).stem}.xlsx"
    if target.suffix.lower() != ".xlsx":
        raise UsageError(f"the annotated copy is an .xlsx workbook; give a name ending in .xlsx, not {target.name}")
    book = read_workbook(found.archive_path, found.file_name)
    write_annotated(book, found.problems, target)
    located = sum(1 for p in found.problems if p.get("cell"))
    click.echo(f"Wrote {target}: {len(found.problems)} problem(s), {located} marked on their cells.")
    click.echo("Correct the highlighted cells, then run: niengiam ingest " + str(target))


COMMANDS = [quarantine]
