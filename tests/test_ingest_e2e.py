"""The ingest flow end to end under prefect_test_harness: samples in, re-run, broken copy rejected."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest
from niengiam.samples import industrial_output_table, write_xlsx

pytestmark = pytest.mark.usefixtures("prefect_harness")

FACT_TABLES = ["core.fct_industrial_output", "core.fct_trade", "core.fct_awards"]


def _run(paths: list[Path], settings) -> list:
    state = ingest([str(p) for p in paths], settings, label="test", progress=False, return_state=True)
    return state.result(raise_on_failure=False)


def _snapshot(database: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {t: sorted(con.execute(f"select * from {t}").fetchall(), key=str) for t in FACT_TABLES}


def _count(database: Path, sql: str, params: list | None = None) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, params or []).fetchone()[0]


def _broken_copy(folder: Path) -> Path:
    """The 2014 industrial output file with a negative value, a text in a number cell and a bad total."""
    table = industrial_output_table(2014)
    rows = [list(r) for r in table.rows]
    rows[1][5] = -5.0  # B, current prices: negative
    rows[2][6] = "n/a?"  # C, constant prices: not a number
    rows[0][5] = float(rows[0][5]) + 1000  # total no longer the sum of its parts
    broken = dataclasses.replace(table, rows=rows)
    return write_xlsx(broken, folder / "phu-tho_2014_gia-tri-sxcn_sua.xlsx")


def test_ingest_samples_then_rerun_then_broken_copy(settings, sample_dir: Path, tmp_path: Path) -> None:
    files = sorted(sample_dir.iterdir())
    first = _run(files, settings)
    assert [o.status for o in first] == ["loaded"] * len(files)
    assert _count(settings.database, "select count(*) from meta.loads where status = 'loaded'") == 18
    assert _count(settings.database, "select count(*) from meta.source_files") == 18
    archived = list(settings.archive.rglob("*.*"))
    assert len(archived) == 18 and all(len(p.stem) == 64 for p in archived)
    flow_runs = _count(settings.database, "select count(distinct flow_run_id) from meta.loads")
    assert flow_runs == 1
    before = _snapshot(settings.database)

    again = _run(files, settings)
    assert {o.status for o in again} == {"skipped"}
    assert _snapshot(settings.database) == before
    assert _count(settings.database, "select count(*) from meta.loads") == 18

    broken = _broken_copy(tmp_path)
    outcome = _run([broken], settings)[0]
    assert outcome.status == "rejected"
    assert _snapshot(settings.database) == before, "a rejected file must leave the facts exactly as they were"
    assert _count(settings.database, "select count(*) from meta.loads where status = 'rejected'") == 1
    with duckdb.connect(str(settings.database), read_only=True) as con:
        quarantine = con.execute(
            "select sheet, cell, column_name, value, rule, message, message_vi from meta.quarantine"
        ).fetchall()
        error = con.execute("select error from meta.loads where status = 'rejected'").fetchone()[0]
    by_rule = {row[4]: row for row in quarantine}
    assert by_rule["non_negative"][:2] == ("Biểu 01", "F9")
    assert by_rule["number"][1] == "G10" and by_rule["number"][3] == "n/a?"
    assert by_rule["total_equals_parts"][1] == "F8"
    assert all(row[5] and row[6] for row in quarantine), "every problem has an English and a Vietnamese message"
    assert "F9" in error or "G10" in error or "F8" in error


def test_missing_column_is_refused_with_the_nearest_spec(settings, tmp_path: Path) -> None:
    table = industrial_output_table(2013)
    header = [list(table.header_rows[0])]
    header[0][5] = "Giá trị"  # the 'Giá hiện hành' column renamed: no price basis can be read
    header[0][6] = "Ghi chú"
    odd = dataclasses.replace(table, header_rows=header)
    path = write_xlsx(odd, tmp_path / "la.xlsx")
    outcome = _run([path], settings)[0]
    assert outcome.status == "rejected"
    assert "not recognised" in outcome.message and "so-cong-thuong/industrial-output" in outcome.message
    assert _count(settings.database, "select count(*) from core.fct_industrial_output") == 0


def test_same_bytes_under_another_name_are_skipped(settings, sample_dir: Path, tmp_path: Path) -> None:
    source = sample_dir / "phu-tho_2013_thuong-mai.xlsx"
    copy = tmp_path / "ban-sao.xlsx"
    shutil.copyfile(source, copy)
    assert _run([source], settings)[0].status == "loaded"
    second = _run([copy], settings)[0]
    assert second.status == "skipped" and "already loaded" in second.message


def test_a_not_a_spreadsheet_file_is_rejected_and_archived(settings, tmp_path: Path) -> None:
    bogus = tmp_path / "bao-cao.xlsx"
    bogus.write_bytes(b"PK\x03\x04 this is not really a zip")
    outcome = _run([bogus], settings)[0]
    assert outcome.status == "rejected"
    assert "bao-cao.xlsx" in outcome.message and "not a readable workbook" in outcome.message
    assert len(list(settings.archive.rglob("*.xlsx"))) == 1
