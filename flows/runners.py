"""Where the ingest flows read and parse: a pool of threads here, or the worker processes of a Dask cluster.

Only the submitted tasks (archive_files, parse_files) move to the runner; the writer is called directly
and stays in the flow's process, so the warehouse keeps one writer whatever the runner.

With threads, a run of many files also starts parse processes (`parse_processes`): parse_files still
runs as a task in a thread, but hands its batch to a process, so reading and parsing no longer share
the GIL with the writer and with each other.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, TypeVar

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.parsing import import_frozen
from flows.settings import Settings
from schemas.errors import UsageError


def task_runner(settings: Settings) -> TaskRunner:
    """Dask when settings.dask_address or settings.dask_workers is set, else settings.workers threads."""
    if settings.dask_address:
        return dask_runner(address=settings.dask_address)
    if settings.dask_workers > 0:
        return dask_runner(cluster_kwargs=local_cluster_kwargs(settings.dask_workers))
    return ThreadPoolTaskRunner(max_workers=max(1, settings.workers))


_T = TypeVar("_T")


class _Processes:
    """The running flow's parse processes, each a pool of one, lent to one batch at a time."""

    def __init__(self, pools: list[ProcessPoolExecutor]) -> None:
        self.idle: queue.Queue[ProcessPoolExecutor] = queue.Queue()
        for pool in pools:
            self.idle.put(pool)
        self.alive = len(pools)
        self.lock = threading.Lock()

    def run(self, fn: Callable[..., _T], *args: Any) -> tuple[bool, _T | None]:
        """(True, fn(*args)) on an idle process; (False, None) when every process has died."""
        while True:
            with self.lock:
                if not self.alive:
                    return False, None
            try:
                pool = self.idle.get(timeout=0.5)  # a batch waits for a process, or for the last one to die
            except queue.Empty:
                continue
            try:
                result = pool.submit(fn, *args).result()
            except BrokenProcessPool as exc:
                with self.lock:
                    self.alive -= 1
                print(f"a parse process stopped ({exc}); its batches go to the others, or to the flow's process",
                      file=sys.stderr, flush=True)
                return False, None
            self.idle.put(pool)
            return True, result


_parse_processes: _Processes | None = None  # the running flow's parse processes, if it has them


@contextmanager
def parse_processes(
    settings: Settings, files: int, adopt: Callable[[], ProcessPoolExecutor | None] = lambda: None
) -> Iterator[bool]:
    """settings.workers parse processes while the block runs, for a run of at least processes_from files
    on threads; yields whether it started them. `adopt()` may hand over a process that is running already
    (the early start's, flows.early): it is one of them, and one fewer is started.

    Starting a process costs ≈ 1–2 s of imports, parsing a workbook ≈ 15 ms of CPU: below a hundred files
    or so the threads finish first. A Dask runner has worker processes already. Started by spawn, not fork:
    the flow's process holds Prefect's threads and event loop.
    """
    global _parse_processes
    if settings.uses_dask or not 0 < settings.processes_from <= files or _parse_processes is not None:
        yield False
        return
    adopted = adopt()
    pools = [adopted] if adopted is not None else []
    pools += [ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=import_frozen)
              for _ in range(max(1, settings.workers) - len(pools))]
    _parse_processes = _Processes(pools)
    try:
        yield True
    finally:
        _parse_processes = None
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)


def parsing_in_processes() -> bool:
    """Whether the running flow parses on parse processes now (they keep the machine's other cores busy)."""
    return _parse_processes is not None


def run_parsing(fn: Callable[..., _T], *args: Any) -> _T:
    """fn(*args) on a parse process when the run has them, else here; here too when a process died.

    fn and its arguments must pickle (a module-level function, dataclasses). A process that dies (killed,
    out of memory) is not used again; its batch, and every batch once all have died, run in the task's
    own thread.
    """
    processes = _parse_processes
    if processes is not None:
        ran, result = processes.run(fn, *args)
        if ran:
            return result  # type: ignore[return-value]
    return fn(*args)


def local_cluster_kwargs(workers: int) -> dict[str, Any]:
    """A distributed.LocalCluster of `workers` single-threaded processes (parsing holds the GIL).

    Its HTTP server (the dashboard, when bokeh is installed) takes a free port, not 8787, which another
    cluster on the machine may hold.
    """
    return {"n_workers": workers, "processes": True, "threads_per_worker": 1, "dashboard_address": ":0"}


def dask_runner(**options: Any) -> TaskRunner:
    """A DaskTaskRunner whose workers report their task runs to the same Prefect API as the flow."""
    from prefect_dask import DaskTaskRunner

    share_prefect_api(remote="address" in options)
    return DaskTaskRunner(**options)


def share_prefect_api(remote: bool) -> None:
    """Make sure the flow runs against a Prefect API that Dask workers can reach, by URL.

    Each task carries the flow's settings to its worker. Without PREFECT_API_URL every worker
    process would start a temporary server of its own, so the flow's temporary server is started
    here and named in PREFECT_API_URL instead. Workers on other machines cannot reach that server
    (it listens on 127.0.0.1): a remote scheduler needs a real one.
    """
    from prefect.settings import get_current_settings

    from flows.prefect_server import temporary_url

    url = get_current_settings().api.url
    if url and not (remote and url == temporary_url()):  # the command's own temporary server, on 127.0.0.1
        return
    if remote:
        raise UsageError(
            "a Dask scheduler (NIENGIAM_DASK_ADDRESS, --dask-address) needs a Prefect server its workers can reach",
            hint="Start one ('prefect server start --host 0.0.0.0') and set PREFECT_API_URL=http://HOST:4200/api.",
        )
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance Prefect's own client would start: still one server
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url
