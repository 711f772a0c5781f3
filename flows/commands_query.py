"""Commands that read the warehouse: sql and status. They never import Prefect or pandas."""

from __future__ import annotations

from typing import Any

import click

from flows.cli import common_options
from flows.output import render


@click.command()
@click.argument("query", required=False)
@click.option("-f", "--file", "query_file", type=click.File("r", encoding="utf-8"), help="Read the query from a .sql file.")
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@common_options
def sql(settings: Any, query: str | None, query_file: Any, output_format: str) -> None:
    """Run a read-only SQL query against the warehouse.

    Example: niengiam sql "select * from reporting.rpt_industrial_output_by_year"
    """
    from schemas.errors import UsageError
    from warehouse.query import run_query

    text = query_file.read() if query_file else query
    if not text:
        raise UsageError("give a query, or -f FILE.sql")
    columns, rows = run_query(settings.database, text)
    click.echo(render(columns, rows, output_format), nl=False)


@click.command()
@click.option("--state", type=click.Choice(["running", "loaded", "rejected", "failed"]), help="Only loads in this state.")
@click.option("--limit", default=50, show_default=True, help="Show at most this many loads (newest first).")
@common_options
def status(settings: Any, state: str | None, limit: int) -> None:
    """List recent loads with their outcome and, for failures, the reason in one line.

    Example: niengiam status --state rejected
    """
    from warehouse.query import recent_loads

    columns, rows = recent_loads(settings.database, state, limit)
    click.echo(render(columns, rows, "table"), nl=False)



COMMANDS = [sql, status]
