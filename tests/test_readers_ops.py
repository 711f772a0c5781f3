"""Beside readers: an analyst holding the warehouse open never makes ingestion fail, and two ingestions
started at once run one after the other. Real second processes throughout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flows.settings import load_settings
from tests._ops import REPO, Running, cli_env, copy_samples, harness_api_url, query, run_cli
from warehouse.db import reader_database

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]
COUNT = "select count(*) from core.fct_industrial_output"


def _analyst(database: Path) -> subprocess.Popen:
    """A session that opens the file read-only, counts, and keeps it open until told to count again."""
    script = (
        "import duckdb, sys\n"
        f"con = duckdb.connect({str(database)!r}, read_only=True)\n"
        f"print(con.execute({COUNT!r}).fetchone()[0], flush=True)\n"
        "sys.stdin.readline()\n"
        f"print(con.execute({COUNT!r}).fetchone()[0], flush=True)\n"
    )
    return subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


def test_readers_on_the_snapshot_or_the_live_file_never_make_ingestion_fail(sample_dir: Path, tmp_path: Path) -> None:
    home, env = tmp_path / "home", cli_env(harness_api_url())
    copy_samples(sample_dir, tmp_path / "first", "phu-tho_201[01]_gia-tri-sxcn.xlsx")
    copy_samples(sample_dir, tmp_path / "second", "phu-tho_201[23]_gia-tri-sxcn.xlsx")
    assert run_cli(["ingest", str(tmp_path / "first"), "--home", str(home), "--quiet"], env).returncode == 0
    settings = load_settings(env={}, home=home)
    assert reader_database(settings) == settings.snapshot

    analyst = _analyst(reader_database(settings))  # what 'niengiam sql' and a BI tool should open
    assert analyst.stdout.readline().strip() == "32"
    tool = _analyst(settings.database)  # a tool pointed at the live file after all
    assert tool.stdout.readline().strip() == "32"
    ingestion = Running(["ingest", str(tmp_path / "second"), "--home", str(home)], env)
    ingestion.wait_for("Ingesting")
    subprocess.run([sys.executable, "-c", "import time; time.sleep(3)"], check=True)  # the tool keeps it a while
    for session in (tool, analyst):
        session.stdin.write("\n")
        session.stdin.flush()
    assert tool.stdout.readline().strip() == "32"
    assert analyst.stdout.readline().strip() == "32"  # an open session keeps its consistent view
    code, stdout, stderr = ingestion.finish()
    assert code == 0, stderr  # it waited for the tool, with backoff, instead of failing
    assert "Summary: 2 loaded" in stdout
    assert query(settings.snapshot, COUNT) == [(64,)]  # the next session sees the new load
    assert query(settings.database, COUNT) == [(64,)]


def test_two_ingestions_started_at_once_never_interleave(sample_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    copy_samples(sample_dir, tmp_path / "a", "phu-tho_201[01]_gia-tri-sxcn.xlsx")
    copy_samples(sample_dir, tmp_path / "b", "phu-tho_201[23]_gia-tri-sxcn.xlsx")
    slow = cli_env(harness_api_url(), NIENGIAM_TEST_PAUSE_BEFORE_COMMIT="2", NIENGIAM_BATCH_SIZE="2")
    a = Running(["ingest", str(tmp_path / "a"), "--home", str(home)], slow)
    b = Running(["ingest", str(tmp_path / "b"), "--home", str(home)], slow)
    (code_a, _, err_a), (code_b, _, err_b) = a.finish(), b.finish()
    assert (code_a, code_b) == (0, 0), err_a + err_b

    waited = [f"waiting for another ingestion (pid {a.process.pid})" in err_b,
              f"waiting for another ingestion (pid {b.process.pid})" in err_a]
    assert sorted(waited) == [False, True]  # exactly one of them waited, for the other, by pid
    runs = query(home / "warehouse.duckdb", """
        select min(load_id), max(load_id), min(started_at), max(finished_at), count(*)
        from meta.loads group by flow_run_id order by 1""")
    assert [r[-1] for r in runs] == [2, 2]
    (_, last_of_first, _, first_finished, _), (first_of_second, _, second_started, _, _) = runs
    assert last_of_first < first_of_second and first_finished <= second_started  # one after the other
