"""niengiam backfill: many files in one run, a year range, one bad file among good ones, progress and summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.cli import main
from tests._ops import copy_samples, query

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _backfill(home: Path, *args: str):
    return CliRunner().invoke(main, ["backfill", "--home", str(home), *args])


@pytest.mark.slow
def test_backfill_loads_the_years_asked_for_and_reports_the_rest(sample_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "old-yearbooks"
    copy_samples(sample_dir, source, "phu-tho_201[0-3]_*")
    (source / "hong.csv").write_text("khong,co\n1,2\n", encoding="utf-8")
    home = tmp_path / "home"

    result = _backfill(home, "--from", "2011", "--to", "2013", "--workers", "2", "--batch-size", "3", str(source))

    assert result.exit_code == 1, result.output  # the bad file is reported, the others are loaded
    assert "[13/13]" in result.stderr  # progress, one line per file
    assert "Summary: 9 loaded, 0 skipped, 1 rejected, 0 failed" in result.stdout
    assert "3 file(s) outside the years asked for" in result.stdout
    assert "outside 2011–2013; not loaded" in result.stdout
    database = home / "warehouse.duckdb"
    years = query(database, "select distinct reference_year from core.fct_industrial_output order by 1")
    assert years == [(2011,), (2012,), (2013,)]
    runs = query(database, "select count(distinct flow_run_id) from meta.loads")
    assert runs == [(1,)]  # one flow run for the whole backfill

    again = _backfill(home, "--from", "2010", "--to", "2013", "--quiet", str(source))
    assert again.exit_code == 0, again.output
    assert "Summary: 3 loaded, 10 skipped, 0 rejected, 0 failed" in again.stdout


def test_backfill_refuses_a_range_backwards(tmp_path: Path) -> None:
    result = _backfill(tmp_path / "home", "--from", "2015", "--to", "2010")
    assert result.exit_code == 2
    assert result.stderr.strip() == "niengiam: --from 2015 is after --to 2010"


def test_backfill_says_so_when_a_path_is_missing(tmp_path: Path) -> None:
    result = _backfill(tmp_path / "home", "--from", "2010", "--to", "2011", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr
