"""niengiam export: reporting views to CSV and Parquet, published figures to SDMX-CSV with OBS_STATUS."""

from __future__ import annotations

import csv
import io

import pyarrow.parquet as pq

from niengiam.sdmx import DATAFLOWS, sdmx_code, sdmx_tables
from niengiam.tabular import formula_safe, write_csv
from tests.analyst_helpers import cli
from warehouse.query import run_query
from warehouse.report import reporting_view_names

pytest_plugins = ["tests.analyst_fixtures"]


def _read_csv(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_reporting_view_goes_to_csv_and_parquet(demo_warehouse, tmp_path):
    result = cli("export", "--database", str(demo_warehouse), "--format", "csv", "--format", "parquet",
                 "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    views = reporting_view_names(demo_warehouse)
    assert sorted(p.stem for p in (tmp_path / "csv").iterdir()) == views
    assert sorted(p.stem for p in (tmp_path / "parquet").iterdir()) == views
    _, counts = run_query(demo_warehouse, "select count(*) from reporting.observations")
    assert pq.read_table(tmp_path / "parquet" / "observations.parquet").num_rows == counts[0][0]
    rows = _read_csv(tmp_path / "csv" / "rpt_industrial_output_by_year.csv")
    assert {"reference_year": "2014", "value_bn_vnd": "28029.5", "status": "final"}.items() <= rows[4].items()
    assert f"Exported {len(views)} CSV, {len(views)} PARQUET file(s)" in result.stdout


def test_sdmx_csv_has_the_standard_columns_and_observation_status(demo_warehouse, tmp_path):
    result = cli("export", "--database", str(demo_warehouse), "--format", "sdmx", "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "sdmx").iterdir())
    assert files == ["DF_AWARDS.csv", "DF_INDUSTRIAL_OUTPUT.csv", "DF_TRADE.csv"]
    rows = _read_csv(tmp_path / "sdmx" / "DF_INDUSTRIAL_OUTPUT.csv")
    assert list(rows[0]) == ["STRUCTURE", "STRUCTURE_ID", "ACTION", "FREQ", "REF_AREA", "INDUSTRY", "OWNERSHIP",
                             "PRICE_BASIS", "TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "UNIT_MEASURE"]
    total = {(r["TIME_PERIOD"], r["OBS_STATUS"], r["OBS_VALUE"]) for r in rows
             if r["INDUSTRY"] == "TOTAL" and r["OWNERSHIP"] == "TOTAL" and r["PRICE_BASIS"] == "CURRENT"}
    assert ("2014", "A", "28029.5") in total and ("2015", "E", "30618") in total
    assert {r["STRUCTURE"] for r in rows} == {"dataflow"}
    assert {r["STRUCTURE_ID"] for r in rows} == {"NIENGIAM:DF_INDUSTRIAL_OUTPUT(1.0)"}
    assert {r["UNIT_MEASURE"] for r in rows} == {"BN_VND"}
    assert {r["PRICE_BASIS"] for r in rows} == {"CURRENT", "CONSTANT_2010"}
    _, count = run_query(demo_warehouse, "select count(*) from reporting.observations where dataset = 'industrial_output'")
    assert len(rows) == count[0][0]
    awards = _read_csv(tmp_path / "sdmx" / "DF_AWARDS.csv")
    assert {r["RECIPIENT_KIND"] for r in awards} == {"COLLECTIVE", "INDIVIDUAL"}
    assert all(r["OBS_VALUE"].isdigit() for r in awards)


def test_sdmx_status_codes_come_from_the_status_dimension():
    observations = [
        {"dataset": "trade", "province_code": "25", "reference_year": 2016, "dimension_1": "export",
         "dimension_2": "TOTAL", "dimension_3": None, "value": 1313.0, "unit": "mn_usd", "status": "preliminary",
         "sdmx_code": "P"},
        {"dataset": "targets", "province_code": "25", "reference_year": 2020, "dimension_1": "x",
         "dimension_2": None, "dimension_3": None, "value": 1.0, "unit": "percent", "status": "final",
         "sdmx_code": "A"},
    ]
    tables = sdmx_tables(observations)
    assert list(tables) == ["DF_TRADE"]  # a dataset without a dataflow is not exported
    columns, rows = tables["DF_TRADE"]
    assert dict(zip(columns, rows[0])) == {
        "STRUCTURE": "dataflow", "STRUCTURE_ID": "NIENGIAM:DF_TRADE(1.0)", "ACTION": "I", "FREQ": "A",
        "REF_AREA": "25", "TRADE_FLOW": "EXPORT", "PRODUCT_GROUP": "TOTAL", "TIME_PERIOD": "2016",
        "OBS_VALUE": 1313, "OBS_STATUS": "P", "UNIT_MEASURE": "MN_USD"}
    assert sdmx_code("constant 2010") == "CONSTANT_2010"
    assert sdmx_code("Tổng số/Hàng dệt may") == "TONG_SO_HANG_DET_MAY"
    assert sdmx_code(None) == ""
    assert set(DATAFLOWS) == {"industrial_output", "trade", "awards", "iip", "indicators"}


def test_exported_csv_cannot_run_formulas(small_warehouse, tmp_path):
    result = cli("export", "--home", str(small_warehouse.home), "--format", "csv", "--view", "loads",
                 "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    rows = _read_csv(tmp_path / "csv" / "loads.csv")
    assert rows[0]["file_name"] == "'=HYPERLINK(\"http://x\")"
    assert rows[0]["error"] == "'+cmd|calc"


def test_formula_safe_covers_every_trigger_and_leaves_numbers():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert formula_safe(text) == "'" + text
    assert formula_safe("Phú Thọ") == "Phú Thọ"
    assert formula_safe(-5) == -5
    out = io.StringIO()
    write_csv(out, ["a", "b"], [("=x", None)])
    assert out.getvalue() == "a,b\n'=x,\n"


def test_an_unknown_view_is_refused(demo_warehouse, tmp_path):
    result = cli("export", "--database", str(demo_warehouse), "--view", "nothing", "--output", str(tmp_path))
    assert result.exit_code == 2
    assert "no reporting view named 'nothing'" in result.stderr
