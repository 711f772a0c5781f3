"""Find a spec's table in a workbook and turn it into tidy observations with their source cells.

Work is column-wise: labels and numbers are parsed once per distinct value, so a sheet with a million
rows costs a few pandas operations, not a million Python calls.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from schemas.catalogs import load_catalog
from schemas.errors import DataError, UnknownLayoutError
from schemas.grid import Sheet, Workbook
from schemas.numbers import ParsedNumber, infer_decimal, parse_number
from schemas.problems import Problem, problem
from schemas.specs import FieldSpec, LayoutSpec
from schemas.text import clean_text, col_letter, find_unit_line, fold, split_unit, strip_footnote

HEADER_SEARCH_ROWS = 40
YEAR_PATTERN = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
DITTO_MARKS = frozenset({'"', "”", "“", "〃", "''", '""', "„"})
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

    @property
    def score(self) -> tuple[int, int, int, int]:
        """Ranking among candidate matches: complete first, then more roles, title match, short header."""
        roles = sum(len(c) for c in self.field_columns.values()) + len(self.measure_columns)
        titled = int(any(t in fold(self.title + " " + self.sheet.name) for t in self.spec.title_contains))
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


@dataclass(frozen=True)
class ParseContext:
    """What the caller knows about the file: its name, and defaults the file may not state."""

    file_name: str
    default_province: str | None = None


# --- header detection --------------------------------------------------------------------------


def _header_keys(label: str, fragments: list[str]) -> set[str]:
    texts = [label, *fragments]
    texts += [split_unit(t)[0] for t in texts] + [strip_footnote(t)[0] for t in texts]
    return {fold(t) for t in texts if t}


def header_labels(sheet: Sheet, row: int, height: int) -> dict[int, tuple[str, list[str]]]:
    """Column -> (joined label, fragments) for the header band rows row..row+height-1."""
    width = max((len(sheet.rows[r]) for r in range(row, min(row + height, sheet.height))), default=0)
    labels = {}
    for col in range(width):
        fragments: list[str] = []
        for r in range(row, row + height):
            text = clean_text(sheet.merged_value(r, col))
            if text and (not fragments or fragments[-1] != text):
                fragments.append(text)
        if fragments:
            labels[col] = (" ".join(fragments), fragments)
    return labels


def _title_text(sheet: Sheet, header_row: int) -> str:
    lines = []
    for r in range(max(0, header_row - 12), header_row):
        texts = [clean_text(c) for c in sheet.rows[r] if clean_text(c)]
        lines.extend(texts)
    return " | ".join(lines)


def _assign_fields(spec: LayoutSpec, keys: dict[int, set[str]]) -> tuple[dict[str, list[int]], set[int]]:
    used: set[int] = set()
    found: dict[str, list[int]] = {}
    for spec_field in [*spec.fields.values(), spec.unit]:
        columns = []
        for aliases in spec_field.folded_sources():
            col = next((c for c in sorted(keys) if c not in used and keys[c] & aliases), None)
            if col is not None:
                used.add(col)
                columns.append(col)
        found[spec_field.name] = columns
    return found, used


def match_header(spec: LayoutSpec, sheet: Sheet, row: int, height: int) -> HeaderMatch:
    """Try the header band at `row` of `height` rows against a spec."""
    labelled = header_labels(sheet, row, height)
    keys = {c: _header_keys(label, frags) for c, (label, frags) in labelled.items()}
    field_columns, used = _assign_fields(spec, keys)
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
    title = _title_text(sheet, row)
    return HeaderMatch(spec, sheet, row, height, labels, field_columns, measures, title, missing)


def find_header(spec: LayoutSpec, sheet: Sheet) -> HeaderMatch | None:
    """The best header band for a spec among the first rows of a sheet."""
    best: HeaderMatch | None = None
    for row in range(min(sheet.height, HEADER_SEARCH_ROWS)):
        if not any(clean_text(c) for c in sheet.rows[row]):
            continue
        for height in range(1, spec.max_header_rows + 1):
            candidate = match_header(spec, sheet, row, height)
            if best is None or candidate.score > best.score:
                best = candidate
    return best


def _sheet_allowed(spec: LayoutSpec, sheet: Sheet) -> bool:
    if spec.sheet_pattern:
        return re.search(spec.sheet_pattern, sheet.name, re.IGNORECASE) is not None
    return not sheet.hidden


def find_tables(book: Workbook, specs: tuple[LayoutSpec, ...]) -> list[HeaderMatch]:
    """Every (sheet, spec) pair whose header is fully recognised; UnknownLayoutError when none is."""
    matches: list[HeaderMatch] = []
    near: list[HeaderMatch] = []
    for sheet in book.sheets:
        candidates = [
            m
            for spec in specs
            if _sheet_allowed(spec, sheet) and (m := find_header(spec, sheet)) is not None
        ]
        complete = [m for m in candidates if m.complete]
        if complete:
            matches.append(max(complete, key=lambda m: m.score))
        near.extend(candidates)
    if not matches:
        raise _unknown_layout(book, near)
    return matches


def _unknown_layout(book: Workbook, near: list[HeaderMatch]) -> UnknownLayoutError:
    if not near:
        return UnknownLayoutError(
            "no visible sheet has a table niengiam recognises (the workbook is empty)",
            file=book.file_name,
            hint="Check that this is the right file; see 'niengiam inspect FILE'.",
        )
    best = max(near, key=lambda m: m.score)
    found = [label for _, label in sorted(best.labels.items())]
    details = [f"expected {what}" for what in best.missing]
    for what in best.missing:
        wanted = re.findall(r"\((.*)\)", what)
        aliases = [fold(a) for a in wanted[0].split(" / ")] if wanted else []
        close = difflib.get_close_matches(
            " ".join(aliases[:1]), [fold(x) for x in found], n=1, cutoff=0.5
        )
        if close:
            original = found[[fold(x) for x in found].index(close[0])]
            details.append(f"nearest header found for it: {original!r}")
    details.append(f"header found at row {best.header_row + 1}: {found}")
    return UnknownLayoutError(
        f"the layout is not recognised; nearest is spec '{best.spec.id}' v{best.spec.version}, but "
        + "; ".join(f"missing {m}" for m in best.missing),
        file=book.file_name,
        sheet=best.sheet.name,
        cell=f"A{best.header_row + 1}",
        hint="Rename the header to one the spec knows, or write a layout spec for this file"
        " ('niengiam inspect FILE' helps).",
        details=details,
    )


# --- cell values -------------------------------------------------------------------------------


def _text_column(sheet: Sheet, col: int, start: int) -> pd.Series:
    values = [clean_text(row[col]) if col < len(row) else "" for row in sheet.rows[start:]]
    series = pd.Series(values, dtype=object).replace("", np.nan)
    is_ditto = series.isin(DITTO_MARKS)
    if is_ditto.any():
        series = series.where(~is_ditto, series.mask(is_ditto).ffill())
    return series


def _raw_column(sheet: Sheet, col: int, start: int) -> list[object]:
    return [row[col] if col < len(row) else None for row in sheet.rows[start:]]


def _year_of(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1950 <= value <= 2100:
        return float(int(value))
    found = YEAR_PATTERN.search(clean_text(value))
    return float(found.group(1)) if found else np.nan


def _title_status(title: str) -> str | None:
    folded = fold(title)
    if re.search(r"\buoc\b", folded):
        return "estimate"
    if "so bo" in folded:
        return "preliminary"
    if "chinh thuc" in folded:
        return "final"
    return None


def _title_province(title: str) -> str | None:
    catalog = load_catalog("provinces")
    folded = f" {fold(title)} "
    best: tuple[int, str] | None = None
    for alias, code in catalog.index.items():
        if len(alias) > 2 and f" {alias} " in folded and (best is None or len(alias) > best[0]):
            best = (len(alias), code)
    return best[1] if best else None


def _title_value(spec_field: FieldSpec, title: str) -> str | float | None:
    if not spec_field.from_title:
        return None
    if spec_field.name == "reference_year":
        found = YEAR_PATTERN.search(title)
        return float(found.group(1)) if found else None
    if spec_field.name == "status":
        return _title_status(title)
    if spec_field.name == "province_code":
        return _title_province(title)
    return None


@dataclass
class _Resolved:
    """A field's per-row codes, the text they came from, and the cell column of each row."""

    codes: pd.Series
    text: pd.Series
    letters: pd.Series


def _resolve_field(match: HeaderMatch, spec_field: FieldSpec, start: int, fallback: object) -> _Resolved:
    n = match.sheet.height - start
    text = pd.Series([np.nan] * n, dtype=object)
    letters = pd.Series([None] * n, dtype=object)
    for col in match.field_columns.get(spec_field.name, []):
        column = _text_column(match.sheet, col, start)
        take = text.isna() & column.notna()
        text = text.where(~take, column)
        letters = letters.where(~take, col_letter(col))
    if spec_field.name == "reference_year":
        cols = match.field_columns.get("reference_year", [])
        raw = _raw_column(match.sheet, cols[0], start) if cols else [None] * n
        codes = pd.Series([_year_of(v) for v in raw], dtype="float64")
    elif spec_field.lookup:
        catalog = load_catalog(spec_field.lookup)
        mapping = {t: catalog.lookup(t) for t in text.dropna().unique()}
        codes = text.map(mapping)
    else:
        codes = text.copy()
    if fallback is not None:
        codes = codes.where(text.notna(), fallback)
    return _Resolved(codes, text, letters)


def _parse_measure(sheet: Sheet, col: int, start: int) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Values, error texts and raw texts of one column of figures (each distinct cell parsed once)."""
    raw = _raw_column(sheet, col, start)
    texts = [v for v in set(map(_hashable, raw)) if isinstance(v, str)]
    decimal = infer_decimal(texts)
    cache: dict[object, ParsedNumber] = {}
    for v in set(map(_hashable, raw)):
        cache[v] = parse_number(v, decimal)
    parsed = [cache[_hashable(v)] for v in raw]
    values = pd.Series([p.value for p in parsed], dtype="float64")
    errors = pd.Series([p.error for p in parsed], dtype=object)
    shown = pd.Series([None if v is None else str(v) for v in raw], dtype=object)
    return values, errors, shown


def _hashable(value: object) -> object:
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


def _unit_series(match: HeaderMatch, start: int, data: pd.Index) -> tuple[dict[int, object], _Resolved]:
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
    resolved = _resolve_field(match, match.spec.unit, start, None)
    return per_measure, resolved


def parse_table(match: HeaderMatch, context: ParseContext) -> ParsedTable:
    """Read the data rows under a recognised header into observations and problems."""
    spec, sheet = match.spec, match.sheet
    start = match.header_row + match.height
    n = max(sheet.height - start, 0)
    problems: list[Problem] = []
    fallbacks = _table_fallbacks(match, context)
    fields = {name: _resolve_field(match, f, start, fallbacks[name]) for name, f in spec.fields.items()}
    measures = [(col, sets, *_parse_measure(sheet, col, start)) for col, sets in match.measure_columns]
    has_figure = pd.Series(False, index=range(n))
    for _, _, values, errors, _ in measures:
        has_figure |= values.notna() | errors.notna()
    rows = has_figure[has_figure].index
    unit_by_measure, unit_column = _unit_series(match, start, rows)
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
        frame["_source_cell"] = letter + frame["_source_row"].astype(str)
        row_text = frame["_source_row"].astype(str)
        for name, resolved in fields.items():
            columns = match.field_columns.get(name, [])
            if columns:
                letters = resolved.letters.loc[rows].fillna(col_letter(columns[0])).astype(str)
                frame[f"_cell_{name}"] = letters + row_text
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
    problems += _unit_problems(frames, unit_column, sheet.name)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if spec.missing_means_zero and not frame.empty:
        frame = frame[frame["value"] != 0].reset_index(drop=True)
    problems += _table_problems(match, fields, fallbacks, rows)
    return ParsedTable(spec, sheet.name, match.header_row + 1, frame, problems, rows_in=len(rows))


def _field_problems(
    spec_field: FieldSpec, resolved: _Resolved, rows: pd.Index, row_numbers: pd.Series, sheet: str
) -> list[Problem]:
    """Unknown labels (text that maps to no code) in rows that carry figures."""
    if not spec_field.lookup and spec_field.name != "reference_year":
        return []
    text, codes = resolved.text.loc[rows], resolved.codes.loc[rows]
    unknown = text.notna() & codes.isna()
    out = []
    for idx in unknown[unknown].index:
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


def _unit_problems(frames: list[pd.DataFrame], unit_column: _Resolved, sheet: str) -> list[Problem]:
    out = []
    for frame in frames:
        unknown = frame["unit"].isna() | frame["unit"].astype(str).str.startswith("?")
        for idx in unknown[unknown].index:
            written = unit_column.text.get(idx)
            value = written if isinstance(written, str) else str(frame.at[idx, "unit"]).lstrip("?")
            out.append(
                problem(
                    "unit",
                    sheet=sheet,
                    cell=frame.at[idx, "_source_cell"],
                    column="unit",
                    value=value,
                    allowed=", ".join(sorted(load_catalog("units").codes)),
                )
            )
        frame.drop(index=unknown[unknown].index, inplace=True)
    return out


def _table_problems(
    match: HeaderMatch, fields: dict[str, _Resolved], fallbacks: dict[str, object], rows: pd.Index
) -> list[Problem]:
    """Whole-table gaps: a field with neither a column, a title mention nor a default."""
    out = []
    needed = {
        "reference_year": ("add a 'Năm' (year) column or write the year in the title",
                           "thêm cột 'Năm' hoặc ghi năm trong tên biểu"),
        "province_code": ("write the province in the title (e.g. 'UBND TỈNH PHÚ THỌ') or pass --province",
                          "ghi tên tỉnh ở đầu biểu (ví dụ 'UBND TỈNH PHÚ THỌ') hoặc dùng --province"),
    }
    for name, (hint, hint_vi) in needed.items():
        if name in fields and len(rows) and fields[name].codes.loc[rows].isna().all() and fallbacks.get(name) is None:
            if name == "reference_year" and fields[name].text.loc[rows].notna().any():
                continue
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


def parse_workbook(book: Workbook, specs: tuple[LayoutSpec, ...], context: ParseContext) -> list[ParsedTable]:
    """Every recognised table of a workbook, parsed; UnknownLayoutError when none is recognised."""
    tables = [parse_table(match, context) for match in find_tables(book, specs)]
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
