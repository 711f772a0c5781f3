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
