"""The datasets niengiam loads: their grain, value column, fact table and total/part hierarchies."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

LINEAGE_COLUMNS = ["_source_sheet", "_source_cell"]
CELL_PREFIX = "_cell_"  # a field's own cell per row (`_cell_<field>`): names a problem's cell, until validated
ORIGINAL_COLUMNS = ["original_value", "original_unit"]
YEAR_DIMENSIONS = ("base_year", "plan_start_year")
FLOW_UNITS = {"export": "mn_usd", "import": "mn_usd", "retail": "bn_vnd"}


@dataclass(frozen=True)
class Hierarchy:
    """A total and its parts along one dimension, with the other dimensions held equal."""

    dimension: str
    total: str
    parts: frozenset[str] | None = None
    residuals: frozenset[str] = frozenset()
    where: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitRule:
    """The canonical unit of a dataset's figures: fixed, or decided by the code of one dimension."""

    fixed: str | None = None
    by: str | None = None
    codes: tuple[tuple[str, str], ...] = ()
    catalog: str | None = None


@dataclass(frozen=True)
class ShareRule:
    """Percentage shares along one dimension that add up to 100 (and a total row, when given, is 100)."""

    dimension: str
    total: str | None = "TOTAL"
    where: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexRule:
    """Rows coded `index_code` state an index (previous year = 100) of the rows coded `value_code`."""

    dimension: str
    index_code: str
    value_code: str


@dataclass(frozen=True)
class Dataset:
    """One dataset: what a row means (its grain), where it is stored, and how it adds up."""

    name: str
    table: str
    dimensions: tuple[str, ...]
    value_column: str
    label_vi: str
    label_en: str
    integral: bool = False
    hierarchies: tuple[Hierarchy, ...] = ()
    units: UnitRule | None = None
    shares: tuple[ShareRule, ...] = ()
    indices: tuple[IndexRule, ...] = ()
    plausibility: bool = False
    boundary_year: str = "reference_year"

    @property
    def grain(self) -> list[str]:
        """Columns that identify one figure."""
        return ["province_code", "reference_year", *self.dimensions]

    @property
    def columns(self) -> list[str]:
        """Columns of the tidy frame handed to the contract and the warehouse."""
        extra = [] if "unit" in self.dimensions else ["unit"]
        return [*self.grain, self.value_column, *extra, "status", *ORIGINAL_COLUMNS, *LINEAGE_COLUMNS]


DATASETS: dict[str, Dataset] = {
    "industrial_output": Dataset(
        name="industrial_output",
        table="core.fct_industrial_output",
        dimensions=("industry_code", "ownership_code", "price_basis", "base_year"),
        value_column="value_bn_vnd",
        label_vi="Giá trị sản xuất công nghiệp",
        label_en="Industrial output",
        units=UnitRule(fixed="bn_vnd"),
        plausibility=True,
        hierarchies=(
            Hierarchy("industry_code", "TOTAL", frozenset("BCDE"), where={"ownership_code": "TOTAL"}),
            Hierarchy(
                "ownership_code",
                "TOTAL",
                frozenset({"STATE", "NON_STATE", "FDI"}),
                where={"industry_code": "TOTAL"},
            ),
        ),
    ),
    "trade": Dataset(
        name="trade",
        table="core.fct_trade",
        dimensions=("flow_code", "product_group_code"),
        value_column="value",
        label_vi="Xuất nhập khẩu và bán lẻ",
        label_en="Trade and retail sales",
        units=UnitRule(by="flow_code", codes=tuple(FLOW_UNITS.items())),
        plausibility=True,
        hierarchies=(
            Hierarchy(
                "product_group_code", "TOTAL", residuals=frozenset({"OTHER_GOODS", "OTHER_SERVICES"})
            ),
        ),
    ),
    "awards": Dataset(
        name="awards",
        table="core.fct_awards",
        dimensions=("award_code", "recipient_kind"),
        value_column="award_count",
        label_vi="Thi đua khen thưởng",
        label_en="Awards",
        integral=True,
        units=UnitRule(fixed="count"),
    ),
    "targets": Dataset(
        name="targets",
        table="core.fct_targets",
        dimensions=("plan_start_year", "indicator_code", "bound"),
        value_column="target_value",
        label_vi="Chỉ tiêu kế hoạch",
        label_en="Plan targets",
        units=UnitRule(by="indicator_code", catalog="indicators"),
        boundary_year="plan_start_year",
    ),
}


def cell_columns(columns: Iterable[str]) -> list[str]:
    """The cell columns (`_cell_<field>`) among these, in order."""
    return [c for c in columns if c.startswith(CELL_PREFIX)]


def to_dataset_frame(dataset: Dataset, parsed: pd.DataFrame) -> pd.DataFrame:
    """Shape a parser frame into the dataset's columns (cell columns kept for problem reports).

    One reindex renames and selects the columns and adds the missing ones: doing so one pandas operation
    at a time cost ≈ 2 ms per table of a few hundred rows. Repeated column names, or a 'value' column
    the renaming leaves as it is (none of the parsers makes either), take the step-by-step way.
    """
    if _reshaped_by_steps(dataset, list(parsed.columns)):
        return _dataset_frame_by_steps(dataset, parsed.rename(columns={"value": dataset.value_column}))
    renamed = [dataset.value_column if c == "value" else c for c in parsed.columns]
    selected = [*dataset.columns, "_source_row", *cell_columns(renamed)]
    source = dict(zip(renamed, parsed.columns, strict=True))
    frame = parsed.reindex(columns=[source.get(c, c) for c in selected])  # a column the frame lacks: NaN (float64)
    frame.columns = selected  # the reindexed frame is new: changing it in place leaves `parsed` as it was
    for column in YEAR_DIMENSIONS:
        if column in selected:
            frame[column] = _as_year(frame[column])
    frame.index = pd.RangeIndex(len(frame))
    return frame


def dataset_frame_of_columns(dataset: Dataset, columns: dict[str, Any], rows: int) -> pd.DataFrame:
    """to_dataset_frame of a parser's frame given as its columns (arrays, or Series on one RangeIndex(rows)),
    in order: the frame is built once, in the dataset's columns, and takes the arrays without copying them.
    A parser's frame of a few hundred rows cost ≈ 0.4 ms to build and ≈ 0.5–1 ms more to reshape; a year
    column is converted once per distinct value."""
    if _reshaped_by_steps(dataset, list(columns)):  # (no parser's columns are)
        return to_dataset_frame(dataset, pd.DataFrame(columns, index=pd.RangeIndex(rows)))
    renamed = {dataset.value_column if name == "value" else name: values for name, values in columns.items()}
    shaped: dict[str, Any] = {}
    for name in [*dataset.columns, "_source_row", *cell_columns(renamed)]:
        values = renamed.get(name)
        if values is None:
            shaped[name] = np.full(rows, np.nan)  # as reindex adds a missing column
        elif name in YEAR_DIMENSIONS:
            codes, distinct = pd.factorize(values)
            shaped[name] = _as_year(pd.Series(distinct, dtype=values.dtype)).array.take(codes, allow_fill=True)
        else:
            shaped[name] = values
    # the Series' own index: pandas aligns a Series to any other index object, however equal (≈ 20 µs each)
    index = next((v.index for v in columns.values() if isinstance(v, pd.Series)), None)
    return pd.DataFrame(shaped, index=pd.RangeIndex(rows) if index is None else index, copy=False)


def _reshaped_by_steps(dataset: Dataset, names: list[str]) -> bool:
    """Whether a parser's columns `names` take the step-by-step way: renaming 'value' to the dataset's value
    column would repeat a column, or 'value' itself is one of the dataset's columns."""
    renamed = [dataset.value_column if c == "value" else c for c in names]
    selected = [*dataset.columns, "_source_row", *cell_columns(renamed)]
    unique = len(set(renamed)) == len(renamed) and len(set(selected)) == len(selected)
    return not unique or ("value" in selected and dataset.value_column != "value")


def _dataset_frame_by_steps(dataset: Dataset, frame: pd.DataFrame) -> pd.DataFrame:
    """to_dataset_frame one column at a time (the renamed frame is changed in place)."""
    for column in dataset.columns:
        if column not in frame.columns:
            frame[column] = np.nan
    for column in YEAR_DIMENSIONS:
        if column in frame.columns:
            frame[column] = _as_year(frame[column])
    cells = cell_columns(frame.columns)
    return frame[[*dataset.columns, "_source_row", *cells]].reset_index(drop=True)


def distinct_rows(frame: pd.DataFrame, keys: Sequence[str]) -> list[tuple]:
    """The distinct combinations of a pandas frame's `keys` columns, as Python tuples, in order of appearance.

    Plain Python for a file of a few hundred rows (where each pandas operation costs a millisecond);
    pandas first removes the duplicates of a large table.
    """
    if len(frame) > 20_000:
        frame = frame[list(keys)].drop_duplicates()
    return list(dict.fromkeys(zip(*(frame[k].tolist() for k in keys), strict=True)))


def distinct_rows_of_parts(frame: pd.DataFrame, keys: Sequence[str], lengths: Sequence[int]) -> list[list[tuple]]:
    """distinct_rows of each consecutive part of `frame` (`lengths` rows each, in order), in one pass: the
    files of a batch travel joined in one frame (flows.parsing), and one pandas pass over it costs what
    a dozen files' own take."""
    marked = frame[list(keys)].assign(_part=np.repeat(np.arange(len(lengths)), lengths))
    firsts = marked.drop_duplicates()
    found: list[list[tuple]] = [[] for _ in lengths]
    for part, *row in zip(firsts["_part"].tolist(), *(firsts[k].tolist() for k in keys), strict=True):
        found[part].append(tuple(row))
    return found


def _as_year(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column, errors="coerce").round().astype("Int64")


def published_decimals(values: pd.Series) -> int:
    """How many decimals the published figures use (0–3)."""
    finite = values.dropna().abs()
    for digits in range(4):
        if np.allclose(finite.round(digits), finite, rtol=0, atol=1e-9):
            return digits
    return 3


@dataclass(frozen=True)
class TotalFinding:
    """A total row whose parts do not add up."""

    index: int
    rule: str
    total: float
    parts: float
    part_codes: tuple[str, ...]


def total_findings(dataset: Dataset, frame: pd.DataFrame) -> list[TotalFinding]:
    """Totals that differ from the sum of their parts by more than rounding explains.

    Each column is read once, and each hierarchy's totals and parts are positions in it: filtering the
    frame for every hierarchy cost more than the comparison (a batch holds thousands of rows).
    """
    if not dataset.hierarchies:
        return []
    columns = {c: frame[c] for c in dict.fromkeys([*dataset.grain, dataset.value_column])}
    rows = _Rows(frame.index, columns, {})
    findings: list[TotalFinding] = []
    for h in dataset.hierarchies:
        scope = np.ones(len(frame), dtype=bool)
        for column, code in h.where.items():
            scope &= (columns[column] == code).to_numpy(dtype=bool)
        codes = columns[h.dimension]
        totals = np.flatnonzero(scope & (codes == h.total).to_numpy(dtype=bool))
        scope &= (codes != h.total).to_numpy(dtype=bool)
        if h.parts is not None:
            scope &= codes.isin(h.parts).to_numpy(dtype=bool)
        parts = np.flatnonzero(scope)
        if len(totals) and len(parts):
            keys = [c for c in dataset.grain if c != h.dimension]
            findings += _compare(h, rows, dataset.value_column, keys, totals, parts, dataset.integral)
    return findings


@dataclass(frozen=True)
class _Rows:
    """A frame's index, the columns compared, and grain columns as lists of key values, each read once when
    a hierarchy first needs it (a column no hierarchy keys on is never listed: a million strings are
    ≈ 60 MB)."""

    index: pd.Index
    columns: dict[str, pd.Series]
    listed: dict[str, list]

    def keys(self, column: str) -> list:
        if column not in self.listed:
            self.listed[column] = _key_values(self.columns[column])
        return self.listed[column]


def _key_values(column: pd.Series) -> list:
    """The column's values as keys, every missing value as None (NaN, None and pd.NA are one key)."""
    values = column.tolist()
    if column.hasnans:  # a base year of none, say: only the missing values are visited
        for i in np.flatnonzero(column.isna().to_numpy()):
            values[i] = None
    return values


def _compare(
    h: Hierarchy, rows: _Rows, value: str, keys: list[str], totals: np.ndarray, parts: np.ndarray, integral: bool
) -> list[TotalFinding]:
    """Each total against the sum of its parts (a dict pass over the rows: these tables have hundreds).

    Only the rows compared are read, one after the other: a million-row table's keys as a list of tuples
    would cost ≈ 90 MB more at the peak."""
    def keyed(positions: np.ndarray) -> Iterator[tuple]:
        return zip(*([values[i] for i in positions.tolist()] for values in map(rows.keys, keys)))

    def listed(column: str, positions: np.ndarray) -> list:
        return rows.columns[column].take(positions).tolist()

    groups: dict[tuple, list] = {}
    for key, v, code in zip(keyed(parts), listed(value, parts), listed(h.dimension, parts), strict=True):
        entry = groups.setdefault(key, [0.0, 0, []])
        entry[0] += 0.0 if v is None or v is pd.NA or v != v else v
        entry[1] += 1
        entry[2].append(code)
    unit = 0 if integral else 10.0 ** -published_decimals(rows.columns[value].take(np.concatenate([totals, parts])))
    out = []
    for i, key, total in zip(totals.tolist(), keyed(totals), listed(value, totals), strict=True):
        found = groups.get(key)
        if found is None:
            continue
        summed, n, part_codes = found[0], found[1], tuple(sorted(found[2]))
        complete = (h.parts is not None and set(part_codes) >= h.parts) or bool(h.residuals & set(part_codes))
        tolerance = unit * 0.5 * (n + 1) + 1e-9
        if complete and abs(total - summed) > tolerance:
            out.append(TotalFinding(int(rows.index[i]), "total_equals_parts", total, summed, part_codes))
        elif not complete and summed - total > tolerance:
            out.append(TotalFinding(int(rows.index[i]), "parts_within_total", total, summed, part_codes))
    return out


# --- datasets read by format-2 layout specs (GSO data annexes, generic indicator tables) -------------


@dataclass(frozen=True)
class ObservationDataset(Dataset):
    """A dataset that keeps attributes beside its grain and is replaced by its own partition keys."""

    attributes: tuple[str, ...] = ()
    partition_keys: tuple[str, ...] = ("province_code", "reference_year")
    units_as_written: bool = False  # keep the unit as the table writes it ('Nghìn tấn', '$m'), not a code

    @property
    def columns(self) -> list[str]:
        """Grain, value, unit, attributes, status and lineage."""
        extra = [] if "unit" in (*self.dimensions, *self.attributes) else ["unit"]
        return [*self.grain, self.value_column, *extra, *self.attributes, "status", *LINEAGE_COLUMNS]


DATASETS["iip"] = ObservationDataset(
    name="iip",
    table="core.fct_iip",
    dimensions=("period", "industry_code", "base"),
    value_column="index_pct",
    label_vi="Chỉ số sản xuất công nghiệp",
    label_en="Industrial production index",
    attributes=("industry_label", "period_label"),
)
DATASETS["indicators"] = ObservationDataset(
    name="indicators",
    table="core.fct_indicators",
    dimensions=("source", "table_id", "indicator_code", "dimension_path", "period", "measure", "base"),
    value_column="value",
    label_vi="Chỉ tiêu thống kê (bảng chung)",
    label_en="Statistical indicators (generic tables)",
    attributes=("indicator_label", "period_label", "unit_base", "unit_multiplier", "missing_reason", "notes"),
    partition_keys=("source", "table_id", "province_code", "reference_year"),
    units_as_written=True,
)
