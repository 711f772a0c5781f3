"""User mistakes give one clear sentence and a non-zero exit, never a traceback (unless --debug)."""

from __future__ import annotations

import duckdb
import pytest

from flows.cli import main
from tests.analyst_helpers import cli, run_cli

pytest_plugins = ["tests.analyst_fixtures"]

ANALYST_COMMANDS = ["sql", "status", "tables", "report", "export"]


@pytest.mark.parametrize("name", ANALYST_COMMANDS)
def test_help_ends_with_an_example(name):
    command = main.get_command(None, name)
    assert command.help.strip().splitlines()[-1].strip().startswith(f"Example: niengiam {name}")
    result = cli(name, "--help")
    assert result.exit_code == 0
    assert f"Example: niengiam {name}" in result.stdout


@pytest.mark.parametrize("args", [
    ["sql", "select 1"], ["status"], ["status", "--matrix"], ["tables"], ["report", "--year", "2015"], ["export"],
])
def test_no_warehouse_yet(tmp_path, args):
    result = cli(*args, "--home", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert result.stderr.startswith("niengiam: ")
    assert "there is no warehouse yet" in result.stderr
    assert "Run 'niengiam ingest' first." in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_paths(small_warehouse, tmp_path):
    missing = cli("sql", "--home", str(small_warehouse.home), "-f", str(tmp_path / "nope.sql"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr
    no_folder = cli("sql", "--home", str(small_warehouse.home), "--format", "csv", "-o",
                    str(tmp_path / "no" / "such" / "x.csv"), "select 1")
    assert no_folder.exit_code == 2
    assert no_folder.stderr == f"niengiam: the folder {tmp_path / 'no' / 'such'} does not exist. Create it or choose another --output.\n"
    folder = cli("sql", "--database", str(tmp_path), "select 1")
    assert folder.exit_code == 2
    assert folder.stderr == (f"niengiam: {tmp_path}: this is a folder, not a warehouse file. Give --database the"
                             " .duckdb file, or --home the folder that holds it.\n")
    a_file = tmp_path / "plain-file"
    a_file.write_text("x")
    export = cli("export", "--home", str(small_warehouse.home), "--output", str(a_file))
    assert export.exit_code == 2
    assert "is a file" in export.stderr


def test_a_locked_warehouse_is_one_sentence_and_debug_shows_the_traceback(small_warehouse, tmp_path):
    locked = tmp_path / "locked.duckdb"
    locked.write_bytes(small_warehouse.database.read_bytes())
    writer = duckdb.connect(str(locked))  # this process holds the write lock, as an ingest would
    try:
        env = {"NIENGIAM_LOCK_TIMEOUT": "0.5"}
        plain = run_cli("sql", "--database", str(locked), "select 1", env=env)
        assert plain.returncode == 1
        assert plain.stderr.startswith(f"niengiam: {locked}: the warehouse is in use by process ")
        assert "Close other programs using it" in plain.stderr
        assert "Traceback" not in plain.stderr
        assert len(plain.stderr.strip().splitlines()) == 1
        debug = run_cli("sql", "--database", str(locked), "--debug", "select 1", env=env)
        assert debug.returncode != 0
        assert "Traceback (most recent call last)" in debug.stderr
    finally:
        writer.close()


def test_python_dash_m_runs_the_cli():
    done = run_cli("--help")
    assert done.returncode == 0
    for name in ANALYST_COMMANDS:
        assert f"  {name} " in done.stdout


def test_every_analyst_command_is_registered():
    assert set(ANALYST_COMMANDS) <= set(main.list_commands(None))
