"""Units of measure: what each unit is a multiple of, and figures brought into a dataset's canonical unit."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import pandas as pd

from schemas.catalogs import load_catalog
from schemas.datasets import Dataset


@dataclass(frozen=True)
class Unit:
    """One unit: the quantity it measures and its size in the base unit of that quantity."""

    code: str
    quantity: str
    factor: Fraction
    is_additive: bool


@cache
def units() -> dict[str, Unit]:
    """Every unit of schemas/catalogs/units.csv by code."""
    return {
        row["unit"]: Unit(row["unit"], row["quantity"], Fraction(row["factor"]), row["is_additive"] == "true")
        for row in load_catalog("units").rows
    }


def conversion_factor(source: str, target: str) -> Fraction | None:
    """How many `target` one `source` is (1 triệu đồng = 1/1000 tỷ đồng); None across quantities."""
    known = units()
    if source not in known or target not in known or known[source].quantity != known[target].quantity:
        return None
    return known[source].factor / known[target].factor


def convert(values: pd.Series, factor: Fraction) -> pd.Series:
    """Values times an exact factor, dividing by whole numbers so that 28.029.500 / 1.000 stays 28.029,5."""
    if factor.denominator == 1:
        return values * factor.numerator
    return values * factor.numerator / factor.denominator


def canonical_units(dataset: Dataset, frame: pd.DataFrame) -> pd.Series:
    """The unit each row's figure is stored in (NaN where the dataset or the row does not say)."""
    rule = dataset.units
    if rule is None:
        return pd.Series(pd.NA, index=frame.index, dtype=object)
    if rule.fixed is not None:
        return pd.Series(rule.fixed, index=frame.index, dtype=object)
    if rule.by is None or rule.by not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype=object)
    mapping = dict(rule.codes)
    if rule.catalog is not None:
        mapping |= {row[load_catalog(rule.catalog).code_column]: row["unit"] for row in load_catalog(rule.catalog).rows}
    return frame[rule.by].map(mapping).astype(object)


def to_canonical_units(dataset: Dataset, frame: pd.DataFrame) -> pd.DataFrame:
    """Figures converted into the dataset's canonical unit, the figure and unit as written kept beside them.

    Rows whose unit cannot be converted (another quantity, unknown) are left as written, so that the
    contract reports them against the unit they came with.
    """
    value = dataset.value_column
    if "unit" not in frame.columns or value not in frame.columns:
        return frame
    written_value = pd.to_numeric(frame[value], errors="coerce")
    written_unit = frame["unit"].astype(object)
    target = canonical_units(dataset, frame)
    converted = frame[value].copy()
    unit = written_unit.copy()
    pairs = pd.DataFrame({"source": written_unit, "target": target}).dropna().drop_duplicates()
    for source, wanted in pairs.itertuples(index=False):
        factor = conversion_factor(str(source), str(wanted))
        if factor is None or source == wanted:
            continue
        rows = (written_unit == source) & (target == wanted)
        converted = converted.mask(rows, convert(written_value[rows], factor))
        unit = unit.mask(rows, wanted)
    return frame.assign(
        **{value: converted, "unit": unit, "original_value": written_value, "original_unit": written_unit}
    )
