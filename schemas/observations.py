"""Format-2 specs: a table found by its shape becomes tidy observations, then rows of the spec's datasets.

Every figure cell is one observation with its row (label, code, parent path, notes), its column (period,
status, measure, comparison base, unit) and its source cell. Work is column-wise: labels and numbers are
parsed once per distinct value and rows are classified with vectorised pandas operations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from schemas.catalogs import load_catalog
from schemas.headers import Header, read_period, read_status, split_multiplier, split_unit_cell
from schemas.layout import Region, cell_text, data_frame
from schemas.numbers import infer_decimal, parse_number
from schemas.problems import Problem, problem
from schemas.specs import LayoutSpec
from schemas.text import clean_text, col_letter, find_unit_line, fold, strip_footnote

PATH_SEPARATOR = " > "
DITTO_MARKS = frozenset({'"', "”", "“", "〃", "''", '""', "„"})
_LEGEND = re.compile(r"^\(?(?P<mark>\*{1,3}|[a-z]|\d{1,2})\)\s*(?P<text>\S.*)$|^(?P<stars>\*{1,3})\s*(?P<stext>\S.*)$")
_TITLE_UNIT = re.compile(r"\(([^()]*)\)")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")


@dataclass
class Observations:
    """The tidy observations of one table, and the problems met while reading it."""

    frame: pd.DataFrame
    problems: list[Problem]
    rows_in: int


# --- rows ---------------------------------------------------------------------------------------


def _texts(frame: pd.DataFrame, col: int) -> tuple[pd.Series, pd.Series]:
    """(clean text, raw text) of one label column; each distinct value cleaned once."""
    raw = frame[col] if col in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    raw = raw.where(raw.map(type).isin([str]))
    distinct = raw.dropna().unique()
    cleaned = raw.map({v: clean_text(v) or None for v in distinct})
    ditto = cleaned.isin(DITTO_MARKS)
    if ditto.any():  # '"' means the same as the row above
        cleaned = cleaned.where(~ditto, cleaned.mask(ditto).ffill())
    return cleaned, raw


def _labels(frame: pd.DataFrame, label_cols: list[int]) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Per row: the label, its raw text, the index of its label column, and that column's letter."""
    label = pd.Series(np.nan, index=frame.index, dtype=object)
    raw = pd.Series(np.nan, index=frame.index, dtype=object)
    level = pd.Series(-1, index=frame.index, dtype="int64")
    letter = pd.Series(None, index=frame.index, dtype=object)
    for number, col in enumerate(label_cols):
        cleaned, original = _texts(frame, col)
        take = label.isna() & cleaned.notna()
        label = label.where(~take, cleaned)
        raw = raw.where(~take, original)
        level = level.where(~take, number)
        letter = letter.where(~take, col_letter(col))
    return label, raw, level, letter


def _matches(labels: pd.Series, patterns: tuple[str, ...]) -> pd.Series:
    """Whether each (folded) label matches any of the regexes."""
    if not patterns:
        return pd.Series(False, index=labels.index)
    regex = re.compile("|".join(f"(?:{p})" for p in patterns))
    distinct = labels.dropna().unique()
    hits = {v: regex.search(fold(v)) is not None or (v.startswith("©") and "copyright" in "".join(patterns))
            for v in distinct}
    return labels.map(hits).fillna(False).astype(bool)


def _legend(labels: pd.Series, rows: pd.Index) -> dict[str, str]:
    """Footnote texts under or beside the table: '(a) As at December 2017.' -> {'a': 'As at …'}."""
    out: dict[str, str] = {}
    for text in labels.loc[rows].dropna():
        match = _LEGEND.match(text)
        if match:
            mark = match["mark"] or match["stars"]
            out.setdefault(mark, (match["text"] or match["stext"]).strip())
    return out


def _strip_marks(labels: pd.Series, legend: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Labels without footnote markers, and the markers: '(*)', '(a)', or a digit glued on that the legend names."""
    mapping: dict[str, tuple[str, str | None]] = {}
    for text in labels.dropna().unique():
        stripped, mark = strip_footnote(text)
        if mark is None and text[-1:].isdigit() and text[-1] in legend and text[-2:-1].isalpha():
            stripped, mark = text[:-1], text[-1]
        mapping[text] = (stripped, mark)
    clean = labels.map({k: v[0] for k, v in mapping.items()})
    marks = labels.map({k: v[1] for k, v in mapping.items()})
    return clean, marks


def _indent_levels(raw: pd.Series) -> pd.Series:
    """Indentation level from leading spaces (ranked: the least indented labels are level 0)."""
    spaces = raw.map(lambda t: len(t) - len(t.lstrip(" ")) if isinstance(t, str) else np.nan)
    ranks = {v: i for i, v in enumerate(sorted(spaces.dropna().unique()))}
    return spaces.map(ranks).fillna(0).astype("int64")


def _paths(label: pd.Series, depth: pd.Series, keep: pd.Series) -> pd.Series:
    """Parent path of each row: the labels of the nearest shallower rows above it (vectorised per depth)."""
    parent = pd.Series("", index=label.index, dtype=object)
    for d in sorted(depth[keep].unique()):
        own = label.where(keep & (depth == d))
        reset = keep & (depth < d)
        carried = own.where(~reset, "\x00").ffill().replace("\x00", np.nan)
        above = carried.where(depth > d)
        parent = parent.where(above.isna(), np.where(parent == "", above, parent + PATH_SEPARATOR + above))
    return parent


# --- figures ------------------------------------------------------------------------------------


def _figures(frame: pd.DataFrame, col: int) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """(values, missing reasons, errors, percent flags) of one column; numbers pass through, texts parsed once."""
    raw = frame[col] if col in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    types = raw.map(type)
    numeric = types.isin([int, float])
    values = pd.to_numeric(raw.where(numeric), errors="coerce").astype("float64")
    missing = pd.Series(None, index=raw.index, dtype=object).where(raw.notna(), "blank")
    errors = pd.Series(None, index=raw.index, dtype=object)
    percent = pd.Series(False, index=raw.index)
    strings = types.isin([str])
    if strings.any():
        texts = raw[strings]
        distinct = pd.Series(texts.unique(), dtype=object)
        decimal = infer_decimal(distinct.iloc[:DECIMAL_SAMPLE])
        plain = _plain_numbers(distinct, decimal)
        rest = distinct[plain.isna()]
        parsed = {t: parse_number(t, decimal) for t in rest}
        value_of = dict(zip(distinct[plain.notna()], plain.dropna(), strict=True))
        value_of.update({k: p.value for k, p in parsed.items()})
        values = values.where(~strings, texts.map(value_of))
        missing = missing.where(~strings, texts.map({k: p.missing for k, p in parsed.items()}))
        errors = errors.where(~strings, texts.map({k: p.error for k, p in parsed.items()}))
        flags = texts.map({k: p.is_percent for k, p in parsed.items()}).astype(object).fillna(False)
        percent = percent.where(~strings, flags.astype(bool))
    return values.astype("float64"), missing, errors, percent.astype(bool)


DECIMAL_SAMPLE = 2000  # distinct texts of a column that vote on its decimal separator


def _plain_numbers(texts: pd.Series, decimal: str | None) -> pd.Series:
    """Values of texts that are plain numbers in the column's convention ('119,6', '28.029,5'), vectorised;
    NaN for everything else, which parse_number then reads one by one."""
    if decimal is None or texts.empty:
        return pd.Series(np.nan, index=texts.index)
    thousands = "." if decimal == "," else ","
    sep, dec = re.escape(thousands), re.escape(decimal)
    shape = rf"[+-]?(?:\d{{1,3}}(?:{sep}\d{{3}})+|\d+)(?:{dec}\d+)?"
    plain = texts.str.fullmatch(shape).fillna(False).astype(bool)
    normal = texts[plain].str.replace(thousands, "", regex=False).str.replace(decimal, ".", regex=False)
    return pd.to_numeric(normal, errors="coerce").reindex(texts.index)


# --- table-level facts ----------------------------------------------------------------------------


def title_unit(title: str) -> str | None:
    """The unit a title states: 'Đơn vị tính: Tỷ đồng', or a parenthetical such as '($m)' or '(Tỷ đồng)'."""
    line = find_unit_line(title)
    if line:
        return line
    from schemas.headers import looks_like_unit

    for inner in _TITLE_UNIT.findall(title):
        words = inner.split(",")[-1].strip() if "," in inner else inner.strip()
        if looks_like_unit(words):
            return words
    return None


def table_id(spec: LayoutSpec, region: Region) -> str:
    """The table's id: the spec's table_pattern applied to the title (first group), else the sheet name."""
    if spec.table_pattern:
        for line in region.title_lines:
            match = re.search(spec.table_pattern, line, re.IGNORECASE)
            if match:
                return clean_text(match.group(1) if match.groups() else match.group(0))
    return region.sheet.name


def indicator_from_title(spec: LayoutSpec, region: Region) -> str:
    """The title line that names the table, without its number, unit and period."""
    line = next((t for t in region.title_lines if spec.table_pattern and re.search(spec.table_pattern, t,
                                                                                 re.IGNORECASE)), None)
    line = line or (region.title_lines[0] if region.title_lines else region.sheet.name)
    if spec.table_pattern:
        line = re.sub(spec.table_pattern, "", line, count=1, flags=re.IGNORECASE)
    line = re.sub(r"^\s*\d+(?:\.\d+)*\.?\s*", "", line)
    return clean_text(re.split(r",|\(", line)[0]) or region.sheet.name


def slug(text: str) -> str:
    """A code from a label: 'Wages and salaries' -> 'wages_and_salaries'."""
    return fold(text).replace(" ", "_")[:80] or "value"


def _column_units(region: Region, header: Header, title: str, spec: LayoutSpec) -> str | None:
    """The unit of one column: its header, else the unit cell (split by measure), else the title, else default."""
    if header.unit:
        return header.unit
    if region.unit_cell:
        parts = split_unit_cell(find_unit_line(region.unit_cell[2]) or region.unit_cell[2])
        if len(parts) > 1 and header.measure == "quantity":
            return parts[0]
        if parts:
            return parts[-1] if header.measure != "quantity" else parts[0]
    return title_unit(title) or spec.defaults.get("unit")


# --- the table ------------------------------------------------------------------------------------


def _row_codes(spec: LayoutSpec, labels: pd.Series) -> pd.Series:
    index = spec.rows.code_index()
    catalog = load_catalog(spec.rows.lookup) if spec.rows.lookup else None
    mapping = {}
    for text in labels.dropna().unique():
        code = index.get(fold(text))
        if code is None and catalog is not None:
            code = catalog.lookup(text)
        mapping[text] = code
    return labels.map(mapping)


def _classify(
    spec: LayoutSpec, frame: pd.DataFrame, region: Region, has_figure: pd.Series
) -> tuple[dict[str, pd.Series], dict[str, str]]:
    """Row labels, levels, kinds (data, section, legend) and parent paths."""
    label, raw, level, letter = _labels(frame, region.label_cols)
    stop = _matches(label, spec.rows.stop) | raw.str.strip().str.startswith("©").fillna(False).astype(bool)
    stopped = stop.cumsum() > 0
    skip = _matches(label, spec.rows.skip)
    last_data = has_figure[has_figure & ~stopped].index.max() if (has_figure & ~stopped).any() else -1
    legend_rows = label.index[label.notna() & ~has_figure & (label.str.match(_LEGEND.pattern) == True)]  # noqa: E712
    legend = _legend(label, legend_rows)
    clean, marks = _strip_marks(label, legend)
    of_which = _matches(clean, spec.rows.of_which)
    clean = clean.where(~of_which, clean.str.replace(r"^(?i:trong đó|of which|in which)\s*:?\s*", "", regex=True))
    if spec.rows.hierarchy == "indent":
        level = _indent_levels(raw)
    elif spec.rows.hierarchy == "none":
        level = level.where(level < 0, 0)
    section = clean.notna() & ~has_figure & ~stopped & ~skip & (clean.index < last_data)
    section &= ~clean.index.isin(legend_rows)
    data = has_figure & ~stopped & ~skip
    depth = level * 4 + np.where(section, 0, np.where(of_which, 3, 2))
    depth = depth.where(~(data & _matches(clean, spec.rows.totals)), -1)
    parent = _paths(clean, depth, section | data)
    return {"label": clean, "marks": marks, "letter": letter, "data": data, "parent": parent}, legend


def observe(spec: LayoutSpec, region: Region, default_province: str | None) -> Observations:
    """Every figure of a table found by its shape, as tidy observations with their source cells."""
    frame = data_frame(region)
    sheet = region.sheet.name
    figures = {col: _figures(frame, col) for col in region.figure_cols}
    has_figure = pd.Series(False, index=frame.index)
    for values, missing, errors, _ in figures.values():
        has_figure |= values.notna() | (missing.notna() & (missing != "blank")) | errors.notna()
    named = _named_columns(spec, region)
    labelled = replace(region, label_cols=[c for c in region.label_cols if c not in named.values()])
    rows, legend = _classify(spec, frame, labelled, has_figure)
    data_rows = rows["data"][rows["data"]].index
    label = rows["label"].loc[data_rows]
    codes = _row_codes(spec, label)
    problems: list[Problem] = []
    keep = _apply_unmatched(spec, label, codes, rows["letter"], sheet, problems)
    data_rows = data_rows[keep.to_numpy()]
    base = _row_frame(spec, region, rows, codes, data_rows, legend, default_province)
    for name, col in named.items():  # text columns the spec names by their header, e.g. 'Đơn vị tính'
        base[name] = _texts(frame, col)[0].loc[data_rows]
    frames = []
    for col in region.figure_cols:
        column = _column_frame(spec, region, col, figures[col], base, problems)
        if not column.empty:
            frames.append(column)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=base.columns)
    problems += _year_problems(out, region)
    return Observations(out, problems, rows_in=len(data_rows))


def _named_columns(spec: LayoutSpec, region: Region) -> dict[str, int]:
    """Label columns a spec field claims by header text ([fields.unit] sources = [["Đơn vị tính"]])."""
    named: dict[str, int] = {}
    for spec_field in [*spec.fields.values(), spec.unit]:
        aliases = {a for group in spec_field.folded_sources() for a in group}
        for col in region.label_cols:
            header = " ".join(cell_text(region.sheet.merged_value(r, col))
                              for r in range(region.header_top, region.header_bottom + 1))
            if aliases and fold(header) in aliases and col not in named.values():
                named["unit_label" if spec_field.name == "unit" else spec_field.name] = col
                break
    return named


def _apply_unmatched(
    spec: LayoutSpec, label: pd.Series, codes: pd.Series, letter: pd.Series, sheet: str, problems: list[Problem]
) -> pd.Series:
    """Rows to keep, by the spec's rule for labels that have no code."""
    if not spec.rows.codes and not spec.rows.lookup:
        return pd.Series(True, index=label.index)
    unknown = label.notna() & codes.isna()
    if spec.rows.unmatched == "skip":
        return ~unknown
    if spec.rows.unmatched == "error":
        for idx in unknown[unknown].index:
            problems.append(problem("known_code", sheet=sheet, cell=f"{letter[idx]}{idx + 1}", column="row_code",
                                    value=label[idx], what="row label", catalog=spec.rows.lookup or spec.id))
    return pd.Series(True, index=label.index)


def _row_frame(
    spec: LayoutSpec, region: Region, rows: dict, codes: pd.Series, data_rows: pd.Index, legend: dict[str, str],
    default_province: str | None,
) -> pd.DataFrame:
    """One row per data row: what its label says, where it sits, and the table's constants."""
    label = rows["label"].loc[data_rows]
    parent = rows["parent"].loc[data_rows]
    marks = rows["marks"].loc[data_rows]
    own = label.fillna("")
    path = np.where(parent == "", own, parent + PATH_SEPARATOR + own)
    base = pd.DataFrame(
        {
            "row_label": label,
            "row_code": codes.loc[data_rows] if len(codes) else pd.Series(dtype=object),
            "parent_path": parent.replace("", np.nan),
            "dimension_path": pd.Series(path, index=data_rows) if spec.rows.label_is != "period" else parent,
            "notes": marks.map(lambda m: f"({m}) {legend[m]}" if isinstance(m, str) and m in legend else
                               (f"({m})" if isinstance(m, str) else np.nan)),
            "_mark": marks,
            "_label_cell": rows["letter"].loc[data_rows] + pd.Series(data_rows + 1, index=data_rows).astype(str),
            "_source_row": pd.Series(data_rows + 1, index=data_rows, dtype="int64"),
        },
        index=data_rows,
    )
    if spec.rows.label_is == "period":
        periods = {t: read_period(t) for t in label.dropna().unique()}
        base["_row_period"] = label.map(periods)
    title = region.title
    constants = {
        "province_code": spec.fixed.get("province_code") or title_province(title) or default_province,
        "source": spec.fixed.get("source") or spec.id.split("/")[0],
        "table_id": table_id(spec, region),
        "_title_status": read_status(fold(title)),
        "_title_year": int(m.group(1)) if (m := _YEAR.search(title)) else None,
    }
    constants.update({k: v for k, v in spec.fixed.items() if k not in constants})
    return base.assign(**{k: v for k, v in constants.items()})


def title_province(title: str) -> str | None:
    """The province a title names ('UBND TỈNH PHÚ THỌ' -> '25'), longest name first."""
    catalog = load_catalog("provinces")
    folded = f" {fold(title)} "
    best: tuple[int, str] | None = None
    for alias, code in catalog.index.items():
        if len(alias) > 2 and f" {alias} " in folded and (best is None or len(alias) > best[0]):
            best = (len(alias), code)
    return best[1] if best else None


def _column_frame(
    spec: LayoutSpec, region: Region, col: int, figures: tuple, base: pd.DataFrame, problems: list[Problem]
) -> pd.DataFrame:
    """The observations of one figure column: its values joined with what its header says."""
    values, missing, errors, percent = figures
    header = region.headers[col]
    present = values.loc[base.index].notna() | (missing.loc[base.index].fillna("blank") != "blank") \
        | errors.loc[base.index].notna()
    frame = base[present.to_numpy()].copy()
    if frame.empty:
        return frame
    letter = col_letter(col)
    for idx in frame.index[errors.loc[frame.index].notna().to_numpy()]:
        problems.append(problem("number", sheet=region.sheet.name, cell=f"{letter}{idx + 1}",
                                column=header.text or letter, value=str(region.sheet.value(idx, col))))
    frame = frame[errors.loc[frame.index].isna().to_numpy()]
    frame["value"] = values.loc[frame.index]
    frame["missing_reason"] = missing.loc[frame.index].where(frame["value"].isna())
    frame["_source_sheet"] = region.sheet.name
    frame["_source_cell"] = letter + frame["_source_row"].astype(str)
    _assign_header(spec, region, header, frame)
    if spec.rows.footnote_units and region.unit_cell is not None:
        _footnote_units(frame, header)
    return frame


def _assign_header(spec: LayoutSpec, region: Region, header: Header, frame: pd.DataFrame) -> None:
    """Period, status, base, measure, unit and indicator of one column, falling back to row, title, defaults."""
    period = header.period
    if "_row_period" in frame.columns and period is None:
        row_period = frame["_row_period"]
        frame["period"] = row_period.map(lambda p: p.code if p else None)
        frame["reference_year"] = row_period.map(lambda p: p.year if p else np.nan)
        frame["period_label"] = row_period.map(lambda p: p.label if p else None)
    else:
        frame["period"] = period.code if period else spec.defaults.get("period", "Y")
        year = period.year if period else (frame["_title_year"].iloc[0] or spec.defaults.get("reference_year"))
        frame["reference_year"] = float(year) if year else np.nan
        frame["period_label"] = period.label if period else None
    status = header.status or frame["_title_status"].iloc[0] or spec.defaults.get("status", "final")
    frame["status"] = status
    frame["base"] = header.base
    frame["measure"] = header.measure or spec.defaults.get("measure")
    frame["column_label"] = header.label or None
    unit = _column_units(region, header, region.title, spec)
    frame["unit_label"] = frame["unit_label"].fillna(unit) if "unit_label" in frame else unit
    frame["_header_unit"] = unit
    indicator = spec.fixed.get("indicator_label")
    if indicator is None:
        indicator = header.label if spec.defaults.get("indicator") == "column" else indicator_from_title(spec,
                                                                                                        region)
    frame["indicator_label"] = indicator or header.label
    frame["indicator_code"] = spec.fixed.get("indicator_code") or slug(indicator or header.label)


def _footnote_units(frame: pd.DataFrame, header: Header) -> None:
    """Rows whose footnote lists units ('(*) Chiếc, triệu USD') take those units instead of the unit cell's."""
    notes = frame["notes"].dropna()
    for idx, note in notes.items():
        parts = [p.strip() for p in re.split(r"[,;]", re.sub(r"^\([^)]*\)\s*", "", note)) if p.strip()]
        if len(parts) == 2 and header.measure in ("quantity", "value") and not header.base:
            frame.at[idx, "unit_label"] = parts[0] if header.measure == "quantity" else parts[1]


def _year_problems(frame: pd.DataFrame, region: Region) -> list[Problem]:
    if frame.empty or frame["reference_year"].notna().all():
        return []
    return [problem(
        "table", sheet=region.sheet.name, cell=f"A{region.header_top + 1}", column="reference_year",
        detail="no year for some columns of this table: write the year in the header or the title,"
               " or set [defaults] reference_year in the layout spec",
        detail_vi="không xác định được năm của một số cột: ghi năm ở tiêu đề cột hoặc tên biểu,"
                  " hoặc khai báo [defaults] reference_year trong mẫu biểu",
    )]


def finish_units(frame: pd.DataFrame, spec: LayoutSpec) -> pd.DataFrame:
    """Written unit -> base unit and multiplier ('Nghìn tấn' -> 'tấn' × 1000); the spec may rename the base."""
    labels = frame["unit_label"].dropna().unique() if "unit_label" in frame else []
    split = {u: split_multiplier(u) for u in labels}
    base = {u: spec.units.get(u) or spec.units.get(b) or b for u, (b, _) in split.items()}
    return frame.assign(
        unit_base=frame["unit_label"].map(base),
        unit_multiplier=frame["unit_label"].map({u: m for u, (_, m) in split.items()}).fillna(1.0),
    )
