"""Real published spreadsheets through the shipped specs alone (skipped where ../shared/realdata is absent).

Nguồn: Tổng cục Thống kê (GSO data annex, December 2024); Australian Bureau of Statistics 4655.0 and 8155.0.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from schemas.parse import ParseContext
from schemas.pipeline import ValidatedFile, parse_file, read_file, validate_file
from schemas.specs import load_specs

GSO = "2024-12-29-02.Bieu-T12.2024.xlsx"
ENV = "environmental-economic-accounts.xlsx"
INDUSTRY = "australian-industry.xlsx"


def load(realdata: Path, name: str) -> ValidatedFile:
    book = read_file(realdata / name, name)
    validated = validate_file(parse_file(book, load_specs(), ParseContext(name)))
    assert not validated.errors, validated.errors[:5]
    return validated


def one(frame: pd.DataFrame, **where: object) -> pd.Series:
    rows = frame
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_gso_headline_figures(realdata: Path) -> None:
    """Nguồn: Tổng cục Thống kê — IIP 2024/2023 = 108.35 %, retail 6,391,002.5 tỷ đồng (estimate), exports
    405,531.7 triệu USD (preliminary), each with its sheet and cell."""
    frames = load(realdata, GSO).frames
    iip = one(frames["iip"], industry_code="TOTAL", period="Y", base="same_period_previous_year")
    assert (round(iip["index_pct"], 2), iip["unit"], iip["reference_year"]) == (108.35, "percent", 2024)
    assert (iip["_source_sheet"], iip["_source_cell"], iip["province_code"]) == ("10.IIPthang", "E9", "VN")
    trade = frames["trade"].set_index("flow_code")
    assert round(trade.at["retail", "value"], 1) == 6391002.5
    assert trade.loc["retail", ["status", "unit", "_source_sheet", "_source_cell"]].tolist() == [
        "estimate", "bn_vnd", "26.Tongmuc", "E10"]
    assert round(trade.at["export", "value"], 1) == 405531.7
    assert trade.loc["export", ["status", "unit", "_source_sheet", "_source_cell"]].tolist() == [
        "preliminary", "mn_usd", "28.XK tháng", "G9"]
    assert round(trade.at["import", "value"], 1) == 380763.7


def test_gso_every_figure_kept(realdata: Path) -> None:
    """Nguồn: Tổng cục Thống kê — months, quantities, structure and indices stay in indicators, with paths."""
    frames = load(realdata, GSO).frames
    indicators = frames["indicators"]
    goods = one(indicators, indicator_code="retail_sales", dimension_path="TỔNG SỐ > Bán lẻ hàng hóa", period="Y",
                measure="value")
    assert round(goods["value"], 1) == 4921698.2 and goods["status"] == "estimate"
    rice = one(indicators[indicators["base"].isna()], indicator_code="exports", dimension_path="MẶT HÀNG CHỦ YẾU > Gạo", period="Y",
               measure="quantity")
    assert (round(rice["value"], 1), rice["unit"], rice["unit_multiplier"]) == (9042.6, "Nghìn tấn", 1000.0)
    cars = indicators[indicators["dimension_path"] == "MẶT HÀNG CHỦ YẾU > Ô tô > Nguyên chiếc"]
    assert set(cars["notes"]) == {"(*) Chiếc, triệu USD"}
    levels = cars[cars["base"].isna()].set_index("measure")["unit"]
    assert set(levels["quantity"]) == {"Chiếc"} and set(levels["value"]) == {"triệu USD"}
    assert len(frames["iip"]) == 37 * 4
    sheets = {s for f in frames.values() for s in f["_source_sheet"]}
    assert sheets == {"10.IIPthang", "26.Tongmuc", "28.XK tháng", "30.NK tháng"}  # not the hidden '6NN'


def test_abs_environmental_accounts(realdata: Path) -> None:
    """ABS 4655.0: years as columns with both dashes, '-' and 'na', footnotes, sections, unit from the title."""
    frame = load(realdata, ENV).frames["indicators"]
    assert len(frame) == 12 * 13 + 8 * 13
    assert set(frame["table_id"]) == {"Table 6.1", "Table 6.2"}
    assert sorted(frame["reference_year"].unique()) == list(range(2004, 2017))
    crude = one(frame, table_id="Table 6.1", dimension_path="Energy Taxes > Crude oil and LPG", reference_year=2006)
    assert (round(crude["value"], 1), crude["period_label"]) == (14075.0, "2005–06")
    assert (crude["unit"], crude["unit_base"], crude["unit_multiplier"]) == ("$m", "AUD", 1e6)
    hyphen = one(frame, table_id="Table 6.1", dimension_path="Energy Taxes > Crude oil and LPG", reference_year=2014)
    assert hyphen["period_label"] == "2013-14"
    waste = frame[frame["dimension_path"] == "Transport Taxes > Waste levies"]
    assert waste["value"].isna().all() and set(waste["missing_reason"]) == {"not_available"}
    luxury = frame[frame["dimension_path"] == "Transport Taxes > Luxury car tax"]
    assert set(luxury["notes"]) == {"(b) As at December 2017."}
    assert "Total" in set(frame["dimension_path"])


def test_abs_australian_industry(realdata: Path) -> None:
    """ABS 8155.0: blocks with years down the rows (tables 1–4, 7) and wide tables by size and state (5, 6)."""
    frame = load(realdata, INDUSTRY).frames["indicators"]
    assert set(frame["table_id"]) == {f"Table {n}" for n in range(1, 8)}
    mining = one(frame, table_id="Table 1", dimension_path="MINING", indicator_code="industry_value_added",
                 reference_year=2017)
    assert (mining["value"], mining["_source_cell"], mining["unit_multiplier"]) == (125034.0, "I30", 1e6)
    small = one(frame, table_id="Table 5", dimension_path="SMALL > Mining",
                indicator_code="employment_at_end_of_june", reference_year=2015)
    assert (small["value"], small["unit_base"], small["unit_multiplier"]) == (17.0, "persons", 1000.0)
    nsw = one(frame, table_id="Table 6", dimension_path="NEW SOUTH WALES > Manufacturing",
              indicator_code="wages_and_salaries", reference_year=2017)
    assert nsw["value"] == 16476.0
    capitalised = frame[(frame["table_id"] == "Table 3") & frame["indicator_label"].str.contains("Capitalised wages")]
    assert set(capitalised["indicator_label"]) == {"Plus / Capital work done for own use / Capitalised wages and salaries"}
    ratio = frame[(frame["table_id"] == "Table 4") & (frame["indicator_label"] == "Industry ratios / Interest coverage")]
    assert set(ratio["unit"]) == {"times"}


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_ingest_real_files_into_reporting(realdata: Path, settings) -> None:
    """'niengiam ingest' of the three files: reporting.observations holds the headline figures with their
    cells, and the two ABS files (same area and years) do not supersede each other."""
    from flows.ingest import ingest

    paths = [str(realdata / name) for name in (GSO, ENV, INDUSTRY)]
    state = ingest(paths, settings, label="real", progress=False, return_state=True)
    outcomes = state.result(raise_on_failure=False)
    assert [o.status for o in outcomes] == ["loaded"] * 3, [o.message for o in outcomes]
    with duckdb.connect(str(settings.database), read_only=True) as con:
        rows = con.execute(
            "select dataset, round(value, 2), unit, status, source_sheet, source_cell from reporting.observations"
            " where reference_year = 2024 and province_code = 'VN' and ("
            " (dataset = 'iip' and dimension_1 = 'TOTAL' and dimension_2 = 'Y') or dataset = 'trade')"
            " order by dataset, source_sheet"
        ).fetchall()
        abs_rows = con.execute(
            "select source, count(*) from core.fct_indicators_current where province_code = 'AU' group by source"
            " order by source"
        ).fetchall()
    assert rows == [
        ("iip", 108.35, "percent", "estimate", "10.IIPthang", "E9"),
        ("trade", 6391002.55, "bn_vnd", "estimate", "26.Tongmuc", "E10"),
        ("trade", 405531.74, "mn_usd", "preliminary", "28.XK tháng", "G9"),
        ("trade", 380763.67, "mn_usd", "preliminary", "30.NK tháng", "G9"),
    ]
    assert abs_rows == [("ABS 4655.0.55.002", 260), ("ABS 8155.0", len(load(realdata, INDUSTRY).frames["indicators"]))]
