"""Read a spreadsheet file into grids of cells that keep their positions (xlsx, xls, ods, csv)."""

from __future__ import annotations

import codecs
import csv
import html
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import python_calamine as calamine

from schemas.encodings import decode_legacy, decode_legacy_bytes
from schemas.errors import DataError

Cell = str | float | int | bool | datetime | date | time | timedelta | None

MAX_CELLS = 20_000_000            # beyond this a sheet is refused rather than read into memory
MAX_UNZIPPED_BYTES = 1_500_000_000  # a workbook that inflates past this is a zip bomb, not data
MAX_ZIP_RATIO = 200               # …or one that inflates more than this from a non-trivial size

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class Sheet:
    """The cells of one sheet: rows[r][c] is the cell at 0-based row r, column c of the file."""

    name: str
    rows: list[list[Cell]]
    hidden: bool = False
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def height(self) -> int:
        """Number of rows, counted from row 1 of the file."""
        return len(self.rows)

    def value(self, row: int, col: int) -> Cell:
        """The cell at (row, col), or None outside the grid."""
        if 0 <= row < len(self.rows) and 0 <= col < len(self.rows[row]):
            return self.rows[row][col]
        return None

    def merged_value(self, row: int, col: int) -> Cell:
        """The cell's value, or the value of the top-left cell of the merged range it lies in."""
        for r0, c0, r1, c1 in self.merges:
            if r0 <= row <= r1 and c0 <= col <= c1:
                return self.value(r0, c0)
        return self.value(row, col)


@dataclass
class Workbook:
    """All sheets of one file, in file order, and the format they were read as."""

    file_name: str
    format: str
    sheets: list[Sheet]

    def visible(self) -> list[Sheet]:
        """Sheets a person sees when opening the file."""
        return [s for s in self.sheets if not s.hidden]


def sniff_format(head: bytes) -> str:
    """'zip' (xlsx or ods), 'xls' or 'csv', decided by content rather than by the file name."""
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "xls"
    return "csv"


def read_workbook(path: Path, display_name: str | None = None) -> Workbook:
    """Read every sheet of a spreadsheet file; DataError when it cannot be read as one."""
    name = display_name or path.name
    with path.open("rb") as handle:
        head = handle.read(8)
    kind = sniff_format(head)
    if kind == "zip":
        kind = _check_zip(path, name)
        sheets = _read_calamine(path, name)
        if kind == "xlsx":
            mark_formula_gaps(sheets, formula_gaps(path))
        return Workbook(name, kind, sheets)
    if kind == "xls":
        _refuse_encrypted(path, name)
        return Workbook(name, "xls", _read_calamine(path, name))
    return Workbook(name, "csv", [read_csv_sheet(path.read_bytes(), name)])


_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")  # an OLE directory entry of encrypted .xlsx


def _refuse_encrypted(path: Path, name: str) -> None:
    """A password-protected .xlsx is an OLE container holding an 'EncryptedPackage' stream: say so plainly."""
    with path.open("rb") as handle:
        head = handle.read(1_000_000)
    if _ENCRYPTED_STREAM in head:
        raise DataError(
            "the workbook is protected by a password",
            file=name,
            hint="Remove the password (File > Info > Protect Workbook) and send it again.",
        )


def _check_zip(path: Path, name: str) -> str:
    """Refuse zip bombs and non-spreadsheet archives before any XML is parsed."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
            inflated = sum(i.file_size for i in infos)
            packed = max(sum(i.compress_size for i in infos), 1)
            mimetype = archive.read("mimetype")[:64] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(
            "the file is not a readable workbook (damaged or incomplete zip archive)",
            file=name,
            hint="Save it again from Excel or LibreOffice, or copy it again if the copy was cut short.",
        ) from exc
    if inflated > MAX_UNZIPPED_BYTES or (inflated > 50_000_000 and inflated / packed > MAX_ZIP_RATIO):
        raise DataError(
            f"the workbook would expand to {inflated / 1e9:.1f} GB from {packed / 1e6:.1f} MB"
            " (a zip bomb or a broken file); it was not opened",
            file=name,
            hint="Ask the sender for a normal copy of the workbook.",
        )
    if b"opendocument" in mimetype:
        return "ods"
    if "[Content_Types].xml" not in names:
        raise DataError(
            "the file is a zip archive but not an Excel or OpenDocument workbook",
            file=name,
            hint="Send the .xlsx, .xls, .ods or .csv file itself.",
        )
    return "xlsx"


def _read_calamine(path: Path, name: str) -> list[Sheet]:
    try:
        # From the bytes, not the path: calamine picks its reader by extension, and an .xls renamed
        # .xlsx is still a workbook we can read.
        with path.open("rb") as handle:
            book = calamine.CalamineWorkbook.from_filelike(handle)
            return [_read_sheet(book, meta) for meta in book.sheets_metadata]
    except calamine.PasswordError as exc:
        raise DataError(
            "the workbook is protected by a password",
            file=name,
            hint="Remove the password (File > Info > Protect Workbook) and send it again.",
        ) from exc
    except DataError:
        raise
    except Exception as exc:  # calamine raises several unrelated types for broken files
        raise DataError(
            f"the workbook cannot be read ({_short(exc)})",
            file=name,
            hint="Open it in Excel or LibreOffice, save it again as .xlsx, and send that copy.",
        ) from exc


def _read_sheet(book: calamine.CalamineWorkbook, meta: calamine.SheetMetadata) -> Sheet:
    sheet = book.get_sheet_by_name(meta.name)
    hidden = meta.visible != calamine.SheetVisibleEnum.Visible
    height, width = sheet.total_height, sheet.total_width
    if height * width > MAX_CELLS:
        raise DataError(
            f"sheet claims {height:,} rows × {width:,} columns, more than niengiam reads",
            sheet=meta.name,
            hint="Delete the empty rows and columns at the end of the sheet and save it again.",
        )
    rows = [_trim(list(row)) for row in sheet.iter_rows()]
    top, left = sheet.start if sheet.start else (0, 0)
    if left:
        rows = [[None] * left + row if row else row for row in rows]
    end = sheet.end[0] + 1 if sheet.end else len(rows)
    if len(rows) < end:  # rows counted from the first used row (older calamine), not from row 1
        rows = [[] for _ in range(top)] + rows
    while rows and not rows[-1]:
        rows.pop()
    merges = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
    return Sheet(decode_legacy(meta.name), rows, hidden, merges)


def _cell(value: Cell) -> Cell:
    """A cell as niengiam keeps it: '' is None, legacy-encoded text (TCVN3, VNI) becomes Unicode."""
    if isinstance(value, str):
        return decode_legacy(value) if value else None
    return value


def _trim(row: list[Cell]) -> list[Cell]:
    """Cells cleaned by _cell, trailing empties dropped (phantom widths cost nothing)."""
    cells = [_cell(c) for c in row]
    while cells and cells[-1] is None:
        cells.pop()
    return cells


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


# --- CSV -------------------------------------------------------------------------------------

_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: a BOM if any, then UTF-16 without BOM, UTF-8, else 'legacy' (see read_csv_sheet)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding
    sample = data[:4000]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:
        return data.decode("utf-16-le"), "utf-16-le"
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) // 4:
        return data.decode("utf-16-be"), "utf-16-be"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "legacy"  # bytes kept one to one; each cell is decoded on its own


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most cells, most consistently.

    Scored as (lines sharing the most common width) × (that width), so that a Vietnamese ';' file whose
    figures carry decimal commas is not mistaken for a ',' file of two-cell rows.
    """
    lines = [line for line in text.splitlines()[:200] if line.strip()]
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t", "|"):
        counts = Counter(len(next(csv.reader([line], delimiter=delimiter))) for line in lines)
        wide = [(frequency, width) for width, frequency in counts.items() if width > 1]
        if not wide:
            continue
        frequency, width = max(wide)
        if frequency * width > best_score:
            best, best_score = delimiter, frequency * width
    return best


def _csv_cell(cell: str, legacy: bool) -> str | None:
    """A CSV field: blank is None; in a non-UTF file, Windows-1258, TCVN3 or VNI decided for this cell."""
    if not cell.strip():
        return None
    return decode_legacy_bytes(cell.encode("latin-1")) if legacy else cell


def read_csv_sheet(data: bytes, name: str) -> Sheet:
    """One sheet from CSV bytes: encoding detected, delimiter sniffed, every cell kept as text."""
    text, encoding = decode_text(data)
    if "\x00" in text:
        raise DataError(
            "the file is neither a spreadsheet nor a text (CSV) file",
            file=name,
            hint="Send the workbook as .xlsx, .xls, .ods or .csv.",
        )
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    legacy = encoding == "legacy"
    rows = [_trim([_csv_cell(cell, legacy) for cell in row]) for row in reader]
    while rows and not rows[-1]:
        rows.pop()
    stem = Path(name).stem
    return Sheet(stem, rows)


# --- formulas without a saved result, and error cells (xlsx) ----------------------------------------

_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_FORMULA = re.compile(rb"<f[^>]*>(.*?)</f>|<f[^>]*/>", re.S)
_VALUE = re.compile(rb"<v>(.*?)</v>", re.S)
_SHEET_ENTRY = re.compile(rb'<sheet [^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_RELATION = re.compile(rb'<Relationship [^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"|<Relationship [^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"')


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its worksheet part inside the xlsx package."""
    workbook = archive.read("xl/workbook.xml")
    rels = archive.read("xl/_rels/workbook.xml.rels")
    targets = {}
    for m in _RELATION.finditer(rels):
        rid, target = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        target = target.decode()
        targets[rid.decode()] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return {
        html.unescape(name.decode("utf-8")): targets.get(rid.decode(), "")
        for name, rid in _SHEET_ENTRY.findall(workbook)
    }


def formula_gaps(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Per sheet, the cells whose formula has no saved result, or that hold an Excel error (#REF!, #N/A…).

    calamine reads both as blank, which would let a figure vanish silently; they are reported instead.
    """
    gaps: dict[str, dict[tuple[int, int], str]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for sheet, part in _sheet_parts(archive).items():
                if part not in archive.namelist():
                    continue
                xml = archive.read(part)
                if b"<f" not in xml and b't="e"' not in xml:
                    continue
                gaps[sheet] = dict(_gaps_in(xml))
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    return gaps


def _gaps_in(xml: bytes) -> Iterator[tuple[tuple[int, int], str]]:
    for m in _CELL.finditer(xml):
        letters, row, attributes, body = m.group(1), int(m.group(2)), m.group(3), m.group(4) or b""
        formula = _FORMULA.search(body)
        value = _VALUE.search(body)
        position = (row - 1, _col_index(letters.decode()))
        if b't="e"' in attributes:
            error = value.group(1).decode() if value else "#ERROR"
            yield position, f"{error} (Excel error)"
        elif formula and (value is None or not value.group(1).strip()):
            text = html.unescape(formula.group(1).decode("utf-8", "replace")) if formula.group(1) else ""
            yield position, f"={text} (formula without a saved result)"


def _col_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def mark_formula_gaps(sheets: list[Sheet], gaps: dict[str, dict[tuple[int, int], str]]) -> None:
    """Write a readable marker into each gap cell, so that a figure there is reported at its cell."""
    by_name = {s.name: s for s in sheets}
    for name, cells in gaps.items():
        sheet = by_name.get(name)
        if sheet is None:
            continue
        for (row, col), marker in cells.items():
            while len(sheet.rows) <= row:
                sheet.rows.append([])
            line = sheet.rows[row]
            if len(line) <= col:
                line.extend([None] * (col + 1 - len(line)))
            if line[col] is None:
                line[col] = marker
