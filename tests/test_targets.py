"""Targets: the article's 2016–2020 plan shipped as a seed, targets workbooks read by a layout spec, and
reporting.rpt_targets_vs_actuals (growth, level and share targets; "no data" where there is none)."""

from __future__ import annotations

import pandas as pd
import pytest

from schemas.catalogs import load_catalog
from schemas.contracts import validate
from schemas.parse import ParseContext
from schemas.pipeline import parse_file, read_file, validate_file
from schemas.specs import load_specs
from tests.trust_helpers import memory_warehouse, query, run_ingest, write_targets

ARTICLE_PLAN = [
    ["Giá trị sản xuất công nghiệp tăng bình quân", 2016, 2020, 8, None, "%/năm"],
    ["Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng tăng bình quân", 2016, 2020, 16, None, "%/năm"],
    ["Giá trị hàng hoá xuất khẩu", 2016, 2020, 1.313, None, "Tỷ USD"],
    ["Tỷ trọng công nghiệp - xây dựng", 2016, 2020, 46, 48, "%"],
    ["Tỷ trọng dịch vụ", 2016, 2020, 33, 36, "%"],
]
EXPECTED_BOUNDS = {
    "industrial_output_growth": (8.0, None, "percent"),
    "retail_growth": (16.0, None, "percent"),
    "export_value": (1313.0, None, "mn_usd"),
    "industry_construction_share": (46.0, 48.0, "percent"),
    "services_share": (33.0, 36.0, "percent"),
}


def _seed_frame() -> pd.DataFrame:
    frame = pd.DataFrame(load_catalog("targets").rows).drop(columns="source_note")
    return frame.assign(status="final", _source_sheet=None, _source_cell=None,
                        target_value=frame["target_value"].astype(float))


def test_seed_holds_the_article_plan_and_passes_the_contract():
    checked, problems = validate("targets", _seed_frame())
    assert problems == []
    bounds = {
        code: (group.loc[group.bound == "lower", "target_value"].max(),
               group.loc[group.bound == "upper", "target_value"].max() if (group.bound == "upper").any() else None,
               group["unit"].iloc[0])
        for code, group in checked.groupby("indicator_code")
    }
    assert bounds == EXPECTED_BOUNDS
    assert set(checked["province_code"]) == {"25"}
    assert set(zip(checked["plan_start_year"], checked["reference_year"])) == {(2016, 2020)}


@pytest.mark.parametrize(
    ("change", "rule"),
    [({"plan_start_year": 2021}, "plan_period"), ({"indicator_code": "nonsense"}, "known_code"),
     ({"unit": "bn_vnd"}, "unit")],
)
def test_contract_refuses_inconsistent_targets(change, rule):
    frame = _seed_frame().iloc[[0]].assign(**change)
    _, problems = validate("targets", frame)
    assert rule in {p.rule for p in problems}


def test_targets_belong_to_the_province_that_set_them():
    old_plan = _seed_frame().assign(province_code="26", plan_start_year=2021, reference_year=2025)
    checked, problems = validate("targets", old_plan)
    assert problems == [] and set(checked["province_code"]) == {"26"}
    _, problems = validate("targets", old_plan.assign(plan_start_year=2026, reference_year=2030))
    assert {p.rule for p in problems} == {"province_in_force"}


def test_lower_bound_above_upper_bound_is_refused():
    frame = _seed_frame()
    frame.loc[frame["bound"] == "upper", "target_value"] = 10.0
    _, problems = validate("targets", frame)
    assert {p.rule for p in problems} == {"bounds_in_order"}
    assert all(p.message_vi.startswith("cận dưới") for p in problems)


def test_targets_workbook_read_by_the_layout_spec(tmp_path):
    path = write_targets(tmp_path / "phu-tho_chi-tieu_2016-2020.xlsx", ARTICLE_PLAN)
    parsed = parse_file(read_file(path, path.name), load_specs(), ParseContext(path.name))
    assert parsed.specs == ["so-cong-thuong/targets@v1"]
    validated = validate_file(parsed)
    assert not validated.rejected, validated.errors
    frame = validated.frames["targets"]
    assert set(frame["province_code"]) == {"25"}
    exports = frame[frame["indicator_code"] == "export_value"].iloc[0]
    assert (exports["target_value"], exports["unit"], exports["original_value"], exports["original_unit"]) == (
        1313.0, "mn_usd", 1.313, "bn_usd")
    assert len(frame) == 7


# --- reporting.rpt_targets_vs_actuals on a real DuckDB ------------------------------------------------


@pytest.fixture
def con():
    """An in-memory warehouse (migrations, dimensions, views) per test."""
    connection = memory_warehouse()
    yield connection
    connection.close()


def _insert(con, table: str, rows: list[dict]) -> None:
    for row in rows:
        row = {**row, "status": row.get("status", "final"), "_load_id": 1, "_source_file_sha256": "sha"}
        names = ", ".join(row)
        con.execute(f"insert into {table} ({names}, _loaded_at) values ({', '.join('?' * len(row))},"
                    " current_timestamp)", list(row.values()))


def _output(year: int, value: float, basis: str = "constant", status: str = "final") -> dict:
    return {"province_code": "25", "reference_year": year, "industry_code": "TOTAL", "ownership_code": "TOTAL",
            "price_basis": basis, "base_year": 2010 if basis == "constant" else None, "value_bn_vnd": value,
            "status": status}


def _trade(flow: str, year: int, value: float) -> dict:
    return {"province_code": "25", "reference_year": year, "flow_code": flow, "product_group_code": "TOTAL",
            "value": value, "unit": "mn_usd" if flow == "export" else "bn_vnd"}


def _report(con) -> dict[str, tuple]:
    rows = con.execute(
        "select indicator_code, actual_value, actual_year, actual_basis, assessment, assessment_vi, is_partial,"
        " lower_bound, upper_bound, target_source from reporting.rpt_targets_vs_actuals"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_without_actuals_every_target_says_no_data(con):
    report = _report(con)
    assert set(report) == set(EXPECTED_BOUNDS)
    assert {r[3] for r in report.values()} == {"no_data"} and {r[4] for r in report.values()} == {"Chưa có số liệu"}
    assert {r[8] for r in report.values()} == {"seed"}
    assert report["industry_construction_share"][6:8] == (46.0, 48.0)


def test_demo_years_2010_to_2015_give_no_actual_for_the_2016_2020_plan(con):
    _insert(con, "core.fct_industrial_output", [_output(y, 100.0 + y) for y in range(2010, 2016)])
    assert {r[3] for r in _report(con).values()} == {"no_data"}


def test_complete_plan_period_is_met_or_not_met(con):
    _insert(con, "core.fct_industrial_output", [_output(2015, 100.0), _output(2020, 150.0),
                                                _output(2015, 90.0, "current"), _output(2020, 300.0, "current")])
    _insert(con, "core.fct_trade", [_trade("retail", 2015, 1000.0), _trade("retail", 2020, 2000.0),
                                   _trade("export", 2015, 905.0), _trade("export", 2020, 1400.0)])
    report = _report(con)
    growth = (1.5 ** (1 / 5) - 1) * 100
    assert report["industrial_output_growth"][:6] == (round(growth, 2), 2020, "constant 2010", "met", "Đạt", False)
    assert report["retail_growth"][:4] == (round((2 ** (1 / 5) - 1) * 100, 2), 2020, "current", "not_met")
    assert report["export_value"][:4] == (1400.0, 2020, "current", "met")
    assert report["services_share"][3] == "no_data"


def test_plan_under_way_is_on_track_off_track_or_not_yet(con):
    _insert(con, "core.fct_industrial_output", [_output(2015, 100.0), _output(2017, 110.0, status="estimate")])
    _insert(con, "core.fct_trade", [_trade("retail", 2015, 1000.0), _trade("retail", 2017, 1400.0),
                                   _trade("export", 2017, 1100.0)])
    report = _report(con)
    assert report["industrial_output_growth"][2:6] == ("constant 2010", "off_track", "Chậm so với mục tiêu", True)
    assert report["retail_growth"][3] == "on_track"
    assert report["export_value"][:4] == (1100.0, 2017, "current", "not_yet")
    status = con.execute("select actual_status, actual_obs_status from reporting.rpt_targets_vs_actuals"
                         " where indicator_code = 'industrial_output_growth'").fetchall()
    assert status == [("estimate", "E")]


def test_a_plan_crossing_the_2025_merger_uses_only_years_on_its_own_boundaries(con):
    _insert(con, "core.fct_targets", [
        {"province_code": "25", "reference_year": 2025, "plan_start_year": 2021, "indicator_code": "export_value",
         "bound": "lower", "target_value": 2000.0, "unit": "mn_usd"},
    ])
    _insert(con, "core.fct_trade", [_trade("export", 2023, 1800.0), _trade("export", 2024, 1900.0),
                                   _trade("export", 2025, 5000.0)])
    rows = con.execute("select actual_value, actual_year, is_partial, assessment from reporting.rpt_targets_vs_actuals"
                       " where plan_start_year = 2021").fetchall()
    assert rows == [(1900.0, 2024, True, "not_yet")]


def test_loaded_targets_replace_the_seed_for_their_plan(con):
    _insert(con, "core.fct_targets", [
        {"province_code": "25", "reference_year": 2020, "plan_start_year": 2016, "indicator_code": "export_value",
         "bound": "lower", "target_value": 1500.0, "unit": "mn_usd"},
    ])
    report = _report(con)
    assert set(report) == {"export_value"}
    assert report["export_value"][6] == 1500.0 and report["export_value"][8] == "file"


@pytest.mark.slow
def test_targets_workbook_loads_through_the_flow(prefect_harness, settings, tmp_path):
    path = write_targets(tmp_path / "phu-tho_chi-tieu_2016-2020.xlsx", ARTICLE_PLAN)
    outcomes = run_ingest(settings, [path])
    assert [(o.status, o.datasets, o.years) for o in outcomes] == [("loaded", "targets", "2020")]
    rows = query(settings, "select indicator_code, lower_bound, upper_bound, unit, target_source, target_source_name"
                 " from reporting.rpt_targets_vs_actuals order by indicator_code")
    assert {r[0]: r[1:4] for r in rows} == EXPECTED_BOUNDS
    assert {(r[4], r[5]) for r in rows} == {("file", path.name)}
