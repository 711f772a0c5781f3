"""Provinces over time: which province a code means in a given year, and the merger of 1 July 2025.

GSO codes are reused: after Resolution 202/2025/QH15 each new province took the code of one of its
predecessors (Decision 19/2025/QĐ-TTg), so code 15 is Yên Bái until 2025-06-30 and the new Lào Cai
from 2025-07-01. A yearly figure is placed on the boundaries in force at the end of its year.
Labels in files are read with the pre-2025 catalogue (provinces.csv); `place_on_map` moves a figure of
2025 or later to the new province that kept its name, and refuses one of a province that merged away.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import pandas as pd

from schemas.catalogs import load_catalog
from schemas.problems import Problem
from schemas.text import fold

MERGER_DATE = dt.date(2025, 7, 1)
LEGAL_BASIS = "Resolution 202/2025/QH15"
LEGAL_BASIS_VI = "Nghị quyết 202/2025/QH15"


@dataclass(frozen=True)
class Province:
    """One province as it existed between two dates (open-ended when a date is missing)."""

    code: str
    name_vi: str
    name_en: str
    valid_from: dt.date | None
    valid_to: dt.date | None

    def in_force(self, day: dt.date) -> bool:
        """Whether the province existed, with these boundaries, on that day."""
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _provinces(catalog: str) -> tuple[Province, ...]:
    return tuple(
        Province(r["province_code"], r["name_vi"], r["name_en"], _date(r.get("valid_from")), _date(r.get("valid_to")))
        for r in load_catalog(catalog).rows
    )


@cache
def provinces() -> tuple[Province, ...]:
    """Every province of the catalogue: the map before 2025-07-01 and the provinces formed then."""
    return _provinces("provinces") + _provinces("provinces_2025")


@cache
def successors() -> dict[str, Province]:
    """Pre-merger province code -> the province it became part of on 2025-07-01."""
    new = {p.code: p for p in _provinces("provinces_2025")}
    return {row["predecessor_code"]: new[row["successor_code"]] for row in load_catalog("province_crosswalk").rows}


def boundary_date(year: int) -> dt.date:
    """The day whose boundaries a yearly figure is reported on: the last day of the year."""
    return dt.date(int(year), 12, 31)


def province_in_force(code: str, year: int) -> Province | None:
    """The province a code means for a reference year, or None when no province had that code then."""
    day = boundary_date(year)
    return next((p for p in provinces() if p.code == code and p.in_force(day)), None)


def _pre_merger(code: str) -> Province | None:
    return next((p for p in _provinces("provinces") if p.code == code), None)


def new_code(code: str) -> str | None:
    """The code a pre-2025 province's figures carry from 2025 on: its own, its renamed successor's, or None.

    None means the province merged into a neighbour under that neighbour's name (Vĩnh Phúc into Phú Thọ):
    it has no figures of its own after the merger.
    """
    old = _pre_merger(code)
    if old is None or old.valid_to is None:
        return code
    successor = successors().get(code)
    if successor is not None and fold(successor.name_vi) == fold(old.name_vi):
        return successor.code
    return None


def predecessors(code: str) -> list[str]:
    """Codes of the provinces that formed a province on 2025-07-01 (empty when it was not formed then)."""
    return list(_formed_from().get(code, ()))


@cache
def _formed_from() -> dict[str, tuple[str, ...]]:
    formed: dict[str, list[str]] = {}
    for pred, succ in successors().items():
        formed.setdefault(succ.code, []).append(pred)
    return {code: tuple(sorted(preds)) for code, preds in formed.items()}


def last_year_before_merger() -> int:
    """The last reference year reported on the pre-merger map (2024)."""
    return MERGER_DATE.year - 1


def carry_over_merger(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Figures of the last pre-merger year summed into the province each became part of, so that they
    compare with the next year's figures on the same boundaries. A merged province is given only when
    every predecessor is present; other rows are returned as they are.
    """
    if frame.empty:
        return frame
    crossing = pd.to_numeric(frame["reference_year"], errors="coerce") == last_year_before_merger()
    moving = frame[crossing & frame["province_code"].isin(list(successors()))]
    if moving.empty:
        return frame
    moved = moving.assign(province_code=moving["province_code"].map({c: s.code for c, s in successors().items()}))
    grouped = moved.groupby([*keys, "reference_year"], dropna=False, as_index=False)
    summed = grouped.agg(value=("value", "sum"), reported=("value", "size"))
    complete = summed["reported"] == summed["province_code"].map(lambda c: len(predecessors(c)))
    extra = [c for c in frame.columns if c not in summed.columns]
    summed = summed[complete].drop(columns="reported").assign(**{c: None for c in extra})
    return pd.concat([frame[~frame.index.isin(moving.index)], summed[frame.columns]], ignore_index=True)


def place_on_map(frame: pd.DataFrame, year_column: str = "reference_year") -> tuple[pd.DataFrame, list[Problem]]:
    """Province codes of figures for 2025 on moved to the merged map; problems for provinces merged away.

    `year_column` names the year whose boundaries apply (a plan's targets belong to the province that
    set them, in the plan's first year).
    """
    if frame.empty or not {"province_code", year_column} <= set(frame.columns):
        return frame, []
    years = pd.to_numeric(frame[year_column], errors="coerce")
    after = years.notna() & (years >= MERGER_DATE.year) & frame["province_code"].notna()
    if not after.any():
        return frame, []
    codes = frame["province_code"].astype(object)
    moved = {code: new_code(str(code)) for code in codes[after].unique()}
    renamed = {old: new for old, new in moved.items() if new and new != old}
    placed = codes
    if renamed:  # only the rows that move are touched: a million-row column is not replaced wholesale
        hit = after & codes.isin(list(renamed))
        placed = codes.copy()
        placed[hit] = codes[hit].map(renamed)
    problems = [
        _merged_away(frame, str(code), after, year_column) for code, target in moved.items() if target is None
    ]
    return frame.assign(province_code=placed), problems


def _merged_away(frame: pd.DataFrame, code: str, after: pd.Series, year_column: str) -> Problem:
    rows = frame[after & (frame["province_code"] == code)]
    first = rows.iloc[0]
    old, successor = _pre_merger(code), successors()[code]
    name = old.name_vi if old else code
    year = int(pd.to_numeric(rows[year_column]).min())
    cell = first.get("_cell_province_code")
    return Problem(
        rule="province_in_force",
        message=(
            f"{name} ({code}) became part of {successor.name_vi} on {MERGER_DATE:%d %B %Y} ({LEGAL_BASIS});"
            f" it has no figures of its own for {year}: report them within {successor.name_vi}"
        ),
        message_vi=(
            f"{name} ({code}) đã hợp nhất vào tỉnh {successor.name_vi} từ ngày {MERGER_DATE:%d/%m/%Y}"
            f" ({LEGAL_BASIS_VI}); không còn số liệu riêng cho năm {year}: hãy báo cáo trong số liệu của"
            f" {successor.name_vi}"
        ),
        sheet=first.get("_source_sheet"),
        cell=cell if isinstance(cell, str) else first.get("_source_cell"),
        column="province_code",
        value=name,
    )
