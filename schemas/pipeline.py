"""Pure steps of one file's journey: read, parse by layout spec, validate. No Prefect, no DuckDB."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from schemas.contracts import validate, validate_together
from schemas.crosschecks import LARGE_FRAME_ROWS
from schemas.datasets import DATASETS, cell_columns, distinct_rows
from schemas.errors import DataError
from schemas.grid import Workbook, read_workbook
from schemas.parse import ParseContext, parse_workbook
from schemas.problems import Problem
from schemas.specs import LayoutSpec

PARTITION_KEYS = ["province_code", "reference_year"]


@dataclass
class ParsedFile:
    """Observations per dataset and the problems met while parsing one file."""

    file_name: str
    frames: dict[str, pd.DataFrame]
    problems: list[Problem]
    specs: list[str]
    rows_in: int


@dataclass
class ValidatedFile:
    """What a file would load (without the cell columns, which only name a problem's cell), and every problem
    the contracts found (errors and warnings)."""

    file_name: str
    frames: dict[str, pd.DataFrame]
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    specs: list[str] = field(default_factory=list)
    rows_in: int = 0

    @property
    def rejected(self) -> bool:
        """A single error rejects the whole file: nothing of it is loaded."""
        return bool(self.errors)

    def summary(self) -> dict:
        """Ledger fields: datasets, provinces and years covered, and the specs used.

        Computed once per instance (the writer asks three times); the frames are not changed after
        validation, only replaced in a copy (crosschecks.check_against_history).
        """
        if "_summary" not in self.__dict__:
            self.__dict__["_summary"] = self._summary()
        return dict(self.__dict__["_summary"])

    def partitions(self, name: str) -> list[tuple]:
        """The distinct (province_code, reference_year) of a dataset's frame, in order of appearance; computed
        once (the writer's history check, its waves and the summary each need them)."""
        known = self.__dict__.setdefault("_partitions", {})
        if name not in known:
            known[name] = distinct_rows(self.frames[name], PARTITION_KEYS)
        return list(known[name])

    def knowing_partitions(self, name: str, pairs: list[tuple]) -> None:
        """Record what partitions(name) is, found with other files' (distinct_rows_of_parts)."""
        self.__dict__.setdefault("_partitions", {})[name] = pairs

    def with_problems(self, errors: list[Problem], warnings: list[Problem]) -> ValidatedFile:
        """A copy with these errors and warnings added; same frames, so what was computed of them is kept."""
        copy = replace(self, errors=[*self.errors, *errors], warnings=[*self.warnings, *warnings])
        for known in ("_partitions", "_summary"):
            if known in self.__dict__:
                copy.__dict__[known] = dict(self.__dict__[known])
        return copy

    def _summary(self) -> dict:
        datasets = sorted(self.frames)  # below: from the distinct pairs (pandas costs ≈ 1 ms per file)
        pairs = [pair for name in self.frames for pair in self.partitions(name)]
        years = sorted({int(y) for _, y in pairs if pd.notna(y)})
        provinces = sorted({str(p) for p, _ in pairs if pd.notna(p)})
        return {
            "dataset": ",".join(datasets) or None,
            "province_code": ",".join(provinces) or None,
            "reference_years": _year_span(years),
            "layout_spec": ",".join(self.specs) or None,
            "rows_in": self.rows_in,
        }


def _year_span(years: list[int]) -> str | None:
    if not years:
        return None
    if len(years) == 1:
        return str(years[0])
    if years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return ",".join(map(str, years))


def read_file(path: Path, display_name: str) -> Workbook:
    """Every sheet of the file with its cells and positions."""
    return read_workbook(path, display_name)


def parse_file(book: Workbook, specs: tuple[LayoutSpec, ...], context: ParseContext) -> ParsedFile:
    """Tidy observations per dataset from every table the specs recognise."""
    tables = parse_workbook(book, specs, context, shaped=True)
    frames: dict[str, list[pd.DataFrame]] = {}
    problems: list[Problem] = []
    for table in tables:
        problems += table.problems
        if not table.frame.empty:
            frames.setdefault(DATASETS[table.spec.dataset].name, []).append(table.frame)
    merged = {name: _joined(parts) for name, parts in frames.items()}
    used = sorted({f"{t.spec.id}@v{t.spec.version}" for t in tables})
    return ParsedFile(book.file_name, merged, problems, used, sum(t.rows_in for t in tables))


def _joined(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts one after the other, on a fresh index; a single part on one already as it is (a copy
    costs ≈ 0.3 ms a file)."""
    index = parts[0].index
    if len(parts) == 1 and isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return parts[0]
    return pd.concat(parts, ignore_index=True)


def validate_file(parsed: ParsedFile) -> ValidatedFile:
    """Run each dataset's contract over its rows, lazily, and collect every problem."""
    [result] = validate_files([parsed])
    if isinstance(result, Exception):
        raise result
    return result


TOGETHER_MAX_ROWS = LARGE_FRAME_ROWS  # a frame larger than this is checked alone: batching saves nothing there


def validate_files(files: list[ParsedFile]) -> list[ValidatedFile | Exception]:
    """validate_file for each file, or the exception it raised; each file's result is the same as alone.

    Each dataset is prepared and its contract run once for all the files' frames (`_checked_together`),
    and file by file only when something fails there, to locate the problems.
    """
    together = _checked_together(files)
    results: list[ValidatedFile | Exception] = []
    for i, parsed in enumerate(files):
        try:
            results.append(_validated(parsed, {name: together.get((i, name)) for name in parsed.frames}))
        except Exception as exc:
            results.append(exc)
    return results


def _checked_together(files: list[ParsedFile]) -> dict[tuple[int, str], pd.DataFrame]:
    """(file, dataset) -> the frame prepared and coerced by the contract together with the batch's other
    frames of the dataset (pandas and pandera cost the same for a few hundred rows as for thousands);
    missing where the batch did not pass at once, so that the frame is validated alone."""
    members: dict[str, list[int]] = {}
    for i, parsed in enumerate(files):
        for name, frame in parsed.frames.items():
            if len(frame) <= TOGETHER_MAX_ROWS:
                members.setdefault(name, []).append(i)
    out: dict[tuple[int, str], pd.DataFrame] = {}
    for name, which in sorted(members.items()):
        out.update(((i, name), frame) for i, frame in _halves_together(name, which, files).items())
    return out


HALVES_FROM = 8  # a failing group of this many frames or more is tried again in halves, smaller ones alone


def _halves_together(name: str, which: list[int], files: list[ParsedFile]) -> dict[int, pd.DataFrame]:
    """validate_together of the files' frames of a dataset; where the group fails, each half of it again,
    so that one bad file among fifty costs a dozen contract runs rather than fifty. Files in no passing
    group are missing: each is validated alone, which names its problems."""
    try:
        checked = validate_together(name, [files[i].frames[name] for i in which], keep_cells=False)
    except Exception:  # each frame alone then, and its own error for its own file
        checked = None
    if checked is not None:
        return dict(zip(which, checked, strict=True))
    if len(which) < HALVES_FROM:
        return {}
    half = len(which) // 2
    return _halves_together(name, which[:half], files) | _halves_together(name, which[half:], files)


def _validated(parsed: ParsedFile, checked: dict[str, pd.DataFrame | None]) -> ValidatedFile:
    result = ValidatedFile(parsed.file_name, {}, specs=parsed.specs, rows_in=parsed.rows_in)
    problems = list(parsed.problems)
    for name, frame in parsed.frames.items():
        together = checked[name]
        if together is None:
            alone, found = validate(name, frame)
            result.frames[name] = _without_cells(alone)
            problems += found
        else:
            result.frames[name] = together
    result.errors += [p for p in problems if p.severity == "error"]
    result.warnings += [p for p in problems if p.severity != "error"]
    if not result.frames and not result.errors:
        raise DataError("the file holds no figures", file=parsed.file_name)
    return result


def _without_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A validated frame without its cell columns: they name a problem's cell during validation, and would
    only be carried, pickled and joined on the way to the warehouse after it."""
    cells = cell_columns(frame.columns)
    return frame.drop(columns=cells) if cells else frame


def first_problems(problems: list[Problem], limit: int = 3) -> str:
    """A one-line account of the first problems, for the ledger and the summary."""
    shown = [f"{p.where()}: {p.message}".strip(": ") for p in problems[:limit]]
    more = len(problems) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
