"""The command line documents itself: every command's help ends with an example; --version works."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from flows.cli import main
from niengiam import __version__


def _commands() -> list[tuple[str, click.Command]]:
    found = []

    def walk(prefix: str, command: click.Command) -> None:
        found.append((prefix, command))
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(f"{prefix} {name}".strip(), sub)

    walk("", main)
    return found


@pytest.mark.parametrize(("name", "command"), _commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_command_has_help_ending_with_an_example(name: str, command: click.Command) -> None:
    result = CliRunner().invoke(main, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    paragraphs = [p.strip() for p in result.output.split("Options:")[0].strip().split("\n\n")]
    assert paragraphs[-1].startswith("Example: niengiam"), f"'{name}' help must end with an example"


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_sql_on_a_missing_warehouse_is_one_clear_sentence(tmp_path) -> None:
    result = CliRunner().invoke(main, ["sql", "--home", str(tmp_path), "select 1"])
    assert result.exit_code == 2
    assert "there is no warehouse yet" in result.output and "Traceback" not in result.output


def test_ingest_of_a_missing_path_is_one_clear_sentence(tmp_path) -> None:
    result = CliRunner().invoke(main, ["ingest", "--home", str(tmp_path), str(tmp_path / "nope.xlsx")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.output and "Traceback" not in result.output
