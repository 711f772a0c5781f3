"""DuckDB's one-writer rule as measured here, bounded waiting, the ingestion lock and the readers' snapshot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from schemas.errors import TransientError
from tests._ops import REPO
from warehouse import db


def _hold(code: str) -> subprocess.Popen:
    """A second process that runs `code`, prints 'ready', and waits for a line on stdin."""
    script = f"import sys\n{code}\nprint('ready', flush=True)\nsys.stdin.readline()\n"
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "ready"
    return process


def _release(process: subprocess.Popen) -> None:
    process.stdin.write("\n")
    process.stdin.flush()
    process.wait(timeout=30)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with db.writing(path) as con:
        con.execute("create table t as select 1 as a")
    return path


def test_a_reader_in_another_process_locks_the_writer_out(warehouse: Path) -> None:
    reader = _hold(f"import duckdb; con = duckdb.connect({str(warehouse)!r}, read_only=True)")
    try:
        with pytest.raises(TransientError, match=f"in use by process {reader.pid}"):
            db.open_database(warehouse, timeout_s=0.3)
    finally:
        _release(reader)


def test_a_writer_in_another_process_locks_every_reader_out(warehouse: Path) -> None:
    writer = _hold(f"import duckdb; con = duckdb.connect({str(warehouse)!r})")
    try:
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(warehouse), read_only=True)
    finally:
        _release(writer)


def test_the_writer_waits_with_backoff_until_the_reader_is_gone(warehouse: Path) -> None:
    reader = subprocess.Popen([
        sys.executable, "-c",
        f"import duckdb, time; con = duckdb.connect({str(warehouse)!r}, read_only=True);"
        " print('ready', flush=True); time.sleep(1.5)",
    ], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "ready"
    con = db.open_database(warehouse, timeout_s=60)  # would raise at once without the wait
    try:
        assert reader.poll() is not None, "the writer got in while the reader still held the file"
        assert con.execute("select a from t").fetchall() == [(1,)]
    finally:
        con.close()
        reader.wait()


def test_a_second_ingestion_waits_for_the_lock_and_names_the_holder(tmp_path: Path) -> None:
    lock = tmp_path / ".warehouse.duckdb.ingest.lock"
    holder = _hold(f"from warehouse import db; from pathlib import Path\n"
                   f"ctx = db.ingest_lock(Path({str(lock)!r}), 5); ctx.__enter__()")
    said: list[str] = []
    try:
        with pytest.raises(TransientError, match=rf"another ingestion \(pid {holder.pid}\) is still running"), \
                db.ingest_lock(lock, 0.5, on_wait=said.append):
            pass
        assert said == [f"waiting for another ingestion (pid {holder.pid}) to finish …"]
    finally:
        _release(holder)
    with db.ingest_lock(lock, 0.5):
        assert lock.read_text().strip() == str(os.getpid())


def test_the_lock_of_a_killed_ingestion_is_released_by_the_kernel(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    holder = _hold(f"from warehouse import db; from pathlib import Path\n"
                   f"ctx = db.ingest_lock(Path({str(lock)!r}), 5); ctx.__enter__()")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with db.ingest_lock(lock, 2):
        pass


def test_the_snapshot_is_replaced_atomically_and_old_readers_keep_their_view(warehouse: Path, tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot" / "warehouse.duckdb"
    with db.writing(warehouse) as con:
        db.publish_snapshot(con, warehouse, snapshot)
    reader = _hold(f"import duckdb, atexit; con = duckdb.connect({str(snapshot)!r}, read_only=True)\n"
                   "atexit.register(lambda: print(con.execute('select count(*) from t').fetchone()[0]))")
    try:
        with db.writing(warehouse) as con:
            con.execute("insert into t values (2)")
            db.publish_snapshot(con, warehouse, snapshot)
        fresh = duckdb.connect(str(snapshot), read_only=True)
        assert fresh.execute("select count(*) from t").fetchone() == (2,)
        fresh.close()
    finally:
        _release(reader)
    assert reader.stdout.read().strip() == "1"  # the open snapshot kept its consistent, older view
    assert sorted(p.name for p in snapshot.parent.iterdir()) == ["warehouse.duckdb"]  # no temp left over


def test_readers_use_the_snapshot_once_there_is_one(settings) -> None:
    assert db.reader_database(settings) == settings.database
    settings.snapshot.parent.mkdir(parents=True)
    settings.snapshot.write_bytes(b"")
    assert db.reader_database(settings) == settings.snapshot
    assert settings.snapshot == settings.home / "snapshot" / "warehouse.duckdb"


def test_a_held_warehouse_lends_one_connection_until_the_block_ends(warehouse: Path) -> None:
    with db.holding_writer(warehouse):
        with db.writing(warehouse) as first:
            first.execute("insert into t values (2)")
        with db.writing(warehouse) as second:
            assert second is first
            assert second.execute("select current_setting('checkpoint_threshold')").fetchall() != [("16.0 MiB",)]
        with pytest.raises(ZeroDivisionError), db.writing(warehouse) as failing:
            assert failing is first
            raise ZeroDivisionError  # a block that raises closes it: the next one opens a new one
        with db.writing(warehouse) as third:
            assert third is not first
            assert third.execute("select sum(a) from t").fetchall() == [(3,)]
        with db.reading(warehouse) as reader:  # a second connection in this process would be refused
            assert reader is third
        assert "lock" in _reader_fails(warehouse)  # held between the blocks too
    assert _reader_fails(warehouse) == ""  # closed with the block
    with db.writing(warehouse) as alone, db.writing(warehouse.with_name("other.duckdb")) as other:
        assert alone is not other
        assert alone.execute("select current_setting('checkpoint_threshold')").fetchall() == [("16.0 MiB",)]


def _reader_fails(path: Path) -> str:
    """What another process opening `path` read-only says on failure; '' when it opens."""
    done = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r}, read_only=True)"],
                          capture_output=True, text=True)
    return done.stderr if done.returncode else ""
