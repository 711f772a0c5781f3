"""Find a spec's table in a workbook and turn it into tidy observations with their source cells.

Work is column-wise: labels and numbers are parsed once per distinct value, so a sheet with a million
rows costs a few pandas operations, not a million Python calls.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.catalogs import Catalog, load_catalog
from schemas.datasets import DATASETS, dataset_frame_of_columns, to_dataset_frame
from schemas.errors import DataError, UnknownLayoutError
from schemas.fingerprint import check_fingerprint
from schemas.grid import Sheet, Workbook
from schemas.layout import Region, find_region
from schemas.numbers import ParsedNumber, infer_decimal, parse_number
from schemas.observations import DITTO_MARKS, finish_units, observe, title_province
from schemas.problems import Problem, problem
from schemas.specs import FieldSpec, LayoutSpec, folded
from schemas.text import clean_text, col_letter, find_unit_line, split_unit, strip_footnote

HEADER_SEARCH_ROWS = 40
SMALL_TABLE_ROWS = 5_000  # up to this many rows under the header, a table is built in plain Python (_parse_small)
YEAR_PATTERN = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
_ASCII_LETTER = re.compile("[A-Za-z]")
LINEAGE = ["_source_sheet", "_source_cell", "_source_row"]

FIELD_NAMES = {
    "reference_year": "year",
    "industry_code": "industry",
    "ownership_code": "ownership type",
    "status": "status",
    "province_code": "province",
    "flow_code": "trade flow",
    "product_group_code": "product group",
    "award_code": "award",
    "unit": "unit",
}

# Fields a table must give a value somewhere (column, title or default), with the hint when none does.
TABLE_GAPS = {
    "reference_year": ("add a 'Năm' (year) column or write the year in the title",
                       "thêm cột 'Năm' hoặc ghi năm trong tên biểu"),
    "province_code": ("write the province in the title (e.g. 'UBND TỈNH PHÚ THỌ') or pass --province",
                      "ghi tên tỉnh ở đầu biểu (ví dụ 'UBND TỈNH PHÚ THỌ') hoặc dùng --province"),
}


@dataclass
class HeaderMatch:
    """Where a spec's header was found in a sheet, and which column plays which role."""

    spec: LayoutSpec
    sheet: Sheet
    header_row: int
    height: int
    labels: dict[int, str]
    field_columns: dict[str, list[int]]
    measure_columns: list[tuple[int, dict[str, str]]]
    title: str
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every required column and at least one measure column was found."""
        return not self.missing and bool(self.measure_columns)

    @cached_property
    def score(self) -> tuple[int, int, int, int]:
        """Ranking among candidate matches: complete first, then more roles, title match, short header."""
        roles = sum(len(c) for c in self.field_columns.values()) + len(self.measure_columns)
        where = folded(self.title + " " + self.sheet.name)
        titled = int(any(t in where for t in self.spec.title_contains))
        return (int(self.complete), roles + 2 * titled, titled, -self.height)


@dataclass
class ParsedTable:
    """The observations of one table, plus the problems found while reading it."""

    spec: LayoutSpec
    sheet: str
    header_row: int
    frame: pd.DataFrame
    problems: list[Problem]
    rows_in: int
    shaped: bool = False  # the frame is in its dataset's columns (datasets.to_dataset_frame)


def shaped_table(table: ParsedTable) -> ParsedTable:
    """The table with its frame in its dataset's columns (an empty frame stays as it is)."""
    if table.shaped:
        return table
    frame = table.frame if table.frame.empty else to_dataset_frame(DATASETS[table.spec.dataset], table.frame)
    return replace(table, frame=frame, shaped=True)


@dataclass(frozen=True)
class ParseContext:
    """What the caller knows about the file: its name, and defaults the file may not state."""

    file_name: str
    default_province: str | None = None


# --- header detection --------------------------------------------------------------------------


@lru_cache(maxsize=100_000)
def _header_keys(label: str, fragments: tuple[str, ...]) -> frozenset[str]:
    return frozenset().union(*map(_text_keys, (label, *fragments)))


@lru_cache(maxsize=100_000)
def _text_keys(text: str) -> frozenset[str]:
    """Matching keys of one text: as written, without its unit, without its footnote mark.

    Cached apart from _header_keys: a taller band joins texts its shorter bands have keyed already.
    ASCII text without a letter, not ending in ')', ']' or '*' (a figure, a date: most texts of a sheet's
    top, new in each file) has neither a unit nor a footnote mark to strip.
    """
    if text.isascii() and text[-1:] not in ")]*" and not _ASCII_LETTER.search(text):
        return frozenset((folded(text),))
    return frozenset(folded(t) for t in (text, split_unit(text)[0], strip_footnote(text)[0]) if t)


@lru_cache(maxsize=200_000, typed=True)  # typed: 1, 1.0 and True clean to '1', '1.0' and 'True'
def _cleaned(value: object) -> str:
    """clean_text of a cell, cached: header search looks at the same top cells many times."""
    return clean_text(value)


class SheetTop:
    """The top rows of a sheet as header search sees them, each band, title and key set computed once.

    Header search tries up to 40 rows × 3 heights × every spec; without this the same cells were cleaned,
    joined and folded hundreds of times per workbook.
    """

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        last = min(sheet.height, HEADER_SEARCH_ROWS + 12)
        anchors: dict[tuple[int, int], object] = {}
        for r0, c0, r1, c1 in sheet.merges:
            if r0 >= last:
                continue
            anchor = sheet.value(r0, c0)
            for r in range(r0, min(r1, last - 1) + 1):
                for c in range(c0, c1 + 1):
                    anchors.setdefault((r, c), anchor)
        self.texts = [[_cleaned(v) for v in sheet.rows[r]] for r in range(last)]
        self.cells = [
            [_cleaned(anchors[(r, c)]) if (r, c) in anchors else t for c, t in enumerate(self.texts[r])]
            for r in range(last)
        ]
        self._bands: dict[tuple[int, int], dict[int, tuple[str, list[str]]]] = {}
        self._keys: dict[tuple[int, int], dict[int, frozenset[str]]] = {}
        self._words: dict[tuple[int, int], frozenset[str]] = {}
        self._titles: dict[int, str] = {}
        self._figure_rows: dict[int, bool] = {}
        self._candidates: dict[int, list[tuple[int, int, frozenset[str]]]] = {}

    def labels(self, row: int, height: int) -> dict[int, tuple[str, list[str]]]:
        """Column -> (joined label, fragments) for the header band rows row..row+height-1."""
        found = self._bands.get((row, height))
        if found is None:
            found = self._bands[(row, height)] = _band_labels(self.cells, row, height)
        return found

    def keys(self, row: int, height: int) -> dict[int, frozenset[str]]:
        """Column -> matching keys of the band's labels."""
        found = self._keys.get((row, height))
        if found is None:
            labelled = self.labels(row, height)
            found = self._keys[(row, height)] = {c: _header_keys(lb, tuple(fr)) for c, (lb, fr) in labelled.items()}
        return found

    def words(self, row: int, height: int) -> frozenset[str]:
        """Every matching key of the band's labels, as one set (the same for every spec tried).

        A one-row band's labels are its cells, so its keys come without building the band: most bands
        tried are single rows of data, and few of them hold a header any spec knows.
        """
        found = self._words.get((row, height))
        if found is None:
            if height == 1:
                found = frozenset().union(*(_text_keys(text) for text in self.cells[row] if text))
            else:
                found = frozenset().union(*self.keys(row, height).values())
            self._words[(row, height)] = found
        return found

    def title(self, header_row: int) -> str:
        """The text of the rows above a header (agency, title, unit line)."""
        found = self._titles.get(header_row)
        if found is None:
            lines = [t for r in range(max(0, header_row - 12), header_row) for t in self.texts[r] if t]
            found = self._titles[header_row] = " | ".join(lines)
        return found

    def first_figure_row(self, first: int, stop: int) -> int:
        """The first of rows first..stop-1 holding a number that is not a year (a figure, a row number), else stop.

        A header band that reaches such a row has run into the data: without this the first data row
        could add a role ('Tỉnh' in a 'Cấp khen thưởng' column read as a province header) and outscore
        the real, shorter header. Each row is looked at once, however many specs and bands ask.
        """
        for row in range(first, min(stop, len(self.sheet.rows))):
            found = self._figure_rows.get(row)
            if found is None:
                found = self._figure_rows[row] = any(_is_figure(value) for value in self.sheet.rows[row])
            if found:
                return row
        return stop

    def row_is_blank(self, row: int) -> bool:
        """Whether a row holds no text at all."""
        return not any(self.texts[row])

    def candidates(self, max_height: int) -> list[tuple[int, int, frozenset[str]]]:
        """(row, height, matching keys) of every band that may be a header, in search order.

        A band starts on a row with text among the first rows and stops short of the figures under it
        (first_figure_row); which bands those are does not depend on the spec, so every spec of the same
        max_height walks one list made once per sheet.
        """
        found = self._candidates.get(max_height)
        if found is None:
            found = self._candidates[max_height] = [
                (row, height, self.words(row, height))
                for row in range(min(self.sheet.height, HEADER_SEARCH_ROWS))
                if not self.row_is_blank(row)
                for height in range(1, self.first_figure_row(row + 1, row + max_height) - row + 1)
            ]
        return found

    def candidate_keys(self, max_height: int) -> frozenset[str]:
        """Every matching key of the candidate bands, as one set."""
        return frozenset().union(*(words for _, _, words in self.candidates(max_height)))

    @cached_property
    def all_keys(self) -> frozenset[str]:
        """Matching keys of every cell in the rows where a header can be."""
        return frozenset().union(*(_text_keys(text) for row in self.texts[: HEADER_SEARCH_ROWS + 8] for text in row if text))


def _band_labels(cells: list[list[str]], row: int, height: int) -> dict[int, tuple[str, list[str]]]:
    rows = cells[row : row + height]
    width = max((len(r) for r in rows), default=0)
    labels = {}
    for col in range(width):
        fragments: list[str] = []
        for r in rows:
            text = r[col] if col < len(r) else ""
            if text and (not fragments or fragments[-1] != text):
                fragments.append(text)
        if fragments:
            labels[col] = (" ".join(fragments), fragments)
    return labels


def _assign_fields(spec: LayoutSpec, keys: dict[int, frozenset[str]]) -> tuple[dict[str, list[int]], set[int]]:
    used: set[int] = set()
    found: dict[str, list[int]] = {}
    columns_in_order = sorted(keys)
    for spec_field in [*spec.fields.values(), spec.unit]:
        columns = []
        for aliases in spec_field.folded_sources():
            col = next((c for c in columns_in_order if c not in used and keys[c] & aliases), None)
            if col is not None:
                used.add(col)
                columns.append(col)
        found[spec_field.name] = columns
    return found, used


def match_header(spec: LayoutSpec, top: SheetTop, row: int, height: int) -> HeaderMatch:
    """Try the header band at `row` of `height` rows against a spec."""
    labelled = top.labels(row, height)
    field_columns, used = _assign_fields(spec, top.keys(row, height))
    measures = []
    for col, (label, frags) in sorted(labelled.items()):
        if col in used:
            continue
        for measure in spec.measures:
            sets = measure.match(label, frags)
            if sets is not None:
                measures.append((col, sets))
                break
    missing = [
        f"a column for {FIELD_NAMES.get(f.name, f.name)} ({' / '.join(f.sources[0])})"
        for f in spec.required_fields()
        if not field_columns.get(f.name)
    ]
    if not measures:
        wanted = [h for m in spec.measures for h in m.headers] or [m.header_pattern or "" for m in spec.measures]
        missing.append(f"a column of figures ({' / '.join(wanted)})")
    labels = {c: label for c, (label, _) in labelled.items()}
    return HeaderMatch(spec, top.sheet, row, height, labels, field_columns, measures, top.title(row), missing)


def _known_keys(spec: LayoutSpec, keys: frozenset[str]) -> frozenset[str]:
    """The keys that are headers the spec knows (a field alias, or a column of figures by name or pattern)."""
    aliases, patterns = spec.header_words
    if not patterns:
        return aliases & keys
    return (aliases & keys) | {k for k in keys if any(re.search(p, k) for p in patterns)}


def _is_figure(value: object) -> bool:
    """A number that is not a year: header rows hold years (2014, 2015) as labels, never other figures."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not (float(value).is_integer() and 1900 <= value <= 2100)


def find_header(spec: LayoutSpec, sheet: Sheet | SheetTop) -> HeaderMatch | None:
    """The best header band for a spec among the first rows of a sheet.

    Only bands holding at least one header the spec knows are scored: a band without any cannot
    be the table's header, and scoring every band of 40 rows was most of a workbook's parse time.
    """
    top = sheet if isinstance(sheet, SheetTop) else SheetTop(sheet)
    known = _known_keys(spec, top.all_keys)
    if not known:
        return None
    known |= _known_keys(spec, top.candidate_keys(spec.max_header_rows) - top.all_keys)  # joined labels
    best: HeaderMatch | None = None
    for row, height, words in top.candidates(spec.max_header_rows):
        if not words.isdisjoint(known):
            candidate = match_header(spec, top, row, height)
            if best is None or candidate.score > best.score:
                best = candidate
    return best


def _sheet_allowed(spec: LayoutSpec, sheet: Sheet) -> bool:
    if spec.sheet_pattern:
        return re.search(spec.sheet_pattern, sheet.name, re.IGNORECASE) is not None
    return not sheet.hidden


@dataclass
class StructuredMatch:
    """A format-2 spec and the table it claims in a sheet, found by the table's shape."""

    spec: LayoutSpec
    region: Region

    @property
    def sheet(self) -> Sheet:
        """The sheet the table is in."""
        return self.region.sheet


def _region_for(spec: LayoutSpec, sheet: Sheet) -> Region | None:
    return find_region(
        sheet,
        max_header_rows=spec.max_header_rows,
        header_rows=spec.header_rows,
        known_units=frozenset(spec.units),
        measure_words=spec.measure_words,
        fill_right=spec.fill_right,
    )


def _claims(spec: LayoutSpec, sheet: Sheet) -> Region | None:
    """The table a format-2 spec claims in a sheet: named by its pattern and/or titled as it expects."""
    if spec.sheet_pattern and not spec.names_sheet(sheet.name):
        return None
    if not spec.sheet_pattern and sheet.hidden and not spec.hidden:
        return None
    region = _region_for(spec, sheet)
    if region is None:
        if spec.sheet_pattern:
            raise UnknownLayoutError(
                f"the sheet has no table of figures, but layout spec '{spec.id}' v{spec.version} names it",
                sheet=sheet.name,
                hint="Check that this is the right file, or change the spec's sheet name_pattern.",
            )
        return None
    if spec.title_contains and not any(t in folded(region.title + " " + sheet.name) for t in spec.title_contains):
        return None
    return region


def find_structured(book: Workbook, specs: tuple[LayoutSpec, ...]) -> list[StructuredMatch]:
    """Tables claimed by format-2 specs; a table that deviates from its spec's fingerprint is refused."""
    matches = []
    for sheet in book.sheets:
        for spec in specs:
            if not spec.structural:
                continue
            try:
                region = _claims(spec, sheet)
            except UnknownLayoutError as exc:
                exc.file = book.file_name
                raise
            if region is not None:
                check_fingerprint(spec, region, book.file_name)
                matches.append(StructuredMatch(spec, region))
    return matches


def find_tables(book: Workbook, specs: tuple[LayoutSpec, ...]) -> list[HeaderMatch | StructuredMatch]:
    """Every recognised table: format-2 claims first, then header matches on the other sheets."""
    structured = find_structured(book, specs)
    claimed = {m.sheet.name for m in structured}
    matches: list[HeaderMatch | StructuredMatch] = list(structured)
    near: list[HeaderMatch] = []
    for sheet in book.sheets:
        if sheet.name in claimed:
            continue
        searching = [spec for spec in specs if not spec.structural and _sheet_allowed(spec, sheet)]
        top = SheetTop(sheet) if searching else None  # a hidden draft sheet is not even cleaned
        candidates = [m for spec in searching if top is not None and (m := find_header(spec, top)) is not None]
        complete = [m for m in candidates if m.complete]
        if complete:
            matches.append(max(complete, key=lambda m: m.score))
        near.extend(candidates)
    if not matches:
        raise _unknown_layout(book, near, specs)
    return matches


def _sheet_list(book: Workbook) -> str:
    names = [f"'{sh.name}'" + (" (hidden)" if sh.hidden else "") for sh in book.sheets]
    shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    return f"sheets in the file: {shown}"


def _renamed_sheets(book: Workbook, specs: tuple[LayoutSpec, ...]) -> list[str]:
    """Format-2 specs whose expected title appears on a sheet their name pattern does not name."""
    out = []
    for spec in specs:
        if not (spec.structural and spec.sheet_pattern and spec.title_contains):
            continue
        for sheet in book.sheets:
            top = " ".join(clean_text(c) for row in sheet.rows[:6] for c in row if clean_text(c))
            if any(t in folded(top) for t in spec.title_contains) and not spec.names_sheet(sheet.name):
                out.append(
                    f"spec '{spec.id}' v{spec.version} reads sheets named like /{spec.sheet_pattern}/; sheet"
                    f" '{sheet.name}' has the title it expects ({top[:60]!r}): rename the sheet or the pattern"
                )
    return out


def _missing_details(best: HeaderMatch, found: list[str]) -> list[str]:
    """'expected …' and 'nearest header found for it: …' lines for each missing column."""
    details = [f"expected {what}" for what in best.missing]
    folded_found = [folded(x) for x in found]
    for what in best.missing:
        wanted = re.findall(r"\((.*)\)", what)
        aliases = [folded(a) for a in wanted[0].split(" / ")] if wanted else []
        close = [c for alias in aliases for c in difflib.get_close_matches(alias, folded_found, n=1, cutoff=0.5)]
        if close:
            original = found[folded_found.index(close[0])]
            details.append(f"nearest header found for it: {original!r}")
    return details


def _unknown_layout(
    book: Workbook, near: list[HeaderMatch], specs: tuple[LayoutSpec, ...] = ()
) -> UnknownLayoutError:
    """The refusal of a file no spec recognises: what was expected, what was found, and the nearest match."""
    renamed = _renamed_sheets(book, specs)
    if not near and not renamed:
        empty = not any(any(clean_text(c) for row in sh.rows for c in row) for sh in book.sheets)
        return UnknownLayoutError(
            "the workbook is empty" if empty else "no sheet has a table that a layout spec describes",
            file=book.file_name,
            hint="Check that this is the right file; 'niengiam inspect FILE --write-spec SHEET' writes a starting"
            " spec for a new kind of table.",
            details=[_sheet_list(book)],
        )
    if not near:
        return UnknownLayoutError(
            "no sheet has a table that a layout spec describes; a sheet seems renamed",
            file=book.file_name,
            hint="Rename the sheet back, or update the spec's name_pattern.",
            details=[*renamed, _sheet_list(book)],
        )
    best = max(near, key=lambda m: m.score)
    found = [label for _, label in sorted(best.labels.items())]
    details = _missing_details(best, found)
    details.append(f"header found at row {best.header_row + 1}: {found}")
    details += [*renamed, _sheet_list(book)]
    return UnknownLayoutError(
        f"the layout is not recognised; nearest is spec '{best.spec.id}' v{best.spec.version} on sheet"
        f" '{best.sheet.name}', but " + "; ".join(f"missing {m}" for m in best.missing),
        file=book.file_name,
        sheet=best.sheet.name,
        cell=f"A{best.header_row + 1}",
        hint="Rename the header to one the spec knows, or write a layout spec for this file"
        " ('niengiam inspect FILE --write-spec SHEET' starts one).",
        details=details,
    )


# --- cell values -------------------------------------------------------------------------------


def _distinct(sheet: Sheet, col: int, start: int) -> tuple[np.ndarray, list[object]]:
    """Each row's index (from `start` on) into the column's distinct cells, and those cells.

    Values computed from the cells (cleaned labels, years, parsed figures) are computed once per
    distinct cell and spread over the rows by these indices. Cells are told apart by type too, so 1,
    1.0 and True stay apart. A tall sheet's rows below its top come from its Arrow columns.
    """
    tail = sheet.tail
    stop = tail.start if tail is not None and start <= tail.start else sheet.height
    seen: dict[tuple[type, object], int] = {}
    cells: list[object] = []
    codes = []
    for row in sheet.rows[start:stop] if start < stop else []:
        v = row[col] if col < len(row) else None
        key = (v.__class__, v)
        found = seen.get(key)
        if found is None:
            found = seen[key] = len(cells)
            cells.append(v)
        codes.append(found)
    top = np.asarray(codes, dtype=np.int64)
    if tail is None or stop == sheet.height:
        return top, cells
    tail_codes, tail_cells = tail.distinct(col)
    return np.concatenate([top, tail_codes + len(cells)]), cells + tail_cells


def _spread(sheet: Sheet, col: int, start: int, fn: Callable[[object], object], dtype: object = object) -> np.ndarray:
    """fn of every cell of a column from `start` on, computed once per distinct cell."""
    codes, cells = _distinct(sheet, col, start)
    kind = cast(Any, dtype)  # a numpy dtype or its name
    return np.array([fn(v) for v in cells], dtype=kind)[codes] if cells else np.array([], dtype=kind)


def _text_column(sheet: Sheet, col: int, start: int) -> pd.Series:
    """The cleaned text of a column from `start` on (pandas' Arrow-backed str: missing is cheap to find)."""
    codes, cells = _distinct(sheet, col, start)
    cleaned = [clean_text(v) or None for v in cells]
    series = pd.Series(pd.array(pa.array(cleaned, type=pa.string()).take(pa.array(codes)), dtype="str"))
    if any(t in DITTO_MARKS for t in cleaned):  # looked for among the distinct texts, not on every row
        is_ditto = series.isin(DITTO_MARKS)
        series = series.where(~is_ditto, series.mask(is_ditto).ffill())
    return series


def _year_of(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1950 <= value <= 2100:
        return float(int(value))
    found = YEAR_PATTERN.search(clean_text(value))
    return float(found.group(1)) if found else np.nan


def _title_status(title: str) -> str | None:
    text = folded(title)
    if re.search(r"\buoc\b", text):
        return "estimate"
    if "so bo" in text:
        return "preliminary"
    if "chinh thuc" in text:
        return "final"
    return None


def _title_value(spec_field: FieldSpec, title: str) -> str | float | None:
    if not spec_field.from_title:
        return None
    if spec_field.name == "reference_year":
        found = YEAR_PATTERN.search(title)
        return float(found.group(1)) if found else None
    if spec_field.name == "status":
        return _title_status(title)
    if spec_field.name == "province_code":
        return title_province(title)
    return None


@dataclass
class _Resolved:
    """A field's per-row codes, the text they came from, and the cell column of each row."""

    codes: pd.Series
    text: pd.Series
    letters: pd.Series


def _resolve_field(match: HeaderMatch, spec_field: FieldSpec, start: int, fallback: object) -> _Resolved:
    n = match.sheet.height - start
    text: pd.Series | None = None
    letters = np.full(n, None, dtype=object)
    for col in match.field_columns.get(spec_field.name, []):
        column = _text_column(match.sheet, col, start)
        if text is None:  # the first column: its text wherever it has any
            take = column.notna().to_numpy()
            text = column
        else:  # a further column fills what the ones before left empty
            take = (text.isna() & column.notna()).to_numpy()
            text = text.where(~take, column) if take.any() else text
        letters[take] = col_letter(col)
    if text is None:
        text = pd.Series(pd.array(pa.nulls(n, pa.string()), dtype="str"))
    if spec_field.name == "reference_year":
        cols = match.field_columns.get("reference_year", [])
        years = _spread(match.sheet, cols[0], start, _year_of, "float64") if cols else np.full(n, np.nan)
        codes = pd.Series(years, dtype="float64")
    elif spec_field.lookup:
        codes = _map_distinct(text, load_catalog(spec_field.lookup).lookup)
    else:
        codes = text.copy()
    if fallback is not None:
        codes = codes.where(text.notna(), fallback)
    return _Resolved(codes, text, pd.Series(letters, dtype=object))


def _map_distinct(series: pd.Series, fn: Callable[[object], object]) -> pd.Series:
    """fn of every non-missing value, computed once per distinct value (missing, or None from fn, is NaN)."""
    inverse, uniques = pd.factorize(series)
    mapped = np.array([np.nan if (code := fn(u)) is None else code for u in uniques] + [np.nan], dtype=object)
    return pd.Series(mapped[inverse], index=series.index, dtype=object)


def _parse_measure(sheet: Sheet, col: int, start: int) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Values, error texts and raw texts of one column of figures (each distinct cell parsed once)."""
    codes, cells = _distinct(sheet, col, start)
    decimal = infer_decimal([v for v in cells if isinstance(v, str)])
    parsed: list[ParsedNumber] = [parse_number(_as_text_or_number(v), decimal) for v in cells]
    values = pd.Series(np.array([p.value for p in parsed], dtype="float64")[codes] if cells else [], dtype="float64")
    errors = pd.Series(np.array([p.error for p in parsed] + [None], dtype=object)[codes], dtype=object)
    shown = pd.Series(np.array([None if v is None else str(v) for v in cells] + [None], dtype=object)[codes],
                      dtype=object)
    return values, errors, shown


def _as_text_or_number(value: object) -> object:
    """What parse_number reads: dates and other cell types as their text."""
    return value if isinstance(value, (str, int, float, type(None))) else str(value)


# --- table parsing -----------------------------------------------------------------------------


def _table_fallbacks(match: HeaderMatch, context: ParseContext) -> dict[str, object]:
    fallbacks: dict[str, object] = {}
    for spec_field in match.spec.fields.values():
        value = _title_value(spec_field, match.title)
        if value is None and spec_field.name == "province_code":
            value = context.default_province
        if value is None:
            value = spec_field.default
        fallbacks[spec_field.name] = value
    return fallbacks


def _measure_units(match: HeaderMatch) -> dict[int, object]:
    """Per measure column: the unit from its header, else from the title's unit line, else the default."""
    title_unit = find_unit_line(match.title)
    catalog = load_catalog("units")
    per_measure: dict[int, object] = {}
    fixed = not match.spec.unit.sources and match.spec.unit.default
    for col, _ in match.measure_columns:
        if fixed:
            per_measure[col] = match.spec.unit.default
            continue
        header_unit = split_unit(match.labels.get(col, ""))[1]
        written = header_unit or title_unit
        per_measure[col] = catalog.lookup(written) if written else match.spec.unit.default
        if written and per_measure[col] is None:
            per_measure[col] = f"?{written}"
    return per_measure


def parse_table(match: HeaderMatch, context: ParseContext, shaped: bool = False) -> ParsedTable:
    """Read the data rows under a recognised header into observations and problems; `shaped`: the frame in
    its dataset's columns (datasets.to_dataset_frame), as the pipeline takes it."""
    spec, sheet = match.spec, match.sheet
    start = match.header_row + match.height
    n = max(sheet.height - start, 0)
    fallbacks = _table_fallbacks(match, context)
    unit_by_measure = _measure_units(match)
    small = 0 <= sheet.height - start <= SMALL_TABLE_ROWS and sheet.tail is None  # (a band past the end fails below)
    if small and _plain_types(match, fallbacks, unit_by_measure):
        return _parse_small(match, fallbacks, unit_by_measure, shaped)
    problems: list[Problem] = []
    fields = {name: _resolve_field(match, f, start, fallbacks[name]) for name, f in spec.fields.items()}
    measures = [(col, sets, *_parse_measure(sheet, col, start)) for col, sets in match.measure_columns]
    has_figure = pd.Series(False, index=range(n))
    for _, _, values, errors, _ in measures:
        has_figure |= values.notna() | errors.notna()
    rows = has_figure[has_figure].index
    unit_column = _resolve_field(match, spec.unit, start, None)
    row_numbers = pd.Series(np.arange(start + 1, start + 1 + n), dtype="int64")

    base = pd.DataFrame({name: r.codes for name, r in fields.items()}).loc[rows]
    for name, resolved in fields.items():
        problems += _field_problems(spec.fields[name], resolved, rows, row_numbers, sheet.name)
    frames = []
    for col, sets, values, errors, shown in measures:
        letter = col_letter(col)
        frame = base.assign(**{k: v for k, v in sets.items()})
        frame["value"] = values.loc[rows]
        if spec.missing_means_zero:
            frame["value"] = frame["value"].fillna(0.0)
        unit_text = unit_column.codes.loc[rows]
        frame["unit"] = unit_text.where(unit_column.text.loc[rows].notna(), unit_by_measure[col])
        frame["_source_sheet"] = sheet.name
        frame["_source_row"] = row_numbers.loc[rows]
        row_text = pa.array(frame["_source_row"].to_numpy()).cast(pa.string())
        frame["_source_cell"] = _cell_refs(letter, row_text, frame.index)
        for name, resolved in fields.items():
            columns = match.field_columns.get(name, [])
            if len(columns) == 1:
                frame[f"_cell_{name}"] = _cell_refs(col_letter(columns[0]), row_text, frame.index)
            elif columns:
                letters = resolved.letters.loc[rows].fillna(col_letter(columns[0])).astype(str)
                frame[f"_cell_{name}"] = _cell_refs(letters, row_text, frame.index)
        bad = errors.loc[rows].notna()
        for idx in bad[bad].index:
            problems.append(
                problem(
                    "number",
                    sheet=sheet.name,
                    cell=f"{letter}{row_numbers[idx]}",
                    column=match.labels.get(col, letter),
                    value=shown[idx],
                )
            )
        frames.append(frame[~bad & frame["value"].notna()])
    unit_findings, frames = _unit_problems(frames, unit_column, sheet.name)
    problems += unit_findings
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if spec.missing_means_zero and not frame.empty:
        frame = frame[frame["value"] != 0].reset_index(drop=True)
    problems += _table_problems(match, fields, fallbacks, rows)
    problems += _year_conflicts(match, fields.get("reference_year"), rows, row_numbers)
    table = ParsedTable(spec, sheet.name, match.header_row + 1, frame, problems, rows_in=len(rows))
    return shaped_table(table) if shaped else table


def _cell_refs(letters: str | pd.Series, rows: pa.Array, index: pd.Index) -> pd.Series:
    """Cell references ('H7') from column letters (one for all rows, or one per row) and row numbers as text."""
    column = pa.scalar(letters) if isinstance(letters, str) else pa.array(letters.to_numpy(dtype=object), pa.string())
    return pd.Series(pd.array(pc.binary_join_element_wise(column, rows, ""), dtype="str"), index=index)


def _field_problems(
    spec_field: FieldSpec, resolved: _Resolved, rows: pd.Index, row_numbers: pd.Series, sheet: str
) -> list[Problem]:
    """Unknown labels (text that maps to no code) in rows that carry figures."""
    if not spec_field.lookup and spec_field.name != "reference_year":
        return []
    at = rows.to_numpy()
    unknown = resolved.text.notna().to_numpy()[at] & resolved.codes.isna().to_numpy()[at]
    text = resolved.text
    out = []
    for idx in at[unknown].tolist():
        what = FIELD_NAMES.get(spec_field.name, spec_field.name)
        out.append(
            problem(
                "known_code",
                sheet=sheet,
                cell=f"{resolved.letters[idx] or ''}{row_numbers[idx]}",
                column=spec_field.name,
                value=text[idx],
                what=what,
                catalog=spec_field.lookup or "years",
            )
        )
    return out


def _unit_problems(
    frames: list[pd.DataFrame], unit_column: _Resolved, sheet: str
) -> tuple[list[Problem], list[pd.DataFrame]]:
    """Units no catalogue knows, located at the unit cell when the unit has a column; those rows dropped."""
    out, kept = [], []
    allowed = ", ".join(sorted(load_catalog("units").codes))
    for frame in frames:
        unknown = frame["unit"].isna() | frame["unit"].astype(str).str.startswith("?")
        for idx in unknown[unknown].index:
            written = unit_column.text.get(idx)
            from_column = isinstance(written, str) and isinstance(unit_column.letters.get(idx), str)
            cell = f"{unit_column.letters[idx]}{frame.at[idx, '_source_row']}" if from_column else frame.at[idx, "_source_cell"]
            value = written if isinstance(written, str) else str(frame.at[idx, "unit"]).lstrip("?")
            out.append(problem("unit", sheet=sheet, cell=cell, column="unit", value=value, allowed=allowed))
        kept.append(frame[~unknown])
    return out, kept


def _table_problems(
    match: HeaderMatch, fields: dict[str, _Resolved], fallbacks: dict[str, object], rows: pd.Index
) -> list[Problem]:
    """Whole-table gaps: a field with neither a column, a title mention nor a default."""
    return _gap_problems(match, [
        name for name in TABLE_GAPS
        if name in fields and len(rows) and fields[name].codes.loc[rows].isna().all() and fallbacks.get(name) is None
        and not (name == "reference_year" and fields[name].text.loc[rows].notna().any())
    ])


def _gap_problems(match: HeaderMatch, names: list[str]) -> list[Problem]:
    """A 'table' problem for each field (of TABLE_GAPS) the table leaves without any value."""
    out = []
    for name in names:
        hint, hint_vi = TABLE_GAPS[name]
        what = FIELD_NAMES[name]
        out.append(
            problem(
                "table",
                sheet=match.sheet.name,
                cell=f"A{match.header_row + 1}",
                column=name,
                detail=f"no {what} for this table: {hint}",
                detail_vi=f"không xác định được {what}: {hint_vi}",
            )
        )
    return out


def _year_conflicts(
    match: HeaderMatch, years: _Resolved | None, rows: pd.Index, row_numbers: pd.Series
) -> list[Problem]:
    """Rows whose year contradicts the single year the title names ('… NĂM 2014' over rows of 2013)."""
    named = {int(y) for y in YEAR_PATTERN.findall(match.title)}
    if years is None or len(named) != 1 or not match.field_columns.get("reference_year"):
        return []
    (title_year,) = named
    found = years.codes.loc[rows]
    wrong = found.notna() & (found != title_year) & years.text.loc[rows].notna()
    return [
        problem(
            "year_mismatch",
            sheet=match.sheet.name,
            cell=f"{years.letters[idx]}{row_numbers[idx]}",
            column="reference_year",
            value=int(found[idx]),
            title_year=title_year,
        )
        for idx in wrong[wrong].index
    ]


# --- small tables ----------------------------------------------------------------------------------


@dataclass
class _Plain:
    """_Resolved as lists, one item per row (missing text is None, a missing code None or NaN)."""

    codes: list[object]
    text: list[str | None]
    letters: list[str | None]


def _plain_types(match: HeaderMatch, fallbacks: dict[str, object], unit_by_measure: dict[int, object]) -> bool:
    """Whether _parse_small gives the columns and dtypes of the column-wise path: the fill-ins are of the plain kinds.

    A year filled in from the title is a float and a label a str; a spec default of another type (or a
    missing measure unit) would make pandas change a column's dtype, and a `sets` key naming another
    column would replace it in place; only the column-wise path follows pandas there.
    """
    for name, value in fallbacks.items():
        if value is not None and not isinstance(value, float if name == "reference_year" else str):
            return False
    fixed = {*match.spec.fields, "value", "unit", "_source_sheet", "_source_row", "_source_cell"}
    for _, sets in match.measure_columns:
        if any(not isinstance(v, str) or k in fixed or k.startswith("_cell_") for k, v in sets.items()):
            return False
    return all(isinstance(u, str) for u in unit_by_measure.values())


def _text_list(sheet: Sheet, col: int, start: int) -> list[str | None]:
    """_text_column as a list: the cleaned text of each row, ditto marks repeating the text above."""
    codes, cells = _distinct(sheet, col, start)
    cleaned = [_cleaned(v) or None for v in cells]  # the same labels recur from workbook to workbook
    texts = [cleaned[c] for c in codes.tolist()]
    if any(t in DITTO_MARKS for t in cleaned):
        above = None
        for i, t in enumerate(texts):
            if t in DITTO_MARKS:
                texts[i] = above
            elif t is not None:
                above = t
    return texts


def _plain_field(match: HeaderMatch, spec_field: FieldSpec, start: int, fallback: object) -> _Plain:
    """_resolve_field as lists."""
    n = match.sheet.height - start
    columns = match.field_columns.get(spec_field.name, [])
    text: list[str | None] = [None] * n
    letters: list[str | None] = [None] * n
    for col in columns:  # each column fills what the ones before left empty
        letter = col_letter(col)
        for i, t in enumerate(_text_list(match.sheet, col, start)):
            if t is not None and text[i] is None:
                text[i] = t
                letters[i] = letter
    codes: list[object]
    if spec_field.name == "reference_year":
        codes = _spread(match.sheet, columns[0], start, _year_of, "float64").tolist() if columns else [np.nan] * n
    elif spec_field.lookup:
        catalog = load_catalog(spec_field.lookup)
        known = _known_codes(catalog)
        codes = [np.nan] * n
        for i, t in enumerate(text):
            if t is not None:
                if t not in known:
                    known[t] = np.nan if (code := catalog.lookup(t)) is None else code
                codes[i] = known[t]
    else:
        codes = list(text)
    if fallback is not None:
        codes = [fallback if t is None else c for c, t in zip(codes, text, strict=True)]
    return _Plain(codes, text, letters)


_KNOWN_CODES: dict[int, tuple[Catalog, dict[str, object]]] = {}


def _known_codes(catalog: Catalog) -> dict[str, object]:
    """Labels already looked up in a catalogue -> their code (NaN: none), kept from table to table.

    The same labels recur in every workbook of a kind, and a lookup folds the label. Kept per catalogue
    object, held here so that its id stays its own: a catalogue loaded anew (bench/launch.py adds rows
    and loads again) starts empty.
    """
    held = _KNOWN_CODES.get(id(catalog))
    if held is None or held[0] is not catalog:
        held = _KNOWN_CODES[id(catalog)] = (catalog, {})
    elif len(held[1]) > 100_000:
        held[1].clear()
    return held[1]


def _missing(value: object) -> bool:
    return value is None or value != value


def _parse_small(
    match: HeaderMatch, fallbacks: dict[str, object], unit_by_measure: dict[int, object], shaped: bool = False
) -> ParsedTable:
    """parse_table for a table of a few hundred rows: its rows in lists, its frame built once at the end.

    A pandas operation costs ≈ 0.1–0.3 ms whatever the size, and the column-wise path needs ~150 per table.
    The result equals the column-wise path's (same columns, dtypes, values and problems;
    tests/test_parse_fast.py holds the two together).
    """
    spec, sheet = match.spec, match.sheet
    start = match.header_row + match.height
    fields = {name: _plain_field(match, f, start, fallbacks[name]) for name, f in spec.fields.items()}
    unit_column = _plain_field(match, spec.unit, start, None)
    measures = []
    for col, sets in match.measure_columns:
        codes, cells = _distinct(sheet, col, start)
        decimal = infer_decimal([v for v in cells if isinstance(v, str)])
        parsed = [parse_number(_as_text_or_number(v), decimal) for v in cells]
        measures.append((col, sets, [parsed[c] for c in codes.tolist()], cells, codes))
    rows = [i for i in range(max(sheet.height - start, 0))
            if any(m[2][i].error is not None or not _missing(m[2][i].value) for m in measures)]

    problems: list[Problem] = []
    for name, plain in fields.items():
        problems += _plain_field_problems(spec.fields[name], plain, rows, start, sheet.name)
    unit_problems: list[Problem] = []
    allowed = ", ".join(sorted(load_catalog("units").codes))
    parts = []
    for col, sets, parsed_rows, cells, codes in measures:
        letter = col_letter(col)
        part = _Part(sets, letter, [], [], [])
        for i in rows:
            number = parsed_rows[i]
            if number.error is not None:
                shown = cells[codes[i]]
                problems.append(problem("number", sheet=sheet.name, cell=f"{letter}{start + 1 + i}",
                                        column=match.labels.get(col, letter), value=None if shown is None else str(shown)))
                continue
            value = number.value
            if _missing(value):
                if not spec.missing_means_zero:
                    continue
                value = 0.0
            written = unit_column.text[i]
            unit = unit_column.codes[i] if written is not None else unit_by_measure[col]
            if _missing(unit) or str(unit).startswith("?"):
                from_column = written is not None and unit_column.letters[i] is not None
                cell = f"{unit_column.letters[i] if from_column else letter}{start + 1 + i}"
                shown_unit = written if written is not None else str(unit).lstrip("?")
                unit_problems.append(problem("unit", sheet=sheet.name, cell=cell, column="unit", value=shown_unit,
                                             allowed=allowed))
                continue
            if spec.missing_means_zero and value == 0:
                continue  # a zero, written or blank, is no observation there
            part.kept.append(i)
            part.values.append(value)
            part.units.append(unit)
        parts.append(part)
    problems += unit_problems
    kept = sum(len(part.kept) for part in parts)
    if not parts:
        frame = pd.DataFrame()
    elif shaped:  # built once, in the dataset's columns
        frame = dataset_frame_of_columns(DATASETS[spec.dataset], _small_columns(match, fields, parts, start), kept)
    else:
        frame = pd.DataFrame(_small_columns(match, fields, parts, start), index=pd.RangeIndex(kept))
    problems += _plain_table_problems(match, fields, fallbacks, rows)
    problems += _plain_year_conflicts(match, fields.get("reference_year"), rows, start)
    return ParsedTable(spec, sheet.name, match.header_row + 1, frame, problems, rows_in=len(rows), shaped=shaped)


@dataclass
class _Part:
    """The observations one measure column gives: the rows kept, their figures and units."""

    sets: dict[str, str]
    letter: str
    kept: list[int]
    values: list[float]
    units: list[object]


_STR = pd.StringDtype(na_value=np.nan)  # pandas' default "str"


def _str_array(values: Sequence[object]) -> pd.api.extensions.ExtensionArray:
    return pd.arrays.ArrowStringArray(pa.array(values, pa.large_string()), dtype=_STR)


def _object_column(values: list[object], index: pd.RangeIndex) -> pd.Series:
    """A Series (a bare object array would be inferred as str) on the frame's own index: nothing to align."""
    return pd.Series(values, index=index, dtype=object)


def _small_columns(match: HeaderMatch, fields: dict[str, _Plain], parts: list[_Part], start: int) -> dict[str, Any]:
    """Every measure column's observations as one frame's columns, as concatenating one frame per measure
    column would make them.

    That is parse_table's column-wise path: the same columns in the same order (a `sets` key of a later
    measure column last, missing in the rows of the others), dtypes and values.
    """
    spec = match.spec
    kept = [i for part in parts for i in part.kept]
    index = pd.RangeIndex(len(kept))
    row_text = [str(start + 1 + i) for i in kept]
    data: dict[str, Any] = {}
    for name, plain in fields.items():
        picked = [plain.codes[i] for i in kept]
        if name == "reference_year":
            data[name] = np.array(picked, dtype="float64")
        elif spec.fields[name].lookup:
            data[name] = _object_column(picked, index)
        else:
            data[name] = _str_array(picked)
    set_keys = list(dict.fromkeys(k for part in parts for k in part.sets))
    first_keys = [k for k in set_keys if k in parts[0].sets]
    for key in first_keys:
        data[key] = _str_array([part.sets.get(key) for part in parts for _ in part.kept])
    data["value"] = np.array([v for part in parts for v in part.values], dtype="float64")
    units = [u for part in parts for u in part.units]
    data["unit"] = _object_column(units, index) if spec.unit.lookup else _str_array(units)
    data["_source_sheet"] = _str_array([match.sheet.name] * len(kept))
    data["_source_row"] = np.array([start + 1 + i for i in kept], dtype="int64")
    letters = [part.letter for part in parts for _ in part.kept]
    data["_source_cell"] = _str_array([letter + r for letter, r in zip(letters, row_text, strict=True)])
    for name, plain in fields.items():
        columns = match.field_columns.get(name, [])
        if columns:
            first = col_letter(columns[0])
            data[f"_cell_{name}"] = _str_array([(plain.letters[i] or first) + r for i, r in zip(kept, row_text, strict=True)])
    for key in set_keys[len(first_keys):]:
        data[key] = _str_array([part.sets.get(key) for part in parts for _ in part.kept])
    return data


def _plain_field_problems(spec_field: FieldSpec, plain: _Plain, rows: list[int], start: int, sheet: str) -> list[Problem]:
    """_field_problems over lists."""
    if not spec_field.lookup and spec_field.name != "reference_year":
        return []
    what = FIELD_NAMES.get(spec_field.name, spec_field.name)
    return [
        problem("known_code", sheet=sheet, cell=f"{plain.letters[i] or ''}{start + 1 + i}", column=spec_field.name,
                value=plain.text[i], what=what, catalog=spec_field.lookup or "years")
        for i in rows
        if plain.text[i] is not None and _missing(plain.codes[i])
    ]


def _plain_table_problems(
    match: HeaderMatch, fields: dict[str, _Plain], fallbacks: dict[str, object], rows: list[int]
) -> list[Problem]:
    """_table_problems over lists: which fields have no value in any row with figures."""
    return _gap_problems(match, [
        name for name in TABLE_GAPS
        if name in fields and rows and fallbacks.get(name) is None
        and all(_missing(fields[name].codes[i]) for i in rows)
        and not (name == "reference_year" and any(fields[name].text[i] is not None for i in rows))
    ])


def _plain_year_conflicts(match: HeaderMatch, years: _Plain | None, rows: list[int], start: int) -> list[Problem]:
    """_year_conflicts over lists."""
    named = {int(y) for y in YEAR_PATTERN.findall(match.title)}
    if years is None or len(named) != 1 or not match.field_columns.get("reference_year"):
        return []
    (title_year,) = named
    return [
        problem("year_mismatch", sheet=match.sheet.name, cell=f"{years.letters[i]}{start + 1 + i}",
                column="reference_year", value=int(cast(float, years.codes[i])), title_year=title_year)
        for i in rows
        if not _missing(years.codes[i]) and years.codes[i] != title_year and years.text[i] is not None
    ]


# --- format-2 tables -------------------------------------------------------------------------------


def _dataset_frame(part: pd.DataFrame, spec: LayoutSpec, dataset: str, sets: dict[str, str]) -> pd.DataFrame:
    """Observations as rows of one dataset: the spec's renames, the route's constants, units as it keeps them."""
    from schemas.datasets import DATASETS

    frame = part.assign(**{target: part[source] for target, source in spec.mapping.items() if source in part})
    frame = frame.assign(**sets)
    if getattr(DATASETS[dataset], "units_as_written", False):
        return frame.assign(unit=frame["unit_label"])
    catalog = load_catalog("units")
    written = frame["unit_label"].dropna().unique()
    codes = {u: catalog.lookup(u) or f"?{u}" for u in written}
    return frame.assign(unit=frame["unit_label"].map(codes).fillna(spec.defaults.get("unit")))


def _route(frame: pd.DataFrame, spec: LayoutSpec) -> list[tuple[str, pd.DataFrame, dict[str, str]]]:
    """Split observations between the spec's routes (first match wins) and its own dataset."""
    remaining = frame
    outputs = []
    for route in spec.routes:
        mask = pd.Series(True, index=remaining.index)
        for key, allowed in route.when.items():
            column = remaining[key] if key in remaining else pd.Series(None, index=remaining.index)
            mask &= column.map(_as_text).isin(allowed)
        outputs.append((route.dataset, remaining[mask], route.sets))
        remaining = remaining[~mask]
    outputs.append((spec.dataset, remaining, {}))
    return [(name, part, sets) for name, part, sets in outputs if not part.empty]


def _as_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def parse_structured(match: StructuredMatch, context: ParseContext) -> list[ParsedTable]:
    """Observations of a format-2 table, one ParsedTable per dataset they are routed to."""
    spec, region = match.spec, match.region
    observed = observe(spec, region, context.default_province)
    frame = finish_units(observed.frame, spec) if not observed.frame.empty else observed.frame
    header_row = region.header_top + 1
    outputs = _route(frame, spec) if not frame.empty else []
    problems = observed.problems + _unit_problems_v2(outputs, region.sheet.name)
    if not outputs:
        return [ParsedTable(spec, region.sheet.name, header_row, pd.DataFrame(), problems, observed.rows_in)]
    tables = []
    for number, (dataset, part, sets) in enumerate(outputs):
        data = _dataset_frame(part, spec, dataset, sets)
        data = data[~data["unit"].astype(str).str.startswith("?")]
        first = number == 0
        tables.append(ParsedTable(replace(spec, dataset=dataset), region.sheet.name, header_row, data,
                                  problems if first else [], observed.rows_in if first else 0))
    return tables


def _unit_problems_v2(outputs: list[tuple[str, pd.DataFrame, dict[str, str]]], sheet: str) -> list[Problem]:
    """Units no catalogue knows, for datasets that store unit codes."""
    from schemas.datasets import DATASETS

    out = []
    catalog = load_catalog("units")
    for dataset, part, _ in outputs:
        if getattr(DATASETS[dataset], "units_as_written", False):
            continue
        written = part["unit_label"].fillna("")
        unknown = written.map(lambda u: catalog.lookup(u) is None)
        for idx in unknown[unknown].index[:50]:
            out.append(problem("unit", sheet=sheet, cell=part.at[idx, "_source_cell"], column="unit",
                               value=written[idx], allowed=", ".join(sorted(catalog.codes))))
    return out


def parse_workbook(
    book: Workbook, specs: tuple[LayoutSpec, ...], context: ParseContext, shaped: bool = False
) -> list[ParsedTable]:
    """Every recognised table of a workbook, parsed; UnknownLayoutError when none is recognised. `shaped`:
    each frame in its dataset's columns (parse_table)."""
    tables: list[ParsedTable] = []
    for match in find_tables(book, specs):
        if isinstance(match, StructuredMatch):
            tables += [shaped_table(t) if shaped else t for t in parse_structured(match, context)]
        else:
            tables.append(parse_table(match, context, shaped))
    if not any(t.rows_in for t in tables) and not any(t.problems for t in tables):
        first = tables[0]
        raise DataError(
            "the table has a header but no figures under it",
            file=book.file_name,
            sheet=first.sheet,
            cell=f"A{first.header_row + 1}",
            hint="Fill in the figures, or check that this is the right file.",
        )
    return tables
