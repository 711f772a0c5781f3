"""Read a spreadsheet file into grids of cells that keep their positions (xlsx, xls, ods, csv)."""

from __future__ import annotations

import codecs
import csv
import html
import io
import itertools
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import python_calamine as calamine

from schemas.encodings import decode_legacy, decode_legacy_bytes
from schemas.errors import DataError

Cell = str | float | int | bool | datetime | date | time | timedelta | None

MAX_CELLS = 20_000_000            # beyond this a sheet is refused rather than read into memory
MAX_UNZIPPED_BYTES = 1_500_000_000  # a workbook that inflates past this is a zip bomb, not data
MAX_ZIP_RATIO = 200               # …or one that inflates more than this from a non-trivial size

TALL_ROWS = 50_000  # a sheet with more rows than this is read column by column (Arrow) below its top rows
TOP_ROWS = 200      # the rows of a tall sheet kept as cells: titles and headers are searched there

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class Tail:
    """The rows of a tall sheet below its top rows, column by column: one Arrow string array per column.

    A million-row table kept as Python cells is 8 M objects and most of a run's time and memory; kept as
    Arrow columns, each column's distinct cells are cleaned once (`distinct`) and the rows index them.
    `clean` turns a raw string into the cell niengiam keeps (blank is None), as the cell readers do.
    """

    def __init__(self, start: int, columns: dict[int, pa.Array], length: int, clean: Callable[[str], Cell]) -> None:
        self.start, self.columns, self.length, self.clean = start, columns, length, clean

    def distinct(self, col: int) -> tuple[np.ndarray, list[Cell]]:
        """Each row's index into the column's distinct cells, and those cells (cleaned once each)."""
        array = self.columns.get(col)
        if array is None:
            return np.zeros(self.length, dtype=np.int64), [None]
        encoded = pa.chunked_array([array]).combine_chunks().dictionary_encode()
        cells = [None if v is None else self.clean(v) for v in encoded.dictionary.to_pylist()] + [None]
        codes = encoded.indices.fill_null(len(cells) - 1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, cells

    def to_rows(self) -> list[list[Cell]]:
        """The rows as cells (trailing blanks dropped), for code that walks a whole sheet row by row."""
        width = max(self.columns, default=-1) + 1
        columns = []
        for col in range(width):
            codes, cells = self.distinct(col)
            columns.append([cells[i] for i in codes.tolist()])
        rows = [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in range(self.length)]
        for row in rows:
            while row and row[-1] is None:
                row.pop()
        return rows


class TallRows(Sequence):
    """A tall sheet's rows: the top rows as cells, the rest as a `Tail` until something needs them as cells.

    Reading a row of the top costs nothing; anything that walks further (a layout search, an annotated
    copy, `inspect`) turns the tail into cells once and then sees an ordinary list.
    """

    def __init__(self, top: list[list[Cell]], tail: Tail) -> None:
        self.top, self._tail = top, tail
        self._full: list[list[Cell]] | None = None

    @property
    def tail(self) -> Tail | None:
        """The columns below the top, or None once the rows were turned into cells (and may have changed)."""
        return self._tail if self._full is None else None

    def _rows(self) -> list[list[Cell]]:
        if self._full is None:
            self._full = self.top + self._tail.to_rows()
        return self._full

    def __len__(self) -> int:
        return len(self._full) if self._full is not None else self._tail.start + self._tail.length

    def __getitem__(self, index):  # type: ignore[override]
        if self._full is None:
            if isinstance(index, int) and 0 <= index < len(self.top):
                return self.top[index]
            if isinstance(index, slice) and index.step in (None, 1):
                start, stop = index.start or 0, len(self) if index.stop is None else index.stop
                if start >= 0 and 0 <= stop <= len(self.top):
                    return self.top[index]
        return self._rows()[index]

    def append(self, row: list[Cell]) -> None:
        """Add a row at the bottom (the tail becomes cells first)."""
        self._rows().append(row)


@dataclass
class Sheet:
    """The cells of one sheet: rows[r][c] is the cell at 0-based row r, column c of the file."""

    name: str
    rows: list[list[Cell]] | TallRows
    hidden: bool = False
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def height(self) -> int:
        """Number of rows, counted from row 1 of the file."""
        return len(self.rows)

    @property
    def tail(self) -> Tail | None:
        """For a tall sheet, its rows below the top rows as Arrow columns; None otherwise."""
        return self.rows.tail if isinstance(self.rows, TallRows) else None

    def value(self, row: int, col: int) -> Cell:
        """The cell at (row, col), or None outside the grid."""
        if 0 <= row < len(self.rows):
            line = self.rows[row]
            if 0 <= col < len(line):
                return line[col]
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
        if kind != "xlsx":
            return Workbook(name, kind, _read_calamine(path, name))
        gaps = small_sheet_gaps(path)
        if gaps is not None:
            sheets = _read_calamine(path, name)
            mark_formula_gaps(sheets, gaps)
            return Workbook(name, kind, sheets)
        tall = {sheet for sheet, rows in declared_heights(path).items() if rows > TALL_ROWS}
        if not tall:
            sheets = _read_calamine(path, name)
            mark_formula_gaps(sheets, formula_gaps(path))
            return Workbook(name, kind, sheets)
        # one after the other: fastexcel takes the GIL often, and a Python thread beside it slows it 4×
        scanned = scan_sheets(path)
        sheets = _read_calamine(path, name, {sheet: scanned.get(sheet, ScannedSheet()).merges for sheet in tall})
        mark_formula_gaps(sheets, formula_gaps(path, scanned))
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


def _read_calamine(path: Path, name: str, tall: dict[str, list[tuple[int, int, int, int]]] | None = None) -> list[Sheet]:
    """Every sheet as cells; the sheets in `tall` (xlsx, with their merged ranges) below the top as Arrow columns."""
    tall = tall or {}
    try:
        # From the bytes, not the path: calamine picks its reader by extension, and an .xls renamed
        # .xlsx is still a workbook we can read.
        with path.open("rb") as handle:
            book = calamine.CalamineWorkbook.from_filelike(handle)
            return [
                _read_tall_sheet(path, meta, tall[meta.name]) if meta.name in tall else _read_sheet(book, meta)
                for meta in book.sheets_metadata
            ]
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


def _refuse_oversized(height: int, width: int, sheet: str) -> None:
    """A sheet of more than MAX_CELLS cells is refused before its cells are turned into values."""
    if height * width > MAX_CELLS:
        raise DataError(
            f"sheet claims {height:,} rows × {width:,} columns, more than niengiam reads",
            sheet=sheet,
            hint="Delete the empty rows and columns at the end of the sheet and save it again.",
        )


def _read_sheet(book: calamine.CalamineWorkbook, meta: calamine.SheetMetadata) -> Sheet:
    sheet = book.get_sheet_by_name(meta.name)
    hidden = meta.visible != calamine.SheetVisibleEnum.Visible
    _refuse_oversized(sheet.total_height, sheet.total_width, meta.name)
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


def _read_tall_sheet(path: Path, meta: calamine.SheetMetadata, merges: list[tuple[int, int, int, int]]) -> Sheet:
    """A sheet of more than TALL_ROWS rows read by fastexcel as Arrow text columns (cells as Excel shows them).

    fastexcel gives every cell as text; numbers arrive as their shortest text ('0.3', '2006') and are
    turned back into the floats calamine would give (`_shown_cell`). Merged ranges come from the XML scan.
    """
    import fastexcel

    loaded = fastexcel.read_excel(str(path)).load_sheet(meta.name, header_row=None, skip_rows=0, dtypes="string")
    _refuse_oversized(loaded.total_height, loaded.width, meta.name)
    at = {info.index: info.absolute_index for info in loaded.available_columns()}
    batch = loaded.to_arrow()
    del loaded
    columns = {at[i]: batch.column(i) for i in range(batch.num_columns)}
    length = batch.num_rows
    while length and not any(str(a[length - 1].as_py() or "").strip() for a in columns.values()):
        length -= 1
    top_rows = min(TOP_ROWS, length)
    width = max(columns, default=-1) + 1
    head = {c: a.slice(0, top_rows).to_pylist() for c, a in columns.items()}
    top = [_trim([_shown_cell(head[c][r]) if c in head else None for c in range(width)]) for r in range(top_rows)]
    tail = Tail(top_rows, {c: a.slice(top_rows, length - top_rows) for c, a in columns.items()},
                length - top_rows, _shown_cell)
    hidden = meta.visible != calamine.SheetVisibleEnum.Visible
    return Sheet(decode_legacy(meta.name), TallRows(top, tail), hidden, merges)


_DIMENSION = re.compile(rb'<dimension ref="[A-Z]{1,3}\d+(?::[A-Z]{1,3}(\d+))?"')
_MERGE = re.compile(rb'<mergeCell ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')


@dataclass
class ScannedSheet:
    """What one pass over an xlsx sheet's XML tells before any reader loads it."""

    has_gaps: bool = False            # holds a formula or an error cell (see formula_gaps)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)


def _present_sheet_parts(archive: zipfile.ZipFile) -> Iterator[tuple[str, str]]:
    """(sheet name, worksheet part) of each sheet whose part the package holds."""
    names = set(archive.namelist())
    return ((sheet, part) for sheet, part in _sheet_parts(archive).items() if part in names)


def _declared_rows(head: bytes) -> int:
    """The height a sheet's <dimension> declares, from the first bytes of its XML (0 when it declares none)."""
    found = _DIMENSION.search(head)
    return int(found.group(1)) if found and found.group(1) else 0


def _may_hold_gaps(xml: bytes) -> bool:
    """Whether sheet XML holds a formula or an error cell (see formula_gaps)."""
    return b"<f" in xml or b't="e"' in xml


def declared_heights(path: Path) -> dict[str, int]:
    """Each xlsx sheet's height as its <dimension> declares it, from the first bytes of its XML."""
    heights = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for sheet, part in _present_sheet_parts(archive):
                with archive.open(part) as stream:
                    heights[sheet] = _declared_rows(stream.read(4096))
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    return heights


def small_sheet_gaps(path: Path) -> dict[str, dict[tuple[int, int], str]] | None:
    """`formula_gaps` of an xlsx whose sheets all declare at most TALL_ROWS rows, in one pass over the
    package (the heights, the scan and the gaps each opened it and read its sheets); None when a sheet is
    taller or the package cannot be read so (the separate steps then decide, and report)."""
    gaps: dict[str, dict[tuple[int, int], str]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for sheet, part in _present_sheet_parts(archive):
                with archive.open(part) as stream:
                    head = stream.read(4096)
                    if _declared_rows(head) > TALL_ROWS:
                        return None
                    xml = head + stream.read()
                if _may_hold_gaps(xml):
                    gaps[sheet] = dict(_gaps_in(xml))
    except (KeyError, zipfile.BadZipFile, OSError):
        return None
    return gaps


def scan_sheets(path: Path) -> dict[str, ScannedSheet]:
    """Each xlsx sheet's merged ranges and whether it may hold formula gaps.

    Streamed in pieces: a tall sheet's XML is hundreds of MB, and most sheets need no second look.
    """
    scanned: dict[str, ScannedSheet] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for sheet, part in _present_sheet_parts(archive):
                facts = scanned[sheet] = ScannedSheet()
                merges = set()
                with archive.open(part) as stream:
                    carry = b""
                    while piece := stream.read(1 << 24):
                        chunk = carry + piece
                        facts.has_gaps = facts.has_gaps or _may_hold_gaps(chunk)
                        if b"<mergeCell " in chunk:
                            merges.update(_MERGE.findall(chunk))
                        carry = piece[-256:]  # so that no element cut in two goes unseen
                facts.merges = sorted(
                    (int(r0) - 1, _col_index(a.decode()), int(r1) - 1, _col_index(b.decode())) for a, r0, b, r1 in merges
                )
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    return scanned


_SHOWN_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _shown_cell(value: str | None) -> Cell:
    """A cell of a tall xlsx sheet from fastexcel's text: a number as the float calamine gives, else `_cell`.

    A text cell that looks exactly like a plain number ('12.5', not '012' or '1.234,5') is read as that
    number too: fastexcel does not say which cells were typed as text.
    """
    if value and _SHOWN_NUMBER.fullmatch(value):
        return float(value)
    return _cell(value)


def _cell(value: Cell) -> Cell:
    """A cell as niengiam keeps it: '' is None, legacy-encoded text (TCVN3, VNI) becomes Unicode."""
    if isinstance(value, str):
        return decode_legacy(value) if value else None
    return value


def _trim(row: list[Cell]) -> list[Cell]:
    """Cells cleaned by _cell, trailing empties dropped (phantom widths cost nothing)."""
    cells = [(decode_legacy(c) if c else None) if isinstance(c, str) else c for c in row]  # _cell, inlined
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
    tall = _tall_csv_sheet(data, name)
    if tall is not None:
        return tall
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
    return Sheet(Path(name).stem, rows)


_HEAD_BYTES = 2_000_000  # where a tall CSV's top rows and delimiter are read as text


def _tall_csv_sheet(data: bytes, name: str) -> Sheet | None:
    """A UTF-8 CSV of more than TALL_ROWS lines: its top rows as cells, the rest as Arrow columns.

    None when the file is not such a CSV (short, another encoding) or when its rows are uneven below
    the top; the cell reader then reads it, slower but the same.
    """
    if data.count(b"\n") <= TALL_ROWS:
        return None
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        head = codecs.getincrementaldecoder("utf-8")().decode(data[skip : skip + _HEAD_BYTES])
    except UnicodeDecodeError:
        return None
    if "\x00" in head:
        return None
    delimiter = sniff_delimiter(head)
    handle = io.StringIO(head, newline="")
    records = list(itertools.islice(csv.reader(handle, delimiter=delimiter), TOP_ROWS))
    used = handle.tell()
    if len(records) < TOP_ROWS or used >= len(head):
        return None
    top = [_trim([_csv_cell(cell, False) for cell in row]) for row in records]
    offset = skip + len(head[:used].encode("utf-8"))
    stop = len(data)
    while stop > offset and data[stop - 1] in b" \t\r\n":
        stop -= 1  # blank lines at the end would read as rows of another width
    tail = _csv_tail(memoryview(data)[offset:stop], delimiter, len(top), max(len(row) for row in records))
    return Sheet(Path(name).stem, TallRows(top, tail)) if tail is not None else None


def _csv_tail(data: memoryview, delimiter: str, start: int, width: int) -> Tail | None:
    """The rest of a tall CSV read by Arrow's reader; None when a row does not have the table's width.

    Rows of another width (a blank line, a footnote) would shift or drop rows in Arrow's reader, so
    such a file is read cell by cell instead.
    """
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid:  # a row of another width, text that is not UTF-8, unbalanced quotes
        return None
    columns = {i: table.column(i).combine_chunks() for i in range(width)}
    del table
    length = len(columns[0]) if columns else 0
    while length and not any(str(a[length - 1].as_py() or "").strip() for a in columns.values()):
        length -= 1  # blank rows at the end, as the cell reader drops them
    columns = {i: a.slice(0, length) for i, a in columns.items()}
    return Tail(start, columns, length, _csv_text_cell)


def _csv_text_cell(cell: str) -> str | None:
    return _csv_cell(cell, False)


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


def formula_gaps(path: Path, scanned: dict[str, ScannedSheet] | None = None) -> dict[str, dict[tuple[int, int], str]]:
    """Per sheet, the cells whose formula has no saved result, or that hold an Excel error (#REF!, #N/A…).

    calamine reads both as blank, which would let a figure vanish silently; they are reported instead.
    """
    scanned = scan_sheets(path) if scanned is None else scanned
    gaps: dict[str, dict[tuple[int, int], str]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            parts = _sheet_parts(archive)
            for sheet, facts in scanned.items():
                if facts.has_gaps:
                    gaps[sheet] = dict(_gaps_in(archive.read(parts[sheet])))
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    return gaps


def _gaps_in(xml: bytes) -> Iterator[tuple[tuple[int, int], str]]:
    for m in _marked_cells(xml):
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


def _marked_cells(xml: bytes) -> list[re.Match[bytes]]:
    """The cells (`_CELL` matches, in order) that hold a formula or an error mark: each mark found, and the
    cell around it matched, instead of every cell of the sheet."""
    cells: dict[int, re.Match[bytes]] = {}
    for mark in (b"<f", b't="e"'):
        at = xml.find(mark)
        while at >= 0:
            start = xml.rfind(b'<c r="', 0, at)
            m = _CELL.match(xml, start) if start >= 0 else None
            if m is not None and at < m.end():
                cells[start] = m
                at = xml.find(mark, m.end())
            else:
                at = xml.find(mark, at + 1)
    return [cells[start] for start in sorted(cells)]


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
