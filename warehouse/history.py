"""What the warehouse already holds for the partitions a file is about to replace (for the cross-checks)."""

from __future__ import annotations

import duckdb
import pandas as pd

from schemas.datasets import DATASETS, distinct_rows
from schemas.provinces import last_year_before_merger, predecessors
from warehouse import db


def partitions_read(frame: pd.DataFrame, written: list[tuple] | None = None) -> list[tuple[str, int]]:
    """(province, year) of every figure in the frame, and of the year before (for growth); for a province
    formed on 2025-07-01, its predecessors in 2024. `written`: the frame's distinct (province, year), when
    known already (ValidatedFile.partitions)."""
    wanted: dict[tuple[str, int], None] = {}
    if written is None:
        written = distinct_rows(frame, ["province_code", "reference_year"])
    for code, year in written:
        if code is None or pd.isna(code) or year is None or pd.isna(year):
            continue
        try:
            wanted[(str(code), round(float(year)))] = None
        except ValueError:  # a year that is not a number has no history
            continue
    for code, year in list(wanted):
        wanted[(code, year - 1)] = None
        if year - 1 == last_year_before_merger():
            wanted.update(dict.fromkeys((pred, year - 1) for pred in predecessors(code)))
    return list(wanted)


def previous_values(
    con: duckdb.DuckDBPyConnection, dataset_name: str, frame: pd.DataFrame | None,
    partitions: list[tuple[str, int]] | None = None,
) -> pd.DataFrame:
    """Current figures of the file's partitions and of the year before them (or of the partitions given):
    grain, value and status."""
    dataset = DATASETS[dataset_name]
    columns = ", ".join(f"f.{c}" for c in [*dataset.grain, dataset.value_column, "status"])
    if partitions is None:
        has_keys = frame is not None and {"province_code", "reference_year"} <= set(frame.columns)
        partitions = partitions_read(frame) if has_keys else []
    if not partitions:
        return pd.DataFrame(columns=[*dataset.grain, dataset.value_column, "status"])
    wanted, values = db.unnested(partitions, ["province_code", "reference_year"])
    return con.execute(
        f"select {columns} from {dataset.table} as f join ({wanted}) as p"
        " on f.province_code = p.province_code and f.reference_year = p.reference_year"
        " where f._superseded_at is null",
        values,
    ).df()
