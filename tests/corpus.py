"""A corpus of broken and hostile input files, generated on the fly (no binary blobs in the repository).

Each case is a file a department might really send — or one crafted to hurt — with what niengiam must say.
"""

from __future__ import annotations

import codecs
import dataclasses
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from niengiam.samples import (
    SampleTable,
    awards_table,
    industrial_output_table,
    trade_table,
    write_csv,
    write_xlsx,
)


@dataclass(frozen=True)
class Case:
    """One broken input: how to make it and what the message must mention."""

    name: str
    file_name: str
    build: Callable[[Path], None]
    mentions: tuple[str, ...] = ()
    gap: str | None = None  # a known gap, reported as a strict xfail until it is fixed


def _xlsx(table: SampleTable) -> Callable[[Path], None]:
    return lambda path: write_xlsx(table, path) and None


def _rows(table: SampleTable, edit: Callable[[list[list[object]]], None]) -> SampleTable:
    rows = [list(r) for r in table.rows]
    edit(rows)
    return dataclasses.replace(table, rows=rows)


def _set(row: int, col: int, value: object) -> Callable[[list[list[object]]], None]:
    def edit(rows: list[list[object]]) -> None:
        rows[row][col] = value

    return edit


def _valid_bytes(table: SampleTable) -> bytes:
    buffer = Path(f"/tmp/niengiam-corpus-{id(table)}.xlsx")
    write_xlsx(table, buffer)
    data = buffer.read_bytes()
    buffer.unlink()
    return data


def _truncated(path: Path) -> None:
    data = _valid_bytes(industrial_output_table(2014))
    path.write_bytes(data[: len(data) // 2])


def _rewrite_member(source: bytes, member: str, change: Callable[[bytes], bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, change(data) if info.filename == member else data)
    return out.getvalue()


def _entity_bomb(path: Path) -> None:
    lol = "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "lol"}">' for i in range(10)
    )
    doctype = f'<?xml version="1.0"?><!DOCTYPE lolz [{lol}]>'.encode()

    def change(xml: bytes) -> bytes:
        body = re.sub(rb"^<\?xml[^>]*\?>", b"", xml)
        return doctype + body.replace(b"<t>", b"<t>&lol9;", 1)

    source = _valid_bytes(industrial_output_table(2014))
    path.write_bytes(_rewrite_member(source, "xl/sharedStrings.xml", change))


def _zip_bomb(path: Path) -> None:
    """An xlsx whose sheet inflates to ~2 GB of zeros from a few MB (deflate, honest sizes)."""
    source = _valid_bytes(industrial_output_table(2014))
    size = 2_000_000_000
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 24)
    packed = b"".join(compressor.compress(chunk) for _ in range(size // len(chunk))) + compressor.flush()
    crc = 0
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    real = (size // len(chunk)) * len(chunk)
    out = io.BytesIO(source)
    with zipfile.ZipFile(out, "a") as archive:
        info = zipfile.ZipInfo("xl/worksheets/sheet3.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        info.file_size, info.compress_size, info.CRC = real, len(packed), crc
        archive.fp.seek(archive.start_dir)  # type: ignore[union-attr]
        info.header_offset = archive.fp.tell()  # type: ignore[union-attr]
        archive.fp.write(info.FileHeader(zip64=True))  # type: ignore[union-attr]
        archive.fp.write(packed)  # type: ignore[union-attr]
        archive.start_dir = archive.fp.tell()  # type: ignore[union-attr]
        archive.filelist.append(info)
        archive.NameToInfo[info.filename] = info
        archive._didModify = True  # noqa: SLF001 - appending a raw member is the point of this case
    path.write_bytes(out.getvalue())


def _xls_renamed(path: Path) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Biểu 01", cell_overwrite_ok=True)
    table = industrial_output_table(2014)
    for r, line in enumerate(table.title_lines):
        sheet.write(r, 0, line)
    top = len(table.title_lines)
    for c, text in enumerate(table.header_rows[0]):
        sheet.write(top, c, text)
    for r, row in enumerate(table.rows, start=top + 1):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    # a real .xls, but one figure is text that is not a number: the file must be READ (as xls) and rejected
    sheet.write(top + 2, 5, "mười")
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())


def _password(path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(_valid_bytes(industrial_output_table(2014)))
    encrypted = io.BytesIO()
    office = OOXMLFile(plain)
    office.encrypt("matkhau", encrypted)
    path.write_bytes(encrypted.getvalue())


def _empty_workbook(path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Sheet1")
    book.close()


def _headers_only(path: Path) -> None:
    write_xlsx(dataclasses.replace(industrial_output_table(2014), rows=[], notes=[]), path)


def _wrong_sheet(path: Path) -> None:
    table = SampleTable(
        sheet_name="Danh sách",
        title_lines=["DANH SÁCH CÁN BỘ", ""],
        header_rows=[["STT", "Họ và tên", "Chức vụ"]],
        rows=[["1", "Nguyễn Văn A", "Trưởng phòng"], ["2", "Trần Thị B", "Chuyên viên"]],
        notes=[],
        merges=[],
    )
    write_xlsx(table, path)


def _missing_column(path: Path) -> None:
    table = industrial_output_table(2014)
    header = [list(table.header_rows[0])]
    header[0][3] = "Tên"  # 'Ngành công nghiệp' gone, and 'Mã ngành' too
    header[0][2] = "Ký hiệu"
    write_xlsx(dataclasses.replace(table, header_rows=header), path)


def _formulas(path: Path) -> None:
    """Formulas with no cached values (as openpyxl writes them) and #REF!/#N/A error cells."""
    import openpyxl

    table = industrial_output_table(2014)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Biểu 01"
    for line in table.title_lines:
        sheet.append([line])
    sheet.append(table.header_rows[0])
    for row in table.rows:
        sheet.append(list(row))
    top = len(table.title_lines) + 2
    sheet.cell(row=top, column=6, value=f"=SUM(F{top + 1}:F{top + 4})")  # total as a formula, no cached value
    sheet.cell(row=top + 1, column=7, value="=#REF!+1")
    sheet.cell(row=top + 2, column=7, value="#N/A")
    book.save(path)


TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: vowels with their shape marks, tones as combining marks."""
    out = []
    for char in text:
        try:
            out.append(char.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in TONE_MARKS))
            tones = "".join(p for p in parts if p in TONE_MARKS)
            out.append((base + tones).encode("cp1258"))
    return b"".join(out)


def _csv_bytes(table: SampleTable, encoding: str, bom: bytes = b"") -> bytes:
    buffer = Path(f"/tmp/niengiam-corpus-{id(table)}.csv")
    write_csv(table, buffer, bom=False)
    text = buffer.read_text(encoding="utf-8")
    buffer.unlink()
    return bom + (to_cp1258(text) if encoding == "cp1258" else text.encode(encoding))


def _csv_1258_broken(path: Path) -> None:
    table = _rows(trade_table(2012), _set(2, 5, "12,3,4"))  # a value with two decimal commas
    path.write_bytes(_csv_bytes(table, "cp1258"))


def _csv_utf16_broken(path: Path) -> None:
    table = _rows(trade_table(2012), _set(3, 5, "abc"))
    path.write_bytes(_csv_bytes(table, "utf-16-le", codecs.BOM_UTF16_LE))


def _csv_ragged(path: Path) -> None:
    text = _csv_bytes(trade_table(2012), "utf-8").decode()
    lines = text.splitlines()
    lines[9] = lines[9] + ";;;thừa;cột"  # a row with extra cells
    lines[10] = ";".join(lines[10].split(";")[:3])  # a row cut short: no figure at all
    lines[11] = lines[11].replace(";", ";;", 1)  # a row shifted right by one cell
    path.write_bytes("\n".join(lines).encode())


def wide_claim(path: Path) -> None:
    source = _valid_bytes(industrial_output_table(2014))

    def change(xml: bytes) -> bytes:
        return re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml)

    path.write_bytes(_rewrite_member(source, "xl/worksheets/sheet1.xml", change))


def _over_size(path: Path) -> None:
    data = _csv_bytes(trade_table(2012), "utf-8")
    padding = ("\n" + ";" * 5) * ((3_000_000 - len(data)) // 6)
    path.write_bytes(data + padding.encode())


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 64)


def _empty_file(path: Path) -> None:
    path.write_bytes(b"")


def _hidden_only(path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    visible = book.add_worksheet("Trống")
    hidden = book.add_worksheet("Biểu 01")
    table = industrial_output_table(2014)
    for c, text in enumerate(table.header_rows[0]):
        hidden.write(0, c, text)
    for r, row in enumerate(table.rows, start=1):
        for c, value in enumerate(row):
            if value is not None:
                hidden.write(r, c, value)
    hidden.hide()
    visible.activate()
    book.close()


def _all_dashes(path: Path) -> None:
    table = industrial_output_table(2014)
    rows = [[*r[:5], "-", "..", r[7]] for r in table.rows]
    write_xlsx(dataclasses.replace(table, rows=rows), path)


def _year_contradicts(path: Path) -> None:
    write_xlsx(_rows(industrial_output_table(2014), lambda rows: [r.__setitem__(1, 2013) for r in rows]), path)


def _future_year(path: Path) -> None:
    table = industrial_output_table(2014)
    rows = [[r[0], 2099, *r[2:]] for r in table.rows]
    write_xlsx(dataclasses.replace(table, rows=rows, title_lines=[t.replace("2014", "2099") for t in table.title_lines]), path)


def _awards_edit(edit: Callable[[list[list[object]]], None]) -> Callable[[Path], None]:
    return lambda path: write_xlsx(_rows(awards_table(2014), edit), path) and None


def _duplicate_award(rows: list[list[object]]) -> None:
    rows.append(list(rows[1]))


CASES: list[Case] = [
    Case("truncated xlsx", "cat-ngang.xlsx", _truncated, ("cat-ngang.xlsx",)),
    Case("not a zip, named .xlsx", "khong-phai-zip.xlsx", lambda p: p.write_text("Xin chào, đây là thư."), ("khong-phai-zip.xlsx",)),
    Case("xls renamed .xlsx", "that-ra-xls.xlsx", _xls_renamed, ("F9",)),
    Case("password-protected workbook", "mat-khau.xlsx", _password, ("password",)),
    Case("XML entity bomb", "bom-thuc-the.xlsx", _entity_bomb, ("bom-thuc-the.xlsx",)),
    Case("zip bomb", "bom-zip.xlsx", _zip_bomb, ("zip bomb",)),
    Case("empty workbook", "trong.xlsx", _empty_workbook, ("trong.xlsx",)),
    Case("headers only", "chi-tieu-de.xlsx", _headers_only, ("no figures",)),
    Case("the wrong sheet", "nham-bieu.xlsx", _wrong_sheet, ("layout spec",)),
    Case("a missing column", "thieu-cot.xlsx", _missing_column, ("industry",)),
    Case("text in a numeric column", "chu-trong-so.xlsx",
         _xlsx(_rows(industrial_output_table(2014), _set(2, 5, "hai mươi"))), ("F10",)),
    Case("negative count", "so-am.xlsx", _awards_edit(_set(1, 4, -3)), ("E10",)),
    Case("fractional count", "so-le.xlsx", _awards_edit(_set(1, 5, 2.5)), ("F10",)),
    Case("duplicated key", "trung-dong.xlsx", _awards_edit(_duplicate_award), ("same",)),
    Case("year contradicts its title", "lech-nam.xlsx", _year_contradicts, ("2013", "B8")),
    Case("future year", "nam-tuong-lai.xlsx", _future_year, ("2099",)),
    Case("formulas without cached values, #REF!, #N/A", "cong-thuc.xlsx", _formulas, ("F8", "G9", "G10")),
    Case("CSV in Windows-1258 with a bad number", "cp1258.csv", _csv_1258_broken, ("12,3,4",)),
    Case("CSV in UTF-16 with a bad number", "utf16.csv", _csv_utf16_broken, ("abc",)),
    Case("ragged CSV rows", "le-dong.csv", _csv_ragged, ("C12",)),
    Case("file over the size limit", "qua-lon.csv", _over_size, ("limit",)),
    Case("binary garbage named .csv", "rac.csv", _garbage, ("rac.csv",)),
    Case("empty file", "rong.csv", _empty_file, ("rong.csv",)),
    Case("only hidden sheets", "an-het.xlsx", _hidden_only, ("an-het.xlsx",)),
    Case("every figure a nil code", "toan-gach.xlsx", _all_dashes, ("no figures",)),
    Case("unknown award", "khen-la.xlsx", _awards_edit(_set(1, 1, "Huy hiệu Sao Hỏa")), ("B10",)),
    Case("unknown unit", "don-vi-la.xlsx",
         _xlsx(_rows(trade_table(2012), _set(0, 3, "Triệu bảng Anh"))), ("D8",)),
    Case("total differs from its parts", "lech-tong.xlsx",
         _xlsx(_rows(industrial_output_table(2014), _set(0, 5, 99999.9))), ("F8",)),
    Case("unknown industry", "nganh-la.xlsx",
         _xlsx(_rows(industrial_output_table(2014), lambda r: (r[1].__setitem__(2, "Z"), r[1].__setitem__(3, "Nghề lạ")))), ("C9",)),
    Case("name with ../ and backslashes", "..\\..\\..\\thoat-ra.xlsx",
         _xlsx(_rows(industrial_output_table(2011), _set(1, 5, -1.0))), ("F9",)),
    Case("name with control characters", "bao\x07cao\x1b[31m.xlsx",
         _xlsx(_rows(industrial_output_table(2012), _set(1, 5, -1.0))), ("F9",)),
    Case("very long name", "bao-cao-" + "rat-dai-" * 28 + ".xlsx",
         _xlsx(_rows(industrial_output_table(2013), _set(1, 5, -1.0))), ("F9",)),
]


def safe_file_name(name: str) -> str:
    """Where a case is written: its name made into one plain file name (the hostile part is kept inside)."""
    return name.replace("/", "∕")
