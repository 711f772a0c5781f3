"""Quarantine: the problems recorded for a load, where its file lies, and corrections linked to rejections."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from schemas.errors import UsageError


@dataclass(frozen=True)
class QuarantinedLoad:
    """A load with recorded problems: the file it read and those problems (errors and warnings)."""

    load_id: int
    file_name: str
    status: str
    archive_path: Path
    problems: list[dict]


def quarantined_load(con: duckdb.DuckDBPyConnection, load_id: int) -> QuarantinedLoad:
    """The load, its archived file and its problems; UsageError when there is nothing to export."""
    row = con.execute(
        "select l.file_name, l.status, s.archive_path from meta.loads as l"
        " left join meta.source_files as s on s.sha256 = l.source_sha256 where l.load_id = ?",
        [load_id],
    ).fetchone()
    if row is None:
        raise UsageError(f"there is no load {load_id};", hint="see 'niengiam status --state rejected'.")
    file_name, status, archive_path = row
    result = con.execute(
        "select sheet, cell, column_name as column, value, rule, severity, message, message_vi"
        " from meta.quarantine where load_id = ? order by severity, sheet, cell",
        [load_id],
    )
    columns = [d[0] for d in result.description]
    problems = [dict(zip(columns, r)) for r in result.fetchall()]
    if not problems:
        raise UsageError(f"load {load_id} ({file_name}, {status}) has no problems recorded; nothing to annotate")
    return QuarantinedLoad(load_id, file_name, status, Path(archive_path), problems)


def _stem(name: str) -> str:
    return Path(name).stem.casefold()


def any_rejected(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the ledger holds a rejected load (one statement, instead of a search for every new load)."""
    return con.execute("select 1 from meta.loads where status = 'rejected' limit 1").fetchone() is not None


def link_correction(
    con: duckdb.DuckDBPyConnection, load_id: int, dataset: str | None, province: str | None, years: str | None
) -> int | None:
    """Point a load at the latest rejected load it corrects: same file name (any extension), a different
    content, and the same dataset, province and years where the rejected load recorded them."""
    row = con.execute("select file_name, source_sha256 from meta.loads where load_id = ?", [load_id]).fetchone()
    if row is None:
        return None
    name, sha = row
    candidates = con.execute(
        "select load_id, file_name from meta.loads where status = 'rejected' and load_id < ?"
        " and source_sha256 <> ? and (dataset is null or dataset = ?)"
        " and (province_code is null or province_code = ?) and (reference_years is null or reference_years = ?)"
        " order by load_id desc",
        [load_id, sha, dataset, province, years],
    ).fetchall()
    corrected = next((rejected for rejected, rejected_name in candidates if _stem(rejected_name) == _stem(name)), None)
    if corrected is not None:
        con.execute("update meta.loads set corrects_load_id = ? where load_id = ?", [corrected, load_id])
    return corrected
