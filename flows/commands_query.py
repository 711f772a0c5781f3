"""Commands that read the warehouse: sql, status and tables. They never import Prefect or pandas."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from flows.cli import EXIT_PROBLEMS, common_options
from flows.output import FILE_FORMATS, TEXT_FORMATS, render

LANG_OPTION = click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
                           help="Language of names and descriptions.")
SHELL_HELP = """Type SQL ending with ';' (it may span several lines). Commands:
  .tables   list the reporting views      .help   this text      .quit   leave (or Ctrl-D)"""


def warehouse_path(settings: Any) -> Path:
    """The database file readers open: the readers' snapshot when there is one (never blocks an ingest)."""
    from warehouse.db import reader_database

    return reader_database(settings)


def ledger_path(settings: Any) -> Path:
    """The live warehouse, so that running and interrupted loads show; the snapshot while a writer holds it."""
    from schemas.errors import TransientError
    from warehouse.db import open_database, reader_database

    try:
        open_database(settings.database, read_only=True, timeout_s=2.0).close()
        return settings.database
    except TransientError:
        click.echo("note: an ingestion is writing; showing the loads as of the last finished one", err=True)
        return reader_database(settings)


def read_timeout(settings: Any) -> float:
    """How long a reader waits for a writer's lock before saying so."""
    return min(settings.lock_timeout_s, 10.0)


# --- sql ---------------------------------------------------------------------------------------------


@click.command()
@click.argument("query", required=False)
@click.option("-f", "--file", "query_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the query from a .sql file.")
@click.option("--format", "output_format", type=click.Choice([*TEXT_FORMATS, *FILE_FORMATS]), default="table",
              show_default=True, help="Output format; parquet and xlsx need --output.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the result to this file instead of the terminal.")
@common_options
def sql(settings: Any, query: str | None, query_file: Path | None, output_format: str, output: Path | None) -> None:
    """Run read-only SQL against the warehouse, or start an interactive prompt when no query is given.

    Only queries run: statements that write, attach, copy, load extensions, change settings or read
    files are refused. The reporting.* views are what to query ('niengiam tables' lists them).

    Example: niengiam sql "select * from reporting.rpt_awards" --format csv
    """
    from schemas.errors import UsageError

    text = _query_text(query, query_file)
    if output_format in FILE_FORMATS:
        _file_output(output, output_format)
    if output is not None and not output.parent.is_dir():
        raise UsageError(f"the folder {output.parent} does not exist.", hint="Create it or choose another --output.")
    if text is None:
        if not sys.stdin.isatty():
            text = sys.stdin.read()
        else:
            return run_shell(settings)
    write_result(settings, text, output_format, output)


def _query_text(query: str | None, query_file: Path | None) -> str | None:
    from schemas.errors import UsageError

    if query is not None and query_file is not None:
        raise UsageError("give a query or -f FILE.sql, not both")
    if query_file is not None:
        return query_file.read_text(encoding="utf-8-sig")
    return query


def write_result(settings: Any, text: str, output_format: str, output: Path | None) -> None:
    """Run the query and print its result, or write it to a file with a one-line summary."""
    from flows import output as out
    from schemas.errors import UsageError
    from warehouse.query import run_arrow, run_statements

    database, timeout = warehouse_path(settings), read_timeout(settings)
    if output_format == "parquet":
        target = _file_output(output, output_format)
        return _wrote(out.write_parquet(run_arrow(database, text, timeout), target), target)
    results = run_statements(database, text, timeout)
    if output_format != "table" and len(results) > 1:
        raise UsageError(f"--format {output_format} takes one query (got {len(results)} statements)")
    if output_format == "xlsx":
        last, target = results[-1], _file_output(output, output_format)
        return _wrote(out.write_xlsx(target, last.columns, last.types, last.rows, last.statement[:200]), target)
    rendered = "\n".join(render(r.columns, r.rows, output_format) for r in results if r.columns)
    if output is None:
        click.echo(rendered, nl=False)
    else:
        out.write_text(output, rendered)
        _wrote(sum(len(r.rows) for r in results), output)


def _file_output(output: Path | None, output_format: str) -> Path:
    """The --output file that parquet and xlsx need."""
    from schemas.errors import UsageError

    if output is None:
        raise UsageError(f"--format {output_format} writes a file: add --output FILE.{output_format}")
    return output


def _wrote(count: int, path: Path | None) -> None:
    click.echo(f"Wrote {count} row{'s' if count != 1 else ''} to {path}", err=True)


def run_shell(settings: Any) -> None:
    """An interactive prompt: multi-line statements ending with ';', history in HOME/.sql_history."""
    history = settings.home / ".sql_history"
    readline = _start_history(history)
    click.echo(f"niengiam sql — {warehouse_path(settings)}\n{SHELL_HELP}")
    buffer: list[str] = []
    try:
        while True:
            try:
                line = input("     -> " if buffer else "niengiam> ")
            except EOFError:
                click.echo("")
                break
            except KeyboardInterrupt:
                click.echo("")
                buffer = []
                continue
            if not buffer and _shell_command(settings, line.strip()):
                if line.strip() in (".quit", ".exit", "\\q", "exit", "quit"):
                    break
                continue
            buffer.append(line)
            if line.rstrip().endswith(";"):
                _shell_run(settings, "\n".join(buffer), readline)
                buffer = []
    finally:
        _save_history(readline, history)


def _start_history(history: Path) -> Any:
    try:
        import readline
    except ImportError:  # not every Python has readline (e.g. Windows); the prompt still works
        return None
    readline.set_auto_history(False)
    if history.is_file():
        readline.read_history_file(str(history))
    return readline


def _save_history(readline: Any, history: Path) -> None:
    if readline is not None and history.parent.is_dir():
        readline.set_history_length(1000)
        readline.write_history_file(str(history))


def _shell_command(settings: Any, line: str) -> bool:
    """Handle a dot command or a blank line; False when the line is SQL."""
    if line in ("", ".quit", ".exit", "\\q", "exit", "quit"):
        return True
    if line in (".help", "help", "\\?"):
        click.echo(SHELL_HELP)
        return True
    if line == ".tables":
        from warehouse.query import reporting_views

        for view in reporting_views(warehouse_path(settings), read_timeout(settings)):
            click.echo(f"reporting.{view.name}")
        return True
    return False


def _shell_run(settings: Any, statement: str, readline: Any) -> None:
    from schemas.errors import NiengiamError

    if readline is not None:
        readline.add_history(" ".join(statement.split()))
    try:
        write_result(settings, statement, "table", None)
    except NiengiamError as exc:
        click.echo(f"niengiam: {exc}", err=True)


# --- status ------------------------------------------------------------------------------------------


@click.command()
@click.option("--matrix", is_flag=True, help="Show datasets × years: final, preliminary, estimate, rejected, missing.")
@click.option("--from", "year_from", type=int, help="With --matrix: first year expected [default: first present].")
@click.option("--to", "year_to", type=int, help="With --matrix: last year expected [default: last present].")
@click.option("--state", type=click.Choice(["running", "loaded", "rejected", "failed"]), help="Only loads in this state.")
@click.option("--year", type=int, help="Only loads of this reference year.")
@click.option("--dataset", help="Only loads of this dataset (industrial_output, trade, awards).")
@click.option("--limit", default=50, show_default=True, help="Show at most this many loads (newest first).")
@click.option("--format", "output_format", type=click.Choice(list(TEXT_FORMATS)), default="table", show_default=True)
@LANG_OPTION
@common_options
def status(settings: Any, matrix: bool, year_from: int | None, year_to: int | None, state: str | None,
           year: int | None, dataset: str | None, limit: int, output_format: str, lang: str) -> None:
    """List recent loads with their outcome, or (--matrix) what was submitted for each dataset and year.

    With --matrix the exit code is 1 when an expected submission is missing or its latest load was
    rejected or failed, so cron or monitoring can alert.

    Example: niengiam status --matrix --from 2010 --to 2016
    """
    if matrix:
        return show_matrix(settings, year_from, year_to, output_format, lang)
    from warehouse.query import recent_loads

    columns, rows = recent_loads(ledger_path(settings), state, limit, year, dataset, read_timeout(settings))
    click.echo(render(columns, rows, output_format), nl=False)


def show_matrix(settings: Any, year_from: int | None, year_to: int | None, output_format: str, lang: str) -> None:
    """Print the submission matrix and its alerts; exit 1 when there is any."""
    from niengiam.submissions import build_matrix, matrix_long, matrix_table
    from schemas.errors import UsageError
    from warehouse.query import submission_cells, unplaced_failures

    if year_from is not None and year_to is not None and year_from > year_to:
        raise UsageError(f"--from {year_from} is after --to {year_to}")
    database, timeout = ledger_path(settings), read_timeout(settings)
    result = build_matrix(submission_cells(database, timeout), year_from, year_to)
    if not result.years:
        raise UsageError("nothing was loaded yet, so no years are known.", hint="Give --from and --to.")
    unplaced = unplaced_failures(database, timeout)
    if output_format != "table":
        click.echo(render(*matrix_long(result), output_format), nl=False)
    else:
        click.echo(render(*matrix_table(result, lang), "table"), nl=False)
    alerts = result.alerts + [f"{u['file_name']}: failed before its dataset was known (load {u['load_id']})"
                              f" — {u['error']}" for u in unplaced]
    for alert in alerts:
        click.echo(f"  ! {alert}", err=True)
    click.echo(f"{len(alerts)} problem(s) in {result.years[0]}–{result.years[-1]}" if alerts
               else f"All {len(result.rows) * len(result.years)} expected submissions are in.", err=True)
    if alerts:
        sys.exit(EXIT_PROBLEMS)


# --- tables ------------------------------------------------------------------------------------------


@click.command()
@click.argument("name", required=False)
@click.option("--columns/--no-columns", default=True, show_default=True, help="List each view's columns.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@LANG_OPTION
@common_options
def tables(settings: Any, name: str | None, columns: bool, output_format: str, lang: str) -> None:
    """List the reporting tables and views with what they hold and their columns (the data dictionary).

    Example: niengiam tables rpt_awards --lang en
    """
    from niengiam.labels import describe_column, pick_language
    from schemas.errors import UsageError
    from warehouse.query import reporting_views

    views = reporting_views(warehouse_path(settings), read_timeout(settings))
    wanted = name.removeprefix("reporting.") if name else None
    chosen = [v for v in views if wanted is None or v.name == wanted]
    if not chosen:
        raise UsageError(f"there is no reporting view named {name!r}.",
                         hint="Known: " + ", ".join(v.name for v in views) + ".")
    if output_format == "json":
        import json

        doc = [{"name": f"reporting.{v.name}", "description": pick_language(v.comment, lang),
                "columns": [{"name": c, "type": t, "description": describe_column(c, d, lang)}
                            for c, t, d in v.columns]}
               for v in chosen]
        return click.echo(json.dumps(doc, ensure_ascii=False, indent=1))
    for view in chosen:
        click.echo(f"reporting.{view.name}\n  {pick_language(view.comment, lang)}")
        if columns:
            width = max(len(c) for c, _, _ in view.columns) if view.columns else 0
            type_width = max(len(t) for _, t, _ in view.columns) if view.columns else 0
            for column, data_type, comment in view.columns:
                click.echo(f"    {column.ljust(width)}  {data_type.ljust(type_width)}  {describe_column(column, comment, lang)}")
        click.echo("")


COMMANDS = [sql, status, tables]
