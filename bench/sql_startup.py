"""Benchmark: a small `niengiam sql` query in a fresh process must answer within 0.6 s.

Run: .venv/bin/python bench/sql_startup.py [--runs 15] [--database PATH]
Without --database it builds a small warehouse (schema, dimensions, views) in a temporary folder.
Prints min / median / max wall time and exits 1 when the median is over the budget.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 0.6
QUERY = "select reference_year, value_bn_vnd, status from reporting.rpt_industrial_output_by_year"


def build_warehouse(folder: Path) -> Path:
    """A warehouse with the schema, dimensions and views (no figures needed to time start-up)."""
    sys.path.insert(0, str(ROOT))
    from warehouse import db, load

    path = folder / "warehouse.duckdb"
    with db.writing(path) as con:
        load.refresh_dimensions(con)
        db.rebuild_views(con)
    return path


def time_once(database: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one fresh `python -m flows.cli sql` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "flows.cli", "sql", "--database", str(database), QUERY],
                   cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = args.database or build_warehouse(Path(tmp))
        time_once(database)  # warm the file cache and bytecode
        runs = [time_once(database) for _ in range(args.runs)]
    times = sorted(wall for wall, _ in runs)
    median = statistics.median(times)
    cpu = statistics.median(c for _, c in runs)
    print(f"niengiam sql, fresh process, {args.runs} runs: min {times[0]:.3f} s, median {median:.3f} s,"
          f" max {times[-1]:.3f} s wall; median CPU {cpu:.3f} s; load average {os.getloadavg()[0]:.1f}"
          f" (budget {BUDGET_S} s)")
    return 0 if median <= BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
