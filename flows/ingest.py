"""The ingest flows: archive → plan → read/parse/validate (concurrent, in batches) → write (one writer).

Every flow run holds the ingestion lock, so two ingestions never interleave; at the end it rebuilds
the views and refreshes the readers' snapshot while it still holds the warehouse.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows import early, runners, writer
from flows.parsing import Pending, parse_batch
from flows.settings import Settings
from flows.writer import FileOutcome
from schemas.errors import NiengiamError, TransientError
from warehouse import archive, db, ledger, load

RETRY_DELAYS = [1, 3, 10]
ARCHIVE_RETRY_DELAYS = (1.0, 3.0, 10.0)
BAD_STATUSES = ("rejected", "failed")
ARCHIVE_TASK_MIN = 100  # files archived by one task at least (threads)
WAVE_FILL_FILES = 150  # the writer waits for parsed batches until its wave has this many files (_wait_to_fill) …
WAVE_FILL_ROWS = 100_000  # … unless the batch it has holds this many rows already (a large table)


def _transient_only(task: Any, task_run: Any, state: State) -> bool:
    """Retry only transient errors (locks, I/O); a data problem is terminal."""
    try:
        state.result()
    except TransientError:
        return True
    except BaseException:
        return False
    return False


def _say(progress: bool, text: str) -> None:
    """Progress for the terminal (stderr) and for the Prefect UI (the run's log)."""
    if progress:
        print(text, file=sys.stderr, flush=True)
    with suppress(MissingContextError):
        get_run_logger().info(text)


def _chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    size = max(1, size)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _with_transient_retries(action: Callable[[], Any], delays: Sequence[float]) -> Any:
    """Run `action`, retrying a TransientError after each delay; any other error is final at once."""
    for delay in (*delays, None):
        try:
            return action()
        except TransientError:
            if delay is None:
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")


# --- tasks ---------------------------------------------------------------------------------------


@task(retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=_transient_only)
def prepare_warehouse(settings: Settings) -> list[int]:
    """Bring the schema up to date, refresh dimensions, and mark interrupted loads as failed."""
    with db.writing(settings.database, settings.lock_timeout_s) as con:
        load.refresh_dimensions(con)
        return ledger.mark_interrupted(con)


@task(cache_policy=NO_CACHE)
def archive_files(
    paths: list[str], settings: Settings
) -> tuple[list[archive.ArchivedFile], list[FileOutcome]]:
    """Hash each file and copy it untouched into the archive; a file still being copied is waited for."""
    archived, failed = [], []
    ahead = early.current()
    for path in paths:
        try:
            archived.append(_with_transient_retries(
                lambda p=Path(path): archive.archive_file(p, settings.archive, ahead and ahead.sha256_for(p)),
                ARCHIVE_RETRY_DELAYS,
            ))
        except NiengiamError as exc:
            failed.append(FileOutcome(archive.display_name(Path(path)), "failed", message=str(exc)))
    return archived, failed


@task(retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=_transient_only, cache_policy=NO_CACHE)
def plan_loads(
    archived: list[archive.ArchivedFile], settings: Settings, retry_of: dict[str, int]
) -> tuple[list[Pending], list[FileOutcome]]:
    """Record the received files and leave out those already handled (saying why), in one connection."""
    pending, skipped = [], []
    with db.writing(settings.database, settings.lock_timeout_s) as con:
        ledger.record_source_files(con, [
            (a.sha256, a.display_name, a.original_path, a.size_bytes, str(a.archive_path)) for a in archived
        ])
        previous = ledger.last_loads(con, [a.sha256 for a in archived])
    planned: set[str] = set()
    for item in archived:
        decision = ledger.decision_for(previous.get(item.sha256), retry_of.get(item.sha256))
        if decision.skip_reason:
            skipped.append(FileOutcome(item.display_name, "skipped", message=decision.skip_reason))
        elif item.sha256 in planned:
            skipped.append(FileOutcome(item.display_name, "skipped", message="the same content as another file of this run"))
        else:
            planned.add(item.sha256)
            pending.append(Pending(item, retry_of.get(item.sha256)))
    return pending, skipped


@task(cache_policy=NO_CACHE)
def parse_files(
    pending: list[Pending], settings: Settings, province: str | None, years: tuple[int, int] | None
) -> list[Pending]:
    """Read, parse and validate a batch of archived files; pure work, run several batches at a time.

    Files already parsed while Prefect was starting are taken as they are (flows.early); the others run
    on the parse processes when the run has them (runners.parse_processes), else in this task's thread.
    """
    return _taken_or_parsed(pending, settings, province, years)


def _taken_or_parsed(
    pending: list[Pending], settings: Settings, province: str | None, years: tuple[int, int] | None
) -> list[Pending]:
    ahead = early.current()
    ready, rest = ahead.take(pending, province, years) if ahead is not None else ({}, pending)
    parsed = iter(runners.run_parsing(parse_batch, rest, settings, province, years) if rest else [])
    return [ready[i] if i in ready else next(parsed) for i in range(len(pending))]


class _TakenAhead:
    """A batch whose files were all parsed while Prefect was starting (or are being parsed then, flows.early):
    the flow takes them when the writer reaches the batch, without a parse_files task. Such tasks only
    took results, each costing Prefect ≈ 30 ms and a turn of the task pool's threads, while the parse
    processes waited for the batches that need them. A file of the batch that changed meanwhile is parsed
    then, as parse_files would."""

    def __init__(self, pending: list[Pending], settings: Settings, province: str | None,
                 years: tuple[int, int] | None) -> None:
        self.taking = (pending, settings, province, years)
        self.wrapped_future: Future[None] = Future()  # done: the writer does not wait for it to be parsed
        self.wrapped_future.set_result(None)

    def result(self) -> list[Pending]:
        return _taken_or_parsed(*self.taking)


@task(retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=_transient_only, cache_policy=NO_CACHE)
def write_files(pending: list[Pending], settings: Settings) -> list[FileOutcome]:
    """The one writer: each file's load (or rejection) all-or-nothing (flows.writer), on the connection the
    ingestion holds (`exclusive`).

    While parse processes run, DuckDB writes on one thread: they use the other cores, and a second DuckDB
    thread only competes with them (in-process, 2,040 national workbooks in waves of 153: 4.0–4.5 ms of
    CPU per file on DuckDB's default threads, 3.3–4.1 ms on one)."""
    with db.writing(settings.database, settings.lock_timeout_s) as con:
        one_thread = runners.parsing_in_processes()
        if one_thread:
            con.execute("set threads = 1")
        try:
            return writer.write_batch(con, pending, flow_run.get_id(), settings)
        finally:
            if one_thread:
                con.execute("reset threads")  # the connection is held for the rest of the run


@task(retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=_transient_only)
def publish_warehouse(settings: Settings) -> None:
    """Rebuild the reporting views (when their SQL or the schema changed) and refresh the readers' snapshot."""
    with db.writing(settings.database, settings.lock_timeout_s) as con:
        db.refresh_views(con)
        db.publish_snapshot(con, settings.database, settings.snapshot)


@task(retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=_transient_only)
def select_reruns(
    settings: Settings, load_ids: list[int] | None, states: tuple[str, ...]
) -> tuple[list[archive.ArchivedFile], dict[str, int], list[FileOutcome]]:
    """The archived files of the chains to re-run, the first attempt of each, and why others are not."""
    with db.writing(settings.database, settings.lock_timeout_s) as con:
        if load_ids is None:
            chosen, notes = ledger.last_attempts_in(con, states), []
        else:
            chosen, notes = _explicit_reruns(con, load_ids, states)
    files, retry_of = [], {}
    for c in chosen:
        if c.last.source_sha256 in retry_of:
            continue
        if not c.archive_path.is_file():
            notes.append(FileOutcome(c.last.file_name, "failed", c.last.load_id, message=(
                f"the archived copy {c.archive_path} is missing; put the file in the inbox and run 'niengiam ingest'"
            )))
            continue
        retry_of[c.last.source_sha256] = c.first_load_id
        files.append(archive.ArchivedFile(
            c.last.source_sha256, c.archive_path, c.original_name, c.original_path or "", c.size_bytes
        ))
    return files, retry_of, notes


def _explicit_reruns(
    con: Any, load_ids: list[int], states: tuple[str, ...]
) -> tuple[list[ledger.RerunCandidate], list[FileOutcome]]:
    chosen, notes = [], []
    for load_id in load_ids:
        found = ledger.last_attempt_of(con, load_id)
        if found is None:
            notes.append(FileOutcome(f"load {load_id}", "unknown", message=f"there is no load {load_id}"))
        elif found.last.status not in states:
            notes.append(FileOutcome(found.last.file_name, "skipped", found.last.load_id, message=(
                f"load {load_id}: its last attempt (load {found.last.load_id}) is {found.last.status}"
                f"{f' ({found.last.rows_loaded} rows)' if found.last.status == 'loaded' else ''}; nothing to re-run"
            )))
        else:
            chosen.append(found)
    return chosen, notes


# --- wiring ----------------------------------------------------------------------------------------


class _Progress:
    """Counts outcomes as they arrive and prints one line per file."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.done = total, enabled, 0

    def report(self, outcomes: list[FileOutcome]) -> list[FileOutcome]:
        for o in outcomes:
            self.done += 1
            detail = f" ({o.rows} rows, {o.years})" if o.status == "loaded" else ""
            detail += f" — {o.message}" if o.status != "loaded" and o.message else ""
            _say(self.enabled, f"[{self.done}/{self.total}] {o.file}: {o.status}{detail}")
        return outcomes


def _failed_batch(items: list[Any], exc: BaseException) -> list[FileOutcome]:
    """Every file of a batch whose step failed as a whole (a lock that outlived its retries)."""
    def name(item: Any) -> str:
        if isinstance(item, Pending):
            return item.archived.display_name
        if isinstance(item, archive.ArchivedFile):
            return item.display_name
        return archive.display_name(Path(item))

    return [FileOutcome(name(i), "failed", message=str(exc)) for i in items]


def load_batches(
    batches: list[tuple[list[Any], Any]],
    settings: Settings,
    *,
    province: str | None = None,
    years: tuple[int, int] | None = None,
    retry_of: dict[str, int] | None = None,
    progress: Callable[[list[FileOutcome]], list[FileOutcome]] = lambda o: o,
    say: Callable[[str], None] = lambda text: None,
    batch_size: int | None = None,
) -> list[FileOutcome]:
    """Plan every file at once, parse the batches concurrently, and write them one at a time, in order.

    `batches` pairs the inputs of each batch with what archived them: a future of archive_files,
    or an (archived, failed) tuple when the files are already in the archive (re-runs). Planning is
    one task and one connection for the whole run: a re-run of thousands of unchanged files costs
    one lookup, not one per batch. Files are parsed and written `batch_size` at a time (default: as
    many as the largest input batch).
    """
    outcomes: list[FileOutcome] = []
    received: list[archive.ArchivedFile] = []
    for inputs, source in batches:
        try:
            archived, failed = source.result() if hasattr(source, "result") else source
        except Exception as exc:
            outcomes += progress(_failed_batch(inputs, exc))
            continue
        outcomes += progress(failed)
        received += archived
    if not received:
        return outcomes
    # quote(): Prefect would otherwise walk every field of every file, twice per call (≈ 0.3 s per
    # thousand files), looking for futures; these lists never hold any. Not on parse_files.submit:
    # a quoted argument reaches a Dask worker still wrapped, and every file of the batch fails.
    try:
        pending, skipped = plan_loads(quote(received), settings, retry_of or {})
    except Exception as exc:
        return outcomes + progress(_failed_batch(received, exc))
    outcomes += progress(skipped)
    size = batch_size or max(len(inputs) for inputs, _ in batches)
    ahead = early.current()
    # The processes parse the rest; the early thread would only compete with them, its process becomes one.
    with runners.parse_processes(settings, len(pending), adopt=ahead.hand_over if ahead else lambda: None) as started:
        if started:
            say(f"parsing {len(pending)} files in {max(1, settings.workers)} processes")
        parsing = [(chunk, _TakenAhead(chunk, settings, province, years) if ahead is not None and ahead.has(
                        chunk, province, years) else parse_files.submit(chunk, settings, province, years))
                   for chunk in _chunks(pending, size)]
        while parsing:
            (chunk, future), parsing = parsing[0], parsing[1:]
            try:
                parsed = list(future.result())
                if started and _rows(parsed) < WAVE_FILL_ROWS:  # a large run, its parse processes busy
                    _wait_to_fill(parsing, len(chunk))
                more, parsing = _parsed_already(parsing, len(chunk))
                for also, done in more:
                    chunk, parsed = chunk + also, parsed + list(done.result())
                outcomes += progress(write_files(quote(parsed), settings))
            except Exception as exc:
                outcomes += progress(_failed_batch(chunk, exc))
    if ahead is not None and ahead.taken:
        say(f"{ahead.taken} of {len(pending)} files were read and parsed while Prefect was starting")
    return outcomes


def _rows(parsed: list[Pending]) -> int:
    return sum(len(f) for p in parsed if p.validated is not None for f in p.validated.frames.values())


def _wait_to_fill(parsing: list[tuple[list[Any], Any]], files: int) -> None:
    """Wait for the batches at the head of `parsing` while a wave with `files` files would hold fewer than
    WAVE_FILL_FILES: on a backfill the writer otherwise writes each batch of ≈ 50 as it is parsed, and a
    wave costs the writer ≈ 5 ms of CPU per file at 51 files, ≈ 3.6 ms at 153 (its statements, commit and
    history check are per wave), CPU the parse processes need. Stops at a batch that failed (it is reported
    alone) and at one not parsed in this process's pool of threads (Dask's futures are not waited for).

    Only while parse processes run (a run of 100 files or more): a smaller run is written batch by batch,
    its progress shown and its loads committed as they come."""
    for chunk, future in parsing:
        finished = getattr(future, "wrapped_future", None)
        if files >= WAVE_FILL_FILES or files + len(chunk) > writer.WAVE_MAX_FILES or not isinstance(finished, Future):
            return
        if finished.exception() is not None:  # waits for the batch to be parsed
            return
        files += len(chunk)


def _parsed_already(
    parsing: list[tuple[list[Any], Any]], files: int
) -> tuple[list[tuple[list[Any], Any]], list[tuple[list[Any], Any]]]:
    """The batches at the head of `parsing` that are parsed already, without error, as many as fit in a
    writer's wave with `files` files; and the others. Written with the batch before them, by one task:
    files parsed while Prefect was starting fill several batches at once, and each task costs Prefect
    ≈ 30 ms and a few API calls."""
    ready = 0
    for chunk, future in parsing:
        finished = getattr(future, "wrapped_future", None)
        if files + len(chunk) > writer.WAVE_MAX_FILES or not isinstance(finished, Future) or not finished.done() \
                or finished.exception() is not None:
            break
        ready, files = ready + 1, files + len(chunk)
    return parsing[:ready], parsing[ready:]


@contextmanager
def exclusive(settings: Settings, progress: bool) -> Iterator[None]:
    """Hold the ingestion lock and one write connection (`db.holding_writer`), then bring the warehouse up
    to date and mark interrupted loads failed."""
    with db.ingest_lock(settings.ingest_lock, settings.ingest_wait_s, on_wait=lambda m: _say(progress, m)), \
            db.holding_writer(settings.database):
        interrupted = prepare_warehouse(settings)
        if interrupted:
            _say(progress, "marked interrupted loads as failed (run 'niengiam rerun --failed'): "
                 + ", ".join(map(str, interrupted)))
        yield
        publish_warehouse(settings)


def ingest_paths(
    paths: list[str],
    settings: Settings,
    *,
    province: str | None = None,
    years: tuple[int, int] | None = None,
    progress: bool = True,
) -> list[FileOutcome]:
    """The body of every ingestion: files archived and read in batches, written by one writer."""
    size = settings.files_per_batch(len(paths))
    batches = _chunks(paths, size)
    if len(batches) > 1:
        _say(progress, f"{len(paths)} files in {len(batches)} batches of up to {size}")
    # Archiving is hashing and copying, and planning waits for all of it: one task per worker thread
    # is enough, and one for a run of up to ARCHIVE_TASK_MIN files (each task costs Prefect ≈ 25 ms and
    # a few API calls). A Dask cluster gets the batches.
    share = size if settings.uses_dask else max(ARCHIVE_TASK_MIN, -(-len(paths) // max(1, settings.workers)))
    archiving = [(chunk, archive_files.submit(chunk, settings)) for chunk in _chunks(paths, share)]
    counter = _Progress(len(paths), progress)
    return load_batches(archiving, settings, province=province, years=years, progress=counter.report,
                        say=lambda text: _say(progress, text), batch_size=size)


def flow_failure(label: str, exc: NiengiamError) -> State:
    """A flow that could not start (lock, locked warehouse): Failed, saying why, as one outcome."""
    outcome = FileOutcome(label, "failed", message=str(exc))
    return Failed(data=[outcome], message=f"{label}: {exc}")


@flow(name="niengiam-ingest", flow_run_name="ingest-{label}", validate_parameters=False,
      task_runner=ThreadPoolTaskRunner(max_workers=2))
def ingest(
    paths: list[str],
    settings: Settings,
    label: str = "inbox",
    province: str | None = None,
    progress: bool = True,
    years: tuple[int, int] | None = None,
) -> State:
    """Ingest spreadsheet files into the warehouse; Failed (naming the files) when any was rejected or failed."""
    try:
        with exclusive(settings, progress):
            outcomes = ingest_paths(paths, settings, province=province, years=years, progress=progress)
    except NiengiamError as exc:
        return flow_failure(label, exc)
    return finish_state(outcomes)


@flow(name="niengiam-rerun", flow_run_name="rerun-{label}", validate_parameters=False,
      task_runner=ThreadPoolTaskRunner(max_workers=2))
def rerun(
    settings: Settings,
    load_ids: list[int] | None = None,
    label: str = "failed",
    states: tuple[str, ...] = BAD_STATUSES,
    province: str | None = None,
    progress: bool = True,
) -> State:
    """Re-run loads whose last attempt failed or was rejected, from the archived raw file."""
    try:
        with exclusive(settings, progress):
            files, retry_of, notes = select_reruns(settings, load_ids, states)
            counter = _Progress(len(files) + len(notes), progress)
            outcomes = counter.report(notes)
            batches = [(batch, (batch, [])) for batch in _chunks(files, settings.files_per_batch(len(files)))]
            outcomes += load_batches(batches, settings, province=province, retry_of=retry_of, progress=counter.report,
                                     say=lambda text: _say(progress, text))
    except NiengiamError as exc:
        return flow_failure(label, exc)
    return finish_state(outcomes)


def with_workers(flow_object: Any, settings: Settings) -> Any:
    """The flow with its reading and parsing on settings.workers threads, or on Dask when configured."""
    return flow_object.with_options(task_runner=runners.task_runner(settings))


def finish_state(outcomes: list[FileOutcome], note: str = "") -> State:
    """Completed when every file loaded or was skipped; Failed naming the files otherwise."""
    bad = [o for o in outcomes if o.status in BAD_STATUSES]
    if not bad:
        return Completed(data=outcomes, message=f"{len(outcomes)} file(s) handled{note}")
    names = "; ".join(f"{o.file}: {o.status} — {o.problems[0] if o.problems else o.message}" for o in bad[:5])
    return Failed(data=outcomes, message=f"{len(bad)} of {len(outcomes)} file(s) not loaded: {names}{note}")
