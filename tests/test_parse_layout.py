"""Format-2 layout specs on workbooks written by the test: shape detection, headers, rows, units, routing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.errors import UnknownLayoutError
from schemas.grid import read_workbook
from schemas.layout import find_region
from schemas.observations import _figures, _paths
from schemas.parse import ParseContext, parse_workbook
from schemas.pipeline import parse_file, validate_file
from schemas.specs import parse_spec

GSO_LIKE = """
id = "test/exports"
version = 1
format = 2
dataset = "indicators"
[sheet]
name_pattern = '^28\\.'
title_contains = ["hang hoa xuat khau"]
table_pattern = '^(\\d+)\\.'
[header.measures]
quantity = ["Lượng"]
value = ["Trị giá"]
[fixed]
province_code = "VN"
source = "TEST"
indicator_code = "exports"
[rows]
footnote_units = true
[row_codes]
TOTAL = ["TỔNG TRỊ GIÁ"]
[[route]]
dataset = "trade"
when = { period = "Y", measure = "value", row_code = "TOTAL", base = "" }
set = { flow_code = "export", product_group_code = "TOTAL" }
"""


def write_gso_like(path: Path, hidden_stale: bool = True) -> Path:
    """A GSO-style export table: title, unit cell, status above period, quantity/value pairs, two label columns."""
    book = xlsxwriter.Workbook(str(path))
    if hidden_stale:
        stale = book.add_worksheet("6NN")
        stale.write_row(0, 0, ["stale", 1.0, 2.0])
        stale.hide()
    sheet = book.add_worksheet("28.XK tháng")
    sheet.merge_range("A1:G1", "28. Hàng hóa xuất khẩu")
    sheet.write("G3", "Nghìn tấn; Triệu USD")
    sheet.merge_range("C4:D4", "Sơ bộ")
    sheet.merge_range("F4:G4", "Ước tính")
    sheet.merge_range("C5:D5", "tháng 12")
    sheet.merge_range("F5:G5", "năm")
    sheet.merge_range("C6:D6", "năm 2024")
    sheet.merge_range("F6:G6", 2024)
    sheet.write_row("C7", ["Lượng", "Trị giá", None, "Lượng", "Trị giá"])
    sheet.write("A9", "TỔNG TRỊ GIÁ")
    sheet.write_row("C9", [None, 35528.989183, None, None, 405531.740609])
    sheet.write("A10", "MẶT HÀNG CHỦ YẾU")
    sheet.write("B11", "Cà phê")
    sheet.write_row("C11", [125.967, 686.55, None, 1343.46, 5620.17])
    sheet.write("B12", "Ô tô")
    sheet.write_row("C12", [None, 782.55, None, None, 8482.26])
    sheet.write("B13", " Trong đó: Nguyên chiếc(*)")
    sheet.write_row("C13", [11510.77, 303.57, None, 172239.77, "3.618,2"])
    sheet.write("B14", "Gạo")
    sheet.write_row("C14", ["590,3", "-", None, "..", 5666.12])
    sheet.write("A16", "(*)Chiếc, triệu USD")
    sheet.write("Z100", None)  # phantom width and height: harmless
    book.close()
    return path


@pytest.fixture
def gso_book(tmp_path: Path):
    return read_workbook(write_gso_like(tmp_path / "bieu.xlsx"))


def observations(book, spec_text: str) -> dict[str, pd.DataFrame]:
    spec = parse_spec(spec_text, "test.toml")
    parsed = parse_file(book, (spec,), ParseContext(book.file_name))
    assert not parsed.problems, parsed.problems
    return parsed.frames


def test_region_found_by_shape(gso_book) -> None:
    """Title, unit cell, header band, label and figure columns are found without naming columns."""
    region = find_region(gso_book.sheets[1])
    assert region is not None
    assert region.title == "28. Hàng hóa xuất khẩu"
    assert region.unit_cell == (2, 6, "Nghìn tấn; Triệu USD")
    assert (region.header_top + 1, region.header_bottom + 1) == (4, 7)
    assert region.label_cols == [0, 1]
    assert region.figure_cols == [2, 3, 5, 6]  # E is an empty spacer column


def test_status_above_period_and_measure_pairs(gso_book) -> None:
    """'Sơ bộ' above 'tháng 12 năm 2024' gives status and period; Lượng/Trị giá give the measure and unit."""
    frame = observations(gso_book, GSO_LIKE)["indicators"]
    coffee = frame[frame["dimension_path"] == "MẶT HÀNG CHỦ YẾU > Cà phê"].set_index("_source_cell")
    assert coffee.loc["C11", ["period", "reference_year", "status", "measure", "unit"]].tolist() == [
        "M12", 2024, "preliminary", "quantity", "Nghìn tấn"]
    assert coffee.loc["G11", ["period", "status", "measure", "unit"]].tolist() == [
        "Y", "estimate", "value", "Triệu USD"]
    assert coffee.loc["G11", "unit_multiplier"] == 1e6 and coffee.loc["G11", "unit_base"] == "USD"


def test_route_sends_the_year_total_to_trade(gso_book) -> None:
    """The yearly total value fits the trade dataset; everything else stays in indicators, once."""
    frames = observations(gso_book, GSO_LIKE)
    trade = frames["trade"]
    assert trade[["flow_code", "product_group_code", "reference_year", "unit", "status"]].values.tolist() == [
        ["export", "TOTAL", 2024, "mn_usd", "estimate"]]
    assert trade["value"].iloc[0] == pytest.approx(405531.740609)
    assert trade["_source_cell"].iloc[0] == "G9"
    assert "G9" not in set(frames["indicators"]["_source_cell"])


def test_hierarchy_by_column_sections_and_of_which(gso_book) -> None:
    """Column B rows sit under the column A row above; a section row holds no data; 'Trong đó' is a child."""
    frame = observations(gso_book, GSO_LIKE)["indicators"]
    paths = set(frame["dimension_path"])
    assert "MẶT HÀNG CHỦ YẾU > Ô tô > Nguyên chiếc" in paths
    assert "MẶT HÀNG CHỦ YẾU" not in paths  # the section row has no figures
    assert not frame["_source_cell"].str.endswith("10").any()


def test_footnote_stripped_kept_as_note_and_units(gso_book) -> None:
    """'Nguyên chiếc(*)' loses its marker, keeps the legend as a note, and takes the footnote's units."""
    frame = observations(gso_book, GSO_LIKE)["indicators"].set_index("_source_cell")
    assert frame.loc["C13", "notes"] == "(*) Chiếc, triệu USD"
    assert frame.loc["C13", "unit"] == "Chiếc"
    assert frame.loc["D13", "unit"] == "triệu USD"
    assert frame.loc["G13", "value"] == pytest.approx(3618.2)  # '3.618,2' written as text


def test_nil_codes_kept_with_a_reason(gso_book) -> None:
    """'-' and '..' are observations without a value but with the reason; blank cells are not observations."""
    frame = observations(gso_book, GSO_LIKE)["indicators"].set_index("_source_cell")
    assert pd.isna(frame.loc["D14", "value"]) and frame.loc["D14", "missing_reason"] == "nil"
    assert frame.loc["F14", "missing_reason"] == "not_available"
    assert frame.loc["C14", "value"] == pytest.approx(590.3)
    assert "C12" not in frame.index


def test_hidden_sheet_ignored_and_validates(gso_book) -> None:
    """The hidden stale sheet is not read; the observations pass their contracts."""
    parsed = parse_file(gso_book, (parse_spec(GSO_LIKE, "t.toml"),), ParseContext(gso_book.file_name))
    assert {t for f in parsed.frames.values() for t in f["_source_sheet"]} == {"28.XK tháng"}
    validated = validate_file(parsed)
    assert not validated.errors, validated.errors


ABS_LIKE = """
id = "test/abs"
version = 1
format = 2
dataset = "indicators"
[sheet]
name_pattern = '^Table'
table_pattern = '(Table \\d+(?:\\.\\d+)?)'
[fixed]
province_code = "AU"
source = "ABS"
[rows]
totals = ['^total$']
[units]
"$" = "AUD"
"""


def write_abs_like(path: Path) -> Path:
    """Years as columns with both dashes, unit in the title, sections, footnotes, legend and copyright."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Table 6.1")
    sheet.write("A1", "            Australian Bureau of Statistics")
    sheet.write("A4", "Table 6.1 Environmental taxation revenue by type, current prices ($m), 2003-04 to 2005-06")
    sheet.write_row("B5", ["2003–04", "2004–05", "2005-06"])
    sheet.write("A6", "Energy Taxes ")
    sheet.write_row("A7", ["Crude oil and LPG", 13532.0, 14352.0, 14075.000000000002])
    sheet.write_row("A8", ["Ozone protection (a)", "-", 1.0, "na"])
    sheet.write("A9", "Transport Taxes")
    sheet.write_row("A10", ["Luxury car tax (b)", 323.4, 298.1, 330.0])
    sheet.write_row("A11", ["Total", 13855.4, 14651.1, 14405.0])
    sheet.write("A13", "- nili or rounded to zero (including null cells)")
    sheet.write("A14", "(a) GHG Greenhouse gas emmissions.")
    sheet.write("A15", "(b) As at December 2017.")
    sheet.write("A17", "© Commonwealth of Australia 2018")
    book.close()
    return path


def test_years_as_columns(tmp_path: Path) -> None:
    """One observation per year column; '2003–04' and '2005-06' are fiscal years ending 2004 and 2006."""
    book = read_workbook(write_abs_like(tmp_path / "abs.xlsx"))
    frame = observations(book, ABS_LIKE)["indicators"].set_index("_source_cell")
    assert frame.loc["B7", ["period", "reference_year", "period_label"]].tolist() == ["FY", 2004, "2003–04"]
    assert frame.loc["D7", ["reference_year", "period_label"]].tolist() == [2006, "2005-06"]
    assert round(frame.loc["D7", "value"], 1) == 14075.0
    assert frame.loc["B7", ["unit", "unit_base", "unit_multiplier"]].tolist() == ["$m", "AUD", 1e6]
    assert frame.loc["B7", "table_id"] == "Table 6.1"


def test_sections_totals_and_legend(tmp_path: Path) -> None:
    """Section rows group the rows under them, 'Total' closes them, legend rows become notes only."""
    book = read_workbook(write_abs_like(tmp_path / "abs.xlsx"))
    frame = observations(book, ABS_LIKE)["indicators"].set_index("_source_cell")
    assert frame.loc["B7", "dimension_path"] == "Energy Taxes > Crude oil and LPG"
    assert frame.loc["B10", "dimension_path"] == "Transport Taxes > Luxury car tax"
    assert frame.loc["B10", "notes"] == "(b) As at December 2017."
    assert frame.loc["B11", "dimension_path"] == "Total"
    assert frame.loc["B8", "missing_reason"] == "nil" and frame.loc["D8", "missing_reason"] == "not_available"
    assert len(frame) == 12  # four data rows × three years; no legend or copyright row


YEARS_DOWN = """
id = "test/blocks"
version = 1
format = 2
dataset = "indicators"
[sheet]
name_pattern = '^Table_1$'
[fixed]
province_code = "AU"
[defaults]
indicator = "column"
[rows]
label_is = "period"
"""


def test_years_down_the_rows_in_blocks(tmp_path: Path) -> None:
    """Block rows in capitals merged across set the dimension; row labels are the periods; a unit row."""
    path = tmp_path / "industry.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Table_1")
    sheet.write("A4", "Table 1 Key data by industry division")
    sheet.write_row("B5", ["Employment at end of June", "Wages and salaries"])
    sheet.write_row("B6", ["'000", "$m"])
    sheet.merge_range("A7:C7", "MINING")
    sheet.write_row("A8", ["2006–07", 117.0, 11827.0])
    sheet.write_row("A9", ["2007–08", 128.0, 13288.0])
    sheet.merge_range("A10:C10", "MANUFACTURING")
    sheet.write_row("A11", ["2006–07", 1005.0, 50036.0])
    book.close()
    frame = observations(read_workbook(path), YEARS_DOWN)["indicators"].set_index("_source_cell")
    assert frame.loc["B9", ["dimension_path", "reference_year", "indicator_code", "unit", "unit_multiplier"]].tolist() \
        == ["MINING", 2008, "employment_at_end_of_june", "'000", 1000.0]
    assert frame.loc["C11", ["dimension_path", "indicator_label", "unit"]].tolist() == [
        "MANUFACTURING", "Wages and salaries", "$m"]


def test_indentation_hierarchy(tmp_path: Path) -> None:
    """With hierarchy = 'indent', leading spaces nest the labels."""
    path = tmp_path / "indent.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Biểu 01")
    sheet.write("A1", "Giá trị sản xuất công nghiệp năm 2014 (Tỷ đồng)")
    sheet.write_row("A3", ["Chỉ tiêu", "Năm 2014"])
    sheet.write_row("A4", ["Toàn ngành", 28029.5])
    sheet.write_row("A5", ["   Khai khoáng", 1000.0])
    sheet.write_row("A6", ["      Than", 400.0])
    sheet.write_row("A7", ["   Chế biến", 27029.5])
    book.close()
    spec = YEARS_DOWN.replace("^Table_1$", "^Biểu").replace('label_is = "period"', 'hierarchy = "indent"')
    spec = spec.replace('province_code = "AU"', 'province_code = "25"')
    frame = observations(read_workbook(path), spec)["indicators"].set_index("_source_cell")
    assert frame.loc["B6", "dimension_path"] == "Toàn ngành > Khai khoáng > Than"
    assert frame.loc["B7", "dimension_path"] == "Toàn ngành > Chế biến"
    assert frame.loc["B4", ["unit", "unit_multiplier", "reference_year"]].tolist() == ["Tỷ đồng", 1e9, 2014]


def test_ditto_marks_in_label_columns(tmp_path: Path) -> None:
    """A '"' in a text column means the value above; a spec field claims the unit column by its header."""
    path = tmp_path / "products.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Biểu 03")
    sheet.write("A1", "Sản phẩm công nghiệp chủ yếu năm 2024")
    sheet.write_row("A3", ["Sản phẩm", "Đơn vị tính", "Năm 2024"])
    sheet.write_row("A4", ["Than sạch", "Nghìn tấn", 49.5])
    sheet.write_row("A5", ["Dầu thô", '"', 8.9])
    book.close()
    spec = YEARS_DOWN.replace("^Table_1$", "^Biểu").replace('label_is = "period"', 'hierarchy = "none"')
    spec = spec.replace('province_code = "AU"', 'province_code = "25"')
    spec += '[unit]\nsources = [["Đơn vị tính", "ĐVT"]]\n'
    frame = observations(read_workbook(path), spec)["indicators"].set_index("_source_cell")
    assert frame.loc["C5", ["dimension_path", "unit", "unit_multiplier"]].tolist() == ["Dầu thô", "Nghìn tấn", 1e3]
    assert frame.loc["C4", "unit"] == "Nghìn tấn"


def test_declared_header_rows(tmp_path: Path) -> None:
    """A spec may declare the header band instead of having it detected."""
    book = read_workbook(write_abs_like(tmp_path / "abs.xlsx"))
    spec = ABS_LIKE.replace("table_pattern", "header_rows = [5, 5]\ntable_pattern")
    frame = observations(book, spec)["indicators"]
    assert len(frame) == 12


def test_unknown_code_is_an_error_when_the_spec_says_so(gso_book) -> None:
    """rows.unmatched = 'error' reports each label without a code, at its cell."""
    spec = parse_spec(GSO_LIKE.replace("footnote_units = true", 'unmatched = "error"'), "t.toml")
    tables = parse_workbook(gso_book, (spec,), ParseContext(gso_book.file_name))
    cells = {p.cell for t in tables for p in t.problems if p.rule == "known_code"}
    assert cells == {"B11", "B12", "B13", "B14"}


def test_named_sheet_without_figures_is_refused(tmp_path: Path) -> None:
    """A spec that names a sheet which holds no table refuses the file instead of skipping it."""
    path = tmp_path / "empty.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("28.XK tháng").write("A1", "28. Hàng hóa xuất khẩu")
    book.close()
    with pytest.raises(UnknownLayoutError, match="no table of figures"):
        parse_workbook(read_workbook(path), (parse_spec(GSO_LIKE, "t.toml"),), ParseContext("empty.xlsx"))


def test_paths_vectorised() -> None:
    """The parent path of each row comes from the nearest shallower rows above it."""
    labels = pd.Series(["S1", "a", "a1", "b", "S2", "c"])
    depth = pd.Series([0, 2, 3, 2, 0, 2])
    keep = pd.Series([True] * 6)
    assert _paths(labels, depth, keep).tolist() == ["", "S1", "S1 > a", "S1", "", "S2"]


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 9), st.booleans()), min_size=1, max_size=30))
def test_text_and_numeric_cells_in_one_column(cells: list[tuple[int, int, bool]]) -> None:
    """'119,6' written as text and 119.6 as a number in one column read the same."""
    values = [whole + tenth / 10 for whole, tenth, _ in cells]
    raw = [f"{v:,.1f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".") if as_text else v
           for v, (_, _, as_text) in zip(values, cells)]
    frame = pd.DataFrame({0: pd.Series(raw, dtype=object)})
    parsed, missing, errors, _ = _figures(frame, 0)
    assert errors.isna().all()
    assert parsed.round(1).tolist() == pytest.approx(values)
