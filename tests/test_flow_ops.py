"""The ingest flow's operational side under a real Prefect server: retries by kind, failed runs that name
the file, the ledger linked to the flow run, batches read concurrently and written by one writer."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from flows.ingest import _transient_only, archive_files, ingest, prepare_warehouse
from schemas.errors import DataError, TransientError
from tests._ops import copy_samples, query
from warehouse import archive, db

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _task_run(task_run_id):
    with get_client(sync_client=True) as client:
        return client.read_task_run(task_run_id)


def test_a_task_that_meets_a_locked_warehouse_is_retried(settings) -> None:
    with db.writing(settings.database):
        pass
    settings = replace(settings, lock_timeout_s=0.2)
    holder: list[subprocess.Popen] = []

    @flow
    def prepare() -> object:
        holder.append(subprocess.Popen([  # a BI tool holding the warehouse for 2 s, from now
            sys.executable, "-c",
            f"import duckdb, time; con = duckdb.connect({str(settings.database)!r}, read_only=True);"
            " print('ready', flush=True); time.sleep(2)",
        ], stdout=subprocess.PIPE, text=True))
        assert holder[0].stdout.readline().strip() == "ready"
        return prepare_warehouse(settings, return_state=True).state_details.task_run_id

    task_run = _task_run(prepare())
    holder[0].wait()
    assert task_run.state.is_completed()
    assert task_run.run_count >= 2  # the first attempt met the lock and was retried


@task(retries=3, retry_delay_seconds=0, retry_condition_fn=_transient_only)
def _fails_with(kind: str) -> None:
    if kind == "data":
        raise DataError("the header is not recognised", file="x.xlsx", sheet="S", cell="B7")
    raise TransientError("the warehouse is in use by process 1")


@pytest.mark.parametrize(("kind", "runs"), [("data", 1), ("transient", 4)])
def test_data_errors_are_terminal_and_transient_errors_are_retried(kind: str, runs: int) -> None:
    @flow
    def run() -> object:
        return _fails_with(kind, return_state=True).state_details.task_run_id

    task_run = _task_run(run())
    assert task_run.state.is_failed()
    assert task_run.run_count == runs


def test_a_file_still_being_copied_is_archived_once_it_is_complete(settings, tmp_path: Path) -> None:
    path = tmp_path / "growing.csv"
    path.write_bytes(b"a,b\n")

    def keep_writing() -> None:
        for i in range(16):
            with path.open("ab") as handle:
                handle.write(f"{i},{i}\n".encode())
            time.sleep(0.15)

    writer = threading.Thread(target=keep_writing)
    writer.start()

    @flow
    def run() -> object:
        return archive_files([str(path)], settings)

    archived, failed = run()
    writer.join()
    assert failed == []
    assert archived[0].sha256 == archive.sha256_of(path)  # the whole file, not a prefix


def test_a_failed_run_names_the_file_and_the_reason_and_loads_link_to_the_run(settings, sample_dir, tmp_path) -> None:
    inbox = tmp_path / "in"
    copy_samples(sample_dir, inbox, "phu-tho_2011_gia-tri-sxcn.xlsx")
    (inbox / "so-lieu-hong.csv").write_text("khong,co\n1,2\n", encoding="utf-8")
    state = ingest([str(p) for p in sorted(inbox.iterdir())], settings, progress=False, return_state=True)
    assert state.is_failed()
    with get_client(sync_client=True) as client:
        run = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))[0]
    assert "so-lieu-hong.csv: rejected" in run.state.message
    assert "layout spec" in run.state.message
    rows = query(settings.database, "select file_name, status, flow_run_id from meta.loads order by load_id")
    assert {(name, status) for name, status, _ in rows} == {
        ("phu-tho_2011_gia-tri-sxcn.xlsx", "loaded"), ("so-lieu-hong.csv", "rejected")
    }
    assert {run_id for *_, run_id in rows} == {str(run.id)}


def test_batches_are_read_concurrently_and_written_by_one_writer(settings, sample_dir, tmp_path) -> None:
    files = copy_samples(sample_dir, tmp_path / "in", "phu-tho_201[01]_*")
    settings = replace(settings, workers=2, batch_size=2)
    state = ingest([str(p) for p in files], settings, progress=False, return_state=True)
    assert state.is_completed()
    with get_client(sync_client=True) as client:
        from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId

        task_runs = client.read_task_runs(task_run_filter=TaskRunFilter(
            flow_run_id=TaskRunFilterFlowRunId(any_=[state.state_details.flow_run_id])
        ))
    by_task: dict[str, list] = {}
    for run in task_runs:
        by_task.setdefault(run.task_key.split("-")[0], []).append(run)
    assert len(by_task["parse_files"]) == 3  # 6 files, batches of 2; those parsed already are written together
    assert 1 <= len(by_task["write_files"]) <= 3
    writes = sorted((r.start_time, r.end_time) for r in by_task["write_files"])
    assert all(end <= next_start for (_, end), (next_start, _) in zip(writes, writes[1:]))  # never two at once
    assert query(settings.database, "select count(*), count(distinct source_sha256) from meta.loads") == [(6, 6)]


def test_an_ingestion_opens_the_warehouse_once(settings, sample_dir, tmp_path, monkeypatch) -> None:
    files = copy_samples(sample_dir, tmp_path / "in", "phu-tho_201[01]_*")
    opened: list[Path] = []
    open_database = db.open_database
    monkeypatch.setattr(db, "open_database", lambda path, **kw: opened.append(path) or open_database(path, **kw))
    state = ingest([str(p) for p in files], replace(settings, batch_size=2), progress=False, return_state=True)
    assert state.is_completed()
    # prepare, plan, three waves at most and publish: one connection, closed at the end
    assert opened == [settings.database]
    assert query(settings.database, "select count(*) from meta.loads where status = 'loaded'") == [(6,)]
    duckdb_con = db.open_database(settings.database, read_only=False, timeout_s=1)  # not held any more
    duckdb_con.close()


@pytest.mark.parametrize("batch_size", [2, 10])
def test_the_same_content_twice_in_one_run_is_loaded_once(settings, sample_dir, tmp_path, batch_size) -> None:
    """Copies in the same batch (caught when planning) or in later batches (caught by the writer)."""
    files = copy_samples(sample_dir, tmp_path / "in", "phu-tho_2010_*")
    copies = []
    for i, path in enumerate(files):
        copy = tmp_path / "copies" / f"ban-sao-{i}{path.suffix}"
        copy.parent.mkdir(exist_ok=True)
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    state = ingest([str(p) for p in [*files, *copies]], replace(settings, batch_size=batch_size), progress=False,
                   return_state=True)
    outcomes = state.result()
    assert sorted(o.status for o in outcomes) == ["loaded"] * 3 + ["skipped"] * 3
    assert query(settings.database, "select count(*), count(distinct source_sha256) from meta.loads") == [(3, 3)]


def test_batches_parsed_already_are_written_together_up_to_a_wave() -> None:
    from concurrent.futures import Future

    from flows import writer
    from flows.ingest import _parsed_already

    def batch(files: int, state: str) -> tuple[list[int], object]:
        future: Future = Future()
        if state == "done":
            future.set_result(list(range(files)))
        elif state == "failed":
            future.set_exception(OSError("disk"))
        return list(range(files)), type("PrefectFuture", (), {"wrapped_future": future})()

    wave = writer.WAVE_MAX_FILES
    done, running, failed = batch(50, "done"), batch(50, "running"), batch(50, "failed")
    assert _parsed_already([done, done, running, done], 50) == ([done, done], [running, done])
    assert _parsed_already([done, failed, done], 50) == ([done], [failed, done])  # a failure is reported alone
    assert _parsed_already([done] * 5, 50) == ([done] * 3, [done] * 2)  # 200 files: one wave
    assert _parsed_already([done], wave) == ([], [done])  # the batch before fills a wave already


def test_the_writer_waits_for_batches_being_parsed_until_its_wave_is_full() -> None:
    import threading
    from concurrent.futures import Future

    from flows import ingest, writer

    def batch(files: int, state: str, after_s: float = 0.0) -> tuple[list[int], object]:
        future: Future = Future()
        if state == "done":
            future.set_result(list(range(files)))
        elif state == "failed":
            future.set_exception(OSError("disk"))
        elif state == "later":
            threading.Timer(after_s, future.set_result, [list(range(files))]).start()
        return list(range(files)), type("PrefectFuture", (), {"wrapped_future": future})()

    later = [batch(50, "later", 0.2), batch(50, "later", 0.3), batch(50, "later", 0.4)]
    ingest._wait_to_fill(later, 50)  # 50 + 50 + 50 files: the third is not waited for
    assert [b[1].wrapped_future.done() for b in later] == [True, True, False]  # type: ignore[attr-defined]
    assert ingest._parsed_already(later[:2], 50) == (later[:2], [])

    failing = [batch(50, "failed"), batch(50, "later", 0.2)]
    ingest._wait_to_fill(failing, 50)  # a failure is reported alone: nothing after it is waited for
    assert not failing[1][1].wrapped_future.done()  # type: ignore[attr-defined]

    elsewhere = [(list(range(50)), object())]  # not a future of this process's threads (Dask)
    ingest._wait_to_fill(elsewhere, 50)

    too_many = [batch(writer.WAVE_MAX_FILES, "later", 0.2)]
    ingest._wait_to_fill(too_many, 50)  # would not fit in the wave
    assert not too_many[0][1].wrapped_future.done()  # type: ignore[attr-defined]
    assert ingest.WAVE_FILL_FILES <= writer.WAVE_MAX_FILES


def test_the_writer_uses_one_duckdb_thread_while_parse_processes_run(settings, monkeypatch) -> None:
    from flows import ingest as flows_ingest
    from flows import runners, writer

    seen: list[int] = []
    monkeypatch.setattr(writer, "write_batch", lambda con, pending, run_id, settings: seen.append(
        con.execute("select current_setting('threads')").fetchone()[0]) or [])
    flows_ingest.write_files.fn([], settings)
    with runners.parse_processes(replace(settings, processes_from=1, workers=1), 1) as started:
        assert started
        flows_ingest.write_files.fn([], settings)
    assert seen[0] > 1 and seen[1] == 1  # DuckDB's default (one per core) alone; one beside the parse processes
    with db.holding_writer(settings.database):
        with runners.parse_processes(replace(settings, processes_from=1, workers=1), 1):
            flows_ingest.write_files.fn([], settings)
        flows_ingest.write_files.fn([], settings)  # the held connection: back to the default afterwards
    assert seen[2] == 1 and seen[3] == seen[0]
