"""Hashing and parsing ahead of the flow while Prefect starts (flows.early): the same warehouse as
without it, and a result is used only for the very bytes the flow archived."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows import early
from flows.cli import main
from flows.ingest import ingest
from flows.parsing import Pending
from flows.settings import load_settings
from niengiam import samples
from tests._ops import copy_samples, query, warehouse_contents
from tests.trust_helpers import output_table
from warehouse import archive

CHANGED = "phu-tho_2014_gia-tri-sxcn.xlsx"


@pytest.fixture
def folder(sample_dir: Path, tmp_path: Path) -> Path:
    """The demo's 18 workbooks, last written a minute ago (settled, as files in an inbox are)."""
    files = copy_samples(sample_dir, tmp_path / "files")
    for path in files:
        _age(path, 60)
    return tmp_path / "files"


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse ahead however few the files (the demo's are below the threshold that pays for a process)."""
    monkeypatch.setattr(early, "PARSE_FROM_FILES", 1)


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _settings(home: Path, **options: object):
    return dataclasses.replace(load_settings(env={}, home=home), batch_size=5, **options)


def _ingest(folder: Path, settings, wait: bool = True, label: str = "early-test") -> early.EarlyStart | None:
    """The flow over the folder inside an early start, as `niengiam ingest` runs it; the early start back."""
    files = [str(p) for p in archive.find_inputs([folder])]
    with early.early_start(files, settings, None) as ahead:
        if ahead is not None and wait:
            assert ahead.wait(180), "the early start did not finish"
        state = ingest(files, settings, label=label, progress=True, return_state=True)
    assert state.is_completed(), state.message
    return ahead


@pytest.mark.slow
def test_files_parsed_ahead_build_the_same_warehouse(prefect_harness, folder, tmp_path, eager, capfd) -> None:
    ahead = _ingest(folder, _settings(tmp_path / "A"))
    err = capfd.readouterr().err
    assert ahead is not None and ahead.parsed == ahead.taken == 18
    assert "18 of 18 files were read and parsed while Prefect was starting" in err
    assert not list((tmp_path / "A" / "staging").iterdir())  # every group's file was taken and removed

    racing = _ingest(folder, _settings(tmp_path / "B"), wait=False)  # the flow takes what is ready, parses the rest
    assert racing is not None and racing.taken <= 18
    assert _ingest(folder, _settings(tmp_path / "C", early_start=False)) is None
    reference = warehouse_contents(tmp_path / "C" / "warehouse.duckdb")
    assert warehouse_contents(tmp_path / "A" / "warehouse.duckdb") == reference
    assert warehouse_contents(tmp_path / "B" / "warehouse.duckdb") == reference


@pytest.mark.slow
def test_a_file_changed_after_it_was_parsed_ahead_is_parsed_again(prefect_harness, folder, tmp_path, eager) -> None:
    settings = _settings(tmp_path / "home")
    files = [str(p) for p in archive.find_inputs([folder])]
    with early.early_start(files, settings, None) as ahead:
        assert ahead is not None and ahead.wait(180) and ahead.parsed == 18
        changed = output_table(2014, scale=1.1)  # someone saves a corrected workbook meanwhile
        samples.write_xlsx(changed, folder / CHANGED)
        _age(folder / CHANGED, 30)
        assert ahead.sha256_for(folder / CHANGED) is None  # its old hash is not used either
        state = ingest(files, settings, label="changed", progress=False, return_state=True)
    assert state.is_completed(), state.message
    assert ahead.taken == 17
    new_sha = archive.sha256_of(folder / CHANGED)
    [(rows,)] = query(settings.database, "select rows_loaded from meta.loads where source_sha256 = ?", [new_sha])
    assert rows > 0
    reference = _settings(tmp_path / "plain", early_start=False)
    _ingest(folder, reference)
    assert warehouse_contents(settings.database) == warehouse_contents(reference.database)


@pytest.mark.slow
def test_files_already_in_the_archive_are_hashed_not_parsed(prefect_harness, folder, tmp_path, eager) -> None:
    settings = _settings(tmp_path / "home")
    _ingest(folder, settings)
    files = sorted(archive.find_inputs([folder]))
    again = early.EarlyStart([str(p) for p in files], settings, None).start()
    assert again.wait(60)
    assert again.parsed == 0
    assert [again.sha256_for(p) for p in files] == [archive.sha256_of(p) for p in files]


@pytest.mark.slow
@pytest.mark.parametrize("command", [["ingest"], ["backfill", "--from", "2010", "--to", "2015"]])
def test_the_commands_that_name_their_files_start_on_them_early(
    prefect_harness, folder, tmp_path, eager, command, monkeypatch
) -> None:
    started = early.EarlyStart.start

    def start_and_finish(self: early.EarlyStart) -> early.EarlyStart:  # the harness's server is up already:
        started(self)  # without this the flow would overtake the early start and parse most files itself
        assert self.wait(180)
        return self

    monkeypatch.setattr(early.EarlyStart, "start", start_and_finish)
    result = CliRunner().invoke(main, [*command, "--home", str(tmp_path / "home"), str(folder)])
    assert result.exit_code == 0, result.output
    assert "18 of 18 files were read and parsed while Prefect was starting" in result.stderr
    assert "Summary: 18 loaded" in result.stdout
    assert early.current() is None  # closed with the command


def test_few_small_files_are_hashed_but_not_parsed_ahead(folder, settings) -> None:
    files = sorted(archive.find_inputs([folder]))
    ahead = early.EarlyStart([str(p) for p in files], settings, None).start()
    assert ahead.wait(60)
    assert ahead.parsed == 0 and all(ahead.sha256_for(p) for p in files)
    fresh = folder / "fresh.xlsx"  # still being written, as far as anyone can tell: not even hashed
    fresh.write_bytes((folder / CHANGED).read_bytes())
    newer = early.EarlyStart([str(fresh)], settings, None).start()
    assert newer.wait(60) and newer.sha256_for(fresh) is None


def test_result_files_of_a_killed_command_are_removed(settings) -> None:
    settings.staging.mkdir(parents=True)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = settings.staging / f"early-{gone.stdout.strip()}-1-0.pickle"  # that process has ended
    ours = settings.staging / f"early-{os.getpid()}-1-0.pickle"
    for leftover in (stale, ours):
        leftover.write_bytes(b"results")
    assert early.EarlyStart([], settings, None).start().wait(60)
    assert not stale.exists() and ours.exists()


def test_results_are_not_taken_for_another_province_or_other_years(settings) -> None:
    ahead = early.EarlyStart([], settings, None)
    item = Pending(archive.ArchivedFile("0" * 64, Path("x.xlsx"), "x.xlsx", "x.xlsx", 1))
    assert ahead.take([item], "25", None) == ({}, [item])
    assert ahead.take([item], None, (2010, 2015)) == ({}, [item])


def test_the_early_start_is_off_when_asked_or_when_dask_parses(tmp_path) -> None:
    home = tmp_path / "home"
    assert load_settings(env={}, home=home).early_start
    assert not load_settings(env={"NIENGIAM_EARLY_START": "0"}, home=home).early_start
    for off in (load_settings(env={"NIENGIAM_EARLY_START": "0"}, home=home),
                load_settings(env={"NIENGIAM_DASK_WORKERS": "2"}, home=home)):
        with early.early_start(["a.xlsx"], off, None) as ahead:
            assert ahead is None and early.current() is None


@pytest.mark.slow
def test_a_few_files_are_parsed_here_while_the_server_starts(prefect_harness, folder, tmp_path) -> None:
    """Too few files for the early process: the command's own thread parses them while Prefect's server
    starts, a group at a time, and stops when it answers; the flow parses the rest."""
    files = [str(p) for p in archive.find_inputs([folder])]
    answers = iter([True, False])  # the server answers after the first group
    homes = {"all": lambda: True, "first group": lambda: next(answers, False), "none": lambda: False}
    for name, starting in homes.items():
        settings = _settings(tmp_path / name)
        with early.early_start(files, settings, None) as ahead:
            assert ahead is not None
            ahead.parse_here(starting)
            state = ingest(files, settings, label=name, progress=False, return_state=True)
        assert state.is_completed(), state.message
        assert ahead.taken == ahead.parsed == {"all": 18, "first group": early.GROUP, "none": 0}[name]
    for name in ("all", "first group"):
        assert warehouse_contents(tmp_path / name / "warehouse.duckdb") == warehouse_contents(
            tmp_path / "none" / "warehouse.duckdb")


def test_a_file_changed_while_it_was_parsed_here_is_left_to_the_flow(folder, settings) -> None:
    files = sorted(archive.find_inputs([folder]))[:2]
    ahead = early.EarlyStart([str(p) for p in files], settings, None).start()
    assert ahead.wait(60)

    def starting() -> bool:  # someone saves the first file again while it is being parsed
        samples.write_xlsx(output_table(2014, scale=1.1), files[0])
        return True

    ahead.parse_here(starting)
    items = [Pending(archive.ArchivedFile(ahead.sha256_for(p) or archive.sha256_of(p), p, p.name, str(p), 1))
             for p in files]
    ready, rest = ahead.take(items, None, None)
    assert ahead.parsed == 1 and list(ready) == [1] and [r.archived.archive_path for r in rest] == [files[0]]


def test_the_early_process_becomes_one_of_the_flows_parse_processes(folder, settings, eager, monkeypatch) -> None:
    from flows import runners

    monkeypatch.setattr(early, "GROUP", 1)  # 18 groups: the process is still at work when the flow asks
    files = [str(p) for p in archive.find_inputs([folder])]
    with early.early_start(files, settings, None) as ahead:
        assert ahead is not None
        deadline = time.monotonic() + 120
        while ahead.parsed < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        handed = ahead.hand_over()
        assert handed is not None and ahead.hand_over() is None  # handed over once
        early_pid = next(iter(handed._processes))  # type: ignore[attr-defined]
        processes = dataclasses.replace(settings, processes_from=1, workers=2)
        with runners.parse_processes(processes, 1, adopt=lambda: handed) as started:
            assert started
            pids = {runners.run_parsing(os.getpid) for _ in range(4)}
        assert early_pid in pids and len(pids) == 2 and os.getpid() not in pids  # one more process, not two
        assert ahead.wait(60)  # the thread ends without shutting down what it handed over twice
    assert handed._shutdown_thread  # type: ignore[attr-defined]  # the flow shut it down


def test_the_early_process_starts_once_there_is_enough_to_parse(folder, settings, monkeypatch) -> None:
    """Spawned (its imports begin) as soon as the files found new are worth a process, while the others
    are still being hashed, not after all of them are."""
    monkeypatch.setattr(early, "PARSE_FROM_FILES", 3)
    files = [str(p) for p in archive.find_inputs([folder])]
    ahead = early.EarlyStart(files, settings, None)
    pool_then: list[bool] = []
    sha256_of = archive.sha256_of

    def hashing(path: Path) -> str:
        pool_then.append(ahead._pool is not None)
        return sha256_of(path)

    monkeypatch.setattr(early.archive, "sha256_of", hashing)
    try:
        ahead.start()
        assert ahead.wait(180)
    finally:
        ahead.close()
    assert len(pool_then) == len(files) == 18
    assert pool_then == [False] * 3 + [True] * 15
    assert ahead.parsed == 18


def test_the_early_process_parses_a_tenth_of_a_run_at_a_time_within_bounds() -> None:
    """Groups of 10 cost ≈ 19 ms a workbook (pandera's fixed cost per batch), of 50 ≈ 11 ms: a national
    backfill is parsed ahead 50 files at a time, a run of 100 files 10 at a time."""
    assert early._group_size(2040) == early.GROUP_MAX == 150
    assert early._group_size(300) == 30
    assert early._group_size(100) == early._group_size(30) == early.GROUP == 10


def test_parse_processes_start_with_the_parsing_modules_frozen_and_collection_on(tmp_path: Path) -> None:
    """What the parsing modules made at a parse process's start is left out of the collector's full passes
    (parsing.import_frozen), and the collector runs for what comes after."""
    import gc

    from flows import runners

    settings = dataclasses.replace(load_settings(env={}, home=tmp_path), workers=1, processes_from=1)
    with runners.parse_processes(settings, 5) as started:
        assert started
        frozen, enabled = runners.run_parsing(gc.get_freeze_count), runners.run_parsing(gc.isenabled)
    assert frozen > 50_000 and enabled


def test_the_command_imports_prefect_uncollected_then_collects_again() -> None:
    import gc

    from flows.parsing import frozen_when_done

    before = gc.get_freeze_count()
    with pytest.raises(RuntimeError), frozen_when_done():
        assert not gc.isenabled()
        made = [[] for _ in range(1000)]  # noqa: F841 — objects the freeze takes
        raise RuntimeError("a start that failed")
    assert gc.isenabled() and gc.get_freeze_count() > before
    gc.unfreeze()


@pytest.mark.slow
def test_batches_parsed_ahead_are_taken_without_a_parse_task(prefect_harness, folder, tmp_path, eager) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    settings = _settings(tmp_path / "home")  # 18 files in batches of 5, every one parsed ahead
    label = f"taken-{tmp_path.name}"
    ahead = _ingest(folder, settings, label=label)
    assert ahead is not None and ahead.taken == 18
    with get_client(sync_client=True) as client:
        [run] = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[f"ingest-{label}"])))
        tasks = [t.task_key.split("-")[0] for t in client.read_task_runs(
            flow_run_filter=FlowRunFilter(id={"any_": [run.id]}))]
    assert "parse_files" not in tasks and "write_files" in tasks  # the flow took them; no task only to hand them on
    assert query(settings.database, "select count(*) from meta.loads where status = 'loaded'") == [(18,)]


def test_the_flow_knows_which_files_are_parsed_or_being_parsed_ahead(folder, settings, eager) -> None:
    files = sorted(archive.find_inputs([folder]))
    with early.early_start([str(p) for p in files], settings, None) as ahead:
        assert ahead is not None and ahead.wait(180) and ahead.parsed == 18
        items = [Pending(archive.ArchivedFile(ahead.sha256_for(p) or "", p, p.name, str(p), 1)) for p in files]
        assert ahead.has(items, None, None) and not ahead.has(items, "25", None)  # not for another province
        ahead.take(items[:1], None, None)
        assert not ahead.has(items[:2], None, None) and ahead.has(items[1:], None, None)  # taken: no longer here
