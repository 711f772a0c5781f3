"""Helpers for the analyst's tools tests: run the CLI, write revised and broken sample files."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, input: str | None = None):
    """Run a niengiam command in this process; returns click's Result (exit_code, stdout, stderr)."""
    from flows.cli import main

    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def run_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    """Run `python -m flows.cli` in a fresh process (what a user's shell does)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=ROOT, env=full_env, input=input,
                          capture_output=True, text=True, timeout=120)


def revised_output_file(folder: Path, year: int = 2015, factor: float = 1.01) -> Path:
    """The year's industrial output sent again as final figures, every value changed by `factor`."""
    from niengiam import samples

    table = samples.industrial_output_table(year)
    rows = [[*row[:5], round(row[5] * factor, 1), round(row[6] * factor, 1), "Chính thức"] for row in table.rows]
    revised = replace(table, rows=rows, notes=[samples.SIGNATURE])
    return samples.write_xlsx(revised, folder / f"phu-tho_{year}_gia-tri-sxcn_chinh-thuc.xlsx")


def broken_output_file(folder: Path, year: int = 2014) -> Path:
    """The year's industrial output with a total that is not the sum of its parts (rejected)."""
    from niengiam import samples

    table = samples.industrial_output_table(year)
    rows = [list(row) for row in table.rows]
    rows[0][5] = rows[0][5] + 5000
    return samples.write_xlsx(replace(table, rows=rows), folder / f"phu-tho_{year}_gia-tri-sxcn_sai.xlsx")
