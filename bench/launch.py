"""Run the niengiam command line in this process, the way the `niengiam` script does.

`python -m flows.cli` cannot be used: flows/cli.py registers its command modules at import, and those
modules import flows.cli again under its real name. This launcher imports the package instead.

NIENGIAM_BENCH_EXTRA_CATALOG=name=path.csv adds rows to a shipped catalogue for the benchmark's large
table (its commodity lines are not in schemas/catalogs/trade_groups.csv); every other line of niengiam
runs unchanged.

Example: python -m bench.launch ingest --home /tmp/h bench/out/large-1000000-seed20250701/x.csv
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

EXTRA_CATALOG = "NIENGIAM_BENCH_EXTRA_CATALOG"


def add_catalogue_rows(spec: str) -> None:
    """Append the rows of a csv file to the named catalogue before it is first loaded."""
    from schemas import catalogs

    name, _, path = spec.partition("=")
    original = catalogs._read_rows
    with Path(path).open(encoding="utf-8", newline="") as handle:
        extra = [{k: catalogs.clean_text(v) for k, v in row.items()} for row in csv.DictReader(handle)]

    def read_rows(wanted: str) -> list[dict[str, str]]:
        rows = original(wanted)
        return rows + extra if wanted == name else rows

    catalogs._read_rows = read_rows
    catalogs.load_catalog.cache_clear()


def main() -> None:
    """Entry point: optional catalogue rows, then the niengiam command line."""
    if os.environ.get(EXTRA_CATALOG):
        add_catalogue_rows(os.environ[EXTRA_CATALOG])
    from flows.cli import main as cli

    sys.argv[0] = "niengiam"
    cli()


if __name__ == "__main__":
    main()
elif __name__ == "__mp_main__" and os.environ.get(EXTRA_CATALOG):
    # a process spawned by this command (the early-start and parse processes) imports this module as
    # its main: it parses with the same catalogue rows
    add_catalogue_rows(os.environ[EXTRA_CATALOG])
