"""Warehouses for the analyst's tools (sql, status, tables, report, export).

`demo_warehouse`: the demo's 18 sample files loaded by the real ingest flow, once per session.
`warehouse_copy`: a private copy of it for a test that loads more or writes ledger rows.
`small_warehouse`: a session-wide warehouse (migrations, dimensions, views) with a few hand-made rows; no Prefect.
Import the fixtures into a test module with `from tests.analyst_fixtures import ...  # noqa: F401`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def demo_warehouse(prefect_harness, sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample files (Phú Thọ 2010–2015) ingested by the real flow; treat as read-only."""
    from flows.commands_ingest import run_ingest
    from flows.settings import load_settings

    settings = load_settings(env={}, home=tmp_path_factory.mktemp("demo-home"))
    outcomes = run_ingest(settings, [sample_dir], None, progress=False)
    assert [o.status for o in outcomes] == ["loaded"] * 18
    return settings.database


@pytest.fixture
def warehouse_copy(demo_warehouse: Path, tmp_path: Path):
    """Settings whose warehouse is a private copy of the demo warehouse."""
    from flows.settings import load_settings

    settings = load_settings(env={}, home=tmp_path / "home")
    settings.home.mkdir(parents=True)
    shutil.copy2(demo_warehouse, settings.database)
    return settings


def small_rows(con) -> None:
    """A few ledger rows and figures, one of them with text a spreadsheet would run as a formula."""
    con.execute(
        "insert into meta.source_files (sha256, original_name, size_bytes, received_at, archive_path)"
        " values ('abc', '=HYPERLINK(\"http://x\")', 1, current_timestamp, 'a')"
    )
    con.execute(
        "insert into meta.loads (load_id, source_sha256, file_name, dataset, province_code, reference_years,"
        " status, rows_loaded, error, started_at, finished_at) values"
        " (1, 'abc', '=HYPERLINK(\"http://x\")', 'awards', '25', '2014', 'loaded', 2, '+cmd|calc', now(), now())"
    )
    con.execute(
        "insert into core.fct_awards (province_code, reference_year, award_code, recipient_kind, award_count,"
        " status, _load_id, _source_file_sha256, _source_sheet, _source_cell, _loaded_at) values"
        " ('25', 2014, 'BK_UBND_TINH', 'collective', 36, 'final', 1, 'abc', 'Biểu 03', 'E9', now()),"
        " ('25', 2014, 'BK_UBND_TINH', 'individual', 32, 'final', 1, 'abc', 'Biểu 03', 'F9', now())"
    )


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory):
    """Settings of a warehouse with the schema, dimensions, views and a few rows; treat as read-only."""
    from flows.settings import load_settings
    from warehouse import db, load

    settings = load_settings(env={}, home=tmp_path_factory.mktemp("small") / "home")
    with db.writing(settings.database) as con:
        load.refresh_dimensions(con)
        small_rows(con)
        db.rebuild_views(con)
    return settings


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
