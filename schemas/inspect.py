"""What a workbook holds, for people writing a layout spec: sheets, tables, header bands, first rows.

Also writes a starting spec (format 2, dataset 'indicators') for one sheet, with the fingerprint of the
header as found, so that a new source takes minutes and no Python. Pure: no Prefect, no DuckDB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from schemas.fingerprint import region_fingerprint
from schemas.grid import Sheet, Workbook
from schemas.layout import Region, cell_text, find_region
from schemas.text import cell_ref, col_letter, fold


@dataclass
class SheetReport:
    """One sheet as inspect shows it."""

    name: str
    hidden: bool
    height: int
    width: int
    region: Region | None
    first_rows: list[tuple[int, list[str]]] = field(default_factory=list)


def describe_sheet(sheet: Sheet, rows: int = 5) -> SheetReport:
    """The table found in a sheet (if any) and its first data rows, as text."""
    width = max((len(r) for r in sheet.rows), default=0)
    region = find_region(sheet)
    report = SheetReport(sheet.name, sheet.hidden, sheet.height, width, region)
    if region is not None:
        cols = region.label_cols + region.figure_cols
        for row in range(region.data_start, sheet.height):
            cells = [cell_text(sheet.value(row, c)) for c in cols]
            if any(cells):
                report.first_rows.append((row, cells))
            if len(report.first_rows) >= rows:
                break
    return report


def describe(book: Workbook, rows: int = 5, only: str | None = None) -> list[SheetReport]:
    """Every sheet of a workbook (or the one named), described."""
    return [describe_sheet(s, rows) for s in book.sheets if only is None or s.name == only]


def format_report(book: Workbook, reports: list[SheetReport]) -> str:
    """The inspect report as lines of text."""
    lines = [f"{book.file_name} ({book.format}, {len(book.sheets)} sheet(s))"]
    for report in reports:
        flag = "  [hidden]" if report.hidden else ""
        lines.append("")
        lines.append(f"sheet '{report.name}'{flag}: {report.height} rows × {report.width} columns")
        region = report.region
        if region is None:
            lines.append("  no table of figures found")
            continue
        lines += _region_lines(region)
        for row, cells in report.first_rows:
            lines.append(f"    row {row + 1}: " + " | ".join(c or "·" for c in cells))
    return "\n".join(lines) + "\n"


def _region_lines(region: Region) -> list[str]:
    lines = [f"  title: {region.title or '(none)'}"]
    if region.unit_cell:
        row, col, text = region.unit_cell
        lines.append(f"  unit cell {cell_ref(row, col)}: {text}")
    band = f"rows {region.header_top + 1}–{region.header_bottom + 1}" if region.header_height > 0 else "none"
    labels = ", ".join(col_letter(c) for c in region.label_cols) or "none"
    lines.append(f"  header band: {band}; labels in column(s) {labels}; data from row {region.data_start + 1}")
    for col in region.figure_cols:
        header = region.headers[col]
        facts = [f"period {header.period.code} {header.period.year}" if header.period else "",
                 f"status {header.status}" if header.status else "", f"base {header.base}" if header.base else "",
                 f"measure {header.measure}" if header.measure else "", f"unit {header.unit}" if header.unit else ""]
        said = "; ".join(f for f in facts if f)
        lines.append(f"    column {col_letter(col)}: {header.text!r}" + (f"  → {said}" if said else ""))
    lines.append("  first data rows:")
    return lines


def _toml_string(text: str) -> str:
    """A TOML literal string when possible (no escapes needed), else a basic one."""
    if "'" not in text and "\n" not in text:
        return f"'{text}'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-") or "table"


def starting_spec(book: Workbook, sheet_name: str) -> str:
    """A format-2 layout spec (TOML) for one sheet, to review and complete: where, what, and its fingerprint."""
    sheet = next((s for s in book.sheets if s.name == sheet_name), None)
    if sheet is None:
        raise KeyError(sheet_name)
    region = find_region(sheet)
    if region is None:
        raise ValueError(f"sheet '{sheet_name}' has no table of figures")
    title = region.title_lines[-1] if region.title_lines else sheet_name
    print_ = region_fingerprint(region)
    label_is = "period" if _labels_are_periods(region) else "dimension"
    keywords = " ".join(fold(title).split()[:6])
    columns = "\n".join(f"    {_toml_string(c)},  # column {col_letter(col)}"
                        for c, col in zip(print_.columns, region.figure_cols))
    return f"""# Starting spec written by 'niengiam inspect {book.file_name} --write-spec {sheet_name}'.
# Review every line: the dataset, the area (province_code), the source, and the row codes if any.
id = "local/{_slug(sheet_name)}"
version = 1
format = 2
dataset = "indicators"
description = {_toml_string(title)}

[sheet]
name_pattern = {_toml_string("^" + re.escape(sheet_name) + "$")}
title_contains = [{_toml_string(keywords)}]
# header_rows = [{region.header_top + 1}, {region.header_bottom + 1}]  # found by shape; uncomment to fix them

[fixed]
province_code = "25"  # the area: a province code (25 = Phú Thọ), VN for the country, or an ISO code abroad
source = {_toml_string(book.file_name)}

[defaults]
status = "final"  # used when neither the header nor the title says (Sơ bộ, Ước tính, Chính thức)

[rows]
hierarchy = "column"  # "column": a label further right is a child; "indent": leading spaces; "none"
label_is = "{label_is}"  # "period" when years run down the rows

# [row_codes]  # optional: codes for row labels, e.g. TOTAL = ["Tổng số"]

[[fingerprint]]
sheet = {_toml_string("^" + re.escape(sheet_name) + "$")}
label_columns = {print_.label_columns}
columns = [
{columns}
]
"""


def _labels_are_periods(region: Region) -> bool:
    from schemas.headers import read_period

    sheet = region.sheet
    labels = [cell_text(sheet.value(r, region.label_cols[0])) for r in range(region.data_start, sheet.height)
              if region.label_cols and cell_text(sheet.value(r, region.label_cols[0]))]
    periods = [label for label in labels[:40] if read_period(label) is not None]
    return bool(labels) and len(periods) * 2 > len(labels[:40])
