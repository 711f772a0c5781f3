"""The yearly run's pure parts: the default reference year, the coverage check and the run's final state."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flows.ingest import FileOutcome
from flows.schedule import previous_year, year_state
from warehouse import db, load

INBOX = Path("/srv/niengiam/inbox")
ALL_THERE = {"industrial_output": (16, 96), "trade": (14, 84), "awards": (7, 37)}


def test_the_default_year_is_last_year_in_vietnam() -> None:
    new_year_in_hanoi = datetime(2025, 12, 31, 17, 30, tzinfo=UTC)  # 00:30 on 1 January 2026 there
    assert previous_year("Asia/Ho_Chi_Minh", new_year_in_hanoi) == 2025
    assert previous_year("UTC", new_year_in_hanoi.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))) == 2024


def test_a_year_with_every_dataset_completes() -> None:
    state = year_state(2015, [FileOutcome("a.xlsx", "loaded")], ALL_THERE, INBOX)
    assert state.is_completed()
    assert state.message == "1 file(s) handled; 2015: industrial_output 16 rows, trade 14 rows, awards 7 rows"


def test_a_missing_dataset_fails_the_run_and_says_where_to_put_it() -> None:
    state = year_state(2016, [], {**ALL_THERE, "awards": (0, 37)}, INBOX)
    assert state.is_failed()
    assert state.message.startswith("no figures for 2016 yet in: awards (0 file(s) handled).")
    assert str(INBOX) in state.message


def test_a_dataset_the_province_never_sends_is_not_expected() -> None:
    assert year_state(2015, [], {**ALL_THERE, "iip": (0, 0)}, INBOX).is_completed()


def test_an_empty_warehouse_expects_everything() -> None:
    state = year_state(2015, [], {name: (0, 0) for name in ALL_THERE}, INBOX)
    assert state.is_failed() and "industrial_output, trade, awards" in state.message


def test_a_rejected_file_fails_the_run_by_name() -> None:
    state = year_state(2015, [FileOutcome("b.xlsx", "rejected", message="bad header")], ALL_THERE, INBOX)
    assert state.is_failed() and "b.xlsx: rejected — bad header" in state.message


def test_coverage_counts_current_rows_only(tmp_path: Path) -> None:
    with db.writing(tmp_path / "w.duckdb") as con:
        con.execute(
            "insert into core.fct_awards by name select * from (values"
            " ('25', 2014, 'A', 'individual', 3, 'final', 1, 's', current_timestamp, null),"
            " ('25', 2015, 'A', 'individual', 3, 'final', 1, 's', current_timestamp, current_timestamp))"
            " as v(province_code, reference_year, award_code, recipient_kind, award_count, status,"
            " _load_id, _source_file_sha256, _loaded_at, _superseded_at)"
        )
        assert load.year_coverage(con, 2014)["awards"] == (1, 1)
        assert load.year_coverage(con, 2015)["awards"] == (0, 1)
        assert load.year_coverage(con, 2015)["trade"] == (0, 0)
