"""Time the pipeline's steps one by one, in one process, with and without Prefect around them.

What a profile cannot say in one number: the cost of each pure step per file (read, find header, parse,
validate), of a DuckDB write connection (open + migrate + close), of one Prefect task, and what
caching `schemas.text.fold` would save. Printed as Markdown; nothing is changed on disk but a temp dir.

Example: python -m bench.stages bench/out/backfill-s0.02-seed20250701 --files 12
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.launch import EXTRA_CATALOG, add_catalogue_rows


def _clock(fn: Callable[[], object], repeat: int = 1) -> float:
    """Median seconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pure_steps(files: list[Path]) -> dict[str, float]:
    """Seconds per step, summed over the files: read, find header, parse tables, validate."""
    from schemas.parse import ParseContext, find_tables, parse_table
    from schemas.pipeline import ParsedFile, read_file, validate_file
    from schemas.specs import load_specs

    specs = load_specs()
    totals = dict.fromkeys(["read (calamine → cells)", "find header", "parse table", "validate (pandera)"], 0.0)
    for path in files:
        started = time.perf_counter()
        book = read_file(path, path.name)
        totals["read (calamine → cells)"] += time.perf_counter() - started
        started = time.perf_counter()
        matches = find_tables(book, specs)
        totals["find header"] += time.perf_counter() - started
        started = time.perf_counter()
        tables = [parse_table(m, ParseContext(path.name)) for m in matches]
        totals["parse table"] += time.perf_counter() - started
        from schemas.datasets import DATASETS, to_dataset_frame

        frames = {t.spec.dataset: to_dataset_frame(DATASETS[t.spec.dataset], t.frame) for t in tables}
        started = time.perf_counter()
        validate_file(ParsedFile(path.name, frames, [], [], 0))
        totals["validate (pandera)"] += time.perf_counter() - started
    return totals


def fold_cache_saving(files: list[Path]) -> tuple[float, float]:
    """find-header seconds over the files as is, and with fold() memoised (an experiment, not a change)."""
    import schemas.parse as parse
    import schemas.specs as specs_module
    import schemas.text as text
    from schemas.pipeline import read_file
    from schemas.specs import load_specs

    books = [read_file(p, p.name) for p in files]
    specs = load_specs()
    before = _clock(lambda: [parse.find_tables(b, specs) for b in books])
    original = text.fold
    cached = functools.lru_cache(maxsize=None)(original)
    try:
        parse.fold = specs_module.fold = cached
        after = _clock(lambda: [parse.find_tables(b, specs) for b in books])
    finally:
        parse.fold = specs_module.fold = original
    return before, after


def database_round_trip(repeat: int = 10) -> float:
    """Seconds of one `warehouse.db.writing()` on a migrated warehouse: open, migrate check, close."""
    from warehouse import db

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "w.duckdb"
        with db.writing(path) as con:
            con.execute("select 1")

        def once() -> None:
            with db.writing(path) as con:
                con.execute("select 1")

        return _clock(once, repeat)


def prefect_task_cost(tasks: int = 50) -> tuple[float, float]:
    """Seconds per task call in a flow: a task taking a small argument, and one taking 100,000 cells."""
    from prefect import flow, task

    @task
    def small(x: int) -> int:
        return x

    cells = [[f"c{r}", float(r), None, r] for r in range(25_000)]

    @task
    def big(rows: list) -> int:
        return len(rows)

    @flow(name="bench-task-cost")
    def measure() -> tuple[float, float]:
        small(0)
        a = _clock(lambda: [small(i) for i in range(tasks)]) / tasks
        b = _clock(lambda: [big(cells) for _ in range(5)]) / 5
        return a, b

    return measure()


def main(argv: list[str] | None = None) -> int:
    """Print every measurement as a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__.splitlines()[0],
                                     epilog="Example: python -m bench.stages bench/out/backfill-s0.02-seed20250701")
    parser.add_argument("folder", type=Path, help="A generated backfill folder (or any folder of workbooks).")
    parser.add_argument("--files", type=int, default=12, help="How many of its workbooks to use.")
    parser.add_argument("--large", type=Path, help="Also time the pure steps on this one large file.")
    parser.add_argument("--no-prefect", action="store_true", help="Skip the Prefect task-cost measurement.")
    args = parser.parse_args(argv)
    if os.environ.get(EXTRA_CATALOG):
        add_catalogue_rows(os.environ[EXTRA_CATALOG])
    files = sorted(args.folder.glob("*.xlsx"))[: args.files]
    print(f"| step ({len(files)} workbooks) | seconds | per file (ms) |\n|---|---:|---:|")
    for step, seconds in pure_steps(files).items():
        print(f"| {step} | {seconds:.3f} | {1000 * seconds / len(files):.0f} |")
    before, after = fold_cache_saving(files)
    print(f"| find header with fold() memoised (experiment) | {after:.3f} | {1000 * after / len(files):.0f} "
          f"(was {1000 * before / len(files):.0f}) |")
    print(f"| DuckDB write connection: open + migrate + close | {database_round_trip():.3f} | per call |")
    if args.large:
        print(f"\n| step ({args.large.name}) | seconds |\n|---|---:|")
        for step, seconds in pure_steps([args.large]).items():
            print(f"| {step} | {seconds:.2f} |")
    if not args.no_prefect:
        small, big = prefect_task_cost()
        print(f"\n| Prefect task call | ms per call |\n|---|---:|\n| small argument | {1000 * small:.0f} |"
              f"\n| argument of 25,000 rows × 4 cells | {1000 * big:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
