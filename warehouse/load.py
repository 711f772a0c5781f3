"""Loading: dimensions refreshed from the catalogues, partitions replaced atomically with history kept."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import duckdb

from schemas.catalogs import load_catalog
from warehouse import db, ledger

if TYPE_CHECKING:  # pandas and the datasets (which import it) only when a file is loaded
    import pandas as pd

# table -> (catalogue or catalogues in schemas/catalogs/, columns); refreshed on every run.
DIMENSIONS: dict[str, tuple[str | tuple[str, ...], list[str]]] = {
    "core.dim_industries": ("industries", ["industry_code", "name_vi", "name_en", "parent_code"]),
    "core.dim_ownership": ("ownership", ["ownership_code", "name_vi", "name_en"]),
    "core.dim_trade_flows": ("trade_flows", ["flow_code", "name_vi", "name_en"]),
    "core.dim_trade_groups": ("trade_groups", ["product_group_code", "flow_code", "name_vi", "name_en"]),
    "core.dim_awards": (
        "awards",
        ["award_code", "official_code", "award_name_vi", "award_name_en", "award_level"],
    ),
    "core.dim_provinces": (
        ("provinces", "provinces_2025"),
        ["province_code", "name_vi", "name_en", "valid_from", "valid_to"],
    ),
    "core.province_crosswalk": (
        "province_crosswalk",
        ["predecessor_code", "predecessor_name_vi", "successor_code", "successor_name_vi", "effective_from",
         "legal_basis"],
    ),
    "core.dim_status": ("status", ["status", "sdmx_code", "name_vi", "name_en"]),
    "core.dim_units": ("units", ["unit", "name_vi", "name_en", "quantity", "factor", "is_additive"]),
    "core.dim_indicators": (
        "indicators",
        ["indicator_code", "name_vi", "name_en", "unit", "measure_kind", "based_on"],
    ),
    "core.seed_targets": (
        "targets",
        ["province_code", "plan_start_year", "reference_year", "indicator_code", "bound", "target_value", "unit",
         "source_note"],
    ),
}


def refresh_dimensions(con: duckdb.DuckDBPyConnection) -> None:
    """Replace every dimension table with the shipped catalogues, in one transaction."""
    with db.transaction(con):
        for table, (catalogs, columns) in DIMENSIONS.items():
            names = (catalogs,) if isinstance(catalogs, str) else catalogs
            rows = [[row.get(c) or None for c in columns] for name in names for row in load_catalog(name).rows]
            con.execute(f"delete from {table}")
            _insert_rows(con, table, columns, rows)


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: list[list]) -> None:
    """Insert rows of text in one statement (DuckDB casts them to the columns' types), not one per row."""
    if not rows:
        return
    text = [[None if v is None else str(v) for v in row] for row in rows]
    select, values = db.unnested(text, columns, "::varchar[]")  # column names from DIMENSIONS
    con.execute(f"insert into {table} ({', '.join(columns)}) select {', '.join(columns)} from ({select})", values)


_COLUMNS_SEEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _stored_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> frozenset[str]:
    """The columns a fact table has, asked once per connection (a writer loads thousands of files on one)."""
    seen = _COLUMNS_SEEN.setdefault(con, {})
    if (schema, table) not in seen:
        seen[(schema, table)] = frozenset(
            row[0]
            for row in con.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
                [schema, table],
            ).fetchall()
        )
    return seen[(schema, table)]


def replace_partitions(
    con: duckdb.DuckDBPyConnection,
    dataset_name: str,
    frame: pd.DataFrame,
    load_id: int,
    sha256: str,
) -> int:
    """Supersede the current rows of every partition the frame covers (by default province × year), then insert.

    The caller holds the transaction: a load is all-or-nothing together with its ledger row.
    """
    return replace_partitions_of(con, dataset_name, [(frame, load_id, sha256)])[load_id]


def replace_partitions_of(
    con: duckdb.DuckDBPyConnection, dataset_name: str, loads: list[tuple[pd.DataFrame, int, str]]
) -> dict[int, int]:
    """replace_partitions for several loads of one dataset, in order, in one update and one insert; rows per
    load id. The caller holds the transaction.

    As if each load were written after the one before: the current rows of a partition are superseded by
    the first load that covers it, and a load's rows of a partition that a later load covers again are
    inserted already superseded by that later load.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from schemas.datasets import DATASETS

    dataset = DATASETS[dataset_name]
    schema, table = dataset.table.split(".")
    stored = _stored_columns(con, schema, table)
    columns = [c for c in dataset.columns if c in stored]
    keys = list(getattr(dataset, "partition_keys", ("province_code", "reference_year")))
    writers: dict[tuple, list[int]] = {}  # partition -> the loads that cover it, in order
    covered = []
    for frame, load_id, _ in loads:
        covered.append(db.distinct_rows(frame, keys) or [(None,) * len(keys)])
        for partition in covered[-1]:
            writers.setdefault(partition, []).append(load_id)
    partitions, values = db.unnested([(*p, ids[0]) for p, ids in writers.items()], [*keys, "_load_id"])
    matching = " and ".join(f"f.{k} = p.{k}" for k in keys)  # column names from the dataset, not values
    # As an Arrow table DuckDB scans the rows in parallel (a pandas frame it reads in chunks). The loads'
    # frames are joined first and turned into Arrow column by column, once; each load's own columns are
    # built in numpy, not from Python lists.
    lengths = [len(frame) for frame, _, _ in loads]
    rows = loads[0][0][columns] if len(loads) == 1 else pd.concat([f[columns] for f, _, _ in loads], ignore_index=True)
    superseded = [_superseded_by(frame, keys, load_id, {p: writers[p] for p in mine})
                  for (frame, load_id, _), mine in zip(loads, covered, strict=True)]
    facts = pa.Table.from_arrays(
        [*(pa.array(rows[c], from_pandas=True) for c in columns),
         pa.array(np.repeat(np.array([load_id for _, load_id, _ in loads], dtype=np.int64), lengths)),
         pa.DictionaryArray.from_arrays(np.repeat(np.arange(len(loads), dtype=np.int32), lengths),
                                        [sha256 for _, _, sha256 in loads]),
         pa.concat_arrays(superseded) if superseded else pa.nulls(0, pa.int64())],
        names=[*columns, "_load_id", "_source_file_sha256", "_superseded_by"],
    )
    con.execute(
        f"update {dataset.table} as f set _superseded_at = current_timestamp, _superseded_by = p._load_id"
        f" from ({partitions}) as p where {matching} and f._superseded_at is null",
        values,
    )
    with db.registered(con, facts_frame=facts):
        con.execute(
            f"insert into {dataset.table} by name select *, current_timestamp as _loaded_at,"
            " case when _superseded_by is not null then current_timestamp end as _superseded_at from facts_frame"
        )
    return {load_id: len(frame) for frame, load_id, _ in loads}


def _superseded_by(frame: pd.DataFrame, keys: list[str], load_id: int, writers: dict[tuple, list[int]]) -> Any:
    """Per row of a load, the later load of the same batch that covers the row's partition again (or null)."""
    import pyarrow as pa

    later = {p: ids[ids.index(load_id) + 1] for p, ids in writers.items() if ids[-1] != load_id}
    if not later:
        return pa.nulls(len(frame), pa.int64())
    rows = zip(*(frame[k].tolist() for k in keys), strict=True)
    return pa.array([later.get(row) for row in rows], pa.int64())


def commit_load(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    sha256: str,
    frames: dict[str, pd.DataFrame],
    warnings: list[dict],
    summary: dict,
    before_commit: Callable[[], None] | None = None,
) -> int:
    """Replace the partitions of every dataset in the file and close the ledger row, atomically.

    `before_commit` runs inside the open transaction (tests use it to kill a load mid-way).
    """
    with db.transaction(con):
        loaded = sum(
            replace_partitions(con, name, frame, load_id, sha256) for name, frame in frames.items()
        )
        ledger.record_problems(con, load_id, warnings)
        ledger.finish_load(con, load_id, "loaded", rows_loaded=loaded, rows_rejected=0, **summary)
        if before_commit is not None:
            before_commit()
    return loaded


def reject_load(
    con: duckdb.DuckDBPyConnection, load_id: int, problems: list[dict], error: str, summary: dict
) -> None:
    """Record a rejected file: its problems in quarantine and the reason in the ledger, atomically."""
    with db.transaction(con):
        ledger.record_problems(con, load_id, problems)
        rejected = sum(1 for p in problems if p.get("severity", "error") == "error")
        ledger.finish_load(
            con, load_id, "rejected", rows_loaded=0, rows_rejected=rejected, error=error, **summary
        )


def year_coverage(con: duckdb.DuckDBPyConnection, reference_year: int) -> dict[str, tuple[int, int]]:
    """Per dataset: current rows for the reference year, and current rows for any year."""
    from schemas.datasets import DATASETS

    coverage = {}
    for name, dataset in DATASETS.items():
        row = con.execute(
            f"select count(*) filter (where reference_year = ?), count(*) from {dataset.table}"
            " where _superseded_at is null",
            [reference_year],
        ).fetchone()
        coverage[name] = (int(row[0]), int(row[1])) if row else (0, 0)
    return coverage
