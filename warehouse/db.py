"""Connections to the warehouse and the migrations that shape it."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from schemas.errors import TransientError, UsageError

_LOCK_PATTERN = re.compile(r"lock|Conflicting", re.IGNORECASE)
_PID_PATTERN = re.compile(r"PID (\d+)")


def is_lock_error(exc: BaseException) -> bool:
    """True when DuckDB refused the file because another process holds it."""
    return isinstance(exc, duckdb.IOException) and bool(_LOCK_PATTERN.search(str(exc)))


def _lock_error(path: Path, exc: BaseException, waited_s: float) -> TransientError:
    pid = _PID_PATTERN.search(str(exc))
    holder = f"process {pid.group(1)}" if pid else "another process"
    return TransientError(
        f"the warehouse is in use by {holder} (waited {waited_s:.0f} s)",
        file=str(path),
        hint="Close other programs using it (a BI tool, another niengiam) and try again.",
    )


def open_database(
    path: Path, read_only: bool = False, timeout_s: float = 0.0, config: dict | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting with backoff up to `timeout_s` while another process holds it."""
    if read_only and not path.exists():
        raise UsageError(
            "there is no warehouse yet", file=str(path), hint="Run 'niengiam ingest' first."
        )
    if path.is_dir():
        raise UsageError("this is a folder, not a warehouse file.", file=str(path),
                         hint="Give --database the .duckdb file, or --home the folder that holds it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    started, delay = time.monotonic(), 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config or {})
        except duckdb.IOException as exc:
            waited = time.monotonic() - started
            if not is_lock_error(exc):
                raise
            if waited >= timeout_s:
                raise _lock_error(path, exc, waited) from exc
            time.sleep(min(delay, max(timeout_s - waited, 0.01)))
            delay = min(delay * 2, 2.0)


def unnested(rows: Iterable[Sequence[Any]], names: Sequence[str], cast: str = "") -> tuple[str, list[list[Any]]]:
    """A `select` of Python rows as a relation, and its parameters: one list per column, unnested together.

    One statement for any number of rows, without pandas; `names` come from code, never from data.
    """
    columns = [list(column) for column in zip(*rows, strict=True)]
    return "select " + ", ".join(f"unnest(?{cast}) as {n}" for n in names), columns


def concat_columns(frames: Sequence[Any], columns: list[str]) -> Any:
    """The `columns` of pandas frames, one after the other (a fresh index). Frames with the same columns are
    joined whole and the columns taken once: selecting columns costs ≈ 1 ms per frame, joining ≈ 0.1 ms."""
    import pandas as pd

    if len(frames) == 1:
        return frames[0][columns]
    if all(list(f.columns) == list(frames[0].columns) for f in frames):
        return pd.concat(frames, ignore_index=True)[columns]
    return pd.concat([f[columns] for f in frames], ignore_index=True)


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **frames: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    """DataFrames visible to SQL under the given names while the block runs, then unregistered.

    An aborted transaction can make unregistering fail; that error is dropped so the block's own error
    surfaces.
    """
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        yield con
    finally:
        for name in frames:
            with suppress(duckdb.Error):
                con.unregister(name)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """The block in one transaction: committed when it ends, rolled back when it raises (and re-raised)."""
    con.execute("begin transaction")
    try:
        yield con
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


_held: dict[str, duckdb.DuckDBPyConnection | None] = {}  # warehouse -> the connection lent while held
# While held, the write-ahead log is not checkpointed at 16 MiB (DuckDB's default) but once, when the run
# publishes its snapshot (or closes): each checkpoint rewrites what changed since the last, and a national
# backfill's commits checkpointed ≈ 10 times (0.85–0.98 s of the writer's CPU in commits; 0.42–0.43 s
# without). A run killed meanwhile loses nothing: the log is replayed when the file is next opened.
HELD_CHECKPOINT_THRESHOLD = "1GB"


@contextmanager
def holding_writer(path: Path) -> Iterator[None]:
    """While the block runs, `writing(path)` lends one connection: opened (and the schema brought up to date)
    by the first, closed when the block ends. An ingestion holds its lock anyway; each connection of its
    own cost an open and a checkpoint at its close, which grows with the warehouse (17 in a national
    backfill: ≈ 0.35 s of CPU opening, ≈ 0.9 s closing). A block of `writing` that raises closes it, and
    the next one opens a new one, as without holding."""
    key = str(path)
    if key in _held:  # held already, by an enclosing block
        yield
        return
    _held[key] = None
    try:
        yield
    finally:
        con = _held.pop(key, None)
        if con is not None:
            con.close()


@contextmanager
def writing(path: Path, timeout_s: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection with the schema brought up to date: short-lived, or the one lent while the
    warehouse is held (`holding_writer`)."""
    key = str(path)
    held = key in _held
    con = _held.get(key)  # None: not held, or not opened yet
    if con is None:
        con = open_database(path, read_only=False, timeout_s=timeout_s)
        try:
            migrate(con)
        except BaseException:
            con.close()
            raise
        if held:
            con.execute(f"set checkpoint_threshold = '{HELD_CHECKPOINT_THRESHOLD}'")
            _held[key] = con
    try:
        yield con
    except BaseException:
        if held:
            _held[key] = None  # the next block opens a new one
        con.close()
        raise
    if not held:
        con.close()


@contextmanager
def reading(path: Path, timeout_s: float = 10.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; the held write connection while this process holds the warehouse (DuckDB
    opens a file once per process: a read-only connection beside it would be refused)."""
    if str(path) in _held:
        with writing(path, timeout_s) as held:
            yield held
        return
    con = open_database(path, read_only=True, timeout_s=timeout_s)
    try:
        yield con
    finally:
        con.close()


def _sql_files(folder: str) -> list[tuple[str, str]]:
    root = resources.files("warehouse") / folder
    files = sorted(p for p in root.iterdir() if p.name.endswith(".sql"))
    return [(p.name, p.read_text(encoding="utf-8")) for p in files]


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending numbered migrations, each in one transaction with its bookkeeping row."""
    con.execute("create schema if not exists meta")
    con.execute(
        "create table if not exists meta.schema_migrations ("
        " version integer primary key, name varchar not null, applied_at timestamptz not null)"
    )
    done = {row[0] for row in con.execute("select version from meta.schema_migrations").fetchall()}
    applied = []
    for name, sql in _sql_files("migrations"):
        version = int(name.split("_", 1)[0])
        if version in done:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute(
                "insert into meta.schema_migrations values (?, ?, current_timestamp)",
                [version, name],
            )
        applied.append(version)
    return applied


def _views_fingerprint(con: duckdb.DuckDBPyConnection, views: list[tuple[str, str]]) -> str:
    """A hash of the views' SQL files and of the migrations applied: what the views are built from."""
    digest = hashlib.sha256()
    versions = con.execute("select version from meta.schema_migrations order by version").fetchall()
    digest.update(repr([v for (v,) in versions]).encode())
    for name, sql in views:
        digest.update(f"\0{name}\0{sql}".encode())
    return digest.hexdigest()


def rebuild_views(con: duckdb.DuckDBPyConnection) -> None:
    """Recreate every reporting view from warehouse/views/*.sql in one transaction, and remember from what."""
    views = _sql_files("views")
    fingerprint = _views_fingerprint(con, views)
    with transaction(con):
        for _name, sql in views:
            con.execute(sql)
        con.execute("delete from meta.view_definitions")
        con.execute("insert into meta.view_definitions values (?, current_timestamp)", [fingerprint])


def refresh_views(con: duckdb.DuckDBPyConnection) -> bool:
    """Rebuild the views unless they were built from the same SQL files and migrations; True when rebuilt.

    Views hold no data, so a run that changed neither has nothing to rebuild (≈ 0.2 s saved per run).
    """
    built = con.execute("select sha256 from meta.view_definitions").fetchall()
    if built == [(_views_fingerprint(con, _sql_files("views")),)]:
        return False
    rebuild_views(con)
    return True


# --- beside readers: one ingestion at a time, and a snapshot for readers -------------------------


def _holder_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait_for_flock(fd: int, timeout_s: float, on_wait: Callable[[str], None] | None) -> None:
    started, delay, told = time.monotonic(), 0.05, None
    while not _try_flock(fd):
        holder = _holder_pid(fd)
        waited = time.monotonic() - started
        who = f"pid {holder}" if holder else "pid unknown"
        if waited >= timeout_s:
            raise TransientError(
                f"another ingestion ({who}) is still running after {waited:.0f} s",
                hint="Wait for it to finish (niengiam status shows its loads), or raise NIENGIAM_INGEST_WAIT.",
            )
        if on_wait and told != holder:
            on_wait(f"waiting for another ingestion ({who}) to finish …")
            told = holder
        time.sleep(min(delay, max(timeout_s - waited, 0.01)))
        delay = min(delay * 2, 2.0)


@contextmanager
def ingest_lock(
    path: Path, timeout_s: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Serialise ingestions: an exclusive lock on `path`, waited for up to `timeout_s`.

    flock is released by the kernel when the holder dies, even by SIGKILL, so a crash never
    leaves the warehouse locked. The file keeps the holder's pid so a waiter can name it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _wait_for_flock(fd, timeout_s, on_wait)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def publish_snapshot(con: duckdb.DuckDBPyConnection, database: Path, snapshot: Path) -> Path:
    """Copy the checkpointed warehouse to the readers' snapshot: a temp file, then one atomic rename.

    Call it on the open write connection, so nothing changes the file while it is copied. Readers
    holding the old snapshot keep reading it (their open file survives the rename); new readers
    get the new one.
    """
    from warehouse.archive import copy_atomically

    con.execute("checkpoint")
    copy_atomically(database, snapshot, "refresh the readers' snapshot", str(snapshot))
    return snapshot


def reader_database(settings: Any) -> Path:
    """The file readers should open: the snapshot when there is one, else the warehouse itself."""
    snapshot = settings.snapshot
    return snapshot if snapshot.exists() else settings.database
