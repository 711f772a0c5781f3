"""The ingest flow: archive → read → parse → validate → load, one thin task per step, per file."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from flows.settings import Settings
from schemas.crosschecks import check_against_history
from schemas.errors import DataError, NiengiamError, TransientError
from schemas.grid import Workbook
from schemas.parse import ParseContext
from schemas.pipeline import ParsedFile, ValidatedFile, first_problems, parse_file, read_file, validate_file
from schemas.problems import Problem, problem
from schemas.specs import load_specs
from warehouse import archive, db, history, ledger, load, quarantine


@dataclass
class FileOutcome:
    """What happened to one file: loaded, skipped, rejected or failed, and why."""

    file: str
    status: str
    load_id: int | None = None
    rows: int = 0
    datasets: str | None = None
    years: str | None = None
    message: str = ""
    problems: list[str] = field(default_factory=list)


def _transient_only(task: Any, task_run: Any, state: State) -> bool:
    """Retry only transient errors (locks, I/O); a data problem is terminal."""
    try:
        state.result()
    except TransientError:
        return True
    except BaseException:
        return False
    return False


def _echo(enabled: bool, text: str) -> None:
    if enabled:
        print(text, file=sys.stderr, flush=True)


# --- tasks ---------------------------------------------------------------------------------------


@task(retries=3, retry_delay_seconds=[1, 3, 10], retry_condition_fn=_transient_only)
def prepare_warehouse(settings: Settings) -> list[int]:
    """Bring the schema up to date, refresh dimensions, and mark interrupted loads as failed."""
    with db.writing(settings.database, settings.lock_timeout_s) as con:
        load.refresh_dimensions(con)
        return ledger.mark_interrupted(con)


@task(retries=3, retry_delay_seconds=[1, 3, 10], retry_condition_fn=_transient_only)
def archive_file(path: str, settings: Settings) -> archive.ArchivedFile:
    """Hash the file and copy it untouched into the content-addressed archive."""
    return archive.archive_file(Path(path), settings.archive)


@task(retries=3, retry_delay_seconds=[1, 3, 10], retry_condition_fn=_transient_only)
def open_load(
    archived: archive.ArchivedFile, settings: Settings, retry_of: int | None = None
) -> tuple[int | None, str | None]:
    """Record the file; start a ledger row unless the file was already handled (then say why)."""
    with db.writing(settings.database, settings.lock_timeout_s) as con:
        ledger.record_source_file(
            con, archived.sha256, archived.display_name, archived.original_path,
            archived.size_bytes, str(archived.archive_path),
        )
        previous = ledger.last_load(con, archived.sha256)
        if retry_of is None and previous is not None and previous.status in ("loaded", "rejected"):
            return None, _skip_reason(previous)
        first = retry_of or (previous.retry_of or previous.load_id if previous else None)
        return ledger.start_load(con, archived.sha256, archived.display_name, flow_run.get_id(), first), None


def _skip_reason(previous: ledger.LoadRecord) -> str:
    if previous.status == "loaded":
        return f"already loaded (load {previous.load_id}, {previous.reference_years or '?'})"
    return (
        f"rejected before (load {previous.load_id}); send a corrected file,"
        f" or run 'niengiam rerun {previous.load_id}' after changing the layout specs"
    )


@task
def read_cells(archived: archive.ArchivedFile, settings: Settings) -> Workbook:
    """Read every cell of the archived copy, with positions."""
    limit = settings.max_file_mb * 1e6
    if archived.size_bytes > limit:
        raise DataError(
            f"the file is {archived.size_bytes / 1e6:.1f} MB, over the limit of {settings.max_file_mb:.0f} MB;"
            " it was archived but not read",
            file=archived.display_name,
            hint="Split it, or raise NIENGIAM_MAX_FILE_MB if the size is expected.",
        )
    return read_file(archived.archive_path, archived.display_name)


@task
def parse_rows(book: Workbook, settings: Settings, province: str | None) -> ParsedFile:
    """Find the tables the layout specs know and turn them into tidy rows."""
    specs = load_specs(tuple(p for p in [settings.home / "layouts"] if p.is_dir()))
    return parse_file(book, specs, ParseContext(book.file_name, default_province=province))


@task
def validate_rows(parsed: ParsedFile) -> ValidatedFile:
    """Check the rows against the pandera contracts, collecting every problem at once."""
    return validate_file(parsed)


@task(retries=3, retry_delay_seconds=[1, 3, 10], retry_condition_fn=_transient_only)
def load_partition(validated: ValidatedFile, load_id: int, sha256: str, settings: Settings) -> int:
    """Replace the file's partitions in one transaction together with its ledger row."""
    warnings = [p.as_row() for p in validated.warnings]
    with db.writing(settings.database, settings.lock_timeout_s) as con:
        return load.commit_load(con, load_id, sha256, validated.frames, warnings, validated.summary())


@task(retries=3, retry_delay_seconds=[1, 3, 10], retry_condition_fn=_transient_only)
def reject_file(load_id: int, problems: list[Problem], error: str, summary: dict, settings: Settings) -> None:
    """Record a rejected file: the quarantine rows and the reason, leaving the facts untouched."""
    with db.writing(settings.database, settings.lock_timeout_s) as con:
        load.reject_load(con, load_id, [p.as_row() for p in problems], error, summary)


@task(retries=3, retry_delay_seconds=[1, 3, 10], retry_condition_fn=_transient_only)
def fail_load(load_id: int, error: str, settings: Settings) -> None:
    """Mark a load failed after a transient problem outlived its retries."""
    with db.writing(settings.database, settings.lock_timeout_s) as con:
        ledger.finish_load(con, load_id, "failed", error=error)


@task(retries=3, retry_delay_seconds=[1, 3, 10], retry_condition_fn=_transient_only)
def refresh_views(settings: Settings) -> None:
    """Rebuild the reporting views."""
    with db.writing(settings.database, settings.lock_timeout_s) as con:
        db.rebuild_views(con)


# --- checks against the warehouse: previous year, previous vintage, corrected rejections -----------


@task(retries=3, retry_delay_seconds=[1, 3, 10], retry_condition_fn=_transient_only)
def check_against_warehouse(validated: ValidatedFile, settings: Settings) -> ValidatedFile:
    """Compare the figures with the previous year and the vintage they replace; add findings by status."""
    with db.reading(settings.database, settings.lock_timeout_s) as con:
        held = {name: history.previous_values(con, name, frame) for name, frame in validated.frames.items()}
    return check_against_history(validated, held, settings.yoy_bound_pct)


@task(retries=3, retry_delay_seconds=[1, 3, 10], retry_condition_fn=_transient_only)
def link_correction(load_id: int, validated: ValidatedFile, settings: Settings) -> int | None:
    """Link this load to the rejected load of the same file (name, dataset, province, years) it corrects."""
    summary = validated.summary()
    with db.writing(settings.database, settings.lock_timeout_s) as con:
        return quarantine.link_correction(
            con, load_id, summary["dataset"], summary["province_code"], summary["reference_years"]
        )


def _warnings(validated: ValidatedFile) -> dict[str, Any]:
    shown = [f"warning: {p.where() + ': ' if p.where() else ''}{p.message}" for p in validated.warnings[:5]]
    return {"message": f"{len(validated.warnings)} warning(s)" if validated.warnings else "", "problems": shown}


# --- flow ----------------------------------------------------------------------------------------


def _error_problem(exc: NiengiamError) -> Problem:
    return problem(
        "table",
        sheet=exc.sheet,
        cell=exc.cell,
        detail=str(NiengiamError(exc.message, hint=exc.hint)) + "".join(f" {d}." for d in exc.details),
        detail_vi=exc.message,
    )


def ingest_one(
    path: str, settings: Settings, province: str | None, retry_of: int | None = None
) -> FileOutcome:
    """One file through every step; a data problem rejects it, a transient one fails it."""
    name = archive.display_name(Path(path))
    try:
        archived = archive_file(path, settings)
    except NiengiamError as exc:
        return FileOutcome(name, "failed", message=str(exc))
    load_id, skipped = open_load(archived, settings, retry_of)
    if load_id is None:
        return FileOutcome(archived.display_name, "skipped", message=skipped or "")
    try:
        validated = validate_rows(parse_rows(read_cells(archived, settings), settings, province))
        validated = check_against_warehouse(validated, settings)
        link_correction(load_id, validated, settings)
        if validated.rejected:
            error = first_problems(validated.errors)
            reject_file(load_id, validated.errors + validated.warnings, error, validated.summary(), settings)
            return FileOutcome(
                archived.display_name, "rejected", load_id, message=f"{len(validated.errors)} problem(s)",
                problems=[f"{p.where()}: {p.message}" for p in validated.errors[:5]],
                **_coverage(validated),
            )
        rows = load_partition(validated, load_id, archived.sha256, settings)
        return FileOutcome(archived.display_name, "loaded", load_id, rows, **_coverage(validated), **_warnings(validated))
    except DataError as exc:
        reject_file(load_id, [_error_problem(exc)], str(exc), {}, settings)
        return FileOutcome(archived.display_name, "rejected", load_id, message=str(exc), problems=[str(exc)])
    except Exception as exc:  # transient after retries, or a bug: the load is failed, never half-done
        fail_load(load_id, f"{type(exc).__name__}: {exc}", settings)
        return FileOutcome(archived.display_name, "failed", load_id, message=str(exc))


def _coverage(validated: ValidatedFile) -> dict[str, str | None]:
    summary = validated.summary()
    return {"datasets": summary["dataset"], "years": summary["reference_years"]}


@flow(name="niengiam-ingest", flow_run_name="ingest-{label}", validate_parameters=False)
def ingest(
    paths: list[str],
    settings: Settings,
    label: str = "inbox",
    province: str | None = None,
    progress: bool = True,
) -> State:
    """Ingest spreadsheet files into the warehouse; Failed (naming the files) when any was rejected or failed."""
    interrupted = prepare_warehouse(settings)
    if interrupted:
        _echo(progress, f"marked interrupted loads as failed: {', '.join(map(str, interrupted))}")
    outcomes = []
    for number, path in enumerate(paths, start=1):
        outcome = ingest_one(path, settings, province)
        outcomes.append(outcome)
        _echo(progress, f"[{number}/{len(paths)}] {outcome.file}: {outcome.status}"
              + (f" ({outcome.rows} rows, {outcome.years})" if outcome.status == "loaded" else "")
              + (f" — {outcome.message}" if outcome.status != "loaded" and outcome.message else ""))
    refresh_views(settings)
    return finish_state(outcomes)


def finish_state(outcomes: list[FileOutcome]) -> State:
    """Completed when every file loaded or was skipped; Failed naming the files otherwise."""
    bad = [o for o in outcomes if o.status in ("rejected", "failed")]
    if not bad:
        return Completed(data=outcomes, message=f"{len(outcomes)} file(s) handled")
    names = "; ".join(f"{o.file}: {o.status} — {o.problems[0] if o.problems else o.message}" for o in bad[:5])
    return Failed(data=outcomes, message=f"{len(bad)} of {len(outcomes)} file(s) not loaded: {names}")
