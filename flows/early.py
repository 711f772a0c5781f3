"""Hashing, reading and parsing that start before the flow does, while Prefect's server starts.

A command that runs a flow on the temporary Prefect server waits 10–25 s before the flow's first task:
Prefect is imported, its server is started (migrating its database when the home is new) and the flow
run is created. That leaves one of the machine's two cores mostly idle. `EarlyStart` uses it:
- a thread hashes the named files;
- when there is enough new work (PARSE_FROM_FILES files or PARSE_FROM_MB), one spawned process, at
  nice 10, reads, parses and validates the files not yet in the archive, with the same pure code as
  `parse_files` (a thread would share the GIL with Prefect's start and delay it by as much as it saves);
- each group's results wait in a file under the staging folder, so a million-row table reaches the
  flow's process after the early process has ended, not while both hold it; once every group is parsed,
  the thread loads them (importing pandas on the way) so that the flow's task finds them in memory;
- fewer new files than that are parsed by `parse_here`, in the command's main thread, while Prefect's
  server (started first, flows.prefect_server) has not answered yet: the thread would otherwise only
  wait, and a process costs more to start than those files cost to parse.

The flow stays the authority. Its tasks archive, hash and plan as always, then the flow takes a file's
result from here (a batch parsed here entirely, without a parse task) only when it is for the same
bytes: the same sha256, from a file whose size, mtime and inode did not change between hashing and the
end of its parsing, parsed with the same province and years.
A file changed meanwhile, one whose suffix the archive would change, or one not reached yet is parsed
by the flow as usual; so is every file of a run too small to be worth a process. Files already in the
archive (an unchanged re-run) are hashed only, and the archive step uses those hashes. Parsing ahead
stops when the flow starts its parse processes; results nobody takes (skipped files) are dropped.

Imports no Prefect and no DuckDB: it runs while they are being imported.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from flows.parsing import Pending, import_frozen, parse_batch, parse_batch_to_file
from flows.settings import Settings
from warehouse import archive

GROUP = 10  # files parsed (and validated) together ahead, at least; also what the flow may have to wait for
GROUP_MAX = 150  # … and at most (see _group_size)
PARSE_FROM_FILES = 30  # parse ahead only this many new files or more …
PARSE_FROM_MB = 10.0  # … or this many MB: below, starting a process costs more than the parsing it saves
_current: EarlyStart | None = None  # the running command's early start, read by the flow's tasks


def _second_in_line() -> None:
    """The early process yields the CPU to Prefect's start (and the server's): it only uses what is idle.
    It imports the parsing modules at once (parsing.import_frozen)."""
    os.nice(10)
    import_frozen()


def _group_size(files: int) -> int:
    """Files per group of the early process: a tenth of the run's, from GROUP to GROUP_MAX, as large as the
    flow's batches (Settings.files_per_batch). A group is validated as one batch, and pandera costs about the
    same for 10 files as for 150: parsing and validating national workbooks cost ≈ 19 ms each in groups of
    10, ≈ 9–13 ms in groups of 50, validating alone 2.7 ms a file in groups of 50 and 1.4 ms in groups of
    150. A larger group is longer to wait for when the flow needs one of its files (≈ 1.5 s at 150), and to
    stop parsing at."""
    return min(GROUP_MAX, max(GROUP, files // 10))


def _worth_a_process(files: int, size_bytes: int) -> bool:
    return files >= PARSE_FROM_FILES or size_bytes >= PARSE_FROM_MB * 1e6


def _remove_stale(staging: Path) -> None:
    """Result files left by a command that was killed (its pid is gone): a large table's are hundreds of MB."""
    for leftover in staging.glob("early-*.pickle*"):
        try:
            os.kill(int(leftover.name.split("-")[1]), 0)
        except ProcessLookupError:
            leftover.unlink(missing_ok=True)
        except (ValueError, IndexError, OSError):
            continue  # not ours to judge, or a process of another user: still alive


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass
class _Hashed:
    path: Path
    key: tuple[int, int, int]
    sha256: str


class EarlyStart:
    """The files of one command, hashed (in a thread) and parsed (in one process) ahead of its flow."""

    def __init__(self, paths: list[str], settings: Settings, province: str | None,
                 years: tuple[int, int] | None = None, settle_s: float = 0.5) -> None:
        self.paths = [Path(p) for p in paths]
        self.settings, self.province, self.years, self.settle_s = settings, province, years, settle_s
        self._hashed: dict[str, _Hashed] = {}  # by the path as named (the flow names it the same way)
        self._stored: dict[str, Path] = {}  # sha256 → the file holding its group's results
        self._groups: dict[Path, list[str]] = {}  # such a file → the sha256 of its results, in order
        self._results: dict[str, Pending] = {}  # loaded from a group's file, not yet taken
        self._claimed: dict[str, str] = {}  # sha256 → "early" (being parsed here) or "flow"
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="niengiam-early-start", daemon=True)
        self._pool: ProcessPoolExecutor | None = None  # the early process, until the thread ends or hands it over
        self._decided = threading.Event()  # set once the thread knows whether it parses in a process
        self._few: list[_Hashed] = []  # new files too few for the early process (parse_here takes them)
        self.parsed = 0  # files whose results are stored for the flow
        self.taken = 0  # … of which the flow took

    # --- the thread --------------------------------------------------------------------------------

    def start(self) -> EarlyStart:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            _remove_stale(self.settings.staging)
            todo: list[_Hashed] = []
            size = 0
            for hashed in map(self._hash, self.paths):
                if hashed is not None and self._worth_parsing(hashed):
                    todo.append(hashed)
                    size += hashed.key[0]
                    if self._pool is None and _worth_a_process(len(todo), size):
                        self._process()  # spawned (its imports begin) while the rest is hashed
            if not _worth_a_process(len(todo), size):
                self._few = todo
                return
            self._decided.set()
            size = _group_size(len(todo))
            for start in range(0, len(todo), size):
                if self._stop.is_set():
                    return
                self._parse_group(todo[start : start + size])
            with self._changed:
                pool, self._pool = self._pool, None
            if pool is not None:  # all parsed: the process ends, its results are loaded here
                pool.shutdown(wait=True)  # (importing pandas with them) before the flow asks
                with self._changed:
                    for stored in list(self._groups):
                        if not self._stop.is_set():
                            self._load(stored)
        except Exception:  # never the flow's problem: it parses whatever is not here
            return
        finally:
            self._decided.set()
            with self._changed:
                pool, self._pool = self._pool, None  # None: handed over to the flow's parse processes
                self._stop.set()
                self._changed.notify_all()
            if pool is not None:
                pool.shutdown(wait=False)

    def _hash(self, path: Path) -> _Hashed | None:
        """The file's sha256 when it is settled (not being written) and stays the same while it is read."""
        if self._stop.is_set():
            return None
        key = _stat_key(path)
        if key is None or time.time() - key[1] / 1e9 < self.settle_s:
            return None
        sha = archive.sha256_of(path)
        if _stat_key(path) != key:
            return None
        found = _Hashed(path, key, sha)
        with self._changed:
            self._hashed[str(path)] = found
        return found

    def _worth_parsing(self, hashed: _Hashed) -> bool:
        """Not too large, not in the archive already, and read from a path whose suffix the archive keeps."""
        target = archive.archive_path_for(self.settings.archive, hashed.sha256, hashed.path.suffix)
        if hashed.key[0] > self.settings.max_file_mb * 1e6 or target.suffix != hashed.path.suffix:
            return False
        return not target.exists()

    def _process(self) -> ProcessPoolExecutor | None:
        """The early process, spawned now if it is not yet (and parsing ahead goes on): its imports begin."""
        with self._changed:
            if self._pool is None and not self._stop.is_set():
                self._pool = ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("spawn"), initializer=_second_in_line
                )
                self._pool.submit(int)  # a process pool starts its process at the first task
            return self._pool

    def _parse_group(self, group: list[_Hashed]) -> None:
        """Parse a group in the early process; its results wait in a file until the flow takes them."""
        with self._changed:
            mine = [h for h in group if h.sha256 not in self._claimed]
            for h in mine:
                self._claimed[h.sha256] = "early"
        items = [self._pending(h) for h in mine]
        stored: Path | None = None
        try:
            pool = self._process()  # handed over meanwhile, it still parses this group first
            if items and pool is not None:
                self.settings.staging.mkdir(parents=True, exist_ok=True)
                out = self.settings.staging / f"early-{os.getpid()}-{mine[0].sha256[:16]}.pickle"  # one group per sha
                stored = pool.submit(parse_batch_to_file, items, self.settings, self.province, self.years, out).result()
        finally:
            with self._changed:
                if stored is not None:
                    self._groups[stored] = [h.sha256 for h in mine]
                    for h in mine:
                        if _stat_key(h.path) == h.key:  # the bytes parsed are the bytes hashed
                            self._stored[h.sha256] = stored
                            self.parsed += 1
                for h in mine:
                    del self._claimed[h.sha256]  # unclaimed and not stored: the flow parses it
                self._changed.notify_all()

    def parse_here(self, starting: Callable[[], bool]) -> None:
        """In the calling thread, while `starting()` (Prefect's server is still starting): read, parse and
        validate the new files too few to be worth the early process, a group at a time.

        The command's main thread only waits for the server then, and the server's start uses one core;
        this uses the other. What is not parsed when the server answers is parsed by the flow.
        """
        while not self._decided.wait(0.05):  # hashing many or large files: the flow does not wait for it
            if not starting():
                return
        todo, self._few = self._few, []
        for start in range(0, len(todo), GROUP):
            if not starting():
                return
            group = todo[start : start + GROUP]
            with self._changed:
                for h in group:
                    self._claimed[h.sha256] = "early"
            try:
                results = parse_batch([self._pending(h) for h in group], self.settings, self.province, self.years)
            except Exception:  # never the flow's problem: it parses these itself
                results = []
            with self._changed:
                for h, result in zip(group, results, strict=False):
                    if _stat_key(h.path) == h.key:  # the bytes parsed are the bytes hashed
                        self._results[h.sha256] = result
                        self.parsed += 1
                for h in group:
                    del self._claimed[h.sha256]
                self._changed.notify_all()

    @staticmethod
    def _pending(hashed: _Hashed) -> Pending:
        return Pending(archive.ArchivedFile(
            hashed.sha256, hashed.path, archive.display_name(hashed.path), str(hashed.path), hashed.key[0]
        ))

    def _load(self, stored: Path) -> None:
        """A group's results from its file into memory (the caller holds the lock); the file is removed."""
        shas = self._groups.pop(stored)
        with stored.open("rb") as handle:
            results = pickle.load(handle)
        stored.unlink(missing_ok=True)
        for sha, result in zip(shas, results, strict=True):
            if self._stored.pop(sha, None) == stored:
                self._results[sha] = result

    def stop(self) -> None:
        """Parse no further group; the group being parsed still finishes (and can be taken)."""
        self._stop.set()

    def hand_over(self) -> ProcessPoolExecutor | None:
        """Stop, and give the early process (running, its imports done) to the flow as one of its parse
        processes, if there is one: the flow shuts it down. The group being parsed still finishes first."""
        with self._changed:
            self._stop.set()
            pool, self._pool = self._pool, None
        return pool

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the thread has hashed and parsed all it will; whether it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self) -> None:
        """Stop (ending a group still being parsed: the flow is over) and drop what the flow did not take."""
        self.stop()
        pool = self._pool
        if self._thread.is_alive() and pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()  # the group's result would go unused; its .result() then raises
        self._thread.join()
        self._results.clear()
        for stored in self._groups:
            stored.unlink(missing_ok=True)
        self._groups.clear()
        self._stored.clear()

    # --- what the flow asks ------------------------------------------------------------------------

    def sha256_for(self, path: Path) -> str | None:
        """The file's hash from this run's thread when the file has not changed since; None otherwise."""
        found = self._hashed.get(str(path))  # a dict read: no lock needed
        return found.sha256 if found is not None and _stat_key(path) == found.key else None

    def has(self, pending: list[Pending], province: str | None, years: tuple[int, int] | None) -> bool:
        """Whether every file of `pending` is parsed here or being parsed, for this province and year range."""
        if (province, years) != (self.province, self.years):
            return False
        with self._changed:
            return all(p.archived.sha256 in self._results or p.archived.sha256 in self._stored
                       or self._claimed.get(p.archived.sha256) == "early" for p in pending)

    def take(
        self, pending: list[Pending], province: str | None, years: tuple[int, int] | None
    ) -> tuple[dict[int, Pending], list[Pending]]:
        """The results ready for these files (by position), waiting for those being parsed; the rest,
        which the flow parses itself (they are no longer parsed here). Nothing when the flow parses
        with another province or year range than this thread did."""
        ready: dict[int, Pending] = {}
        rest: list[Pending] = []
        if (province, years) != (self.province, self.years):
            return ready, list(pending)
        with self._changed:
            for i, item in enumerate(pending):
                sha = item.archived.sha256
                while self._claimed.get(sha) == "early":
                    self._changed.wait()
                if sha in self._stored:
                    self._load(self._stored[sha])
                found = self._results.pop(sha, None)
                if found is None:
                    self._claimed[sha] = "flow"
                    rest.append(item)
                else:
                    ready[i] = replace(found, archived=item.archived, retry_of=item.retry_of)
            self.taken += len(ready)
        return ready, rest


@contextmanager
def early_start(
    paths: list[str], settings: Settings, province: str | None, years: tuple[int, int] | None = None
) -> Iterator[EarlyStart | None]:
    """An EarlyStart over `paths` while the block runs (the flow), unless it is off or Dask parses."""
    global _current
    if not settings.early_start or settings.uses_dask or _current is not None or not paths:
        yield None
        return
    _current = EarlyStart(paths, settings, province, years).start()
    try:
        yield _current
    finally:
        started, _current = _current, None
        started.close()


def current() -> EarlyStart | None:
    """The early start of the command running the flow, if any (only in the flow's own process)."""
    return _current
