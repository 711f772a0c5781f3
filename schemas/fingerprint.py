"""The layout a spec expects, recorded as a fingerprint of its header, and the refusal of a file that deviates.

A fingerprint is the list of figure-column headers in order, folded and with the numbers that change from
one edition to the next (years, months) replaced by placeholders, plus the number of label columns. A table
whose header differs is refused before anything is loaded, with a diff: expected, found, nearest match.
"""

from __future__ import annotations

import difflib
import re

from schemas.errors import UnknownLayoutError
from schemas.layout import Region
from schemas.specs import Fingerprint, LayoutSpec
from schemas.text import col_letter, fold

_FISCAL = re.compile(r"\b(?:19|20)\d\d (?:\d\d|(?:19|20)\d\d)\b")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_NUMBER = re.compile(r"\b\d+\b")


def normalise(text: str) -> str:
    """A header as the fingerprint keeps it: 'Tháng 12 năm 2024' -> 'thang {n} nam {year}'."""
    folded = _FISCAL.sub("{fy}", fold(text))
    folded = _YEAR.sub("{year}", folded)
    return _NUMBER.sub("{n}", folded)


def region_fingerprint(region: Region, sheet_pattern: str | None = None) -> Fingerprint:
    """The fingerprint of a table as found."""
    columns = tuple(normalise(region.headers[c].text) for c in region.figure_cols)
    return Fingerprint(sheet_pattern, columns, len(region.label_cols))


def _nearest(wanted: str, found: list[tuple[int, str]]) -> str:
    texts = [t for _, t in found]
    close = difflib.get_close_matches(wanted, texts, n=1, cutoff=0.4)
    if not close:
        return "no similar column"
    col = found[texts.index(close[0])][0]
    return f"nearest is column {col_letter(col)}: {close[0]!r}"


def _opcode_lines(expected: tuple[str, ...], found: list[tuple[int, str]], op: tuple) -> list[str]:
    """Lines for one difflib opcode: changed, missing and unexpected columns."""
    tag, a0, a1, b0, b1 = op
    pairs = min(a1 - a0, b1 - b0) if tag == "replace" else 0
    lines = [
        f"column {col_letter(found[b0 + k][0])}: expected {expected[a0 + k]!r}, found {found[b0 + k][1]!r}"
        for k in range(pairs)
    ]
    lines += [f"missing column {expected[i]!r} ({_nearest(expected[i], found)})" for i in range(a0 + pairs, a1)]
    lines += [f"unexpected column {col_letter(found[j][0])}: {found[j][1]!r}" for j in range(b0 + pairs, b1)]
    return lines


def diff_lines(expected: Fingerprint, region: Region) -> list[str]:
    """Readable differences between an expected and a found header, column by column."""
    found = [(c, normalise(region.headers[c].text)) for c in region.figure_cols]
    matcher = difflib.SequenceMatcher(a=list(expected.columns), b=[t for _, t in found], autojunk=False)
    lines = []
    for op in matcher.get_opcodes():
        if op[0] != "equal":
            lines += _opcode_lines(expected.columns, found, op)
    if expected.label_columns is not None and expected.label_columns != len(region.label_cols):
        letters = ", ".join(col_letter(c) for c in region.label_cols) or "none"
        lines.append(f"expected {expected.label_columns} label column(s), found {len(region.label_cols)} ({letters})")
    return lines


def check_fingerprint(spec: LayoutSpec, region: Region, file_name: str) -> None:
    """Refuse (UnknownLayoutError with a diff) a table whose header is not the one the spec recorded."""
    expected = spec.fingerprint_for(region.sheet.name)
    if expected is None:
        return
    lines = diff_lines(expected, region)
    if not lines:
        return
    first = region.figure_cols[0] if region.figure_cols else 0
    raise UnknownLayoutError(
        f"the table's header is not the layout that spec '{spec.id}' v{spec.version} expects"
        f" ({len(lines)} difference(s)); nothing was loaded",
        file=file_name,
        sheet=region.sheet.name,
        cell=f"{col_letter(first)}{region.header_top + 1}",
        hint="If the new layout is right, record it: 'niengiam inspect FILE --write-spec SHEET' prints the new"
        " fingerprint; review the spec, raise its version and put it in HOME/layouts.",
        details=lines,
    )
