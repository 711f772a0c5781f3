"""A write that fails mid-load (a full disk, injected inside the transaction) leaves nothing half-written."""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest, rerun
from warehouse import load

pytestmark = pytest.mark.usefixtures("prefect_harness")

FACTS = ["core.fct_industrial_output", "core.fct_trade", "core.fct_awards"]


def _facts(database: Path) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return [con.execute(f"select count(*), bit_xor(hash(f)) from {t} as f").fetchone() for t in FACTS]


def test_a_full_disk_during_the_load_fails_cleanly_and_rerun_completes(
    settings, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sample_dir / "phu-tho_2012_gia-tri-sxcn.xlsx"
    assert ingest([str(first)], settings, progress=False, return_state=True).result(raise_on_failure=False)[0].status == "loaded"
    before = _facts(settings.database)
    real = load.ledger.record_problems

    def disk_full(*args, **kwargs):  # the partition rows are already written inside the transaction
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(load.ledger, "record_problems", disk_full)
    second = sample_dir / "phu-tho_2013_gia-tri-sxcn.xlsx"
    outcome = ingest([str(second)], settings, progress=False, return_state=True).result(raise_on_failure=False)[0]
    assert outcome.status == "failed" and "No space left" in outcome.message
    assert _facts(settings.database) == before, "nothing of the failed load may remain"
    with duckdb.connect(str(settings.database), read_only=True) as con:
        status, error = con.execute("select status, error from meta.loads order by load_id desc limit 1").fetchone()
    assert status == "failed" and "No space left" in error

    monkeypatch.setattr(load.ledger, "record_problems", real)
    outcomes = rerun(settings, progress=False, return_state=True).result(raise_on_failure=False)
    assert [o.status for o in outcomes] == ["loaded"]
    with duckdb.connect(str(settings.database), read_only=True) as con:
        years = con.execute("select distinct reference_year from core.fct_industrial_output order by 1").fetchall()
    assert years == [(2012,), (2013,)]
