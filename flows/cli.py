"""The niengiam command line. Heavy imports (Prefect, pandas) happen inside the commands that need them."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from niengiam import __version__
from schemas.errors import NiengiamError

EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--home, --database and --debug, shared by every command; builds the settings once."""

    @click.option("--home", type=click.Path(path_type=Path), envvar="NIENGIAM_HOME",
                  help="Folder holding inbox/, archive/ and warehouse.duckdb [default: ./niengiam-home].")
    @click.option("--database", type=click.Path(path_type=Path), default=None,
                  help="Use this warehouse file instead of HOME/warehouse.duckdb.")
    @click.option("--debug", is_flag=True, help="Show the full traceback when something goes wrong.")
    @functools.wraps(command)
    def wrapper(home: Path | None, database: Path | None, debug: bool, **kwargs: Any) -> Any:
        from flows.settings import load_settings

        try:
            settings = load_settings(home=home).with_database(database and database.absolute())
            return command(settings=settings, **kwargs)
        except NiengiamError as exc:
            if debug:
                raise
            click.echo(f"niengiam: {exc}", err=True)
            from schemas.errors import UsageError

            sys.exit(EXIT_USAGE if isinstance(exc, UsageError) else EXIT_PROBLEMS)

    return wrapper


class _Group(click.Group):
    """Registers the command modules again on use: a module imported before flows.cli joins late."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        _register()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        _register()
        return super().list_commands(ctx)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="niengiam")
def main() -> None:
    """niengiam: yearly statistics spreadsheets into a validated DuckDB warehouse.

    Example: niengiam demo
    """



def _register() -> None:
    """Attach the commands of each area (kept in their own modules) to the group."""
    from flows import (
        commands_ingest,
        commands_inspect,
        commands_ops,
        commands_quarantine,
        commands_query,
        commands_report,
    )

    modules = (commands_ingest, commands_query, commands_report, commands_ops, commands_inspect, commands_quarantine)
    for module in modules:
        for command in getattr(module, "COMMANDS", []):  # [] while that module is still being imported
            main.add_command(command)


if __name__ == "__main__":
    # Run as a script the module is '__main__'; the commands register on the importable flows.cli.
    from flows.cli import main as _main

    _main()
else:
    _register()
