"""`status` reads the live ledger: a load still running (or interrupted) shows even when the snapshot is older."""

from __future__ import annotations

import shutil

import duckdb
from click.testing import CliRunner

from flows.cli import main
from warehouse import db, ledger


def test_status_shows_a_running_load_the_snapshot_does_not_have(settings) -> None:
    settings.database.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.database)) as con:
        db.migrate(con)
    settings.snapshot.parent.mkdir(parents=True)
    shutil.copyfile(settings.database, settings.snapshot)  # published before the load started
    with duckdb.connect(str(settings.database)) as con:
        ledger.start_load(con, "ab" * 32, "phu-tho_2016_gia-tri-sxcn.xlsx", None)
    result = CliRunner().invoke(main, ["status", "--home", str(settings.home)])
    assert result.exit_code == 0, result.output
    assert "running" in result.output and "phu-tho_2016_gia-tri-sxcn.xlsx" in result.output
