"""The one writer: a batch of parsed files into the warehouse, each file's load all-or-nothing.

A batch is written in waves: files that do not replace the same partitions share one transaction (one
ledger statement, one update and one insert per dataset), and each is still checked against history as if
written alone — a file reads the figures an earlier file of its wave wrote, from memory, where it would have
read them from the warehouse. When a wave fails as a whole, its files are written again one at a time, each
in its own transaction, so that one bad file never spoils the others. Imports no Prefect.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from flows.parsing import Pending
from flows.settings import Settings
from schemas.errors import NiengiamError
from schemas.problems import Problem, problem
from warehouse import db, ledger, load, quarantine

if TYPE_CHECKING:  # the parsing modules (pandas, pandera) are imported where a file is written
    import pandas as pd

    from schemas.pipeline import ValidatedFile

WAVE_MAX_FILES = 200  # files written in one transaction at most (a batch is ≈ 50 on a national backfill)


@dataclass
class FileOutcome:
    """What happened to one file: loaded, skipped, outside (the year range), rejected or failed, and why."""

    file: str
    status: str
    load_id: int | None = None
    rows: int = 0
    datasets: str | None = None
    years: str | None = None
    message: str = ""
    problems: list[str] = field(default_factory=list)


def write_batch(con: Any, pending: list[Pending], run_id: str | None, settings: Settings) -> list[FileOutcome]:
    """Each file of the batch loaded, rejected, failed or skipped, in order, on one write connection."""
    previous = ledger.last_loads(con, [item.archived.sha256 for item in pending])
    outcomes: list[FileOutcome | None] = [None] * len(pending)
    todo: list[tuple[int, Pending, int | None]] = []
    for i, item in enumerate(pending):
        name = item.archived.display_name
        decision = ledger.decision_for(previous.get(item.archived.sha256), item.retry_of)  # again: makes a
        if item.outside:                                                                     # retried batch
            outcomes[i] = FileOutcome(name, "outside", message=item.outside)                 # idempotent
        elif decision.skip_reason:
            outcomes[i] = FileOutcome(name, "skipped", message=decision.skip_reason)
        else:
            todo.append((i, item, decision.retry_of))
    corrections = quarantine.any_rejected(con)  # no rejected load yet: nothing a load could correct
    for wave in _waves([item for _, item, _ in todo]):
        chosen = todo[:len(wave)]
        todo = todo[len(wave):]
        ids = ledger.start_loads(con, [(item.archived.sha256, item.archived.display_name, retry_of)
                                       for _, item, retry_of in chosen], run_id)
        done = _write_wave(con, wave, ids, settings, corrections) if len(wave) > 1 else None
        if done is None:  # one file, or a wave that failed as a whole: file by file
            done = []
            for item, load_id in zip(wave, ids, strict=True):
                done.append(_write_started(con, item, load_id, settings, corrections))
                corrections = corrections or done[-1].status == "rejected"
        corrections = corrections or any(o.status == "rejected" for o in done)
        for (i, _, _), outcome in zip(chosen, done, strict=True):
            outcomes[i] = outcome
    return [o for o in outcomes if o is not None]


# --- one file in its own transaction ----------------------------------------------------------------


def _write_started(
    con: Any, item: Pending, load_id: int, settings: Settings, corrections: bool = True
) -> FileOutcome:
    """The load `load_id` (its ledger row already 'running') checked, then committed or rejected, alone."""
    try:
        checked = _check_against_warehouse(con, item, load_id, settings, corrections)
        return _finish_load(con, checked, load_id, _pause_hook(settings, [item]))
    except Exception as exc:  # the transaction was rolled back: the load is failed, never half-done
        ledger.finish_load(con, load_id, "failed", error=f"{type(exc).__name__}: {exc}")
        return FileOutcome(item.archived.display_name, "failed", load_id, message=str(exc))


def _check_against_warehouse(
    con: Any, item: Pending, load_id: int, settings: Settings, corrections: bool = True
) -> Pending:
    """Compare with the previous year and the vintage being replaced (findings by status); link a correction
    (when the warehouse holds a rejected load at all).

    Runs in the writer, so loads committed earlier in the same run count as history.
    """
    validated = item.validated
    if item.error is not None or item.failure is not None or validated is None or not validated.frames:
        return item
    from schemas.crosschecks import check_against_history, history_checked
    from warehouse import history

    held = {name: history.previous_values(con, name, frame) for name, frame in validated.frames.items()
            if history_checked(name)}
    checked = check_against_history(validated, held, settings.yoy_bound_pct)
    if corrections:
        _link_correction(con, load_id, checked)
    return replace(item, validated=checked)


def _link_correction(con: Any, load_id: int, validated: ValidatedFile) -> None:
    summary = validated.summary()
    quarantine.link_correction(con, load_id, summary["dataset"], summary["province_code"], summary["reference_years"])


def _finish_load(con: Any, item: Pending, load_id: int, before_commit: Callable[[], None] | None) -> FileOutcome:
    name, validated = item.archived.display_name, item.validated
    if item.error is not None:
        load.reject_load(con, load_id, [_error_problem(item.error).as_row()], str(item.error), {})
        return _rejected_error(item, load_id)
    if item.failure is not None or validated is None:
        ledger.finish_load(con, load_id, "failed", error=item.failure)
        return FileOutcome(name, "failed", load_id, message=item.failure or "")
    if validated.rejected:
        load.reject_load(con, load_id, *_rejection(validated))
        return _rejected(item, load_id)
    warnings = [p.as_row() for p in validated.warnings]
    rows = load.commit_load(
        con, load_id, item.archived.sha256, validated.frames, warnings, validated.summary(), before_commit
    )
    return _loaded(item, load_id, rows)


# --- a wave of files in one transaction --------------------------------------------------------------


def _write_wave(
    con: Any, wave: list[Pending], ids: list[int], settings: Settings, corrections: bool
) -> list[FileOutcome] | None:
    """The wave's loads in one transaction; None (nothing written) when it failed as a whole."""
    try:
        with db.transaction(con):
            outcomes = _wave_in_transaction(con, wave, ids, settings, corrections)
            pause = _pause_hook(settings, wave)
            if pause is not None:
                pause()
    except Exception:  # written again file by file: the file at fault fails alone, with its own error
        return None
    return outcomes


def _wave_in_transaction(
    con: Any, wave: list[Pending], ids: list[int], settings: Settings, corrections: bool
) -> list[FileOutcome]:
    from schemas.crosschecks import check_against_history

    held = _HeldInMemory(con, wave)
    together = held.checked_together(wave, settings.yoy_bound_pct)
    outcomes: list[FileOutcome] = []
    finished: list[tuple[int, str, dict]] = []
    problems: list[tuple[int, list[dict]]] = []
    facts: dict[str, list[tuple[pd.DataFrame, int, str]]] = {}
    linked: list[tuple[int, ValidatedFile]] = []
    for k, (item, load_id) in enumerate(zip(wave, ids, strict=True)):
        validated = item.validated
        if item.error is not None:
            problems.append((load_id, [_error_problem(item.error).as_row()]))
            finished.append((load_id, "rejected", {"rows_loaded": 0, "rows_rejected": 1, "error": str(item.error)}))
            outcomes.append(_rejected_error(item, load_id))
            continue
        if item.failure is not None or validated is None:
            finished.append((load_id, "failed", {"error": item.failure}))
            outcomes.append(FileOutcome(item.archived.display_name, "failed", load_id, message=item.failure or ""))
            continue
        if validated.frames:
            validated = together[k] if together is not None else check_against_history(
                validated, held.for_file(validated.frames), settings.yoy_bound_pct)
            if corrections or any(o.status == "rejected" for o in outcomes):
                linked.append((load_id, validated))
        if validated.rejected:
            rows, error, summary = _rejection(validated)
            problems.append((load_id, rows))
            rejected = sum(1 for p in rows if p.get("severity", "error") == "error")
            finished.append((load_id, "rejected", {**summary, "rows_loaded": 0, "rows_rejected": rejected,
                                                   "error": error}))
            outcomes.append(_rejected(replace(item, validated=validated), load_id))
            continue
        if together is None:
            held.wrote(validated.frames)
        for name, frame in validated.frames.items():
            facts.setdefault(name, []).append((frame, load_id, item.archived.sha256))
        problems.append((load_id, [p.as_row() for p in validated.warnings]))
        rows = sum(len(frame) for frame in validated.frames.values())
        finished.append((load_id, "loaded", {**validated.summary(), "rows_loaded": rows, "rows_rejected": 0}))
        outcomes.append(_loaded(replace(item, validated=validated), load_id, rows))
    for name, loads in facts.items():
        load.replace_partitions_of(con, name, loads, held.joined(name, [frame for frame, _, _ in loads]))
    ledger.record_problems_of(con, problems)
    ledger.finish_loads(con, finished)
    for load_id, validated in linked:  # after the wave's rejections are recorded: a later file may correct one
        _link_correction(con, load_id, validated)
    return outcomes


class _HeldInMemory:
    """What the warehouse would hold for each file of a wave had the earlier ones been committed: the
    figures of the wave's partitions read once, and those the wave's files write, kept as they go.

    Each partition is remembered as the frame that holds it and the positions of its rows there; a file's
    figures are cut out of each frame in one step when a later file reads them.
    """

    def __init__(self, con: Any, wave: list[Pending]) -> None:
        from schemas.crosschecks import history_checked
        from warehouse import history

        self.reads: dict[tuple[int, str], list[tuple[str, int]]] = {}  # (file, dataset) -> the partitions it reads
        wanted: dict[str, dict[tuple[str, int], None]] = {}
        for k, item in enumerate(wave):
            for name, frame in (item.validated.frames if item.validated is not None else {}).items():
                if history_checked(name):
                    self.reads[(k, name)] = history.partitions_read(frame, item.validated.partitions(name))
                    wanted.setdefault(name, {}).update(dict.fromkeys(self.reads[(k, name)]))
        self.warehouse = {name: history.previous_values(con, name, None, list(parts))
                          for name, parts in wanted.items()}
        self._held: dict[str, dict[tuple[str, int], tuple[pd.DataFrame, list[int]]]] | None = None
        self._figures: dict[str, _WaveFigures] = {}  # by dataset, once checked_together has joined them

    def joined(self, name: str, frames: list[pd.DataFrame]) -> pd.DataFrame | None:
        """These frames one after the other, as checked_together joined them (so the insert does not join
        them again), if they are exactly the frames it joined; else None."""
        figures = self._figures.get(name)
        if figures is None or len(figures.members) != len(frames):
            return None
        if not all(mine is frame for (_, mine), frame in zip(figures.members, frames, strict=True)):
            return None
        return figures.frame

    @property
    def held(self) -> dict[str, dict[tuple[str, int], tuple[pd.DataFrame, list[int]]]]:
        """dataset -> (province, year) -> the frame that holds the partition now, and its rows there."""
        if self._held is None:  # only file by file: `checked_together` needs none of it
            self._held = {name: {p: (figures, rows) for p, rows in _rows_by_partition(figures).items()}
                          for name, figures in self.warehouse.items()}
        return self._held

    def for_file(self, frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """previous_values for each history-checked dataset of a file, as if the wave so far were committed."""
        import pandas as pd

        from schemas.crosschecks import history_checked
        from schemas.datasets import DATASETS
        from warehouse import history

        out = {}
        for name, frame in frames.items():
            if not history_checked(name):
                continue
            dataset = DATASETS[name]
            columns = [*dataset.grain, dataset.value_column, "status"]
            held = self.held.get(name, {})
            sources: dict[int, tuple[pd.DataFrame, list[int]]] = {}
            for p in history.partitions_read(frame):
                if p in held:
                    source, rows = held[p]
                    sources.setdefault(id(source), (source, []))[1].extend(rows)
            parts = [source[columns].take(rows) for source, rows in sources.values()]
            out[name] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
        return out

    def wrote(self, frames: dict[str, pd.DataFrame]) -> None:
        """The figures of a load that the wave will commit: later files of the wave read them."""
        from schemas.crosschecks import history_checked

        for name, frame in frames.items():
            if history_checked(name):
                held = self.held.setdefault(name, {})
                held.update((p, (frame, rows)) for p, rows in _rows_by_partition(frame).items())


    def checked_together(self, wave: list[Pending], bound_pct: float) -> list[ValidatedFile | None] | None:
        """Each file of the wave checked against history as `for_file` + `check_against_history` would check
        it, file after file, but for many files at once: one check per dataset, each file's history told
        apart by a file column (crosschecks.history_findings_by_file).

        Every file that passed validation is taken to be written; when one fails its history check, it is
        not, and the files after it that read its partitions are checked again. None (check file by file)
        when a dataset's checks are not batched.
        """
        from schemas.crosschecks import (
            checked_by_file,
            history_checked,
            history_findings_by_file,
            with_findings,
        )

        files = [item.validated if item.error is None and item.failure is None else None for item in wave]
        names = list(dict.fromkeys(n for v in files if v is not None for n in v.frames if history_checked(n)))
        if not all(checked_by_file(name) for name in names):
            return None
        writes = [v is not None and not v.rejected for v in files]
        figures = self._figures = {name: _WaveFigures(name, files, self) for name in names}
        checked: list[ValidatedFile | None] = list(files)
        found: dict[int, dict[str, list]] = {}
        checking, start = {name: set(range(len(files))) for name in names}, 0  # dataset -> files to check
        while start < len(files):
            for name, which in checking.items():
                if which:
                    frame, previous = figures[name].history(which, writes)
                    for k in which:
                        found.setdefault(k, {})[name] = []
                    for k, problems in history_findings_by_file(name, frame, previous, bound_pct).items():
                        found[k][name] = problems
            checking = {}
            for k in range(start, len(files)):
                validated, start = files[k], k + 1
                if validated is None or not validated.frames:
                    continue
                mine = found.get(k, {})
                checked[k] = done = with_findings(validated, [p for n in validated.frames for p in mine.get(n, [])])
                if writes[k] and done.rejected:  # not written: the files after it that read its partitions
                    writes[k] = False            # are checked again without it
                    checking = {name: {j for j in f.readers_of(k) if j > k} for name, f in figures.items()}
                    break
        return checked


class _WaveFigures:
    """One dataset's figures in a wave's files, with what `_HeldInMemory.for_file` would hand each file
    as its history, for many files at once (`history`). Files are numbered by their position in the wave."""

    def __init__(self, name: str, files: list[ValidatedFile | None], held: _HeldInMemory) -> None:
        import numpy as np
        import pandas as pd

        from schemas.crosschecks import FILE
        from schemas.datasets import DATASETS

        dataset = DATASETS[name]
        columns = [*dataset.grain, dataset.value_column, "status"]
        mine = [(k, v) for k, v in enumerate(files) if v is not None and name in v.frames]
        self.members = [(k, v.frames[name]) for k, v in mine]
        self.frame = pd.concat([f for _, f in self.members], ignore_index=True)
        self.frame[FILE] = np.repeat([k for k, _ in self.members], [len(f) for _, f in self.members])
        warehouse = held.warehouse.get(name, pd.DataFrame(columns=columns))
        self.rows = pd.concat([warehouse[columns].assign(**{FILE: -1}), self.frame[[*columns, FILE]]],
                              ignore_index=True)
        self.located = self.rows.groupby([FILE, "province_code", "reference_year"], sort=False, dropna=True).indices
        self.reads = {k: held.reads[(k, name)] for k, _ in self.members}
        self.writes = {k: [(code, int(year)) for code, year in v.partitions(name)
                           if isinstance(code, str) and year == year and year is not None] for k, v in mine}

    def history(self, checking: set[int], writes: list[bool]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The figures of the files in `checking`, and each one's history: a partition is read from the last
        file before it that `writes`, else from the warehouse, and its figures are listed grouped by the frame
        they come from, as `for_file` lists them. Both with the file's position in the FILE column."""
        import numpy as np

        from schemas.crosschecks import FILE

        last = {(code, int(year)): -1 for source, code, year in self.located if source == -1}
        picked: list[np.ndarray] = []
        reader: list[int] = []
        for k, _ in self.members:
            if k in checking:
                chosen: dict[int, list[np.ndarray]] = {}  # source -> its rows, in the order partitions are read
                for p in self.reads[k]:
                    source = last.get(p)
                    if source is not None:
                        chosen.setdefault(source, []).append(self.located[(source, p[0], p[1])])
                for parts in chosen.values():
                    picked += parts
                    reader += [k] * sum(len(part) for part in parts)
            if writes[k]:
                last.update(dict.fromkeys(self.writes[k], k))
        taken = self.rows.take(np.concatenate(picked)) if picked else self.rows.iloc[:0]
        mine = self.frame[FILE].isin(list(checking)).to_numpy()
        return (self.frame if mine.all() else self.frame.loc[mine],
                taken.assign(**{FILE: np.array(reader, dtype=np.int64)}).reset_index(drop=True))

    def readers_of(self, k: int) -> list[int]:
        """The files that read a partition file k writes."""
        mine = set(self.writes.get(k, []))
        return [j for j, parts in self.reads.items() if mine.intersection(parts)]


def _rows_by_partition(frame: pd.DataFrame) -> dict[tuple[str, int], list[int]]:
    """(province, year) -> the positions of its rows in the frame (rows without either are in none)."""
    out: dict[tuple[str, int], list[int]] = {}
    for i, (code, year) in enumerate(zip(frame["province_code"].tolist(), frame["reference_year"].tolist(),
                                         strict=True)):
        if isinstance(code, str) and year == year and year is not None:
            out.setdefault((code, int(year)), []).append(i)
    return out


def _waves(items: list[Pending]) -> list[list[Pending]]:
    """The items in order, cut into waves of at most WAVE_MAX_FILES. A large table is checked and written
    alone. Where a dataset's partitions are not province × year (the memory above would not know what an
    earlier file of the wave left current), a file that reads or writes a province and year written
    earlier in its wave starts a new one."""
    waves: list[list[Pending]] = []
    written: set[tuple] = set()
    for item in items:
        mine, alone = _footprint(item)
        if alone or not waves or len(waves[-1]) >= WAVE_MAX_FILES or mine & written:
            waves.append([])
            written = set()
        waves[-1].append(item)
        written |= mine
        if alone:
            waves.append([])  # nothing joins a large table's wave
    return [wave for wave in waves if wave]


def _footprint(item: Pending) -> tuple[set[tuple], bool]:
    """The (dataset, province, year) a file reads or writes where the wave's memory cannot stand in for
    the warehouse; and whether it is written alone."""
    validated = item.validated
    if item.error is not None or item.failure is not None or validated is None or validated.rejected:
        return set(), False
    from schemas.crosschecks import LARGE_FRAME_ROWS, history_checked
    from schemas.datasets import DATASETS
    from warehouse import history

    mine: set[tuple] = set()
    for name, frame in validated.frames.items():
        if len(frame) > LARGE_FRAME_ROWS:
            return set(), True
        keys = tuple(getattr(DATASETS[name], "partition_keys", ("province_code", "reference_year")))
        if keys != ("province_code", "reference_year"):
            reads = history.partitions_read(frame) if history_checked(name) else []
            written = validated.partitions(name)
            mine.update((name, *p) for p in [*reads, *written])
    return mine, False


# --- outcomes -----------------------------------------------------------------------------------


def _rejection(validated: ValidatedFile) -> tuple[list[dict], str, dict]:
    """A rejected file's problems (errors, then warnings), the ledger's one-line error and its coverage."""
    from schemas.pipeline import first_problems

    rows = [p.as_row() for p in validated.errors + validated.warnings]
    return rows, first_problems(validated.errors), validated.summary()


def _rejected_error(item: Pending, load_id: int) -> FileOutcome:
    error = str(item.error)
    return FileOutcome(item.archived.display_name, "rejected", load_id, message=error, problems=[error])


def _rejected(item: Pending, load_id: int) -> FileOutcome:
    validated = item.validated
    assert validated is not None
    return FileOutcome(
        item.archived.display_name, "rejected", load_id, message=f"{len(validated.errors)} problem(s)",
        problems=[f"{p.where()}: {p.message}" for p in validated.errors[:5]], **_coverage(validated),
    )


def _loaded(item: Pending, load_id: int, rows: int) -> FileOutcome:
    validated = item.validated
    assert validated is not None
    return FileOutcome(item.archived.display_name, "loaded", load_id, rows, **_coverage(validated),
                       **_warnings(validated))


def _warnings(validated: ValidatedFile) -> dict[str, Any]:
    shown = [f"warning: {p.where() + ': ' if p.where() else ''}{p.message}" for p in validated.warnings[:5]]
    return {"message": f"{len(validated.warnings)} warning(s)" if validated.warnings else "", "problems": shown}


def _pause_hook(settings: Settings, items: list[Pending]) -> Callable[[], None] | None:
    """The test hook NIENGIAM_TEST_PAUSE_BEFORE_COMMIT: wait inside the open transaction, so long per file."""
    seconds = settings.pause_before_commit_s * len(items)
    if seconds <= 0:
        return None

    def pause() -> None:
        names = ", ".join(item.archived.display_name for item in items)
        print(f"test hook: pausing {seconds:g} s before committing {names}", file=sys.stderr, flush=True)
        time.sleep(seconds)

    return pause


def _error_problem(exc: NiengiamError) -> Problem:
    return problem(
        "table",
        sheet=exc.sheet,
        cell=exc.cell,
        detail=str(NiengiamError(exc.message, hint=exc.hint)) + "".join(f" {d}." for d in exc.details),
        detail_vi=exc.message,
    )


def _coverage(validated: ValidatedFile) -> dict[str, str | None]:
    summary = validated.summary()
    return {"datasets": summary["dataset"], "years": summary["reference_years"]}
