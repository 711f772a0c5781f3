"""Read-only queries for people: ad-hoc SQL and ledger listings (no Prefect, no pandas)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from schemas.errors import UsageError
from warehouse.db import open_database

QUERY_CONFIG = {"enable_external_access": False, "lock_configuration": True}


def open_query_connection(database: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection that cannot reach files, extensions or settings outside the warehouse."""
    con = open_database(database, read_only=True, timeout_s=10.0)
    con.close()
    return duckdb.connect(str(database), read_only=True, config=QUERY_CONFIG)


def run_query(database: Path, query: str) -> tuple[list[str], list[tuple]]:
    """Run one query read-only; a refused or wrong statement becomes one clear sentence."""
    con = open_query_connection(database)
    try:
        result = con.execute(query)
        columns = [d[0] for d in result.description] if result.description else []
        return columns, result.fetchall() if columns else []
    except duckdb.Error as exc:
        raise UsageError(f"the query failed: {_first_line(exc)}") from exc
    finally:
        con.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0]


def recent_loads(database: Path, state: str | None, limit: int) -> tuple[list[str], list[tuple]]:
    """The newest loads, optionally only those in one state."""
    con = open_database(database, read_only=True, timeout_s=10.0)
    try:
        result = con.execute(
            "select load_id, file_name, status, dataset, reference_years as years, rows_loaded,"
            " rows_rejected, strftime(started_at, '%Y-%m-%d %H:%M') as started,"
            " left(coalesce(error, ''), 100) as error"
            " from meta.loads where (? is null or status = ?) order by load_id desc limit ?",
            [state, state, limit],
        )
        return [d[0] for d in result.description], result.fetchall()
    finally:
        con.close()
