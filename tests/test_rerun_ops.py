"""niengiam rerun: from the archived file, with the current layout specs, linked to the first attempt."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.cli import main
from tests._ops import copy_samples, facts, query

pytestmark = pytest.mark.usefixtures("prefect_harness")
SPECS = Path(__file__).resolve().parents[1] / "schemas" / "layouts"


def _run(home: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--home", str(home)])


def _renamed_header_file(sample_dir: Path, inbox: Path) -> Path:
    """The 2010 trade CSV with its figures column headed 'Số liệu', which no shipped spec knows."""
    source = sample_dir / "phu-tho_2010_thuong-mai.csv"
    text = source.read_text(encoding="utf-8-sig").replace(";Giá trị;", ";Số liệu;")
    target = inbox / "phu-tho_2010_thuong-mai-moi.csv"
    inbox.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def _ledger(home: Path) -> list[tuple]:
    return query(home / "warehouse.duckdb", "select load_id, status, retry_of, attempt from meta.loads order by load_id")


@pytest.mark.slow
def test_a_rejected_load_reruns_from_the_archive_with_the_current_specs(sample_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = _renamed_header_file(sample_dir, home / "inbox")
    first = _run(home, "ingest", "--quiet")
    assert first.exit_code == 1 and "layout spec" in first.stdout
    assert _ledger(home) == [(1, "rejected", None, 1)]

    path.unlink()  # the inbox copy is gone: the archive has the file
    (home / "layouts").mkdir()
    spec = (SPECS / "trade.toml").read_text(encoding="utf-8")
    (home / "layouts" / "trade.toml").write_text(spec.replace('headers = ["Giá trị",', 'headers = ["Số liệu", "Giá trị",'))

    again = _run(home, "rerun", "1", "--quiet")
    assert again.exit_code == 0, again.output
    assert "Summary: 1 loaded" in again.stdout
    assert _ledger(home) == [(1, "rejected", None, 1), (2, "loaded", 1, 2)]
    loaded = facts(home / "warehouse.duckdb")
    assert len(loaded["core.fct_trade"]) == 14

    # a load whose last attempt succeeded is left alone, whichever attempt is named
    for load_id in ("1", "2"):
        same = _run(home, "rerun", load_id)
        assert same.exit_code == 0, same.output
        assert "its last attempt (load 2) is loaded (14 rows); nothing to re-run" in same.stdout
    assert _ledger(home) == [(1, "rejected", None, 1), (2, "loaded", 1, 2)]
    assert facts(home / "warehouse.duckdb") == loaded

    nothing = _run(home, "rerun", "--failed")
    assert nothing.exit_code == 0 and "No load to re-run" in nothing.stdout


@pytest.mark.slow
def test_rerun_failed_takes_every_failed_or_rejected_chain_once(sample_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _renamed_header_file(sample_dir, home / "inbox")
    copy_samples(sample_dir, home / "inbox", "phu-tho_2011_gia-tri-sxcn.xlsx")
    assert _run(home, "ingest", "--quiet").exit_code == 1
    result = _run(home, "rerun", "--failed", "--quiet")
    assert result.exit_code == 1  # still rejected: the specs did not change
    assert "Summary: 0 loaded, 0 skipped, 1 rejected, 0 failed" in result.stdout
    statuses = {(status, retry_of, attempt) for _, status, retry_of, attempt in _ledger(home)}
    assert ("rejected", 1, 2) in statuses and ("loaded", None, 1) in statuses
    unknown = _run(home, "rerun", "99")
    assert unknown.exit_code == 2 and "there is no load 99" in unknown.stderr


@pytest.mark.parametrize("args", [[], ["1", "--failed"], ["1", "--only", "failed"]])
def test_rerun_needs_either_load_ids_or_failed(tmp_path: Path, args: list[str]) -> None:
    result = _run(tmp_path / "home", "rerun", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("niengiam: ") and "Traceback" not in result.output
