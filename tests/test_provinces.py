"""Provinces over time: validity periods, the 2025 merger crosswalk, figures on historical or current
boundaries (predecessors summed, flagged as reconstructed), and no double counting."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from schemas.catalogs import load_catalog
from schemas.parse import ParseContext
from schemas.pipeline import parse_file, read_file, validate_file
from schemas.provinces import MERGER_DATE, new_code, place_on_map, province_in_force, provinces, successors
from schemas.specs import load_specs
from tests.trust_helpers import memory_warehouse, query, run_ingest, write_output

# DESIGN.md: the 23 merges of Resolution 202/2025/QH15 (new name <- predecessors).
MERGES = {
    "Tuyên Quang": {"Tuyên Quang", "Hà Giang"}, "Lào Cai": {"Lào Cai", "Yên Bái"},
    "Thái Nguyên": {"Thái Nguyên", "Bắc Kạn"}, "Phú Thọ": {"Phú Thọ", "Vĩnh Phúc", "Hòa Bình"},
    "Bắc Ninh": {"Bắc Ninh", "Bắc Giang"}, "Hưng Yên": {"Hưng Yên", "Thái Bình"},
    "Hải Phòng": {"Hải Phòng", "Hải Dương"}, "Ninh Bình": {"Ninh Bình", "Hà Nam", "Nam Định"},
    "Quảng Trị": {"Quảng Trị", "Quảng Bình"}, "Đà Nẵng": {"Đà Nẵng", "Quảng Nam"},
    "Quảng Ngãi": {"Quảng Ngãi", "Kon Tum"}, "Gia Lai": {"Gia Lai", "Bình Định"},
    "Khánh Hòa": {"Khánh Hòa", "Ninh Thuận"}, "Lâm Đồng": {"Lâm Đồng", "Đắk Nông", "Bình Thuận"},
    "Đắk Lắk": {"Đắk Lắk", "Phú Yên"},
    "TP. Hồ Chí Minh": {"TP. Hồ Chí Minh", "Bình Dương", "Bà Rịa - Vũng Tàu"},
    "Đồng Nai": {"Đồng Nai", "Bình Phước"}, "Tây Ninh": {"Tây Ninh", "Long An"},
    "Cần Thơ": {"Cần Thơ", "Sóc Trăng", "Hậu Giang"}, "Vĩnh Long": {"Vĩnh Long", "Bến Tre", "Trà Vinh"},
    "Đồng Tháp": {"Đồng Tháp", "Tiền Giang"}, "Cà Mau": {"Cà Mau", "Bạc Liêu"}, "An Giang": {"An Giang", "Kiên Giang"},
}
UNCHANGED = {"Hà Nội", "Thừa Thiên Huế", "Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Cao Bằng", "Quảng Ninh",
             "Thanh Hóa", "Nghệ An", "Hà Tĩnh"}


# --- the catalogue ---------------------------------------------------------------------------------


def test_63_provinces_before_and_34_after_the_merger():
    before = [p for p in provinces() if p.code != "VN" and p.in_force(dt.date(2025, 6, 30))]
    after = [p for p in provinces() if p.code != "VN" and p.in_force(MERGER_DATE)]
    assert len(before) == 63 and len(after) == 34
    assert {p.name_vi for p in after} == set(MERGES) | UNCHANGED
    assert len({p.code for p in after}) == 34


def test_crosswalk_lists_the_23_merges_of_the_design():
    names = {p.code: p.name_vi for p in provinces() if p.valid_to is not None}
    merged: dict[str, set[str]] = {}
    for predecessor, successor in successors().items():
        merged.setdefault(successor.name_vi, set()).add(names[predecessor])
    assert merged == MERGES
    assert len(successors()) == 52


def test_each_new_province_takes_the_code_of_one_predecessor_and_codes_never_overlap_in_time():
    for code, new in {s.code: s for s in successors().values()}.items():
        assert code in {pred for pred, succ in successors().items() if succ.code == code}, new.name_vi
    periods: dict[str, list] = {}
    for p in provinces():
        periods.setdefault(p.code, []).append((p.valid_from or dt.date.min, p.valid_to or dt.date.max))
    for code, spans in periods.items():
        spans.sort()
        assert all(a[1] < b[0] for a, b in zip(spans, spans[1:])), code


def test_a_code_means_the_province_in_force_that_year():
    assert province_in_force("15", 2024).name_vi == "Yên Bái"
    assert province_in_force("15", 2025).name_vi == "Lào Cai"
    assert province_in_force("10", 2025) is None
    assert province_in_force("25", 2015).valid_to == dt.date(2025, 6, 30)
    assert province_in_force("25", 2026).valid_from == MERGER_DATE
    assert province_in_force("01", 2030).name_vi == "Hà Nội"


@pytest.mark.parametrize(("old", "new"), [("10", "15"), ("25", "25"), ("26", None), ("17", None), ("01", "01"),
                                          ("VN", "VN"), ("89", "91"), ("91", None), ("72", "80")])
def test_figures_from_2025_on_move_to_the_province_that_kept_the_name(old, new):
    assert new_code(old) == new


def _frame(rows: list[tuple[str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {"province_code": [r[0] for r in rows], "reference_year": [r[1] for r in rows], "value": 1.0,
         "_source_sheet": "Biểu 01", "_source_cell": [f"F{i}" for i in range(8, 8 + len(rows))],
         "_cell_province_code": [None] * len(rows)}
    )


def test_place_on_map_moves_and_refuses():
    placed, problems = place_on_map(_frame([("10", 2025), ("10", 2024), ("25", 2025), ("26", 2024), ("26", 2025)]))
    assert list(placed["province_code"]) == ["15", "10", "25", "26", "26"]
    assert [(p.rule, p.cell, p.value) for p in problems] == [("province_in_force", "F12", "Vĩnh Phúc")]
    assert "Phú Thọ" in problems[0].message and "202/2025/QH15" in problems[0].message_vi


def test_a_file_of_a_province_merged_away_is_rejected_and_a_renamed_one_moves(tmp_path):
    specs = load_specs()
    outcome = {}
    for province, name in (("26", "vinh-phuc_2025.xlsx"), ("10", "lao-cai_2025.xlsx")):
        path = write_output(tmp_path, name, source_year=2014, year=2025, province=province)
        parsed = parse_file(read_file(path, name), specs, ParseContext(name))
        outcome[province] = validate_file(parsed)
    assert {p.rule for p in outcome["26"].errors} == {"province_in_force"}
    assert not outcome["10"].rejected
    assert set(outcome["10"].frames["industrial_output"]["province_code"]) == {"15"}


# --- the views, on a real DuckDB ----------------------------------------------------------------------


@pytest.fixture
def con():
    """An in-memory warehouse (migrations, dimensions, views) per test."""
    connection = memory_warehouse()
    yield connection
    connection.close()


def _insert_exports(con, rows: list[tuple[str, int, float]], status: str = "final") -> None:
    for code, year, value in rows:
        con.execute(
            "insert into core.fct_trade (province_code, reference_year, flow_code, product_group_code, value,"
            " unit, status, _load_id, _source_file_sha256, _loaded_at)"
            " values (?, ?, 'export', 'TOTAL', ?, 'mn_usd', ?, 1, 'sha', current_timestamp)",
            [code, year, value, status],
        )


def _current(con, code: str) -> list[tuple]:
    return con.execute(
        "select reference_year, value, partial_value, is_reconstructed, is_complete, provinces_reported,"
        " provinces_expected, source_province_codes, province_name"
        " from reporting.observations_current_boundaries where province_code = ? order by reference_year",
        [code],
    ).fetchall()


def test_merged_province_series_on_current_boundaries_sums_its_predecessors(con):
    _insert_exports(con, [("25", 2024, 100.0), ("26", 2024, 300.0), ("17", 2024, 50.0), ("25", 2025, 480.0),
                          ("01", 2024, 900.0), ("01", 2025, 950.0)])
    assert _current(con, "25") == [
        (2024, 450.0, 450.0, True, True, 3, 3, "17,25,26", "Phú Thọ"),
        (2025, 480.0, 480.0, False, True, 1, 1, "25", "Phú Thọ"),
    ]
    assert _current(con, "01") == [
        (2024, 900.0, 900.0, False, True, 1, 1, "01", "Hà Nội"),
        (2025, 950.0, 950.0, False, True, 1, 1, "01", "Hà Nội"),
    ]
    assert con.execute("select count(*) from reporting.observations_current_boundaries where province_code in"
                       " ('26', '17')").fetchall() == [(0,)]


def test_reused_code_on_both_maps(con):
    _insert_exports(con, [("10", 2024, 20.0), ("15", 2024, 30.0), ("15", 2025, 55.0)])
    assert _current(con, "15") == [
        (2024, 50.0, 50.0, True, True, 2, 2, "10,15", "Lào Cai"),
        (2025, 55.0, 55.0, False, True, 1, 1, "15", "Lào Cai"),
    ]
    historical = con.execute(
        "select province_code, reference_year, province_name from reporting.observations_historical_boundaries"
        " order by reference_year, province_code"
    ).fetchall()
    assert historical == [("10", 2024, "Lào Cai"), ("15", 2024, "Yên Bái"), ("15", 2025, "Lào Cai")]


def test_missing_predecessor_gives_no_value_but_a_partial_one(con):
    _insert_exports(con, [("25", 2024, 100.0), ("26", 2024, 300.0)])
    assert _current(con, "25") == [(2024, None, 400.0, True, False, 2, 3, "25,26", "Phú Thọ")]


def test_reconstructed_status_is_the_weakest_of_its_parts(con):
    _insert_exports(con, [("25", 2024, 100.0), ("17", 2024, 50.0)])
    _insert_exports(con, [("26", 2024, 300.0)], status="estimate")
    assert con.execute("select status, obs_status from reporting.observations_current_boundaries").fetchall() == [
        ("estimate", "E")
    ]


CODES = sorted({p.code for p in provinces() if p.code != "VN"})


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(CODES), st.integers(2022, 2027), st.integers(1, 10_000)),
                max_size=25, unique_by=lambda r: r[:2]))
def test_no_double_counting_whatever_is_loaded(con, rows):
    con.execute("delete from core.fct_trade")
    valid = [(c, y, float(v)) for c, y, v in rows if province_in_force(c, y) is not None]
    _insert_exports(con, valid)
    historical = dict(con.execute(
        "select reference_year, sum(value) from reporting.observations group by 1").fetchall())
    current = dict(con.execute(
        "select reference_year, sum(partial_value) from reporting.observations_current_boundaries group by 1").fetchall())
    assert current == historical
    counted = Counter(code for row in con.execute(
        "select source_province_codes, reference_year from reporting.observations_current_boundaries").fetchall()
        for code in [(c, row[1]) for c in row[0].split(",")])
    assert all(n == 1 for n in counted.values())


# --- end to end: files for three provinces and the merged one ---------------------------------------


@pytest.mark.slow
def test_merged_province_series_from_real_files(prefect_harness, settings, tmp_path):
    files = [
        write_output(tmp_path, "phu-tho_2024.xlsx", source_year=2014, year=2024, province="25"),
        write_output(tmp_path, "vinh-phuc_2024.xlsx", source_year=2014, year=2024, province="26", scale=1.5),
        write_output(tmp_path, "hoa-binh_2024.xlsx", source_year=2014, year=2024, province="17", scale=0.5),
        write_output(tmp_path, "phu-tho_2025.xlsx", source_year=2014, year=2025, province="25", scale=3.2),
        write_output(tmp_path, "vinh-phuc_2025.xlsx", source_year=2014, year=2025, province="26"),
    ]
    outcomes = run_ingest(settings, files)
    assert [o.status for o in outcomes] == ["loaded", "loaded", "loaded", "loaded", "rejected"]
    rows = query(settings, "select reference_year, value, is_reconstructed, is_complete, obs_status"
                 " from reporting.observations_current_boundaries where province_code = '25'"
                 " and dimension_1 = 'TOTAL' and dimension_2 = 'TOTAL' and dimension_3 = 'current'"
                 " order by reference_year")
    assert rows == [(2024, pytest.approx(28029.5 * 3), True, True, "A"),
                    (2025, pytest.approx(28029.5 * 3.2), False, True, "A")]
    assert query(settings, "select rule from meta.quarantine where load_id = ?", [outcomes[-1].load_id]) == [
        ("province_in_force",)
    ]
    assert load_catalog("provinces").lookup("Vĩnh Phúc") == "26"
