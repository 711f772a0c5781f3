"""Crash safety: a real ingestion process killed with SIGKILL leaves the warehouse as before its load;
the next run marks the interrupted load failed, and 'rerun --failed' completes it."""

from __future__ import annotations

import os
import random
import re
import signal
import time
from pathlib import Path

import pytest

from tests._ops import Running, cli_env, copy_samples, facts, harness_api_url, query, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def _revised(sample_dir: Path, folder: Path) -> Path:
    """The 2010 trade file sent again as preliminary figures: the same partitions, a new vintage."""
    text = (sample_dir / "phu-tho_2010_thuong-mai.csv").read_text(encoding="utf-8-sig")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "phu-tho_2010_thuong-mai_so-bo.csv"
    target.write_text(text.replace("Chính thức", "Sơ bộ"), encoding="utf-8")
    return target


def _kill(victim: Running, seconds: float) -> None:
    time.sleep(seconds)
    os.kill(victim.process.pid, signal.SIGKILL)
    victim.process.wait()


def test_killed_before_commit_then_completed_by_rerun(sample_dir: Path, tmp_path: Path) -> None:
    home, env = tmp_path / "home", cli_env(harness_api_url())
    database = home / "warehouse.duckdb"
    copy_samples(sample_dir, home / "inbox", "phu-tho_2010_thuong-mai.csv")
    assert run_cli(["ingest", "--home", str(home), "--quiet"], env).returncode == 0
    before = facts(database)

    victim = Running(["ingest", str(_revised(sample_dir, tmp_path / "new")), "--home", str(home)],
                     cli_env(harness_api_url(), NIENGIAM_TEST_PAUSE_BEFORE_COMMIT="120"))
    victim.wait_for("test hook: pausing")  # the new rows are written, the transaction is open
    _kill(victim, 0.0)

    assert facts(database) == before  # the warehouse is as before that load
    assert query(database, "select load_id, status, pid from meta.loads order by 1") == [
        (1, "loaded", query(database, "select pid from meta.loads where load_id = 1")[0][0]),
        (2, "running", victim.process.pid),
    ]

    result = run_cli(["rerun", "--failed", "--home", str(home)], env)
    assert result.returncode == 0, result.stderr
    assert "marked interrupted loads as failed (run 'niengiam rerun --failed'): 2" in result.stderr
    loads = query(database, "select load_id, status, retry_of, attempt, left(error, 12) from meta.loads order by 1")
    assert loads[1:] == [(2, "failed", None, 1, "interrupted:"), (3, "loaded", 2, 2, None)]
    statuses = query(database, "select status, _superseded_by, count(*) from core.fct_trade group by all order by all")
    assert statuses == [("final", 3, 14), ("preliminary", None, 14)]  # the old vintage kept, superseded


def _consistent(database: Path) -> None:
    """Facts belong only to loaded loads, and each loaded load has exactly the rows it recorded."""
    tables = ["core.fct_industrial_output", "core.fct_trade", "core.fct_awards"]
    union = " union all ".join(f"select _load_id from {t}" for t in tables)
    rows = query(database, f"""
        with f as ({union}), per_load as (select _load_id, count(*) as n from f group by 1)
        select l.load_id, l.status, l.rows_loaded, coalesce(p.n, 0)
        from meta.loads as l full join per_load as p on p._load_id = l.load_id""")
    for load_id, status, rows_loaded, found in rows:
        assert status == "loaded" and found == rows_loaded if found else status != "loaded", (load_id, status, found)


def _count(database: Path, status: str) -> int:
    return query(database, "select count(*) from meta.loads where status = ?", [status])[0][0]


def test_killed_at_random_moments_the_warehouse_stays_consistent(sample_dir: Path, tmp_path: Path) -> None:
    home, env = tmp_path / "home", cli_env(harness_api_url(), NIENGIAM_BATCH_SIZE="4")
    slowed = {**env, "NIENGIAM_TEST_PAUSE_BEFORE_COMMIT": "0.5"}  # 0.5 s a file inside the open transaction
    database = home / "warehouse.duckdb"
    copy_samples(sample_dir, home / "inbox", "phu-tho_201[0-2]_*")
    chance = random.Random(20260115)

    # Before the first write: archiving, planning, parsing or writing rows (a wave holds a batch of 4
    # files or more, so its commit comes at least 2 s after its rows are written).
    victim = Running(["ingest", "--home", str(home)], slowed)
    victim.wait_for("batches of up to")
    _kill(victim, chance.uniform(0.0, 1.5))
    _consistent(database)
    assert _count(database, "loaded") == 0

    # After a first commit: anywhere in the rest of the run, possibly after its end. How many files a
    # wave holds depends on how many were parsed by then, so the count is not known.
    victim = Running(["ingest", "--home", str(home)], slowed)
    victim.wait_for(": loaded (")
    _kill(victim, chance.uniform(0.0, 1.5))
    _consistent(database)
    assert _count(database, "loaded") > 0

    # Inside a commit's wait, with new files so that there is always one: the open load is lost whole.
    copy_samples(sample_dir, home / "inbox", "phu-tho_201[34]_*")
    victim = Running(["ingest", "--home", str(home)], slowed)
    pausing = victim.wait_for("test hook: pausing")
    seconds = float(re.search(r"pausing ([0-9.]+) s", pausing).group(1))  # type: ignore[union-attr]
    _kill(victim, chance.uniform(0.0, 0.8 * seconds))
    _consistent(database)
    assert 0 < _count(database, "loaded") < 15 and _count(database, "running") > 0

    assert run_cli(["ingest", "--home", str(home), "--quiet"], env).returncode == 0
    assert run_cli(["rerun", "--failed", "--home", str(home), "--quiet"], env).returncode == 0
    _consistent(database)
    assert query(database, "select count(distinct source_sha256) from meta.loads where status = 'loaded'") == [(15,)]
    assert _count(database, "running") == 0
