"""Loading: dimensions refreshed from the catalogues, partitions replaced atomically with history kept."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb

from schemas.catalogs import load_catalog
from warehouse import db, ledger

if TYPE_CHECKING:  # pandas and the datasets (which import it) only when a file is loaded
    import numpy as np
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
    con: duckdb.DuckDBPyConnection, dataset_name: str, loads: list[tuple[pd.DataFrame, int, str]],
    joined: pd.DataFrame | None = None,
) -> dict[int, int]:
    """replace_partitions for several loads of one dataset, in order, in one update and one insert; rows per
    load id. The caller holds the transaction. `joined`: the loads' frames one after the other (more
    columns allowed), when the caller has joined them already.

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
    # As an Arrow table DuckDB scans the rows in parallel (a pandas frame it reads in chunks). The loads'
    # frames are joined first and turned into Arrow column by column, once; the partitions, and which later
    # load covers each row's partition again, are found on integer codes for all loads at once.
    frames = [frame for frame, _, _ in loads]
    lengths = [len(frame) for frame in frames]
    if not sum(lengths):  # nothing to insert, and no partition a row would replace
        return dict.fromkeys((load_id for _, load_id, _ in loads), 0)
    rows = joined[columns] if joined is not None else db.concat_columns(frames, columns)
    keyed = rows[keys] if set(keys) <= set(columns) else pd.concat([f[keys] for f in frames], ignore_index=True)
    ids = np.array([load_id for _, load_id, _ in loads], dtype=np.int64)
    first_rows, first_loads, later = _partitions(keyed, np.repeat(np.arange(len(loads)), lengths))
    wanted = keyed.take(first_rows)
    partitions, values = db.unnested(
        list(zip(*(wanted[k].tolist() for k in keys), ids[first_loads].tolist(), strict=True)), [*keys, "_load_id"])
    matching = " and ".join(f"f.{k} = p.{k}" for k in keys)  # column names from the dataset, not values
    facts = pa.Table.from_arrays(
        [*(pa.array(rows[c], from_pandas=True) for c in columns),
         pa.array(np.repeat(ids, lengths)),
         pa.DictionaryArray.from_arrays(np.repeat(np.arange(len(loads), dtype=np.int32), lengths),
                                        [sha256 for _, _, sha256 in loads]),
         pa.array(np.where(later >= 0, ids[later], 0), mask=later < 0, type=pa.int64())],
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


def _partitions(keys: pd.DataFrame, load: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rows of several loads (`load`: each row's load, in order): the first row and the first load of
    each partition the rows cover, and per row the position of the next load that covers the row's
    partition again (-1 where none does). A null key is a partition of its own."""
    import numpy as np

    n = max(int(load.max(initial=0)) + 1, 1)
    part = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy(np.int64)
    pairs = np.unique(part * n + load)  # (partition, load), by partition then load
    same = pairs[1:] // n == pairs[:-1] // n
    following = np.where(np.append(same, False), np.append(pairs[1:] % n, 0), -1)
    later = following[np.searchsorted(pairs, part * n + load)]
    _, first_rows = np.unique(part, return_index=True)
    first_loads = pairs[np.append(True, ~same)] % n
    return first_rows, first_loads, later


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
