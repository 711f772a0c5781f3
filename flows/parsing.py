"""Reading, parsing and validating a batch of archived files: what parse_files runs, in a thread or a process.

Imports no Prefect and no DuckDB, so a worker process of the parse pool starts with pandas and pandera
only; a parse process imports the parsing modules as it starts (import_frozen), a thread at its first file
(a re-run over known files needs none).
"""

from __future__ import annotations

import gc
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.settings import Settings
from schemas.errors import DataError, NiengiamError
from warehouse import archive

if TYPE_CHECKING:
    from schemas.grid import Workbook
    from schemas.pipeline import ParsedFile, ValidatedFile


@dataclass
class Pending:
    """A file on its way to the writer: archived, then read and validated (or not, and why)."""

    archived: archive.ArchivedFile
    retry_of: int | None = None
    validated: ValidatedFile | None = None
    error: NiengiamError | None = None  # a data problem: the load is rejected
    failure: str | None = None  # anything else: the load is failed
    outside: str | None = None  # figures outside the requested years: reported, not loaded


def parse_batch(
    pending: list[Pending], settings: Settings, province: str | None, years: tuple[int, int] | None
) -> list[Pending]:
    """Each file of the batch read, parsed and validated, or the reason it was not."""
    from schemas.pipeline import TOGETHER_MAX_ROWS, validate_files
    from schemas.specs import load_specs

    specs = load_specs(tuple(p for p in [settings.home / "layouts"] if p.is_dir()))
    steps: list[Pending | ParsedFile] = []
    for item in pending:
        step = _parse_one(item, specs, settings, province, years)
        if not isinstance(step, Pending) and any(len(f) > TOGETHER_MAX_ROWS for f in step.frames.values()):
            [result] = validate_files([step])  # a large table alone, at once: one parsed table in memory at a time
            step = _outcome(item, result)
        steps.append(step)
    waiting = [i for i, step in enumerate(steps) if not isinstance(step, Pending)]  # parsed, to validate together
    for i, result in zip(waiting, validate_files([steps[i] for i in waiting]), strict=True):  # type: ignore[misc]
        steps[i] = _outcome(pending[i], result)
    return Parsed(steps)  # type: ignore[arg-type]


@contextmanager
def frozen_when_done() -> Iterator[None]:
    """No garbage collection while the block runs (imports, a start), and what it made is then left out of
    the collector's full passes: each of them walks every object the process holds, and modules, classes
    and their objects live as long as the process anyway. What becomes garbage later is still collected."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def import_frozen() -> None:
    """A parse process's start: the parsing modules imported `frozen_when_done` (pandas, pandera, the
    contracts: ≈ 120,000 objects; each full pass walked them all again, ≈ 0.1–0.3 s, and one during the
    imports alone cost 0.25–0.3 s of the early process's CPU)."""
    with frozen_when_done():
        import schemas.parse
        import schemas.pipeline
        import schemas.specs  # noqa: F401


PACK_MAX_ROWS = 20_000  # frames this long or longer travel as they are: joining them would copy a large table


class Parsed(list):
    """parse_batch's results. Pickled (to the flow's process, or to a file), the small frames of a dataset
    that share their columns travel joined into one and are cut again on arrival: pandas pickles and
    unpickles a frame in ≈ 0.1 ms per column whatever its length, ≈ 1 ms per file here."""

    def __reduce__(self) -> tuple[Any, ...]:
        import pandas as pd

        groups: dict[tuple, list[tuple[int, str]]] = {}  # (dataset, columns, dtypes) -> (file, dataset)
        for i, item in enumerate(self):
            for name, frame in (item.validated.frames if item.validated is not None else {}).items():
                if len(frame) < PACK_MAX_ROWS and isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0:
                    groups.setdefault((name, tuple(frame.columns), tuple(map(str, frame.dtypes))), []).append((i, name))
        tables = []
        for members in (m for m in groups.values() if len(m) > 1):
            frames = [self[i].validated.frames[name] for i, name in members]
            tables.append((pd.concat(frames, ignore_index=True), [(i, name, len(f)) for (i, name), f in
                                                                  zip(members, frames, strict=True)]))
        packed = {(i, name) for _, members in tables for i, name, _ in members}
        items = [item if item.validated is None else replace(item, validated=replace(item.validated, frames={
            name: None if (i, name) in packed else frame for name, frame in item.validated.frames.items()}))
            for i, item in enumerate(self)]
        return _unpacked, (items, tables)


def _unpacked(items: list[Pending], tables: list[tuple[Any, list[tuple[int, str, int]]]]) -> list[Pending]:
    """The results of a Parsed batch, each file's frames cut from the tables they travelled in, and the
    partitions each one writes found on the table (the writer asks for them, ≈ 0.1 ms a file alone)."""
    import pandas as pd

    from schemas.datasets import distinct_rows_of_parts
    from schemas.pipeline import PARTITION_KEYS

    for table, members in tables:
        at = 0
        partitions = distinct_rows_of_parts(table, PARTITION_KEYS, [rows for _, _, rows in members]) \
            if set(PARTITION_KEYS) <= set(table.columns) else [None] * len(members)
        for (i, name, rows), pairs in zip(members, partitions, strict=True):
            validated = items[i].validated
            assert validated is not None
            part = table.iloc[at : at + rows]  # a frame of its own: its index is set, not copied with its
            part.index = pd.RangeIndex(rows)   # columns (reset_index copies each Arrow column, ≈ 0.25 ms a file)
            validated.frames[name] = part
            if pairs is not None:
                validated.knowing_partitions(name, pairs)
            at += rows
    return items


def parse_batch_to_file(
    pending: list[Pending], settings: Settings, province: str | None, years: tuple[int, int] | None, out: Path
) -> Path:
    """parse_batch, its results pickled into `out` (returned). A large table's frames then reach the flow's
    process from disk, after this process is gone, instead of through a pipe while both hold them."""
    results = parse_batch(pending, settings, province, years)
    partial = out.with_name(out.name + ".partial")
    with partial.open("wb") as handle:
        pickle.dump(results, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(out)
    return out


def _read(archived: archive.ArchivedFile, settings: Settings) -> Workbook:
    limit = settings.max_file_mb * 1e6
    if archived.size_bytes > limit:
        raise DataError(
            f"the file is {archived.size_bytes / 1e6:.1f} MB, over the limit of {settings.max_file_mb:.0f} MB;"
            " it was archived but not read",
            file=archived.display_name,
            hint="Split it, or raise NIENGIAM_MAX_FILE_MB if the size is expected.",
        )
    from schemas.pipeline import read_file

    return read_file(archived.archive_path, archived.display_name)


def _parse_one(
    item: Pending, specs: Any, settings: Settings, province: str | None, years: tuple[int, int] | None
) -> Pending | ParsedFile:
    """The file read and parsed, to validate with the others of its batch; or its outcome already."""
    from schemas.parse import ParseContext
    from schemas.pipeline import parse_file

    try:
        book = _read(item.archived, settings)
        parsed = parse_file(book, specs, ParseContext(book.file_name, default_province=province))
        del book  # a large sheet's cells are most of the memory; free them before validating
        outside = _outside(parsed.frames, years)
        return replace(item, outside=outside) if outside else parsed
    except Exception as exc:
        return _outcome(item, exc)


def _outcome(item: Pending, result: ValidatedFile | Exception) -> Pending:
    if isinstance(result, DataError):
        return replace(item, error=result)
    if isinstance(result, Exception):  # a bug or an unreadable archive copy: the load fails, the others go on
        return replace(item, failure=f"{type(result).__name__}: {result}")
    return replace(item, validated=result)


def _outside(frames: dict[str, Any], years: tuple[int, int] | None) -> str | None:
    """Why a file falls outside the requested years, or None when all its figures are inside."""
    if years is None:
        return None
    found = sorted({int(y) for f in frames.values() for y in f["reference_year"].dropna().unique()})
    stray = [y for y in found if not years[0] <= y <= years[1]]
    if not stray:
        return None
    return (
        f"holds figures for {', '.join(map(str, stray))}, outside {years[0]}–{years[1]}; not loaded"
        " (widen the range, or load it with 'niengiam ingest')"
    )
