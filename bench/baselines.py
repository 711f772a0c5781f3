"""The baselines a workload is compared with, each run by bench/run.py in a fresh process.

- naive: the habit of a hand-written script — pandas + openpyxl reading one file at a time and
  `DataFrame.to_sql` appending it to SQLite; no validation, no provenance, no history.
- floor: the least work that still reads every cell and stores it — fastexcel (Rust, Arrow) reading the
  same files and one DuckDB insert per table of all their rows; DuckDB's own `read_csv` for a csv.
- trivial: a Prefect flow that does nothing, the fixed cost of orchestration in a fresh process.

Each prints one JSON line: {"rows": …, "seconds": …} (seconds measured inside the process).

Example: python -m bench.baselines floor bench/out/backfill-s0.05-seed20250701 --db /tmp/floor.duckdb
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

# Rows above the header: the agency block, title, unit line and blank rows bench/generate.py writes.
BACKFILL_TITLE_ROWS = 6
LARGE_TITLE_ROWS = 5
DATASET_OF_SUFFIX = {"gia-tri-sxcn": "industrial_output", "thuong-mai": "trade", "thi-dua-khen-thuong": "awards"}


def dataset_of(path: Path) -> str:
    """The dataset a generated workbook holds, from its file name."""
    return DATASET_OF_SUFFIX[path.stem.rsplit("_", 1)[-1]]


def workbooks(folder: Path, every: int = 1) -> list[Path]:
    """The folder's workbooks, sorted; every n-th one for a deterministic subset."""
    return sorted(folder.glob("*.xlsx"))[:: max(1, every)]


def naive(files: list[Path], database: Path) -> int:
    """pandas + openpyxl + to_sql into SQLite, one file at a time; returns the rows written."""
    import pandas as pd

    rows = 0
    con = sqlite3.connect(database)
    try:
        for path in files:
            frame = pd.read_excel(path, sheet_name=0, skiprows=BACKFILL_TITLE_ROWS, engine="openpyxl")
            frame = frame.dropna(how="all")
            frame.to_sql(dataset_of(path), con, if_exists="append", index=False)
            rows += len(frame)
        con.commit()
    finally:
        con.close()
    return rows


def _unify(tables: list) -> list:
    """Cast a column to string in every table where the files disagree on its type (text numbers)."""
    import pyarrow as pa

    types: dict[str, set] = {}
    for table in tables:
        for name, kind in zip(table.column_names, table.schema.types):
            types.setdefault(name, set()).add(kind)
    mixed = {name for name, kinds in types.items() if len(kinds - {pa.null()}) > 1}
    out = []
    for table in tables:
        for name in mixed & set(table.column_names):
            index = table.column_names.index(name)
            table = table.set_column(index, name, table.column(name).cast(pa.string()))
        out.append(table)
    return out


def floor(files: list[Path], database: Path) -> int:
    """fastexcel reads every file; all rows go to DuckDB in one insert per dataset table."""
    import duckdb
    import fastexcel
    import pyarrow as pa

    by_dataset: dict[str, list] = {}
    for path in files:
        sheet = fastexcel.read_excel(path).load_sheet(0, header_row=BACKFILL_TITLE_ROWS)
        by_dataset.setdefault(dataset_of(path), []).append(pa.Table.from_batches([sheet.to_arrow()]))
    con = duckdb.connect(str(database))
    rows = 0
    try:
        con.execute("begin transaction")
        for name, tables in by_dataset.items():
            combined = pa.concat_tables(_unify(tables), promote_options="permissive")
            con.register("incoming", combined)
            con.execute(f"create table {name} as select * from incoming")
            con.unregister("incoming")
            rows += combined.num_rows
        con.execute("commit")
    finally:
        con.close()
    return rows


def floor_large_xlsx(path: Path, database: Path) -> int:
    """fastexcel reads the large sheet into Arrow; one DuckDB insert stores it."""
    import duckdb
    import fastexcel
    import pyarrow as pa

    batch = fastexcel.read_excel(path).load_sheet(0, header_row=LARGE_TITLE_ROWS).to_arrow()
    table = pa.Table.from_batches([batch])
    con = duckdb.connect(str(database))
    try:
        con.register("incoming", table)
        con.execute("create table exports as select * from incoming")
    finally:
        con.close()
    return table.num_rows


def floor_large_csv(path: Path, database: Path) -> int:
    """DuckDB's read_csv straight into a table, turning the Vietnamese numbers ("1.234,5") into doubles."""
    import duckdb

    con = duckdb.connect(str(database))
    try:
        con.execute(
            "create table exports as select * replace ("
            " cast(replace(replace(\"Giá trị\", '.', ''), ',', '.') as double) as \"Giá trị\")"
            " from read_csv(?, skip = ?, header = true, delim = ',', quote = '\"', all_varchar = false,"
            " types = {'Giá trị': 'varchar'})",
            [str(path), LARGE_TITLE_ROWS],
        )
        return con.execute("select count(*) from exports").fetchone()[0]
    finally:
        con.close()


def trivial() -> int:
    """A Prefect flow that returns at once."""
    from prefect import flow

    @flow(name="bench-trivial")
    def nothing() -> int:
        return 0

    return nothing()


def main(argv: list[str] | None = None) -> int:
    """Run one baseline and print its rows and inner time as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.baselines", description=__doc__.splitlines()[0],
                                     epilog="Example: python -m bench.baselines naive bench/out/backfill-s0.05-seed20250701 --db /tmp/n.sqlite")
    parser.add_argument("baseline", choices=["naive", "floor", "floor-xlsx", "floor-csv", "trivial"])
    parser.add_argument("path", nargs="?", type=Path, help="Folder of workbooks, or the large table's file.")
    parser.add_argument("--db", type=Path, help="Database file to write (created).")
    parser.add_argument("--every", type=int, default=1, help="Use every n-th workbook (naive on a subset).")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.baseline == "trivial":
        rows = trivial()
    elif args.baseline == "naive":
        rows = naive(workbooks(args.path, args.every), args.db)
    elif args.baseline == "floor":
        rows = floor(workbooks(args.path), args.db)
    elif args.baseline == "floor-xlsx":
        rows = floor_large_xlsx(args.path, args.db)
    else:
        rows = floor_large_csv(args.path, args.db)
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
