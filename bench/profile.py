"""Where the wall time of a niengiam run goes: py-spy samples of the main thread, bucketed by step.

Record a run with py-spy (sampling, wall-clock: idle time included), then summarise it:

    py-spy record -r 50 --idle --threads -f raw -o w4.txt -- python -m bench.launch ingest --home H FILES
    python -m bench.profile w4.txt

The first rule whose text appears in a sample's stack names the bucket; rules go from specific to
general, so "walking task parameters" inside a task is counted there and not under the task.

Example: python -m bench.profile bench/out/prof/w4.txt --rate 50
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

RULES: list[tuple[str, tuple[str, ...]]] = [
    ("Prefect: ephemeral API server start", ("SubprocessASGIServer", "prefect/server/api/server.py")),
    ("Prefect: walking task inputs/results (visit_collection)", ("visit_collection (prefect/utilities/collections.py",)),
    ("Prefect: result/state serialisation", ("prefect/results.py", "prefect/serializers.py")),
    ("DuckDB: open + migrate + close (warehouse/db.py)", ("open_database (warehouse/db.py", "migrate (warehouse/db.py",
                                                          "writing (warehouse/db.py")),
    ("task prepare_warehouse: refresh dimensions", ("prepare_warehouse (flows/ingest.py",)),
    ("task archive_file: hash + copy", ("archive_file (flows/ingest.py",)),
    ("task open_load: ledger rows", ("open_load (flows/ingest.py",)),
    ("task read_cells: calamine → Python cells", ("read_cells (flows/ingest.py",)),
    ("task parse_rows: find header", ("find_tables (schemas/parse.py",)),
    ("task parse_rows: parse table", ("parse_rows (flows/ingest.py",)),
    ("task validate_rows: pandera", ("validate_rows (flows/ingest.py",)),
    ("task load_partition: supersede + insert", ("load_partition (flows/ingest.py",)),
    ("task reject_file", ("reject_file (flows/ingest.py",)),
    ("task refresh_views", ("refresh_views (flows/ingest.py",)),
    ("Prefect: task engine (task runs, states, API calls)", ("prefect/task_engine.py", "prefect/tasks.py")),
    ("Prefect: flow engine (flow run set-up, states, teardown)", ("prefect/flow_engine.py", "prefect/flows.py")),
    ("imports and CLI start-up", ("_find_and_load", "<module> (bench/launch.py")),
]
OTHER = "other (interpreter exit, GC, …)"


def bucket(stack: str) -> str:
    """The first rule whose text appears in the stack."""
    return next((label for label, needles in RULES if any(n in stack for n in needles)), OTHER)


def summarise(path: Path, thread: str = "MainThread") -> Counter[str]:
    """Samples per bucket for one thread of a py-spy raw (collapsed) file."""
    counts: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit() or thread not in stack.split(";", 1)[0]:
            continue
        counts[bucket(stack)] += int(number)
    return counts


def main(argv: list[str] | None = None) -> int:
    """Print the buckets of a recorded run as a Markdown table (seconds and share of the main thread)."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0],
                                     epilog="Example: python -m bench.profile bench/out/prof/w4.txt")
    parser.add_argument("raw", type=Path, help="py-spy output recorded with -f raw --threads --idle")
    parser.add_argument("--rate", type=float, default=50, help="Samples per second used when recording.")
    args = parser.parse_args(argv)
    counts = summarise(args.raw)
    total = sum(counts.values()) or 1
    print(f"| where ({args.raw.name}, main thread) | seconds | share |\n|---|---:|---:|")
    for label, samples in counts.most_common():
        print(f"| {label} | {samples / args.rate:,.1f} | {100 * samples / total:.0f} % |")
    print(f"| total | {total / args.rate:,.1f} | 100 % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
