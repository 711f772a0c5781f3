"""Readers and header matching: CSV with and without BOM, positions kept, hidden sheets, header aliases."""

from __future__ import annotations

import codecs
import dataclasses
from pathlib import Path

import pytest

from niengiam.samples import trade_table, write_csv, write_xlsx
from schemas.grid import read_workbook
from schemas.parse import ParseContext, find_tables, parse_table
from schemas.specs import builtin_specs


@pytest.mark.parametrize("bom", [True, False])
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_csv_with_or_without_bom_reads_the_same_cells(tmp_path: Path, bom: bool, delimiter: str) -> None:
    path = write_csv(trade_table(2011), tmp_path / "t.csv", delimiter=delimiter, bom=bom)
    assert path.read_bytes().startswith(codecs.BOM_UTF8) == bom
    sheet = read_workbook(path).sheets[0]
    assert sheet.rows[0][0] == "UBND TỈNH PHÚ THỌ"
    header = next(r for r in sheet.rows if r and r[0] == "STT")
    assert header[1] == "Chỉ tiêu"


def test_xlsx_cells_keep_their_file_positions_and_hidden_sheets_are_marked(tmp_path: Path) -> None:
    book = read_workbook(write_xlsx(trade_table(2014), tmp_path / "t.xlsx"))
    visible = book.visible()[0]
    assert visible.rows[6][0] == "STT"  # A7, under six title lines
    assert [s.hidden for s in book.sheets] == [False, True]


@pytest.mark.parametrize("year_header", ["Năm", "nam", "NĂM", "Year", " Năm "])
def test_columns_are_found_by_header_text_not_position(tmp_path: Path, year_header: str) -> None:
    table = trade_table(2012)
    header = list(table.header_rows[0])
    order = [0, 4, 5, 1, 2, 3, 6]  # year second, the figures third
    header = [header[i] for i in order]
    header[1] = year_header
    rows = [[row[i] for i in order] for row in table.rows]
    moved = dataclasses.replace(table, header_rows=[header], rows=rows)
    book = read_workbook(write_xlsx(moved, tmp_path / "t.xlsx"))
    match = next(m for m in find_tables(book, builtin_specs()))
    parsed = parse_table(match, ParseContext("t.xlsx"))
    assert not parsed.problems
    assert set(parsed.frame["reference_year"]) == {2012.0}
    assert parsed.frame["_source_cell"].str.startswith("C").all()  # 'Giá trị' is now column C
    assert len(parsed.frame) == 14


def test_vietnamese_text_numbers_are_read_like_numeric_cells(tmp_path: Path) -> None:
    book = read_workbook(write_csv(trade_table(2013), tmp_path / "t.csv"))
    parsed = parse_table(find_tables(book, builtin_specs())[0], ParseContext("t.csv"))
    from_xlsx = parse_table(
        find_tables(read_workbook(write_xlsx(trade_table(2013), tmp_path / "t.xlsx")), builtin_specs())[0],
        ParseContext("t.xlsx"),
    )
    assert parsed.frame["value"].tolist() == pytest.approx(from_xlsx.frame["value"].tolist())


def test_header_band_stops_before_the_first_row_of_figures(tmp_path: Path) -> None:
    """A 'Cấp khen thưởng' column whose first data row says 'Tỉnh' must not become a province header."""
    import xlsxwriter

    path = tmp_path / "awards-with-level.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Biểu 03")
    for r, line in enumerate(["UBND TỈNH CÀ MAU", "SỞ CÔNG THƯƠNG", None, "TỔNG HỢP KẾT QUẢ KHEN THƯỞNG NĂM 2008",
                              "(Đơn vị tính: Số tập thể, số cá nhân)"]):
        if line:
            ws.write(r, 0, line)
    ws.write_row(6, 0, ["STT", "Hình thức khen thưởng", "Cấp khen thưởng", "Năm"])
    ws.merge_range(6, 4, 6, 5, "Số lượng")
    ws.write_row(7, 4, ["Tập thể", "Cá nhân"])
    ws.write_row(8, 0, [1, "Bảng vàng danh dự", "Tỉnh", 2008])  # no award of this kind this year: no figures
    ws.write_row(9, 0, [2, "Bằng khen UBND tỉnh", "Tỉnh", 2008, 9, 15])
    wb.close()
    book = read_workbook(path, path.name)
    (match,) = find_tables(book, builtin_specs())
    assert match.spec.dataset == "awards"
    assert match.field_columns["province_code"] == []  # the province comes from the title, not column C
    table = parse_table(match, ParseContext(path.name))
    assert set(table.frame["province_code"]) == {"96"}, table.problems
    assert not [p for p in table.problems if p.severity == "error"]
