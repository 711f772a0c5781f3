"""Reading the formats people send (schemas.grid): xls (BIFF8) and ods written by the tests, CSV in every
encoding, and legacy TCVN3/VNI text decoded per cell — then parsed by a format-2 spec."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import xlwt

from schemas.encodings import encode_tcvn3, encode_vni
from schemas.grid import read_workbook
from schemas.parse import ParseContext
from schemas.pipeline import parse_file
from schemas.specs import parse_spec

SPEC = """
id = "test/output"
version = 1
format = 2
dataset = "indicators"
[sheet]
title_contains = ["gia tri san xuat cong nghiep"]
[fixed]
province_code = "25"
source = "TEST"
"""


def write_tcvn3_xls(path: Path) -> Path:
    """An old-style .xls: title, header and labels typed in TCVN3 (.VnTime / .VnTimeH), a hidden scratch sheet."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("BiÓu 01")  # the sheet name itself is TCVN3
    sheet.write_merge(0, 0, 0, 2, encode_tcvn3("Giá trị sản xuất công nghiệp tỉnh Phú Thọ"))
    sheet.write(1, 2, encode_tcvn3("Đơn vị tính: Tỷ đồng"))
    sheet.write(2, 0, encode_tcvn3("Chỉ tiêu"))
    sheet.write(2, 1, encode_tcvn3("Năm 2013"))
    sheet.write(2, 2, encode_tcvn3("Sơ bộ năm 2014"))
    sheet.write(3, 0, "TæNG Sè")  # typed for the capitals font .VnTimeH
    sheet.write(3, 1, 25741.2)
    sheet.write(3, 2, "28.029,5")
    sheet.write(4, 0, encode_tcvn3("    Khai khoáng"))
    sheet.write(4, 1, 1200.0)
    sheet.write(4, 2, "-")
    sheet.write(5, 0, encode_vni("    Chế biến, chế tạo"))  # another cell, another encoding
    sheet.write(5, 1, 24541.2)
    sheet.write(5, 2, 26829.5)
    scratch = book.add_sheet("Nháp")
    scratch.write(0, 0, "scratch")
    scratch.write(1, 1, 1.0)
    scratch.visibility = 1
    book.save(str(path))
    return path


def test_xls_with_tcvn3_text(tmp_path: Path) -> None:
    """BIFF8 is read; sheet names and cells in TCVN3 or VNI come back as NFC Unicode; hidden sheets marked."""
    book = read_workbook(write_tcvn3_xls(tmp_path / "old.xls"))
    assert book.format == "xls"
    assert [(s.name, s.hidden) for s in book.sheets] == [("Biểu 01", False), ("Nháp", True)]
    rows = book.sheets[0].rows
    assert rows[0][0] == "Giá trị sản xuất công nghiệp tỉnh Phú Thọ"
    assert rows[3][0] == "TỔNG SỐ"
    assert rows[4][0] == "    Khai khoáng"  # indentation kept
    assert rows[5][0] == "    Chế biến, chế tạo"
    assert book.sheets[0].merges == [(0, 0, 0, 2)]


def test_xls_parsed_by_a_spec(tmp_path: Path) -> None:
    """The legacy workbook loads like any other: status, years, unit line, indentation, nil code."""
    book = read_workbook(write_tcvn3_xls(tmp_path / "old.xls"))
    spec = parse_spec(SPEC + '[rows]\nhierarchy = "indent"\n', "s.toml")
    frame = parse_file(book, (spec,), ParseContext(book.file_name)).frames["indicators"].set_index("_source_cell")
    assert frame.loc["C4", ["value", "status", "reference_year", "unit"]].tolist() == [
        28029.5, "preliminary", 2014, "Tỷ đồng"]
    assert frame.loc["B6", "dimension_path"] == "TỔNG SỐ > Chế biến, chế tạo"
    assert frame.loc["C5", "missing_reason"] == "nil"
    assert set(frame["_source_sheet"]) == {"Biểu 01"}


def test_ods(tmp_path: Path) -> None:
    """OpenDocument spreadsheets (written with odfpy through pandas) read like xlsx."""
    path = tmp_path / "bieu.ods"
    rows = [
        ["Giá trị sản xuất công nghiệp (Tỷ đồng)", None, None],
        [None, None, None],
        ["Chỉ tiêu", "Năm 2014", "Ước tính năm 2015"],
        ["Tổng số", 28029.5, "30.618"],
        ["Khai khoáng", "119,6", 130.0],
    ]
    pd.DataFrame(rows).to_excel(path, engine="odf", header=False, index=False, sheet_name="Biểu 01")
    book = read_workbook(path)
    assert book.format == "ods"
    frame = parse_file(book, (parse_spec(SPEC, "s.toml"),), ParseContext("bieu.ods")).frames["indicators"]
    cells = frame.set_index("_source_cell")
    assert cells.loc["C4", ["value", "status", "reference_year"]].tolist() == [30618.0, "estimate", 2015]
    assert cells.loc["B5", "value"] == pytest.approx(119.6)


def to_cp1258_form(text: str) -> str:
    """Windows-1258 spelling: letters with hats, breve and horn precomposed, tones as combining marks."""
    decomposed = unicodedata.normalize("NFD", text)
    return re.sub("([aeouAEOU])(\u0323?)([\u0302\u0306\u031b])",
                  lambda m: unicodedata.normalize("NFC", m[1] + m[3]) + m[2], decomposed)


TABLE = "Chỉ tiêu;Năm 2014\nGiá trị sản xuất công nghiệp;28.029,5\nKhai khoáng;119,6\n"


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8-sig", b""), ("utf-16", b""), ("utf-16-le", b""), ("cp1258", b"")],
)
def test_csv_encodings(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    """UTF-8 with or without BOM, UTF-16 with or without BOM, and Windows-1258 all read to the same cells."""
    path = tmp_path / "bieu.csv"
    text = to_cp1258_form(TABLE) if encoding == "cp1258" else TABLE
    path.write_bytes(prefix + text.encode(encoding))
    rows = read_workbook(path).sheets[0].rows
    assert rows[1] == ["Giá trị sản xuất công nghiệp", "28.029,5"]
    assert rows[2][0] == "Khai khoáng"


@pytest.mark.parametrize("encode", [encode_tcvn3, encode_vni])
def test_csv_in_a_legacy_font_encoding(tmp_path: Path, encode) -> None:
    """A CSV saved from a TCVN3 or VNI sheet (bytes of Windows-1252) is decoded per cell."""
    path = tmp_path / "bieu.csv"
    path.write_bytes(encode(TABLE).encode("cp1252"))
    rows = read_workbook(path).sheets[0].rows
    assert rows[1][0] == "Giá trị sản xuất công nghiệp"
    assert rows[2][0] == "Khai khoáng"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiter_sniffed(tmp_path: Path, delimiter: str) -> None:
    """The delimiter is found from the content."""
    path = tmp_path / "bieu.csv"
    quoted = TABLE.replace("28.029,5", '"28.029,5"').replace("119,6", '"119,6"')
    path.write_text(quoted.replace(";", delimiter), encoding="utf-8")
    assert read_workbook(path).sheets[0].rows[2] == ["Khai khoáng", "119,6"]


def test_sheet_not_starting_at_a1_keeps_positions(tmp_path: Path) -> None:
    """Cells keep their row and column when the used range starts further down and right."""
    import xlsxwriter

    path = tmp_path / "offset.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("S")
    sheet.write("C5", "x")
    sheet.write("D7", 1.5)
    book.close()
    grid = read_workbook(path).sheets[0]
    assert grid.value(4, 2) == "x" and grid.value(6, 3) == 1.5 and grid.height == 7


def _every_cell_gaps(xml: bytes) -> dict[tuple[int, int], str]:
    """The gaps found by looking at every cell of the sheet, as `formula_gaps` first did."""
    import html

    from schemas.grid import _CELL, _FORMULA, _VALUE, _col_index

    found = {}
    for m in _CELL.finditer(xml):
        body = m.group(4) or b""
        formula, value = _FORMULA.search(body), _VALUE.search(body)
        position = (int(m.group(2)) - 1, _col_index(m.group(1).decode()))
        if b't="e"' in m.group(3):
            found[position] = f"{value.group(1).decode() if value else '#ERROR'} (Excel error)"
        elif formula and (value is None or not value.group(1).strip()):
            text = html.unescape(formula.group(1).decode()) if formula.group(1) else ""
            found[position] = f"={text} (formula without a saved result)"
    return found


def test_formula_gaps_found_from_their_marks_equal_a_scan_of_every_cell() -> None:
    """Gaps are found from each formula or error mark and the cell around it: the same cells and markers,
    in the same order, as looking at every cell, whatever else holds '<f' (conditional formats,
    filters) and whatever cells sit between them."""
    import random

    from schemas.grid import _gaps_in

    rng = random.Random(5)
    kinds = [
        '<c r="{c}" s="1"/>',
        '<c r="{c}" t="s"><v>3</v></c>',
        '<c r="{c}"><v>12.5</v></c>',
        '<c r="{c}"><f>SUM(A1:A3)</f><v>7</v></c>',
        '<c r="{c}"><f>SUM(A1:A3)</f></c>',
        '<c r="{c}"><f>B1&amp;"x"</f><v></v></c>',
        '<c r="{c}"><f t="shared" si="0"/></c>',
        '<c r="{c}" t="e"><v>#REF!</v></c>',
        '<c r="{c}" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
        '<c r="{c}" t="str"><f>"a"</f><v>a</v></c>',
    ]
    for _ in range(200):
        rows = []
        for r in range(1, rng.randint(1, 12)):
            cells = "".join(rng.choice(kinds).format(c=f"{chr(65 + k)}{r}") for k in range(rng.randint(0, 6)))
            rows.append(f'<row r="{r}">{cells}</row>')
        tail = rng.choice(["", '<conditionalFormatting sqref="A1"><cfRule type="expression"><formula>A1&gt;0</formula>'
                               '</cfRule></conditionalFormatting>', '<autoFilter ref="A1:C3"><filterColumn colId="0"/></autoFilter>'])
        xml = f'<worksheet><sheetData>{"".join(rows)}</sheetData>{tail}</worksheet>'.encode()
        assert dict(_gaps_in(xml)) == _every_cell_gaps(xml)
        assert list(dict(_gaps_in(xml))) == list(_every_cell_gaps(xml))


def test_one_pass_over_a_small_workbook_finds_what_the_separate_steps_find(tmp_path: Path) -> None:
    """`small_sheet_gaps` reads an xlsx's sheets once for what `formula_gaps` finds; a sheet declared
    taller than TALL_ROWS is left to the separate steps (None)."""
    import shutil

    import openpyxl

    from schemas.grid import TALL_ROWS, formula_gaps, small_sheet_gaps

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Biểu 01"
    for r in range(1, 6):
        sheet.append([f"row {r}", r, r * 2])
    sheet["D5"] = "=SUM(B1:B4)"  # openpyxl saves no result: a gap
    book.create_sheet("Nháp")["A1"] = "=NA()"
    small = tmp_path / "small.xlsx"
    book.save(small)
    assert small_sheet_gaps(small) == formula_gaps(small)
    assert small_sheet_gaps(small)["Biểu 01"] == {(4, 3): "=SUM(B1:B4) (formula without a saved result)"}

    tall = tmp_path / "tall.xlsx"
    shutil.copy(small, tall)
    import zipfile

    with zipfile.ZipFile(small) as source, zipfile.ZipFile(tall, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="A1:D{TALL_ROWS + 1}"'.encode(), data)
            target.writestr(info, data)
    assert small_sheet_gaps(tall) is None
    assert read_workbook(tall).sheets[0].rows[4][3] == "=SUM(B1:B4) (formula without a saved result)"
