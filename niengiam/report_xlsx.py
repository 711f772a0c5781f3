"""Excel workbooks with xlsxwriter: one formatted sheet per table, and a notes sheet. Pure (no DuckDB).

Numbers are written as numbers with an Excel number format ('#,##0.0'), so Excel shows them with the
reader's own separators (28.029,5 in a Vietnamese locale). Text is always written as text: a cell
starting with '=' never becomes a formula.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from niengiam.labels import label, text
from niengiam.report_model import Column, Report, Table, cell_text

WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,
}
NUMBER_FORMATS = {
    "number": "#,##0.0",
    "percent": "0.0",
    "integer": "#,##0",
    "year": "0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
MAX_WIDTH = 60


class _Formats:
    """The cell formats of one workbook."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.title = book.add_format({"bold": True, "font_size": 13})
        self.muted = book.add_format({"italic": True, "font_color": "#5b6775"})
        self.header = book.add_format({"bold": True, "bg_color": "#eef2f6", "border": 1, "text_wrap": True,
                                       "valign": "top"})
        self.text = book.add_format({"valign": "top", "text_wrap": False})
        self.wrap = book.add_format({"valign": "top", "text_wrap": True})
        self.numbers = {kind: book.add_format({"num_format": fmt}) for kind, fmt in NUMBER_FORMATS.items()}
        self.not_final = {kind: book.add_format({"num_format": fmt, "italic": True, "font_color": "#a3361c"})
                          for kind, fmt in NUMBER_FORMATS.items()}


def sheet_name(title: str, taken: set[str]) -> str:
    """An Excel-legal, unique sheet name (at most 31 characters, no []:*?/\\)."""
    base = _BAD_SHEET_CHARS.sub(" ", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def _sheet_title(table: Table, lang: str) -> str:
    key = f"sheet_{table.key}"
    short = text(key, lang)
    return table.title if short == key else short


def _excel_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple, dict, set)):
        return str(value)
    return value


def _write_cell(ws: Any, row: int, col: int, column: Column, value: Any, fmt: _Formats, lang: str,
                final: bool) -> None:
    value = _excel_value(value)
    if value is None:
        ws.write_blank(row, col, None)
    elif column.kind == "status":
        ws.write_string(row, col, label("status", value, lang))
    elif column.kind in NUMBER_FORMATS and isinstance(value, (int, float)) and not isinstance(value, bool):
        ws.write_number(row, col, value, (fmt.numbers if final else fmt.not_final)[column.kind])
    elif column.kind in ("date", "datetime") and isinstance(value, (date, datetime)):
        ws.write_datetime(row, col, value, fmt.numbers[column.kind])
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value)
    else:
        ws.write_string(row, col, str(value), fmt.text)


def _widths(table: Table, lang: str) -> list[int]:
    widths = []
    for column in table.columns:
        cells = [len(cell_text(column, row.get(column.key), lang)) for row in table.rows[:500]]
        widths.append(min(max([len(column.title) * 0.8, *cells, 6]) + 2, MAX_WIDTH))
    return [int(w) for w in widths]


def write_table_sheet(book: xlsxwriter.Workbook, fmt: _Formats, table: Table, name: str, lang: str) -> None:
    """One table on its own sheet: title, unit, bold header frozen under the title, widths to fit."""
    ws = book.add_worksheet(name)
    ws.write_string(0, 0, table.title, fmt.title)
    first = 2
    if table.unit:
        ws.write_string(1, 0, text("unit_line", lang, unit=table.unit), fmt.muted)
    for col, column in enumerate(table.columns):
        ws.write_string(first, col, column.title, fmt.header)
    has_status = any(c.kind == "status" for c in table.columns)
    for r, row in enumerate(table.rows, start=first + 1):
        final = not has_status or row.get("status") in (None, "final")
        for col, column in enumerate(table.columns):
            _write_cell(ws, r, col, column, row.get(column.key), fmt, lang, final)
    for col, width in enumerate(_widths(table, lang)):
        ws.set_column(col, col, width)
    ws.freeze_panes(first + 1, 0)
    if table.rows:
        ws.autofilter(first, 0, first + len(table.rows), len(table.columns) - 1)
    for n, note in enumerate(table.notes, start=first + len(table.rows) + 2):
        ws.write_string(n, 0, note, fmt.muted)


def write_tables(path: Path, tables: list[Table], lang: str = "vi") -> Path:
    """A workbook with one sheet per table (used for query results)."""
    book = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    fmt, taken = _Formats(book), set[str]()
    for table in tables:
        write_table_sheet(book, fmt, table, sheet_name(_sheet_title(table, lang), taken), lang)
    book.close()
    return path


def _write_notes(book: xlsxwriter.Workbook, fmt: _Formats, report: Report, name: str) -> None:
    lang = report.lang
    ws = book.add_worksheet(name)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 110)
    ws.write_string(0, 0, report.title, fmt.title)
    ws.write_string(1, 0, report.subtitle, fmt.muted)
    ws.write_string(2, 0, text("generated", lang, when=report.generated_at), fmt.muted)
    header = 4
    ws.write_string(header, 0, label("column", "item", lang), fmt.header)
    ws.write_string(header, 1, label("column", "note", lang), fmt.header)
    ws.freeze_panes(header + 1, 0)
    entries = [(text("notes_report", lang), n) for n in report.notes]
    entries += [(text("notes_sources", lang), f"{s['source_file']} — {label('column', 'dataset', lang)}: "
                 f"{s['dataset']}, {s['reference_years']}; load {s['load_id']}, {s['loaded_at']}; "
                 f"SHA-256 {s['source_sha256']}…") for s in report.sources.rows]
    entries += [(text("notes_revisions", lang), _revision_line(r, report)) for r in report.revisions.rows]
    for row, (item, note) in enumerate(entries, start=header + 1):
        ws.write_string(row, 0, item, fmt.text)
        ws.write_string(row, 1, note, fmt.wrap)


def _revision_line(row: dict[str, Any], report: Report) -> str:
    columns = {c.key: c for c in report.revisions.columns}
    lang = report.lang
    first = cell_text(columns["first_value"], row["first_value"], lang)
    current = cell_text(columns["current_value"], row["current_value"], lang)
    return (f"{row['dataset']} {row['reference_year']} {row['figure']}: {first} "
            f"({label('status', row['first_status'], lang)}) → {current} "
            f"({label('status', row['current_status'], lang)})")


def write_report_workbook(path: Path, report: Report) -> Path:
    """The report as a workbook: one sheet per table, then sources, revisions and a notes sheet."""
    book = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    fmt, taken = _Formats(book), set[str]()
    tables = [t for s in report.sections for t in s.tables] + [report.sources, report.revisions]
    for table in tables:
        write_table_sheet(book, fmt, table, sheet_name(_sheet_title(table, report.lang), taken), report.lang)
    _write_notes(book, fmt, report, sheet_name(text("sheet_notes", report.lang), taken))
    book.close()
    return path
