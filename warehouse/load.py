"""Loading: dimensions refreshed from the catalogues, partitions replaced atomically with history kept."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

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
    con.execute("begin transaction")
    try:
        for table, (catalogs, columns) in DIMENSIONS.items():
            names = (catalogs,) if isinstance(catalogs, str) else catalogs
            rows = [[row.get(c) or None for c in columns] for name in names for row in load_catalog(name).rows]
            con.execute(f"delete from {table}")
            _insert_rows(con, table, columns, rows)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


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
    import pyarrow as pa

    from schemas.datasets import DATASETS

    dataset = DATASETS[dataset_name]
    schema, table = dataset.table.split(".")
    stored = _stored_columns(con, schema, table)
    columns = [c for c in dataset.columns if c in stored]
    keys = list(getattr(dataset, "partition_keys", ("province_code", "reference_year")))
    partitions, values = db.unnested(db.distinct_rows(frame, keys) or [(None,) * len(keys)], keys)
    matching = " and ".join(f"f.{k} = p.{k}" for k in keys)  # column names from the dataset, not values
    # As an Arrow table DuckDB scans the rows in parallel (a pandas frame it reads in chunks), and the
    # load's own columns are added in SQL: a million-row frame is not copied once more. Built column by
    # column: the same table as Table.from_pandas, in a quarter of its time on a file of 200 rows.
    facts = pa.Table.from_arrays([pa.array(frame[c], from_pandas=True) for c in columns], names=columns)
    con.execute(
        f"update {dataset.table} as f set _superseded_at = current_timestamp, _superseded_by = ?"
        f" from ({partitions}) as p where {matching} and f._superseded_at is null",
        [load_id, *values],
    )
    with db.registered(con, facts_frame=facts):
        con.execute(
            f"insert into {dataset.table} by name select *, ?::bigint as _load_id,"
            " ?::varchar as _source_file_sha256, current_timestamp as _loaded_at from facts_frame",
            [load_id, sha256],
        )
    return facts.num_rows


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
    con.execute("begin transaction")
    try:
        loaded = sum(
            replace_partitions(con, name, frame, load_id, sha256) for name, frame in frames.items()
        )
        ledger.record_problems(con, load_id, warnings)
        ledger.finish_load(con, load_id, "loaded", rows_loaded=loaded, rows_rejected=0, **summary)
        if before_commit is not None:
            before_commit()
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return loaded


def reject_load(
    con: duckdb.DuckDBPyConnection, load_id: int, problems: list[dict], error: str, summary: dict
) -> None:
    """Record a rejected file: its problems in quarantine and the reason in the ledger, atomically."""
    con.execute("begin transaction")
    try:
        ledger.record_problems(con, load_id, problems)
        rejected = sum(1 for p in problems if p.get("severity", "error") == "error")
        ledger.finish_load(
            con, load_id, "rejected", rows_loaded=0, rows_rejected=rejected, error=error, **summary
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


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
