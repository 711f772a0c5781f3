"""An annotated copy of a rejected workbook: every sheet's values, bad cells highlighted, each carrying a
comment with the problem in Vietnamese and English, and a first sheet listing every problem.

The copy keeps values, merged ranges and hidden sheets (not formulas or formatting): it is meant to be
corrected and sent again under the same file name, which links the new load to the rejected one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import xlsxwriter

from schemas.grid import Sheet, Workbook
from schemas.text import parse_cell_ref

SUMMARY_SHEET = "niengiam - lỗi"
FILLS = {"error": "#FFC7CE", "warning": "#FFEB9C"}
FONTS = {"error": "#9C0006", "warning": "#9C5700"}
SUMMARY_HEADER = [
    "Mức độ / Severity",
    "Trang tính / Sheet",
    "Ô / Cell",
    "Nội dung (tiếng Việt)",
    "Problem (English)",
    "Quy tắc / Rule",
]
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_title(name: str, taken: Iterable[str] = ()) -> str:
    """A sheet name Excel accepts (≤ 31 characters, no []:*?/\\), unique among those taken."""
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'") or "Sheet"
    title, n = base[:31], 1
    while title.casefold() in {t.casefold() for t in taken}:
        n += 1
        title = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    return title


def comment_text(problems: list[dict[str, Any]]) -> str:
    """The comment on a bad cell: every problem at that cell, Vietnamese first, then English."""
    blocks = []
    for p in problems:
        label = "Lỗi" if p.get("severity", "error") == "error" else "Cảnh báo"
        blocks.append(f"{label}: {p.get('message_vi') or p['message']}\n{p['severity'].title()}: {p['message']}")
    return "\n\n".join(blocks)


def _by_cell(problems: list[dict[str, Any]], sheets: set[str]) -> dict[tuple[str, int, int], list[dict]]:
    located: dict[tuple[str, int, int], list[dict]] = defaultdict(list)
    for p in problems:
        if p.get("sheet") in sheets and p.get("cell"):
            try:
                row, col = parse_cell_ref(str(p["cell"]))
            except ValueError:
                continue
            located[(p["sheet"], row, col)].append(p)
    return located


def _write_value(ws: Any, row: int, col: int, value: object, fmt: Any) -> None:
    if isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        ws.write_datetime(row, col, value, fmt)
    elif value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _copy_sheet(wb: Any, sheet: Sheet, title: str, located: dict, formats: dict[str, Any]) -> None:
    ws = wb.add_worksheet(title)
    marks = {(r, c): ps for (name, r, c), ps in located.items() if name == sheet.name}
    for r, cells in enumerate(sheet.rows):
        for c, value in enumerate(cells):
            if (r, c) not in marks and value not in (None, ""):
                _write_value(ws, r, c, value, formats["date"] if isinstance(value, (dt.date, dt.time)) else None)
    for r0, c0, r1, c1 in sheet.merges:
        if (r0, c0) != (r1, c1) and not any(r0 <= r <= r1 and c0 <= c <= c1 for r, c in marks):
            ws.merge_range(r0, c0, r1, c1, "", None)
            _write_value(ws, r0, c0, sheet.value(r0, c0), None)
    for (r, c), ps in marks.items():
        worst = "error" if any(p.get("severity", "error") == "error" for p in ps) else "warning"
        _write_value(ws, r, c, sheet.value(r, c), formats[worst])
        ws.write_comment(r, c, comment_text(ps), {"x_scale": 3, "y_scale": 2.5, "author": "niengiam"})
    ws.set_column(0, max((len(r) for r in sheet.rows), default=1), 16)
    if sheet.hidden:
        ws.hide()


def _write_summary(wb: Any, problems: list[dict], titles: dict[str, str], source: str, formats: dict) -> None:
    ws = wb.add_worksheet(SUMMARY_SHEET)
    ws.write_string(0, 0, f"Các lỗi niengiam tìm thấy trong tệp {source} / Problems niengiam found in {source}",
                    formats["bold"])
    ws.write_string(1, 0, "Sửa các ô được tô màu (xem chú thích ở từng ô), rồi gửi lại tệp với cùng tên. "
                    "Fix the highlighted cells (see each cell's comment) and send the file again under the same name.")
    for col, text in enumerate(SUMMARY_HEADER):
        ws.write_string(3, col, text, formats["bold"])
    for i, p in enumerate(problems, start=4):
        severity = p.get("severity", "error")
        ws.write_string(i, 0, "Lỗi / Error" if severity == "error" else "Cảnh báo / Warning", formats[severity])
        sheet, cell = p.get("sheet") or "", p.get("cell") or ""
        ws.write_string(i, 1, sheet)
        if sheet in titles and cell:
            ws.write_url(i, 2, f"internal:'{titles[sheet]}'!{cell}", string=cell)
        else:
            ws.write_string(i, 2, cell)
        ws.write_string(i, 3, p.get("message_vi") or "")
        ws.write_string(i, 4, p.get("message") or "")
        ws.write_string(i, 5, p.get("rule") or "")
    ws.set_column(0, 2, 14)
    ws.set_column(3, 4, 70, formats["wrap"])
    ws.set_column(5, 5, 20)
    ws.activate()


def write_annotated(book: Workbook, problems: list[dict[str, Any]], path: Path) -> Path:
    """Write the annotated copy of a workbook to `path` (.xlsx); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    formats = {
        "bold": wb.add_format({"bold": True}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        **{k: wb.add_format({"bg_color": FILLS[k], "font_color": FONTS[k], "bold": True}) for k in FILLS},
    }
    titles: dict[str, str] = {}
    for sheet in book.sheets:
        titles[sheet.name] = sheet_title(sheet.name, [SUMMARY_SHEET, *titles.values()])
    _write_summary(wb, problems, titles, book.file_name, formats)
    located = _by_cell(problems, set(titles))
    for sheet in book.sheets:
        _copy_sheet(wb, sheet, titles[sheet.name], located, formats)
    wb.close()
    return path
