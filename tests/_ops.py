"""Helpers for the operations tests: niengiam as a real subprocess, and reading its output as it comes."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from flows.cli import main; main()"]


def harness_api_url() -> str:
    """The API of the session's Prefect test server, so subprocesses need not start their own."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


def cli_env(api_url: str, **extra: str) -> dict[str, str]:
    """The environment of a niengiam subprocess: the test server's API, no stray niengiam variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIENGIAM_")}
    env.update(PREFECT_API_URL=api_url, PYTHONUNBUFFERED="1", **extra)
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    """Run niengiam to the end."""
    return subprocess.run([*CLI, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


class Running:
    """A niengiam subprocess whose stderr is collected line by line in the background."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [*CLI, *args], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._stdout: list[str] = []
        self._pumps = [
            threading.Thread(target=self._pump, args=(self.process.stderr, self._queue.put), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stdout, self._stdout.append), daemon=True),
        ]
        for pump in self._pumps:
            pump.start()

    @staticmethod
    def _pump(stream, keep) -> None:
        for line in stream:
            keep(line)

    def wait_for(self, text: str, timeout: float = 120) -> str:
        """Block until a stderr line contains `text`; fail with what was seen otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and self._queue.empty():
                    break
                continue
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"never saw {text!r}; stderr so far:\n{''.join(self.lines)}")

    def finish(self, timeout: float = 180) -> tuple[int, str, str]:
        """Wait for the end; exit code, stdout and all of stderr."""
        self.process.wait(timeout=timeout)
        for pump in self._pumps:  # every line, up to the end of both streams
            pump.join(timeout=30)
        while not self._queue.empty():
            self.lines.append(self._queue.get())
        return self.process.returncode, "".join(self._stdout), "".join(self.lines)


def copy_samples(sample_dir: Path, target: Path, pattern: str = "*") -> list[Path]:
    """Copy some of the demo's sample files into a folder (an inbox, say)."""
    target.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(p, target)) for p in sorted(sample_dir.glob(pattern))]


def query(database: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of one query, read-only."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def facts(database: Path) -> dict[str, list[tuple]]:
    """Every fact row of every table (with lineage columns), to compare a warehouse before and after."""
    tables = ["core.fct_industrial_output", "core.fct_trade", "core.fct_awards"]
    return {t: query(database, f"select * from {t} order by all") for t in tables}


# Columns that differ between two runs of the same files by nature: when (timestamps), which flow run,
# and where the archive lives (each run has its own home). Everything else must be equal.
RUN_SPECIFIC = {"flow_run_id", "archive_path"}


def _base_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_schema in ('core', 'meta') and table_type = 'BASE TABLE' order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def warehouse_contents(database: Path) -> dict[str, list[tuple]]:
    """Every base table of core and meta, ordered, without timestamps and the run-specific columns."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        found = {}
        for table in _base_tables(con):
            schema, name = table.split(".")
            columns = [c for c, kind in con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = ? and table_name = ? order by ordinal_position", [schema, name]
            ).fetchall() if not kind.startswith("TIMESTAMP") and c not in RUN_SPECIFIC]
            select = ", ".join(f'"{c}"' for c in columns)
            found[table] = con.execute(f"select {select} from {table} order by all").fetchall()
        return found
    finally:
        con.close()


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
