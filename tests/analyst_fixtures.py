"""Warehouses for the analyst's tools (sql, status, tables, report, export), as a pytest plugin.

`demo_warehouse`: the demo's 18 sample files loaded by the real ingest flow, once per session.
`warehouse_copy`: a private copy of it for a test that loads more or writes ledger rows.
`small_warehouse`: a session-wide warehouse (migrations, dimensions, views) with a few hand-made rows; no Prefect.
Use them with `pytest_plugins = ["tests.analyst_fixtures"]` in a test module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


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
