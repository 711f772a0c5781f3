"""niengiam status --matrix: datasets × years, alerts and exit codes; the submissions view behind it."""

from __future__ import annotations

import json

import pytest

from niengiam.submissions import build_matrix, matrix_table
from tests.analyst_helpers import cli
from warehouse import db, ledger

pytest_plugins = ["tests.analyst_fixtures"]


def _cell(dataset, year, state, province="25", **extra):
    return {"dataset": dataset, "province_code": province, "reference_year": year, "state": state,
            "last_load_at": "2016-01-15 08:00", "last_load_id": 7, "last_file_name": "f.xlsx", "last_error": None,
            **extra}


def test_the_matrix_fills_every_expected_cell_and_alerts_on_gaps():
    cells = [_cell("industrial_output", 2014, "final"), _cell("industrial_output", 2015, "estimate"),
             _cell("trade", 2015, "rejected", last_error="total ≠ parts")]
    matrix = build_matrix(cells)
    assert matrix.years == [2014, 2015]
    assert [r.dataset for r in matrix.rows] == ["industrial_output", "trade", "awards"]
    states = {(r.dataset, y): c["state"] for r in matrix.rows for y, c in r.cells.items()}
    assert states[("trade", 2014)] == "missing"
    assert states[("awards", 2015)] == "missing"
    assert states[("trade", 2015)] == "rejected"
    assert len(matrix.alerts) == 4  # trade 2014, trade 2015, awards 2014, awards 2015
    assert any(a == "trade 2015 (province 25): rejected (load 7, f.xlsx) — total ≠ parts" for a in matrix.alerts)
    columns, rows = matrix_table(matrix, "vi")
    assert columns == ["Bộ dữ liệu", "2014", "2015", "Lần nạp gần nhất"]
    assert rows[0] == ("Giá trị sản xuất công nghiệp", "chính thức", "ước tính", "2016-01-15 08:00")


def test_a_range_beyond_the_data_expects_those_years_too():
    matrix = build_matrix([_cell("awards", 2015, "final")], first=2014, last=2016, datasets=["awards"])
    assert matrix.years == [2014, 2015, 2016]
    assert [c["state"] for c in matrix.rows[0].cells.values()] == ["missing", "final", "missing"]


def test_several_provinces_get_a_row_each():
    matrix = build_matrix([_cell("awards", 2015, "final", "25"), _cell("awards", 2015, "final", "26")],
                          datasets=["awards"])
    assert matrix.several_provinces
    columns, rows = matrix_table(matrix, "en")
    assert columns[:2] == ["Dataset", "Province"]
    assert [r[1] for r in rows] == ["Phu Tho", "Vinh Phuc"]


def test_the_demo_warehouse_is_complete(demo_warehouse):
    result = cli("status", "--database", str(demo_warehouse), "--matrix", "--lang", "en")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:7] == ["Dataset", "2010", "2011", "2012", "2013", "2014", "2015"]
    assert lines[2].split()[2:8] == ["final"] * 5 + ["estimate"]  # Industrial output
    assert lines[4].split()[1:7] == ["final"] * 6  # Awards
    assert "All 18 expected submissions are in." in result.stderr


def test_missing_years_make_the_exit_code_non_zero(demo_warehouse):
    result = cli("status", "--database", str(demo_warehouse), "--matrix", "--from", "2014", "--to", "2016")
    assert result.exit_code == 1
    assert result.stderr.count("missing — no file loaded") == 3
    assert "3 problem(s) in 2014–2016" in result.stderr


def test_failed_and_rejected_loads_show_in_their_cell(warehouse_copy):
    with db.writing(warehouse_copy.database) as con:
        failed = ledger.start_load(con, "f" * 64, "phu-tho_2013_thuong-mai.xlsx", None)
        ledger.finish_load(con, failed, "failed", dataset="trade", province_code="25", reference_years="2013",
                           error="TransientError: the warehouse is in use")
        unplaced = ledger.start_load(con, "e" * 64, "mystery.xlsx", None)
        ledger.finish_load(con, unplaced, "failed", error="OSError: disk full")
    result = cli("status", "--database", str(warehouse_copy.database), "--matrix", "--lang", "en")
    assert result.exit_code == 1
    trade = next(line for line in result.stdout.splitlines() if line.startswith("Trade"))
    assert trade.split()[1:7] == ["final", "final", "final", "failed", "final", "estimate"]
    assert f"trade 2013 (province 25): failed (load {failed}, phu-tho_2013_thuong-mai.xlsx)" in result.stderr
    assert f"mystery.xlsx: failed before its dataset was known (load {unplaced})" in result.stderr
    as_json = json.loads(cli("status", "--database", str(warehouse_copy.database), "--matrix",
                             "--format", "json").stdout)
    cell = next(c for c in as_json if c["dataset"] == "trade" and c["reference_year"] == 2013)
    assert cell["state"] == "failed" and cell["figures_status"] == "final" and cell["attempts"] == 2


def test_a_file_of_several_datasets_and_years_fills_every_cell(warehouse_copy):
    with db.writing(warehouse_copy.database) as con:
        load_id = ledger.start_load(con, "d" * 64, "phu-tho_2016-2017_tong-hop.xlsx", None)
        ledger.finish_load(con, load_id, "rejected", dataset="awards,trade", province_code="25",
                           reference_years="2016-2017", error="2 problems")
        db.rebuild_views(con)
    result = cli("status", "--database", str(warehouse_copy.database), "--matrix", "--format", "csv")
    assert result.exit_code == 1
    cells = {tuple(line.split(",")[:4]) for line in result.stdout.splitlines()[1:]}
    for dataset in ("awards", "trade"):
        for year in ("2016", "2017"):
            assert (dataset, "25", year, "rejected") in cells
    assert ("industrial_output", "25", "2016", "missing") in cells


@pytest.mark.slow
def test_a_rejected_file_and_its_correction(warehouse_copy, tmp_path):
    from flows.commands_ingest import run_ingest
    from tests.analyst_helpers import broken_output_file

    broken = broken_output_file(tmp_path)
    outcomes = run_ingest(warehouse_copy, [broken], None, progress=False)
    assert [o.status for o in outcomes] == ["rejected"]
    result = cli("status", "--database", str(warehouse_copy.database), "--matrix", "--lang", "en")
    assert result.exit_code == 1
    output = next(line for line in result.stdout.splitlines() if line.startswith("Industrial output"))
    assert output.split()[2:8] == ["final"] * 4 + ["rejected", "estimate"]
    assert "industrial_output 2014 (province 25): rejected" in result.stderr


def test_status_lists_loads_filtered_by_year_and_dataset(demo_warehouse):
    result = cli("status", "--database", str(demo_warehouse), "--year", "2012", "--dataset", "trade",
                 "--format", "csv")
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[1].split(",")[1:5] == ["phu-tho_2012_thuong-mai.xlsx", "loaded", "trade", "2012"]


def test_from_after_to_is_a_usage_error(demo_warehouse):
    result = cli("status", "--database", str(demo_warehouse), "--matrix", "--from", "2015", "--to", "2010")
    assert result.exit_code == 2
    assert result.stderr == "niengiam: --from 2015 is after --to 2010\n"
