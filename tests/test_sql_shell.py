"""The interactive prompt of `niengiam sql`, driven through a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.analyst_helpers import ROOT

pytest_plugins = ["tests.analyst_fixtures"]


class Terminal:
    """A niengiam process on a pseudo-terminal: type lines, read what it printed."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen([sys.executable, "-m", "flows.cli", *args], stdin=slave, stdout=slave,
                                        stderr=slave, cwd=ROOT, close_fds=True)
        os.close(slave)
        self.seen = ""

    def read_until(self, text: str, timeout: float = 30.0) -> str:
        """Everything printed until `text` appears (fails the test after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} did not appear; the terminal shows:\n{self.seen}")
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536).decode("utf-8", errors="replace")
                except OSError:
                    break
        before, _, self.seen = self.seen.partition(text)
        return before + text

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> int:
        code = self.process.wait(timeout=30)
        os.close(self.master)
        return code


@pytest.fixture
def shell_home(small_warehouse, tmp_path: Path) -> Path:
    """A private home holding a copy of the small warehouse (the history file is written there)."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy2(small_warehouse.database, home / "warehouse.duckdb")
    return home


def test_multi_line_statements_refusals_and_history(shell_home):
    term = Terminal("sql", "--home", str(shell_home))
    term.read_until("niengiam> ")
    term.type("select sum(award_count)")
    term.read_until("-> ")
    term.type("  as total from reporting.rpt_awards;")
    assert "68" in term.read_until("niengiam> ")
    term.type("delete from meta.loads;")
    assert "DELETE statement refused" in term.read_until("niengiam> ")
    term.type(".tables")
    assert "reporting.rpt_awards" in term.read_until("niengiam> ")
    term.type(".quit")
    assert term.close() == 0
    history = (shell_home / ".sql_history").read_text(encoding="utf-8").splitlines()
    assert history[-2:] == ["select sum(award_count) as total from reporting.rpt_awards;", "delete from meta.loads;"]


def test_history_is_offered_again_and_ctrl_d_leaves(shell_home):
    (shell_home / ".sql_history").write_text("select 6 * 7 as answer;\n", encoding="utf-8")
    term = Terminal("sql", "--home", str(shell_home))
    term.read_until("niengiam> ")
    term.type("\x1b[A")  # arrow up: the last statement from the history file
    assert "42" in term.read_until("niengiam> ")
    os.write(term.master, b"\x04")  # Ctrl-D
    assert term.close() == 0
