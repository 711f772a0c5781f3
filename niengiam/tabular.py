"""Tables as plain columns and rows: CSV that spreadsheet programs cannot mistake for formulas. Pure."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import IO

# a text cell starting with one of these is a formula to Excel and LibreOffice (CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(handle: IO[str], columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write a header and rows as CSV with formula-safe text; returns the number of rows."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow([formula_safe(c) for c in columns])
    count = 0
    for row in rows:
        writer.writerow(["" if v is None else formula_safe(v) for v in row])
        count += 1
    return count
