"""The ledger: which files were received, and what became of every attempt to load them."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from warehouse import db


@dataclass(frozen=True)
class LoadRecord:
    """One row of meta.loads."""

    load_id: int
    source_sha256: str
    file_name: str
    status: str
    dataset: str | None
    reference_years: str | None
    rows_loaded: int | None
    rows_rejected: int | None
    error: str | None
    retry_of: int | None
    attempt: int
    started_at: datetime
    finished_at: datetime | None


_LOAD_COLUMNS = (
    "load_id, source_sha256, file_name, status, dataset, reference_years, rows_loaded,"
    " rows_rejected, error, retry_of, attempt, started_at, finished_at"
)


def record_source_files(con: duckdb.DuckDBPyConnection, files: list[tuple[str, str, str, int, str]]) -> None:
    """Remember received files (sha256, name, path, size, archive path) once each, in one statement."""
    if not files:
        return
    first: dict[str, tuple[str, str, str, int, str]] = {}
    for file in files:
        first.setdefault(file[0], file)
    received, columns = db.unnested(first.values(), ["sha256", "name", "path", "size", "archive_path"])
    con.execute(
        "insert into meta.source_files select r.sha256, r.name, r.path, r.size, current_timestamp,"
        f" r.archive_path from ({received}) as r where r.sha256 not in (select sha256 from meta.source_files)",
        columns,
    )


def last_loads(con: duckdb.DuckDBPyConnection, shas: list[str]) -> dict[str, LoadRecord]:
    """The latest attempt for each of the files that has one, in one query."""
    if not shas:
        return {}
    rows = con.execute(
        f"select {_LOAD_COLUMNS} from meta.loads where source_sha256 in (select unnest(?))"
        " qualify row_number() over (partition by source_sha256 order by load_id desc) = 1",
        [list(dict.fromkeys(shas))],
    ).fetchall()
    return {row[1]: LoadRecord(*row) for row in rows}


def archive_path_of(con: duckdb.DuckDBPyConnection, sha256: str) -> Path | None:
    """Where the raw copy of a file lies in the archive."""
    row = con.execute("select archive_path from meta.source_files where sha256 = ?", [sha256]).fetchone()
    return Path(row[0]) if row else None


def last_load(con: duckdb.DuckDBPyConnection, sha256: str) -> LoadRecord | None:
    """The latest attempt to load a file, if any."""
    row = con.execute(
        f"select {_LOAD_COLUMNS} from meta.loads where source_sha256 = ?"
        " order by load_id desc limit 1",
        [sha256],
    ).fetchone()
    return LoadRecord(*row) if row else None


def get_load(con: duckdb.DuckDBPyConnection, load_id: int) -> LoadRecord | None:
    """One attempt by id."""
    row = con.execute(f"select {_LOAD_COLUMNS} from meta.loads where load_id = ?", [load_id]).fetchone()
    return LoadRecord(*row) if row else None


def start_load(
    con: duckdb.DuckDBPyConnection,
    sha256: str,
    file_name: str,
    flow_run_id: str | None,
    retry_of: int | None = None,
) -> int:
    """Open a ledger row in state 'running' and return its load id."""
    [load_id] = start_loads(con, [(sha256, file_name, retry_of)], flow_run_id)
    return load_id


def start_loads(
    con: duckdb.DuckDBPyConnection, files: list[tuple[str, str, int | None]], flow_run_id: str | None
) -> list[int]:
    """Open a 'running' ledger row for each (sha256, file name, retry_of), in order, in two statements;
    their load ids, ascending in the order given."""
    if not files:
        return []
    attempts = []
    for _, _, retry_of in files:  # a re-run's attempt number: one lookup per retried file
        row = None if retry_of is None else con.execute(
            "select count(*) from meta.loads where load_id = ? or retry_of = ?", [retry_of, retry_of]
        ).fetchone()
        attempts.append(int(row[0]) + 1 if row else 1)
    ids = sorted(int(r[0]) for r in con.execute(
        "select nextval('meta.load_id_seq') from range(?)", [len(files)]
    ).fetchall())
    rows = [(load_id, sha, name, retry_of, attempt)
            for load_id, (sha, name, retry_of), attempt in zip(ids, files, attempts, strict=True)]
    started, values = db.unnested(rows, ["load_id", "source_sha256", "file_name", "retry_of", "attempt"])
    con.execute(
        "insert into meta.loads (load_id, source_sha256, file_name, status, flow_run_id, retry_of, attempt, pid,"
        " hostname, started_at) select s.load_id, s.source_sha256, s.file_name, 'running', ?, s.retry_of,"
        f" s.attempt, ?, ?, current_timestamp from ({started}) as s",
        [flow_run_id, os.getpid(), socket.gethostname(), *values],
    )
    return ids


_FINISH_FIELDS = ("dataset", "province_code", "reference_years", "layout_spec", "rows_in", "rows_loaded",
                  "rows_rejected", "error")
_FINISH_TYPES = ("varchar", "varchar", "varchar", "varchar", "bigint", "bigint", "bigint", "varchar")


def finish_load(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    status: str,
    *,
    dataset: str | None = None,
    province_code: str | None = None,
    reference_years: str | None = None,
    layout_spec: str | None = None,
    rows_in: int | None = None,
    rows_loaded: int | None = None,
    rows_rejected: int | None = None,
    error: str | None = None,
) -> None:
    """Close a ledger row with its outcome."""
    assigned = ", ".join(f"{f} = ?" for f in _FINISH_FIELDS)
    con.execute(
        f"update meta.loads set status = ?, {assigned}, finished_at = current_timestamp where load_id = ?",
        [status, dataset, province_code, reference_years, layout_spec, rows_in, rows_loaded,
         rows_rejected, error, load_id],
    )


def finish_loads(con: duckdb.DuckDBPyConnection, finished: list[tuple[int, str, dict]]) -> None:
    """finish_load for many (load id, status, fields as finish_load's keywords), in one statement."""
    if not finished:
        return
    rows = [(load_id, status, *(fields.get(f) for f in _FINISH_FIELDS)) for load_id, status, fields in finished]
    select, values = db.unnested(rows, ["load_id", "status", *_FINISH_FIELDS])
    assigned = ", ".join(f"{f} = v.{f}::{t}" for f, t in zip(_FINISH_FIELDS, _FINISH_TYPES, strict=True))
    con.execute(
        f"update meta.loads as l set status = v.status, {assigned}, finished_at = current_timestamp"
        f" from ({select}) as v where l.load_id = v.load_id",
        values,
    )


def mark_interrupted(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Loads left 'running' by a process that no longer exists become 'failed' (interrupted)."""
    rows = con.execute(
        "select load_id, pid, hostname from meta.loads where status = 'running'"
    ).fetchall()
    here = socket.gethostname()
    dead = [load_id for load_id, pid, host in rows if host != here or not _alive(pid)]
    for load_id in dead:
        con.execute(
            "update meta.loads set status = 'failed', finished_at = current_timestamp,"
            " error = 'interrupted: the process stopped before the load finished;"
            " run niengiam rerun --failed' where load_id = ?",
            [load_id],
        )
    return dead


def _alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def record_problems(con: duckdb.DuckDBPyConnection, load_id: int, problems: list[dict]) -> None:
    """Write a load's problems (errors and warnings) into meta.quarantine in one insert."""
    record_problems_of(con, [(load_id, problems)])


def record_problems_of(con: duckdb.DuckDBPyConnection, loads: list[tuple[int, list[dict]]]) -> None:
    """record_problems for many loads, in one insert, in the order given.

    The rows travel as Arrow columns: a national backfill records ≈ 60,000 warnings, and DuckDB reads
    Arrow text in bulk where a list parameter of Python strings is converted value by value."""
    import pyarrow as pa

    ids = [load_id for load_id, problems in loads for _ in problems]
    if not ids:
        return
    columns = {"load_id": pa.array(ids, pa.int64())}
    for field, column in _PROBLEM_COLUMNS.items():
        columns[column] = pa.array([_text(p.get(field)) for _, problems in loads for p in problems], pa.string())
    with db.registered(con, quarantine_in=pa.table(columns)):
        con.execute(f"insert into meta.quarantine (load_id, {', '.join(_PROBLEM_COLUMNS.values())})"
                    f" select load_id, {', '.join(_PROBLEM_COLUMNS.values())} from quarantine_in")


_PROBLEM_COLUMNS = {"sheet": "sheet", "cell": "cell", "column": "column_name", "value": "value", "rule": "rule",
                    "severity": "severity", "message": "message", "message_vi": "message_vi"}


def _text(value: object) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


# --- decisions: skip, load, or re-run --------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """Whether to load a file now, and which first attempt a new attempt belongs to."""

    skip_reason: str | None
    retry_of: int | None


def decide(con: duckdb.DuckDBPyConnection, sha256: str, retry_of: int | None = None) -> Decision:
    """Skip a file already loaded (or rejected, unless re-run on purpose); otherwise link the attempt."""
    return decision_for(last_load(con, sha256), retry_of)


def decision_for(previous: LoadRecord | None, retry_of: int | None = None) -> Decision:
    """The decision for a file given its latest attempt (see `decide`)."""
    if previous is None:
        return Decision(None, retry_of)
    first = retry_of or previous.retry_of or previous.load_id
    if previous.status == "loaded":
        return Decision(
            f"already loaded (load {previous.load_id}, {previous.reference_years or '?'}); nothing to do", first
        )
    if previous.status == "rejected" and retry_of is None:
        return Decision(
            f"rejected before (load {previous.load_id}); send a corrected file,"
            f" or run 'niengiam rerun {previous.load_id}' after changing the layout specs",
            first,
        )
    return Decision(None, first)


@dataclass(frozen=True)
class RerunCandidate:
    """The last attempt of a chain of attempts, with where the raw file lies in the archive."""

    first_load_id: int
    last: LoadRecord
    archive_path: Path
    original_name: str
    original_path: str | None
    size_bytes: int


_CHAINS_SQL = """
with attempts as (select *, coalesce(retry_of, load_id) as first_id from meta.loads),
last_ids as (select first_id, max(load_id) as last_id from attempts group by first_id),
final as (
    select a.first_id, {columns}, f.archive_path, f.original_name, f.original_path, f.size_bytes
    from last_ids as l
    join attempts as a on a.load_id = l.last_id
    join meta.source_files as f on f.sha256 = a.source_sha256
)
select * from final
"""


def _candidates(con: duckdb.DuckDBPyConnection, where: str, params: list) -> list[RerunCandidate]:
    columns = ", ".join(f"a.{c.strip()}" for c in _LOAD_COLUMNS.split(","))
    rows = con.execute(_CHAINS_SQL.format(columns=columns) + where + " order by first_id", params).fetchall()
    width = len(_LOAD_COLUMNS.split(","))
    return [
        RerunCandidate(row[0], LoadRecord(*row[1 : width + 1]), Path(row[width + 1]), *row[width + 2 :])
        for row in rows
    ]


def last_attempts_in(con: duckdb.DuckDBPyConnection, states: tuple[str, ...]) -> list[RerunCandidate]:
    """Every chain of attempts whose last attempt is in one of `states` (e.g. failed, rejected)."""
    return _candidates(con, " where status in (select unnest(?::varchar[]))", [list(states)])


def last_attempt_of(con: duckdb.DuckDBPyConnection, load_id: int) -> RerunCandidate | None:
    """The last attempt of the chain that `load_id` (any attempt of it) belongs to."""
    found = _candidates(
        con,
        " where first_id = (select coalesce(retry_of, load_id) from meta.loads where load_id = ?)",
        [load_id],
    )
    return found[0] if found else None
