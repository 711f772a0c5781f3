"""Reading and parsing on a Dask cluster (prefect-dask): the same warehouse as the default runner, errors
that keep their cell, the writer in the flow's process, and the settings and options that turn it on."""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from flows import runners
from flows.cli import main
from flows.ingest import Pending, ingest, parse_files, with_workers
from flows.settings import load_settings
from niengiam import samples
from schemas.errors import DataError, UnknownLayoutError, UsageError
from tests._ops import REPO, warehouse_contents
from tests.trust_helpers import output_table
from warehouse import archive

REVISED = "phu-tho_2015_gia-tri-sxcn_chinh-thuc.xlsx"
WRONG_FIGURES = "phu-tho_2014_gia-tri-sxcn_sai-so-lieu.xlsx"
UNKNOWN_LAYOUT = "phu-tho_2013_gia-tri-sxcn_mau-moi.xlsx"


def _unknown_layout_table() -> samples.SampleTable:
    """The 2013 output table with two value columns renamed: no spec recognises it (a cell-located error)."""
    table = samples.industrial_output_table(2013)
    header = [list(table.header_rows[0])]
    header[0][5], header[0][6] = "Giá trị", "Ghi chú"
    return dataclasses.replace(table, header_rows=header)


def _backfill_folder(sample_dir: Path, folder: Path) -> Path:
    """The demo's 18 files, a final figure replacing the 2015 estimate, and two files to reject."""
    shutil.copytree(sample_dir, folder)
    samples.write_xlsx(output_table(2015, status="Chính thức", scale=1.02), folder / REVISED)
    wrong = output_table(2014)
    wrong.rows[0][5] = wrong.rows[0][5] + 100  # the total no longer equals its parts
    wrong.rows[1][6] = "chưa có"  # a word where a number belongs
    samples.write_xlsx(wrong, folder / WRONG_FIGURES)
    samples.write_xlsx(_unknown_layout_table(), folder / UNKNOWN_LAYOUT)
    return folder


def _ingest(folder: Path, home: Path, **options: object) -> list:
    settings = dataclasses.replace(load_settings(env={}, home=home), batch_size=4, **options)
    files = [str(p) for p in archive.find_inputs([folder])]
    state = with_workers(ingest, settings)(files, settings, label="dask-test", progress=False, return_state=True)
    return state.result(raise_on_failure=False)


@pytest.fixture(scope="module")
def two_runs(prefect_harness, sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The same 21 files (6 batches of 4) ingested with the thread pool into A, on 2 Dask workers into B,
    and with the thread pool handing each batch to 2 parse processes into C."""
    root = tmp_path_factory.mktemp("dask")
    folder = _backfill_folder(sample_dir, root / "files")
    threads = _ingest(folder, root / "A")
    dask = _ingest(folder, root / "B", dask_workers=2)
    processes = _ingest(folder, root / "C", processes_from=1)
    return {"threads": threads, "dask": dask, "processes": processes,
            **{home: root / home / "warehouse.duckdb" for home in "ABC"}}


def _query(database: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.parametrize(("other", "home"), [("dask", "B"), ("processes", "C")])
def test_a_dask_cluster_or_parse_processes_build_the_same_warehouse(two_runs, other: str, home: str) -> None:
    statuses = sorted((o.file, o.status) for o in two_runs["threads"])
    assert statuses == sorted((o.file, o.status) for o in two_runs[other])
    assert [s for _, s in statuses].count("loaded") == 19, statuses
    assert {f for f, s in statuses if s == "rejected"} == {WRONG_FIGURES, UNKNOWN_LAYOUT}

    a, b = warehouse_contents(two_runs["A"]), warehouse_contents(two_runs[home])
    assert a.keys() == b.keys()
    for table in a:
        assert a[table] == b[table], f"{table} differs between the thread pool and the {other} run"

    facts = [t for t in a if t.startswith("core.fct_")]
    assert sum(len(a[t]) for t in facts) > 200  # the comparison is over real rows, not empty tables
    superseded = "select count(*) from core.fct_industrial_output where _superseded_by is not null"
    assert _query(two_runs["B"], superseded)[0][0] > 0  # the final figure replaced the 2015 estimate
    assert len(a["meta.quarantine"]) > 2  # the rejected files' problems, cell by cell


@pytest.mark.slow
def test_the_writer_stays_in_the_flows_process(two_runs) -> None:
    for home in ("A", "B", "C"):
        writers = _query(two_runs[home], "select distinct pid from meta.loads")
        assert writers == [(os.getpid(),)]


@pytest.mark.slow
def test_a_layout_error_from_a_dask_worker_keeps_its_sheet_and_cell(two_runs) -> None:
    sql = (
        "select q.sheet, q.cell, l.error from meta.quarantine q join meta.loads l using (load_id)"
        f" where l.file_name = '{UNKNOWN_LAYOUT}'"
    )
    [(sheet, cell, error)] = _query(two_runs["B"], sql)
    assert sheet and cell, "the worker's error lost its location"
    assert error.startswith(f"{UNKNOWN_LAYOUT}, sheet '{sheet}', cell {cell}: the layout is not recognised")
    assert _query(two_runs["A"], sql) == [(sheet, cell, error)]
    assert _query(two_runs["C"], sql) == [(sheet, cell, error)]


def _pid_or_die(parent: int) -> int:
    """This process's pid; a parse process (any other than `parent`) dies instead, breaking its pool."""
    if os.getpid() != parent:
        os._exit(3)
    return os.getpid()


def test_parse_processes_start_only_for_a_large_run_and_parse_elsewhere(settings) -> None:
    settings = dataclasses.replace(settings, processes_from=50, workers=2)
    with runners.parse_processes(settings, 49) as started:
        assert not started and runners.run_parsing(os.getpid) == os.getpid()
    with runners.parse_processes(settings, 50) as started:
        assert started
        pids = {runners.run_parsing(os.getpid) for _ in range(4)}
        assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert runners.run_parsing(os.getpid) == os.getpid()  # closed with the block
    for off in (dataclasses.replace(settings, processes_from=0), dataclasses.replace(settings, dask_workers=2)):
        with runners.parse_processes(off, 10_000) as started:
            assert not started


@pytest.mark.slow
def test_parse_processes_are_announced_only_when_they_start(prefect_harness, sample_dir, tmp_path, capfd) -> None:
    settings = dataclasses.replace(load_settings(env={}, home=tmp_path / "home"), processes_from=3, batch_size=2)
    files = [str(sample_dir / name) for name in ("phu-tho_2011_gia-tri-sxcn.xlsx", "phu-tho_2012_thuong-mai.xlsx",
                                                  "phu-tho_2013_thi-dua-khen-thuong.xlsx")]
    run = with_workers(ingest, settings)
    run(files, settings, label="first", progress=True)
    first = capfd.readouterr().err
    run(files, settings, label="again", progress=True)  # every file known: nothing to parse, no process
    again = capfd.readouterr().err
    assert "parsing 3 files in 2 processes" in first and "[3/3]" in first
    assert "processes" not in again and again.count(": skipped") == 3


def test_a_parse_process_that_dies_leaves_the_batch_to_the_flows_process(settings, capfd) -> None:
    with runners.parse_processes(dataclasses.replace(settings, processes_from=1), 1):
        assert runners.run_parsing(_pid_or_die, os.getpid()) == os.getpid()
        assert runners.run_parsing(_pid_or_die, os.getpid()) == os.getpid()  # the broken pool is not retried
    assert "a parse process stopped" in capfd.readouterr().err


def _parse_on(runner, pending: list[Pending], settings) -> tuple[Pending, int]:
    """parse_files submitted to `runner` in a flow: the item back, and the pid of the process that parsed it."""

    @flow(task_runner=runner)
    def parse() -> tuple[list[Pending], int]:
        return parse_files.submit(pending, settings, None, None).result(), _pid_of_task.submit().result()

    [item], pid = parse()
    return item, pid


@task
def _pid_of_task() -> int:
    return os.getpid()


@pytest.mark.slow
def test_a_parse_task_on_a_dask_worker_returns_the_error_with_every_field(prefect_harness, tmp_path: Path) -> None:
    settings = load_settings(env={}, home=tmp_path / "home")
    path = samples.write_xlsx(_unknown_layout_table(), tmp_path / UNKNOWN_LAYOUT)
    pending = [Pending(archive.archive_file(path, settings.archive))]

    here, here_pid = _parse_on(ThreadPoolTaskRunner(max_workers=1), pending, settings)
    there, there_pid = _parse_on(runners.task_runner(dataclasses.replace(settings, dask_workers=1)), pending, settings)

    assert here_pid == os.getpid() and there_pid != os.getpid()  # the second was parsed in a worker process
    assert type(here.error) is UnknownLayoutError and here.error.sheet and here.error.cell
    assert type(there.error) is UnknownLayoutError and vars(there.error) == vars(here.error)


def test_errors_survive_pickling_with_their_fields() -> None:
    error = DataError("not a number", file="a.xlsx", sheet="Biểu 01", cell="G9", hint="Fix it.", details=["x"])
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is DataError and vars(copy) == vars(error) and str(copy) == str(error)


def test_the_runner_follows_the_settings(settings) -> None:
    default = runners.task_runner(dataclasses.replace(settings, workers=3))
    assert isinstance(default, ThreadPoolTaskRunner) and default._max_workers == 3
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        local = runners.task_runner(dataclasses.replace(settings, dask_workers=2))
        remote = runners.task_runner(dataclasses.replace(settings, dask_workers=2, dask_address="tcp://10.0.0.5:8786"))
    assert isinstance(local, DaskTaskRunner)
    assert local.cluster_kwargs == {"n_workers": 2, "processes": True, "threads_per_worker": 1, "dashboard_address": ":0"}
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://10.0.0.5:8786"


def test_dask_settings_come_from_the_environment(tmp_path: Path) -> None:
    env = {"NIENGIAM_DASK_ADDRESS": "tcp://10.0.0.5:8786", "NIENGIAM_DASK_WORKERS": "4"}
    settings = load_settings(env=env, home=tmp_path)
    assert (settings.dask_address, settings.dask_workers) == ("tcp://10.0.0.5:8786", 4)
    assert (load_settings(env={}, home=tmp_path).dask_address, load_settings(env={}, home=tmp_path).dask_workers) == (
        None, 0)
    for bad in ("-1", "two", "1.5"):
        with pytest.raises(UsageError, match="NIENGIAM_DASK_WORKERS must be a whole number of 0 or more"):
            load_settings(env={"NIENGIAM_DASK_WORKERS": bad}, home=tmp_path)


def test_a_bad_dask_workers_variable_is_one_sentence(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["status", "--home", str(tmp_path)], env={"NIENGIAM_DASK_WORKERS": "two"})
    assert result.exit_code == 2
    assert "NIENGIAM_DASK_WORKERS must be a whole number of 0 or more, not 'two'" in result.output
    assert "Traceback" not in result.output


def test_a_remote_scheduler_without_a_prefect_server_is_one_sentence(sample_dir: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NIENGIAM_", "PREFECT_API_URL"))}
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "backfill", "--home", str(tmp_path / "home"), "--from", "2010",
         "--to", "2015", "--dask-address", "tcp://127.0.0.1:9", str(sample_dir)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "needs a Prefect server its workers can reach" in result.stderr and "PREFECT_API_URL" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_backfill_with_dask_workers_reports_every_task_to_prefect(prefect_harness, sample_dir, tmp_path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for name in ("phu-tho_2011_gia-tri-sxcn.xlsx", "phu-tho_2012_thuong-mai.xlsx", "phu-tho_2013_thi-dua-khen-thuong.xlsx"):
        shutil.copy(sample_dir / name, source / name)
    home = tmp_path / "home"
    result = CliRunner().invoke(main, ["backfill", "--home", str(home), "--from", "2010", "--to", "2015",
                                       "--batch-size", "2", "--dask-workers", "2", str(source)])
    assert result.exit_code == 0, result.output
    assert "reading on a local Dask cluster of 2 processes" in result.stderr
    assert "Summary: 3 loaded" in result.stdout
    [(flow_run_id,)] = _query(home / "warehouse.duckdb", "select distinct flow_run_id from meta.loads")
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    parsed = [r for r in runs if r.name.startswith("parse_files")]
    assert len(parsed) == 2 and all(r.state.is_completed() for r in parsed)  # states reported from the workers


def test_help_names_the_dask_options() -> None:
    result = CliRunner().invoke(main, ["backfill", "--help"])
    assert "--dask-workers N" in result.output and "--dask-address ADDR" in result.output
    assert "NIENGIAM_DASK_ADDRESS" in result.output
