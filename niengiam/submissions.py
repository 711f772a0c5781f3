"""The submission matrix: which dataset × province × year is final, estimated, rejected or missing. Pure.

Expected = every dataset for every year of the range (default: the years present) and every province
present. A cell is an alert when it is missing, or when its latest load was rejected or failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from niengiam.labels import label

ALERT_STATES = frozenset({"missing", "rejected", "failed"})
# what a provincial department sends every year; any other dataset the warehouse holds is expected too
YEARLY_DATASETS = ("industrial_output", "trade", "awards")


@dataclass
class MatrixRow:
    """One dataset (× province): a cell per year and the latest load time."""

    dataset: str
    province_code: str | None
    cells: dict[int, dict[str, Any]]

    @property
    def last_load_at(self) -> str:
        """The latest load time over the row's cells."""
        return max((c.get("last_load_at") or "" for c in self.cells.values()), default="")


@dataclass
class Matrix:
    """Datasets × years, with the alerts that make the command exit non-zero."""

    years: list[int]
    rows: list[MatrixRow]
    alerts: list[str] = field(default_factory=list)

    @property
    def several_provinces(self) -> bool:
        """True when rows must name their province."""
        return len({r.province_code for r in self.rows}) > 1


def _missing(dataset: str, province: str | None, year: int) -> dict[str, Any]:
    return {"dataset": dataset, "province_code": province, "reference_year": year, "state": "missing",
            "figures_status": None, "figures": 0, "attempts": 0, "last_load_id": None,
            "last_load_status": None, "last_file_name": None, "last_error": None, "last_load_at": None}


def year_range(cells: list[dict[str, Any]], first: int | None, last: int | None) -> list[int]:
    """The years to show: the given range, completed by the years present."""
    present = [c["reference_year"] for c in cells]
    low = first if first is not None else min(present, default=last)
    high = last if last is not None else max(present, default=first)
    if low is None or high is None:
        return []
    return list(range(low, high + 1))


def build_matrix(cells: list[dict[str, Any]], first: int | None = None, last: int | None = None,
                 datasets: list[str] | None = None) -> Matrix:
    """Lay the known cells out over every expected dataset, province and year."""
    years = year_range(cells, first, last)
    expected = datasets or list(YEARLY_DATASETS)
    names = expected + sorted({c["dataset"] for c in cells} - set(expected)) if not datasets else expected
    provinces = sorted({c["province_code"] for c in cells if c["province_code"]}) or [None]
    known = {(c["dataset"], c["province_code"], c["reference_year"]): c for c in cells}
    rows = [MatrixRow(d, p, {y: known.get((d, p, y)) or _missing(d, p, y) for y in years})
            for d in names for p in provinces]
    alerts = [_alert(cell) for row in rows for cell in row.cells.values() if cell["state"] in ALERT_STATES]
    return Matrix(years, rows, alerts)


def _alert(cell: dict[str, Any]) -> str:
    where = f"{cell['dataset']} {cell['reference_year']}"
    if cell["province_code"]:
        where += f" (province {cell['province_code']})"
    if cell["state"] == "missing":
        return f"{where}: missing — no file loaded"
    error = f" — {cell['last_error']}" if cell.get("last_error") else ""
    return f"{where}: {cell['state']} (load {cell['last_load_id']}, {cell['last_file_name']}){error}"


def matrix_table(matrix: Matrix, lang: str) -> tuple[list[str], list[tuple]]:
    """The matrix as columns and rows for the terminal: state names per year, then the last load time."""
    head = [label("column", "dataset", lang)]
    if matrix.several_provinces:
        head.append(label("column", "province", lang))
    columns = head + [str(y) for y in matrix.years] + [label("column", "last_load_at", lang)]
    rows = []
    for row in matrix.rows:
        names = [label("dataset", row.dataset, lang)]
        if matrix.several_provinces:
            names.append(label("province", row.province_code, lang))
        states = [label("state", row.cells[y]["state"], lang) for y in matrix.years]
        rows.append(tuple(names + states + [row.last_load_at]))
    return columns, rows


LONG_COLUMNS = ["dataset", "province_code", "reference_year", "state", "figures_status", "figures",
                "attempts", "last_load_id", "last_load_status", "last_file_name", "last_error", "last_load_at"]


def matrix_long(matrix: Matrix) -> tuple[list[str], list[tuple]]:
    """One row per cell (for CSV and JSON)."""
    return LONG_COLUMNS, [tuple(cell.get(c) for c in LONG_COLUMNS)
                          for row in matrix.rows for cell in row.cells.values()]
