"""Units: the catalogue's conversions, figures stored in a canonical unit per indicator with the written
value and unit kept, and a file in triệu đồng loaded as tỷ đồng."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.catalogs import load_catalog
from schemas.contracts import validate
from schemas.datasets import DATASETS
from schemas.parse import ParseContext
from schemas.pipeline import parse_file, read_file, validate_file
from schemas.specs import load_specs
from schemas.units import conversion_factor, convert, to_canonical_units, units
from tests.trust_helpers import memory_warehouse, output_table, query, run_ingest, write_output


@pytest.mark.parametrize(
    ("written", "code"),
    [("Tỷ đồng", "bn_vnd"), ("Triệu đồng", "mn_vnd"), ("Nghìn đồng", "thousand_vnd"), ("đồng", "dong"),
     ("Triệu USD", "mn_usd"), ("Nghìn USD", "thousand_usd"), ("Tỷ USD", "bn_usd"), ("USD", "usd"),
     ("Tấn", "tonne"), ("Nghìn tấn", "thousand_tonnes"), ("%", "percent"), ("%/năm", "percent"),
     ("Số tập thể, số cá nhân", "count"), ("triệu", None)],
)
def test_written_units_map_to_codes(written, code):
    assert load_catalog("units").lookup(written) == code


@pytest.mark.parametrize(
    ("source", "target", "factor"),
    [("mn_vnd", "bn_vnd", Fraction(1, 1000)), ("bn_vnd", "mn_vnd", Fraction(1000)), ("dong", "bn_vnd", Fraction(1, 10**9)),
     ("thousand_usd", "mn_usd", Fraction(1, 1000)), ("bn_usd", "mn_usd", Fraction(1000)),
     ("thousand_tonnes", "tonne", Fraction(1000)), ("percent", "percent", Fraction(1)),
     ("mn_usd", "bn_vnd", None), ("tonne", "count", None), ("percent", "count", None), ("nope", "bn_vnd", None)],
)
def test_conversion_factors(source, target, factor):
    assert conversion_factor(source, target) == factor


def test_every_unit_has_a_quantity_and_a_factor():
    assert {u.quantity for u in units().values()} == {"money_vnd", "money_usd", "mass", "percent", "count"}
    assert not units()["percent"].is_additive and units()["bn_vnd"].is_additive


@given(st.integers(0, 10**12))
def test_triệu_to_tỷ_and_back_is_exact(tenths):
    value = pd.Series([tenths / 10])
    there = convert(value, conversion_factor("mn_vnd", "bn_vnd"))
    back = convert(there, conversion_factor("bn_vnd", "mn_vnd"))
    assert back.iloc[0] == pytest.approx(value.iloc[0], rel=1e-15)


def _trade(rows: list[tuple[str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {"province_code": "25", "reference_year": 2015, "flow_code": [r[0] for r in rows], "product_group_code": "TOTAL",
         "value": [r[1] for r in rows], "unit": [r[2] for r in rows], "status": "final",
         "_source_sheet": "Biểu 02", "_source_cell": [f"F{i}" for i in range(8, 8 + len(rows))]}
    )


def test_figures_are_stored_in_the_canonical_unit_of_their_indicator():
    frame = _trade([("export", 905000.0, "thousand_usd"), ("retail", 18990200.0, "mn_vnd"), ("import", 630.2, "mn_usd")])
    converted = to_canonical_units(DATASETS["trade"], frame)
    assert list(converted["value"]) == [905.0, 18990.2, 630.2]
    assert list(converted["unit"]) == ["mn_usd", "bn_vnd", "mn_usd"]
    assert list(converted["original_value"]) == [905000.0, 18990200.0, 630.2]
    assert list(converted["original_unit"]) == ["thousand_usd", "mn_vnd", "mn_usd"]
    assert list(frame["unit"]) == ["thousand_usd", "mn_vnd", "mn_usd"]  # the input is not modified


def test_a_unit_of_another_quantity_is_refused_not_converted():
    checked, problems = validate("trade", _trade([("export", 905.0, "bn_vnd")]))
    assert [(p.rule, p.cell, p.value) for p in problems] == [("unit", "F8", "bn_vnd")]


def test_a_file_in_triệu_đồng_validates_in_tỷ_đồng(tmp_path):
    path = write_output(tmp_path, "phu-tho_2014_trieu-dong.xlsx", source_year=2014, scale=1000, unit="Triệu đồng")
    parsed = parse_file(read_file(path, path.name), load_specs(), ParseContext(path.name))
    validated = validate_file(parsed)
    assert not validated.rejected, validated.errors
    frame = validated.frames["industrial_output"]
    total = frame[(frame["industry_code"] == "TOTAL") & (frame["ownership_code"] == "TOTAL")
                  & (frame["price_basis"] == "current")].iloc[0]
    assert (total["value_bn_vnd"], total["unit"]) == (28029.5, "bn_vnd")
    assert (total["original_value"], total["original_unit"]) == (28029500.0, "mn_vnd")


@pytest.mark.slow
def test_a_file_in_triệu_đồng_loads_converted_with_the_original_kept(prefect_harness, settings, tmp_path):
    path = write_output(tmp_path, "phu-tho_2014_trieu-dong.xlsx", source_year=2014, scale=1000, unit="Triệu đồng")
    assert [o.status for o in run_ingest(settings, [path])] == ["loaded"]
    expected = output_table(2014).rows
    stored = query(settings, "select value_bn_vnd, original_value, original_unit from core.fct_industrial_output"
                   " where price_basis = 'current' order by length(_source_cell), _source_cell")
    assert stored == [(row[5], round(row[5] * 1000, 1), "mn_vnd") for row in expected]
    shown = query(settings, "select value, unit, original_value, original_unit from reporting.observation_vintages"
                  " where dimension_1 = 'TOTAL' and dimension_2 = 'TOTAL' and dimension_3 = 'current'")
    assert shown == [(28029.5, "bn_vnd", 28029500.0, "mn_vnd")]


def test_dim_units_and_conversions_in_the_warehouse():
    con = memory_warehouse()
    assert con.execute("select count(*) from core.dim_units").fetchall() == [(len(units()),)]
    assert con.execute("select reporting.convert_unit(28029500, 'mn_vnd', 'bn_vnd'),"
                       " reporting.convert_unit(1.313, 'bn_usd', 'mn_usd'),"
                       " reporting.convert_unit(5, 'mn_usd', 'bn_vnd')").fetchall() == [(28029.5, 1313.0, None)]
    assert con.execute("select multiply_by from reporting.unit_conversions where from_unit = 'thousand_tonnes'"
                       " and to_unit = 'tonne'").fetchall() == [(1000.0,)]
