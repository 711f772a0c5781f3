"""The broken-input corpus: every case is refused clearly, archived, recorded, and changes no fact."""

from __future__ import annotations

import dataclasses
import os
import resource
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.corpus import CASES, safe_file_name

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

FACTS = ["core.fct_industrial_output", "core.fct_trade", "core.fct_awards"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    made = {}
    for case in CASES:
        path = folder / safe_file_name(case.file_name)
        case.build(path)
        made[case.name] = path
    return made


@pytest.fixture(scope="module")
def outcome_of(corpus, sample_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Load the good samples, then the whole corpus in one flow run; outcomes by case name."""
    from flows.ingest import ingest
    from flows.settings import load_settings

    settings = dataclasses.replace(load_settings(env={}, home=tmp_path_factory.mktemp("home")), max_file_mb=2)
    good = ingest([str(p) for p in sorted(sample_dir.iterdir())], settings, progress=False, return_state=True)
    assert {o.status for o in good.result(raise_on_failure=False)} == {"loaded"}
    before = _facts(settings.database)
    state = ingest([str(p) for p in corpus.values()], settings, progress=False, return_state=True)
    outcomes = state.result(raise_on_failure=False)
    return {
        "settings": settings,
        "before": before,
        "state": state,
        "by_case": dict(zip(corpus, outcomes, strict=True)),
    }


def _facts(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {t: con.execute(f"select count(*), bit_xor(hash(f)) from {t} as f").fetchone() for t in FACTS}


def _param(case):
    marks = [pytest.mark.xfail(strict=True, reason=case.gap)] if case.gap else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_each_case_is_refused_with_a_clear_message(case, outcome_of) -> None:
    outcome = outcome_of["by_case"][case.name]
    assert outcome.status in ("rejected", "failed"), f"{case.name}: {outcome}"
    text = " ".join([outcome.message, *outcome.problems])
    assert "Traceback" not in text
    for word in case.mentions:
        assert word in text, f"{case.name}: expected {word!r} in: {text}"


def test_no_fact_changed_and_nothing_is_lost(outcome_of, corpus) -> None:
    settings = outcome_of["settings"]
    assert _facts(settings.database) == outcome_of["before"], "a broken file changed the warehouse"
    with duckdb.connect(str(settings.database), read_only=True) as con:
        archived = con.execute("select count(*) from meta.source_files").fetchone()[0]
        undecided = con.execute(
            "select count(*) from meta.loads where status not in ('loaded', 'rejected', 'failed')"
        ).fetchone()[0]
        without_reason = con.execute(
            "select count(*) from meta.loads where status in ('rejected', 'failed') and coalesce(error, '') = ''"
        ).fetchone()[0]
        paths = [Path(p) for (p,) in con.execute("select archive_path from meta.source_files").fetchall()]
    distinct = len({p.read_bytes() for p in corpus.values()})
    assert archived == 18 + distinct, "every received file is archived"
    assert undecided == 0 and without_reason == 0
    assert all(p.is_file() and p.resolve().is_relative_to(settings.archive.resolve()) for p in paths)


def test_the_flow_run_fails_naming_the_files(outcome_of) -> None:
    state = outcome_of["state"]
    assert state.is_failed()
    assert "not loaded" in state.message and "cat-ngang.xlsx" in state.message


def test_cli_exit_code_memory_and_no_traceback(corpus, tmp_path: Path) -> None:
    folder = next(iter(corpus.values())).parent
    env = {**os.environ, "NIENGIAM_HOME": str(tmp_path / "home"), "NIENGIAM_MAX_FILE_MB": "2"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "ingest", "--quiet", str(folder)],
        env=env, capture_output=True, text=True, timeout=600, cwd=Path(__file__).parents[1],
    )
    peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{len(CASES)} rejected" in result.stdout or "rejected" in result.stdout
    assert peak_mb < 1500, f"peak RSS {peak_mb:.0f} MB: a bomb was expanded"


def test_a_sheet_claiming_16384_columns_is_read_cheaply(tmp_path: Path) -> None:
    """Phantom dimensions (A1:XFD1048576) cost nothing: the real cells are read and the table loads."""
    from schemas.grid import read_workbook
    from schemas.parse import ParseContext
    from schemas.pipeline import parse_file, validate_file
    from schemas.specs import builtin_specs
    from tests.corpus import wide_claim

    path = tmp_path / "rong-gia.xlsx"
    wide_claim(path)
    book = read_workbook(path)
    assert max(len(r) for r in book.sheets[0].rows) <= 8
    validated = validate_file(parse_file(book, builtin_specs(), ParseContext(path.name)))
    assert not validated.errors and len(validated.frames["industrial_output"]) == 16
