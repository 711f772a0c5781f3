"""Read-only queries for people: ad-hoc SQL, the data dictionary and ledger listings (no Prefect, no pandas).

Read-only by construction, in two layers. The connection is opened read-only with external access
disabled and the configuration locked, so DuckDB itself refuses writes, files, extensions and settings.
Before that, every statement is classified (DuckDB's own parser) and anything but a query is refused
with a sentence that names what the statement would do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from schemas.errors import UsageError
from warehouse.db import open_database

QUERY_CONFIG = {"enable_external_access": False, "lock_configuration": True}
READ_TIMEOUT_S = 10.0

# statement type -> what it would do, for the refusal message
REFUSED_KINDS = {
    "INSERT": "writes rows",
    "UPDATE": "changes rows",
    "DELETE": "deletes rows",
    "MERGE_INTO": "changes rows",
    "CREATE": "creates objects",
    "CREATE_FUNC": "creates a function",
    "DROP": "drops objects",
    "ALTER": "changes the schema",
    "ATTACH": "attaches another database",
    "DETACH": "detaches a database",
    "COPY_DATABASE": "copies a database",
    "COPY": "copies data to or from files",
    "EXPORT": "exports the database to files",
    "LOAD": "installs or loads an extension",
    "EXTENSION": "installs or loads an extension",
    "SET": "changes a setting",
    "VARIABLE_SET": "sets a variable",
    "PRAGMA": "changes a setting",
    "TRANSACTION": "controls transactions",
    "VACUUM": "maintains the database",
    "ANALYZE": "maintains the database",
    "CALL": "calls a procedure",
    "PREPARE": "prepares a statement",
    "EXECUTE": "executes a prepared statement",
    "MULTI": "runs several statements in one",
}
# PRAGMAs that only read (anything else is refused)
READING_PRAGMAS = frozenset({
    "show_tables", "show_tables_expanded", "table_info", "show", "database_size", "database_list",
    "version", "platform", "functions", "collations", "storage_info", "metadata_info", "show_databases",
})
# functions that read files or the environment, or run SQL given as text (which cannot be checked)
_FILE_FUNCTION = re.compile(r"^(read_|parquet_|scan_|iceberg_|delta_)|_scan$|_attach$|^(glob|sniff_csv)$")
_OTHER_REFUSED_FUNCTIONS = {
    "getenv": "reads the environment",
    "query": "runs SQL given as text",
    "query_table": "runs SQL given as text",
    "checkpoint": "maintains the database",
    "force_checkpoint": "maintains the database",
}
_FILE_LIKE_TABLE = re.compile(r"[/\\*]|\.(csv|tsv|txt|parquet|json|jsonl|ndjson|xlsx?|gz|zst|arrow|db|duckdb|sqlite)$",
                              re.IGNORECASE)
_PRAGMA_NAME = re.compile(r"^\s*pragma\s+(\w+)", re.IGNORECASE)
_LEADING_COMMENTS = re.compile(r"^(\s+|--[^\n]*\n?|/\*.*?\*/)*", re.DOTALL)
_EXPLAIN = re.compile(r"^explain\s+(analyze\s+)?", re.IGNORECASE)


@dataclass
class Result:
    """What one statement returned: column names and types, and the rows."""

    statement: str
    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)


class RefusedStatement(UsageError):
    """A statement that would write or reach outside the warehouse."""


def open_query_connection(database: Path, timeout_s: float = READ_TIMEOUT_S) -> duckdb.DuckDBPyConnection:
    """A read-only connection that cannot reach files, extensions or settings outside the warehouse."""
    return open_database(database, read_only=True, timeout_s=timeout_s, config=QUERY_CONFIG)


# --- the statement classifier ------------------------------------------------------------------------


def split_statements(text: str) -> list[duckdb.Statement]:
    """The statements of a script, as DuckDB's parser sees them."""
    try:
        return list(duckdb.extract_statements(text))
    except duckdb.Error as exc:
        raise UsageError(f"the query is not valid SQL: {_first_line(exc)}") from exc


def statement_kind(statement: duckdb.Statement) -> str:
    """The statement's type name (SELECT, INSERT, …); UNKNOWN for one this DuckDB cannot name."""
    try:
        return statement.type.name
    except ValueError:  # a type the Python enum does not know (e.g. UPDATE EXTENSIONS)
        return "UNKNOWN"


def _strip_comments(sql: str) -> str:
    return _LEADING_COMMENTS.sub("", sql, count=1)


def refusal(con: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> str | None:
    """Why a statement is refused (one sentence), or None when it only reads the warehouse."""
    kind = statement_kind(statement)
    sql = _strip_comments(statement.query).rstrip().rstrip(";")
    if kind == "SELECT":
        return _select_refusal(con, sql)
    if kind == "EXPLAIN":
        inner = _EXPLAIN.sub("", sql, count=1)
        inner_statements = split_statements(inner)
        return refusal(con, inner_statements[0]) if inner_statements else None
    if kind == "PRAGMA":
        name = _PRAGMA_NAME.match(sql)
        if name and name.group(1).lower() in READING_PRAGMAS:
            return None
        if not name:  # COPY FROM DATABASE parses as a PRAGMA
            kind = "COPY_DATABASE"
    if kind == "MULTI" and re.match(r"(un)?pivot\b", sql, re.IGNORECASE):
        return None  # PIVOT without an IN list: a query DuckDB runs as a few internal statements
    return f"{_statement_name(sql, kind)} statement refused: it {_what(sql, kind)}, and niengiam sql only reads the warehouse"


def _statement_name(sql: str, kind: str) -> str:
    """The statement as the user wrote it (INSTALL, PRAGMA, CHECKPOINT…), or DuckDB's type name."""
    words = sql.split()
    if kind == "UNKNOWN":
        return " ".join(words[:2]).upper()
    first = words[0].upper() if words else kind
    return first if first.isalpha() and first != "WITH" else kind.replace("_", " ")


def _what(sql: str, kind: str) -> str:
    if kind == "CALL" and sql.split()[0].lower() in ("checkpoint", "force"):
        return REFUSED_KINDS["VACUUM"]
    return REFUSED_KINDS.get(kind, "is not a query")


def _select_refusal(con: duckdb.DuckDBPyConnection, sql: str) -> str | None:
    serialized = con.execute("select json_serialize_sql(?)", [sql]).fetchall()
    tree = json.loads(serialized[0][0]) if serialized else {}
    if tree.get("error"):
        return None  # the connection's own limits still apply
    for node in _nodes(tree):
        name = str(node.get("function_name") or "").lower()
        if name and _FILE_FUNCTION.search(name):
            return f"{name}() refused: it reads files, and niengiam sql only reads the warehouse"
        if name in _OTHER_REFUSED_FUNCTIONS:
            return f"{name}() refused: it {_OTHER_REFUSED_FUNCTIONS[name]}, and niengiam sql only reads the warehouse"
        table = str(node.get("table_name") or "") if node.get("type") == "BASE_TABLE" else ""
        if table and not node.get("schema_name") and _FILE_LIKE_TABLE.search(table):
            return f"reading the file '{table}' refused: niengiam sql only reads the warehouse"
    return None


def _nodes(tree: Any) -> Iterator[dict]:
    """Every object of a serialized parse tree, depth first."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)


def check_statements(con: duckdb.DuckDBPyConnection, statements: list[duckdb.Statement]) -> None:
    """Refuse the whole script when any statement would write or reach outside the warehouse."""
    for number, statement in enumerate(statements, start=1):
        reason = refusal(con, statement)
        if reason:
            where = f"statement {number}: " if len(statements) > 1 else ""
            raise RefusedStatement(where + reason)


# --- running queries ---------------------------------------------------------------------------------


def run_statements(database: Path, text: str, timeout_s: float = READ_TIMEOUT_S) -> list[Result]:
    """Check every statement of a script, then run them in order; one Result per statement."""
    statements = split_statements(text)
    if not statements:
        raise UsageError("the query is empty")
    con = open_query_connection(database, timeout_s)
    try:
        check_statements(con, statements)
        return [_run(con, s) for s in statements]
    finally:
        con.close()


def _run(con: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> Result:
    try:
        cursor = con.execute(statement.query)
        description = cursor.description or []
        rows = cursor.fetchall() if description else []
    except duckdb.Error as exc:
        raise UsageError(f"the query failed: {_first_line(exc)}") from exc
    return Result(statement.query.strip(), [d[0] for d in description], [str(d[1]) for d in description], rows)


def run_query(database: Path, query: str, timeout_s: float = READ_TIMEOUT_S) -> tuple[list[str], list[tuple]]:
    """Run a read-only query; the columns and rows of its last statement."""
    result = run_statements(database, query, timeout_s)[-1]
    return result.columns, result.rows


def run_arrow(database: Path, query: str, timeout_s: float = READ_TIMEOUT_S) -> Any:
    """Run one read-only query and return its result as an Arrow table (for Parquet and Excel files)."""
    statements = split_statements(query)
    if len(statements) != 1:
        raise UsageError(f"give exactly one query to write to a file (got {len(statements)})")
    con = open_query_connection(database, timeout_s)
    try:
        check_statements(con, statements)
        return con.sql(statements[0].query).to_arrow_table()
    except duckdb.Error as exc:
        raise UsageError(f"the query failed: {_first_line(exc)}") from exc
    finally:
        con.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0]


# --- the data dictionary -----------------------------------------------------------------------------


@dataclass
class ViewDoc:
    """One reporting view: its name, comment and columns (name, type, comment)."""

    name: str
    comment: str | None
    columns: list[tuple[str, str, str | None]]


def reporting_views(database: Path, timeout_s: float = READ_TIMEOUT_S) -> list[ViewDoc]:
    """Every table and view in the reporting schema with its comments, in name order."""
    con = open_query_connection(database, timeout_s)
    try:
        objects = con.execute(
            "select view_name as name, comment from duckdb_views() where schema_name = 'reporting'"
            " union all select table_name, comment from duckdb_tables() where schema_name = 'reporting'"
            " order by name"
        ).fetchall()
        columns = con.execute(
            "select table_name, column_name, data_type, comment from duckdb_columns()"
            " where schema_name = 'reporting' order by table_name, column_index"
        ).fetchall()
    finally:
        con.close()
    by_view: dict[str, list[tuple[str, str, str | None]]] = {}
    for view, column, data_type, comment in columns:
        by_view.setdefault(view, []).append((column, data_type, comment))
    return [ViewDoc(name, comment, by_view.get(name, [])) for name, comment in objects]


# --- the ledger --------------------------------------------------------------------------------------


def recent_loads(
    database: Path,
    state: str | None,
    limit: int,
    year: int | None = None,
    dataset: str | None = None,
    timeout_s: float = READ_TIMEOUT_S,
) -> tuple[list[str], list[tuple]]:
    """The newest loads, optionally only those in one state, of one year or of one dataset."""
    con = open_database(database, read_only=True, timeout_s=timeout_s)
    try:
        result = con.execute(
            "select load_id, file_name, status, dataset, reference_years as years, rows_loaded,"
            " rows_rejected, strftime(started_at, '%Y-%m-%d %H:%M') as started,"
            " left(coalesce(error, ''), 100) as error"
            " from meta.loads where (?::varchar is null or status = ?)"
            " and (?::varchar is null or list_contains(string_split(dataset, ','), ?))"
            " and (?::integer is null or list_contains(string_split(reference_years, ','), ?::varchar)"
            "      or (contains(reference_years, '-') and ?::integer between"
            "          split_part(reference_years, '-', 1)::integer and split_part(reference_years, '-', 2)::integer))"
            " order by load_id desc limit ?",
            [state, state, dataset, dataset, year, year, year, limit],
        )
        return [d[0] for d in result.description], result.fetchall()
    finally:
        con.close()


SUBMISSIONS_SQL = (
    "select dataset, province_code, reference_year, state, figures_status, figures, attempts,"
    " last_load_id, last_load_status, last_file_name, last_error,"
    " strftime(last_load_at, '%Y-%m-%d %H:%M') as last_load_at"
    " from reporting.submissions"
)
UNPLACED_SQL = (
    "with latest as (select * from meta.loads"
    "  qualify row_number() over (partition by source_sha256 order by load_id desc) = 1)"
    " select load_id, file_name, status, left(coalesce(error, ''), 200) as error,"
    " strftime(coalesce(finished_at, started_at), '%Y-%m-%d %H:%M') as at from latest"
    " where status = 'failed' and (dataset is null or reference_years is null) order by load_id"
)


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Run one statement and return its rows as dicts keyed by column name."""
    try:
        cursor = con.execute(sql, params or [])
    except duckdb.CatalogException as exc:
        raise UsageError(
            f"the warehouse lacks a reporting view ({_first_line(exc)}): it was built by an older niengiam.",
            hint="The views are rebuilt by the next 'niengiam ingest' run that loads a file.",
        ) from exc
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def read_dicts(database: Path, sql: str, timeout_s: float = READ_TIMEOUT_S) -> list[dict[str, Any]]:
    """Open a read-only connection, fetch one statement's rows as dicts, close."""
    con = open_database(database, read_only=True, timeout_s=timeout_s)
    try:
        return fetch_dicts(con, sql)
    finally:
        con.close()


def submission_cells(database: Path, timeout_s: float = READ_TIMEOUT_S) -> list[dict]:
    """Every dataset × province × year the warehouse knows of, with its state and latest load."""
    return read_dicts(database, SUBMISSIONS_SQL, timeout_s)


def unplaced_failures(database: Path, timeout_s: float = READ_TIMEOUT_S) -> list[dict]:
    """Files whose latest attempt failed before their dataset or year was known."""
    return read_dicts(database, UNPLACED_SQL, timeout_s)
