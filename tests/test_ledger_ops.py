"""The ledger's decisions (skip, load, re-run), chains of attempts and interrupted loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse import db, ledger


@pytest.fixture
def con(tmp_path: Path):
    with db.writing(tmp_path / "w.duckdb") as connection:
        yield connection


def _file(con, sha: str, name: str = "f.xlsx") -> None:
    ledger.record_source_files(con, [(sha, name, f"/inbox/{name}", 10, f"/archive/{sha}.xlsx")])


def _attempt(con, sha: str, status: str, retry_of: int | None = None, **fields) -> int:
    load_id = ledger.start_load(con, sha, "f.xlsx", "run-1", retry_of)
    if status != "running":
        ledger.finish_load(con, load_id, status, **fields)
    return load_id


def test_received_files_are_recorded_once_and_their_last_attempts_found_together(con) -> None:
    _file(con, "a")
    _file(con, "a", "again.xlsx")
    ledger.record_source_files(con, [("b", "b.xlsx", "/inbox/b.xlsx", 5, "/archive/b.xlsx")] * 2)
    assert con.execute("select sha256, original_name from meta.source_files order by 1").fetchall() == [
        ("a", "f.xlsx"), ("b", "b.xlsx")
    ]
    first = _attempt(con, "a", "failed")
    second = _attempt(con, "a", "loaded", retry_of=first)
    only_b = _attempt(con, "b", "rejected")
    found = ledger.last_loads(con, ["a", "b", "c", "a"])
    assert {sha: r.load_id for sha, r in found.items()} == {"a": second, "b": only_b}


def test_a_new_file_is_loaded_without_a_link(con) -> None:
    assert ledger.decide(con, "a" * 64) == ledger.Decision(None, None)


def test_a_loaded_file_is_skipped_even_when_rerun_on_purpose(con) -> None:
    _file(con, "a")
    first = _attempt(con, "a", "loaded", reference_years="2014")
    assert "already loaded (load 1, 2014)" in ledger.decide(con, "a").skip_reason
    assert ledger.decide(con, "a", retry_of=first).skip_reason.endswith("nothing to do")


def test_a_rejected_file_is_skipped_by_ingest_but_rerun_when_asked(con) -> None:
    _file(con, "a")
    first = _attempt(con, "a", "rejected", error="bad")
    assert f"niengiam rerun {first}" in ledger.decide(con, "a").skip_reason
    assert ledger.decide(con, "a", retry_of=first) == ledger.Decision(None, first)


def test_a_failed_file_is_tried_again_linked_to_its_first_attempt(con) -> None:
    _file(con, "a")
    first = _attempt(con, "a", "failed")
    second = _attempt(con, "a", "failed", retry_of=first)
    assert ledger.decide(con, "a") == ledger.Decision(None, first)
    third = ledger.start_load(con, "a", "f.xlsx", "run-2", ledger.decide(con, "a").retry_of)
    record = ledger.get_load(con, third)
    assert (record.retry_of, record.attempt) == (first, 3)
    assert second == first + 1


def test_chains_report_their_last_attempt_only(con) -> None:
    _file(con, "a", "a.xlsx")
    _file(con, "b", "b.xlsx")
    _file(con, "c", "c.xlsx")
    a1 = _attempt(con, "a", "failed")
    _attempt(con, "a", "loaded", retry_of=a1)  # fixed: not a candidate any more
    b1 = _attempt(con, "b", "rejected")
    b2 = _attempt(con, "b", "failed", retry_of=b1)
    c1 = _attempt(con, "c", "failed")
    found = ledger.last_attempts_in(con, ("failed", "rejected"))
    assert [(c.first_load_id, c.last.load_id) for c in found] == [(b1, b2), (c1, c1)]
    assert found[0].archive_path == Path("/archive/b.xlsx") and found[0].original_name == "b.xlsx"
    assert [c.first_load_id for c in ledger.last_attempts_in(con, ("rejected",))] == []


def test_any_attempt_of_a_chain_finds_its_last_attempt(con) -> None:
    _file(con, "b")
    b1 = _attempt(con, "b", "rejected")
    b2 = _attempt(con, "b", "failed", retry_of=b1)
    assert ledger.last_attempt_of(con, b1).last.load_id == b2
    assert ledger.last_attempt_of(con, b2).last.load_id == b2
    assert ledger.last_attempt_of(con, 999) is None


def test_running_loads_of_dead_processes_become_failed_interrupted(con) -> None:
    _file(con, "a")
    load_id = _attempt(con, "a", "running")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    con.execute("update meta.loads set pid = ? where load_id = ?", [int(dead.stdout), load_id])
    alive = _attempt(con, "a", "running")
    con.execute("update meta.loads set pid = ? where load_id = ?", [os.getppid(), alive])
    assert ledger.mark_interrupted(con) == [load_id]
    record = ledger.get_load(con, load_id)
    assert record.status == "failed" and record.error.startswith("interrupted")
    assert ledger.get_load(con, alive).status == "running"


def test_recognising_unchanged_files_imports_neither_pandas_nor_pandera() -> None:
    """A re-run over files already loaded parses nothing, so its modules must not import the parsing stack."""
    probe = (
        "import sys, duckdb\n"
        "import flows.ingest\n"
        "from warehouse import db, ledger, load\n"
        "con = duckdb.connect()\n"
        "db.migrate(con)\n"
        "load.refresh_dimensions(con)\n"
        "received = [('a' * 64, 'x.xlsx', '/inbox/x.xlsx', 10, '/archive/x.xlsx')]\n"
        "ledger.record_source_files(con, received * 2)\n"
        "ledger.record_source_files(con, received)\n"
        "print('FILES', con.execute('select count(*) from meta.source_files').fetchone()[0])\n"
        "print('PROVINCES', con.execute('select count(*) from core.dim_provinces').fetchone()[0] > 30)\n"
        "ledger.last_loads(con, ['a' * 64])\n"
        "db.refresh_views(con)\n"
        "print('HEAVY', sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'pandera', 'numpy', 'pyarrow'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=Path(__file__).parents[1], timeout=120)
    assert done.returncode == 0, done.stderr
    assert "FILES 1" in done.stdout and "PROVINCES True" in done.stdout
    assert "HEAVY []" in done.stdout


def test_problems_of_many_loads_are_recorded_in_order_as_text(con) -> None:
    """One insert for a wave's problems: each load's, in order; missing fields stay NULL, other values are
    written as text; a wave without problems inserts nothing."""
    _file(con, "a")
    first, second = _attempt(con, "a", "running"), _attempt(con, "a", "running")
    ledger.record_problems_of(con, [(first, []), (second, [])])
    assert con.execute("select count(*) from meta.quarantine").fetchall() == [(0,)]
    ledger.record_problems_of(con, [
        (first, [{"sheet": "Biểu 01", "cell": "F7", "column": "value", "value": "1.234,5", "rule": "yoy_plausible",
                  "severity": "warning", "message": "beyond", "message_vi": "vượt ngưỡng"},
                 {"rule": "number", "severity": "error", "message": "not a number", "message_vi": "không phải số",
                  "value": 12.5, "sheet": None}]),
        (second, []),
        (second, [{"rule": "unit", "message": "unit", "message_vi": "đơn vị", "value": 7, "severity": "error"}]),
    ])
    rows = con.execute("select load_id, sheet, cell, column_name, value, rule, severity, message, message_vi"
                       " from meta.quarantine order by rowid").fetchall()
    assert rows == [
        (first, "Biểu 01", "F7", "value", "1.234,5", "yoy_plausible", "warning", "beyond", "vượt ngưỡng"),
        (first, None, None, None, "12.5", "number", "error", "not a number", "không phải số"),
        (second, None, None, None, "7", "unit", "error", "unit", "đơn vị"),
    ]
