"""Find a table in a sheet by its shape: figures, the header band above them, labels to their left.

Used by format-2 layout specs and by 'niengiam inspect'. Works column-wise on a pandas frame of the grid.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import zip_longest

import numpy as np
import pandas as pd

from schemas.grid import Sheet
from schemas.headers import Header, looks_like_unit, read_header, unit_of_fragment
from schemas.numbers import MISSING_CODES
from schemas.text import clean_text, fold

FIRST_ROWS = 80  # a table's first figures must be within this many rows of the top (or of the declared header)
_NUMBERISH = re.compile(r"^[\s(+\-\u2212]*\d[\d\s.,]*(?:[eE][+-]?\d+)?\s*%?\s*\)?\s*(?:\(?[*a-z]{1,3}\)|\*{1,3})?$")
_ORDINAL_HEADERS = frozenset({"stt", "tt", "so tt", "so thu tu", "no", "ma so"})


def cell_text(value: object) -> str:
    """A cell as header text: whole-number floats without '.0' (a year typed as a number reads '2024')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_text(value)


def is_numberish(text: str) -> bool:
    """Whether a text cell holds a figure as written ('119,6', '28.029,5', '12%') or a nil code ('-', 'na')."""
    stripped = text.strip()
    return bool(_NUMBERISH.match(stripped)) or stripped.casefold() in MISSING_CODES


def _year_like(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer() \
        and 1900 <= value <= 2100


@dataclass
class CellKinds:
    """Per cell of a grid: 'number' (a figure), 'year' (a whole number 1900–2100), 'text', or empty."""

    frame: pd.DataFrame  # object values
    kinds: pd.DataFrame  # 'number' | 'year' | 'nil' | 'text' | '' per cell


def _kind_of_column(column: pd.Series) -> pd.Series:
    types = column.map(type)
    kinds = pd.Series("", index=column.index, dtype=object)
    numeric = types.isin([int, float])
    if numeric.any():
        values = pd.to_numeric(column.where(numeric), errors="coerce")
        years = values.between(1900, 2100) & (values % 1 == 0)
        kinds = kinds.mask(numeric & ~years, "number").mask(numeric & years, "year")
    strings = types.isin([str])
    if strings.any():
        distinct = pd.Series(column[strings].unique(), dtype=object)
        kinds = kinds.mask(strings, column[strings].map(dict(zip(distinct, _kinds_of_texts(distinct), strict=True))))
    return kinds


def _kinds_of_texts(texts: pd.Series) -> pd.Series:
    """'nil', 'number', 'text' or '' for distinct texts, with vectorised string operations."""
    stripped = texts.str.strip()
    kinds = pd.Series("text", index=texts.index, dtype=object)
    kinds = kinds.mask(stripped.str.fullmatch(_NUMBERISH.pattern).fillna(False).astype(bool), "number")
    kinds = kinds.mask(stripped.str.casefold().isin(list(MISSING_CODES)), "nil")
    return kinds.mask(stripped == "", "")


def grid_frame(rows: Sequence[Sequence[object]], start: int) -> pd.DataFrame:
    """Rows of cells as an object frame (short rows padded), indexed by 0-based sheet row."""
    columns = list(zip_longest(*rows)) if rows else []  # transposed in C, short rows padded with None
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in enumerate(columns)}) if columns \
        else pd.DataFrame(index=range(len(rows)), dtype=object)
    frame.index = np.arange(start, start + len(rows))
    return frame


def cell_kinds(sheet: Sheet, start: int = 0, stop: int | None = None) -> CellKinds:
    """Classify the cells of rows start..stop of a sheet, column by column."""
    frame = grid_frame(sheet.rows[start:stop], start)
    kinds = pd.DataFrame({c: _kind_of_column(frame[c]) for c in frame.columns}, index=frame.index)
    return CellKinds(frame, kinds)


@dataclass
class Region:
    """A table found in a sheet: title, unit cell, header band, label and figure columns, data rows."""

    sheet: Sheet
    title_lines: list[str]
    title_rows: list[int]
    unit_cell: tuple[int, int, str] | None
    header_top: int
    header_bottom: int
    first_data_row: int
    label_cols: list[int]
    figure_cols: list[int]
    headers: dict[int, Header] = field(default_factory=dict)
    fragments: dict[int, list[str]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The title rows joined, as shown to people."""
        return " | ".join(self.title_lines)

    @property
    def data_start(self) -> int:
        """The first row under the header band (0-based)."""
        return self.header_bottom + 1

    @property
    def header_height(self) -> int:
        """Number of rows in the header band."""
        return self.header_bottom - self.header_top + 1


def _numbering_row(values: list[object]) -> bool:
    """A row that numbers the columns (1, 2, 3, … or (1), (2), …) under a Vietnamese form's header."""
    numbers = []
    for value in values:
        text = cell_text(value).strip("()")
        if text.isdigit():
            numbers.append(int(text))
        elif text and not (len(text) == 1 and text.isalpha()):
            return False
    return len(numbers) >= 2 and numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def first_data_row(kinds: CellKinds, start: int) -> int | None:
    """The first row from `start` with a figure that is not a year (years written as numbers sit in headers)."""
    window = kinds.kinds.loc[start : start + FIRST_ROWS]
    has_number = (window == "number").any(axis=1)
    for row in has_number[has_number].index:
        if not _numbering_row(kinds.frame.loc[row].dropna().tolist()):
            return int(row)
    return None


def _occupied(sheet: Sheet, row: int) -> list[int]:
    return [c for c, v in enumerate(sheet.rows[row]) if clean_text(v)] if row < sheet.height else []


def _is_unit_cell(text: str, known_units: frozenset[str]) -> bool:
    rest, unit = unit_of_fragment(text, known_units)
    if unit is not None:
        return not rest
    return len(text) <= 40 and looks_like_unit(text) and not any(ch.isdigit() for ch in text)


def header_band(
    sheet: Sheet, data_row: int, label_cols: list[int], figure_cols: list[int], max_rows: int,
    known_units: frozenset[str] = frozenset(),
) -> tuple[int, int, tuple[int, int, str] | None]:
    """(top, bottom, unit cell) of the header rows above the first data row, walking up from it."""
    first_figure = min(figure_cols) if figure_cols else 0
    bottom, top, unit_cell = None, None, None
    for row in range(data_row - 1, -1, -1):
        cells = _occupied(sheet, row)
        if not cells:
            if bottom is None:
                continue
            break
        if all(c < first_figure for c in cells):
            if bottom is None:
                continue  # a section or block row just above the data belongs to the data
            break  # a title row
        text = cell_text(sheet.rows[row][cells[0]])
        if len(cells) == 1 and _is_unit_cell(text, known_units):
            unit_cell = (row, cells[0], text)
            break
        bottom = row if bottom is None else bottom
        top = row
        if bottom - top + 1 >= max_rows:
            break
    if bottom is None or top is None:
        return data_row, data_row - 1, unit_cell
    return top, bottom, unit_cell


def _column_roles(kinds: CellKinds, start: int, ordinal: set[int]) -> tuple[list[int], list[int]]:
    """(label columns, figure columns) of the data rows: labels lead on the left, figures follow."""
    data = kinds.kinds.loc[start:]
    labels: list[int] = []
    figures: list[int] = []
    in_labels = True
    for col in data.columns:
        column = data[col]
        n_text = int((column == "text").sum())
        n_number = int((column == "number").sum())
        n_year = int((column == "year").sum())
        n_nil = int((column == "nil").sum())
        if in_labels and (col in ordinal or n_text > n_number or (n_year and not n_number)):
            if n_text or n_year:
                labels.append(int(col))
            continue
        in_labels = False
        if n_number or n_nil or n_year:
            figures.append(int(col))
    return labels, figures


def _title(sheet: Sheet, top: int, unit_cell: tuple[int, int, str] | None) -> tuple[list[str], list[int]]:
    lines, rows = [], []
    for row in range(0, top):
        if unit_cell and row == unit_cell[0]:
            continue
        texts = [cell_text(v) for v in sheet.rows[row] if cell_text(v)]
        if texts:
            lines.append(" ".join(texts))
            rows.append(row)
    return lines, rows


def _fill_right(sheet: Sheet, top: int, bottom: int, figure_cols: list[int]) -> dict[tuple[int, int], str]:
    """Unmerged group labels centred across columns: a cell's text also covers the empty cells to its right."""
    filled: dict[tuple[int, int], str] = {}
    merged = {(r, c) for r0, c0, r1, c1 in sheet.merges for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    for row in range(top, bottom):
        current = None
        for col in figure_cols:
            text = cell_text(sheet.value(row, col))
            if text or (row, col) in merged:
                current = text if (row, col) not in merged else None
            elif current:
                filled[(row, col)] = current
    return filled


def column_fragments(region: Region, fill_right: bool = False) -> dict[int, list[str]]:
    """Per figure column, the header texts from top to bottom (merged cells repeat their value)."""
    sheet = region.sheet
    extra = _fill_right(sheet, region.header_top, region.header_bottom, region.figure_cols) if fill_right else {}
    out: dict[int, list[str]] = {}
    for col in region.figure_cols:
        fragments: list[str] = []
        for row in range(region.header_top, region.header_bottom + 1):
            text = cell_text(sheet.merged_value(row, col)) or extra.get((row, col), "")
            if text and (not fragments or fragments[-1] != text):
                fragments.append(text)
        out[col] = fragments
    return out


def _ordinal_columns(sheet: Sheet, top: int, bottom: int) -> set[int]:
    cols = set()
    for row in range(top, bottom + 1):
        for col, value in enumerate(sheet.rows[row] if row < sheet.height else []):
            if fold(cell_text(value)) in _ORDINAL_HEADERS:
                cols.add(col)
    return cols


def find_region(
    sheet: Sheet,
    max_header_rows: int = 8,
    header_rows: tuple[int, int] | None = None,
    known_units: frozenset[str] = frozenset(),
    measure_words: dict[str, tuple[str, ...]] | None = None,
    fill_right: bool = False,
    default_year: int | None = None,
) -> Region | None:
    """The table of a sheet found by its shape, or None when the sheet holds no figures."""
    start = header_rows[1] if header_rows else 0
    probe = cell_kinds(sheet, 0, min(sheet.height, start + FIRST_ROWS + 1))
    data_row = first_data_row(probe, start)
    if data_row is None:
        return None
    kinds = cell_kinds(sheet, data_row)
    labels, figures = _column_roles(kinds, data_row, set())
    if header_rows:
        top, bottom, unit_cell = header_rows[0] - 1, header_rows[1] - 1, None
    else:
        top, bottom, unit_cell = header_band(sheet, data_row, labels, figures, max_header_rows, known_units)
    ordinal = _ordinal_columns(sheet, top, bottom)
    if ordinal:
        labels, figures = _column_roles(kinds, data_row, ordinal)
    if not figures:
        return None
    title_lines, title_rows = _title(sheet, top, unit_cell)
    if default_year is None:
        years = re.findall(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)", " ".join(title_lines))
        default_year = int(years[0]) if years else None
    region = Region(sheet, title_lines, title_rows, unit_cell, top, bottom, data_row, labels, figures)
    region.fragments = column_fragments(region, fill_right)
    region.headers = {
        col: read_header(frags, measure_words, known_units, default_year) for col, frags in region.fragments.items()
    }
    return region


def data_frame(region: Region) -> pd.DataFrame:
    """The cells of the data rows (object dtype), indexed by 0-based sheet row."""
    return grid_frame(region.sheet.rows[region.data_start :], region.data_start)
