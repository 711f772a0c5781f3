"""Declarative layout specs (TOML in schemas/layouts/): how a table in a workbook maps to observations."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from schemas.errors import DataError
from schemas.text import fold

# fold() of the same header and title texts is asked for thousands of times while matching specs: cache it.
folded = lru_cache(maxsize=200_000)(fold)

SPEC_FORMAT_VERSION = 2  # the newest spec language this niengiam reads ('format' in a spec; 1 if absent)
# Rows from which nothing below is data: copyright lines, sources and notes under a table (folded regexes).
DEFAULT_STOP = (r"^(?:c )?copyright\b", r"^nguon\b", r"^source\b", r"^ghi chu\b")
DEFAULT_OF_WHICH = (r"^trong do\b", r"^of which\b", r"^in which\b")


@lru_cache(maxsize=4096)
def _folded_groups(sources: tuple[tuple[str, ...], ...]) -> list[frozenset[str]]:
    return [frozenset(folded(a) for a in group) for group in sources]


@dataclass(frozen=True)
class FieldSpec:
    """A dimension of the observations: which columns hold it, and how labels become codes."""

    name: str
    sources: tuple[tuple[str, ...], ...] = ()
    lookup: str | None = None
    default: str | None = None
    required: bool = False
    from_title: bool = False

    def folded_sources(self) -> list[frozenset[str]]:
        """Each source's aliases as folded matching keys."""
        return _folded_groups(self.sources)


@dataclass(frozen=True)
class MeasureSpec:
    """A column of figures: found by header aliases or a pattern; `sets` fixes dimensions it implies."""

    headers: tuple[str, ...] = ()
    header_pattern: str | None = None
    sets: dict[str, str] = field(default_factory=dict)
    when: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property
    def folded_headers(self) -> frozenset[str]:
        """The header aliases as folded matching keys."""
        return frozenset(folded(h) for h in self.headers)

    def match(self, label: str, fragments: list[str]) -> dict[str, str] | None:
        """The dimensions implied when this header matches, or None."""
        if self.headers and (folded(label) in self.folded_headers or any(folded(f) in self.folded_headers for f in fragments)):
            return dict(self.sets)
        if self.header_pattern:
            found = re.search(self.header_pattern, folded(label))
            if found:
                groups = {k: v for k, v in found.groupdict().items() if v is not None}
                return {**self.sets, **groups}
        return None


@dataclass(frozen=True)
class RowsSpec:
    """How the rows under the header read: where labels sit, how they nest, which rows to leave out."""

    hierarchy: str = "column"  # 'column': a label further right is a child; 'indent': leading spaces; 'none'
    label_is: str = "dimension"  # or 'period' (years down the rows, e.g. '2006–07')
    totals: tuple[str, ...] = ()  # folded regexes of total rows that close the open sections
    skip: tuple[str, ...] = ()
    stop: tuple[str, ...] = DEFAULT_STOP
    of_which: tuple[str, ...] = DEFAULT_OF_WHICH
    lookup: str | None = None  # catalogue that maps row labels to codes
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # code -> labels, checked first
    unmatched: str = "keep"  # a label with no code: 'keep' it (code empty), 'skip' the row, or 'error'
    footnote_units: bool = False  # a footnote such as '(*) Chiếc, triệu USD' gives the units of its rows

    def code_index(self) -> dict[str, str]:
        """Folded label -> code, from the spec's own code list."""
        return {folded(label): code for code, labels in self.codes.items() for label in (code, *labels)}


@dataclass(frozen=True)
class RouteSpec:
    """Observations that fit another dataset: sent there, with the dimensions that dataset needs."""

    dataset: str
    when: dict[str, tuple[str, ...]]
    sets: dict[str, str]

    def matches(self, values: dict[str, object]) -> bool:
        """Whether one observation's attributes satisfy every condition."""
        return all(str(values.get(k)) in allowed for k, allowed in self.when.items())


@dataclass(frozen=True)
class Fingerprint:
    """The header a spec expects: normalised texts of the figure columns, in order, and the label columns."""

    sheet: str | None
    columns: tuple[str, ...]
    label_columns: int | None = None


@dataclass(frozen=True)
class LayoutSpec:
    """One source table's layout, versioned so that a change of layout is a reviewed change."""

    id: str
    version: int
    dataset: str
    description: str
    title_contains: tuple[str, ...]
    sheet_pattern: str | None
    max_header_rows: int
    fields: dict[str, FieldSpec]
    measures: tuple[MeasureSpec, ...]
    unit: FieldSpec
    missing_means_zero: bool
    path: str
    format: int = 1
    hidden: bool = False
    header_rows: tuple[int, int] | None = None
    fill_right: bool = False
    measure_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rows: RowsSpec = field(default_factory=RowsSpec)
    fixed: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    mapping: dict[str, str] = field(default_factory=dict)
    routes: tuple[RouteSpec, ...] = ()
    fingerprints: tuple[Fingerprint, ...] = ()
    table_pattern: str | None = None

    @cached_property
    def header_words(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """Every header the spec knows as a folded key (field aliases, measure headers), and its header patterns."""
        aliases = {a for f in [*self.fields.values(), self.unit] for group in f.folded_sources() for a in group}
        aliases |= {h for m in self.measures for h in m.folded_headers}
        return frozenset(aliases), tuple(m.header_pattern for m in self.measures if m.header_pattern)

    def required_fields(self) -> list[FieldSpec]:
        """Fields whose column must be present in the header."""
        return [f for f in self.fields.values() if f.required]

    @property
    def structural(self) -> bool:
        """Format 2: the table is found by its shape (figures, header band above, labels left)."""
        return self.format >= 2

    def names_sheet(self, name: str) -> bool:
        """Whether the spec's sheet pattern names this sheet."""
        pattern = self.sheet_pattern
        return pattern is not None and re.search(pattern, name, re.IGNORECASE) is not None

    def fingerprint_for(self, sheet: str) -> Fingerprint | None:
        """The fingerprint recorded for this sheet (the first whose sheet pattern matches, or a general one)."""
        for print_ in self.fingerprints:
            if print_.sheet is None or re.search(print_.sheet, sheet, re.IGNORECASE):
                return print_
        return None


def _field(name: str, raw: dict[str, Any]) -> FieldSpec:
    return FieldSpec(
        name=name,
        sources=tuple(tuple(group) for group in raw.get("sources", [])),
        lookup=raw.get("lookup"),
        default=raw.get("default"),
        required=bool(raw.get("required", False)),
        from_title=bool(raw.get("from_title", False)),
    )


def _strings(value: Any) -> tuple[str, ...]:
    """A string or a list of strings, as a tuple."""
    if value is None:
        return ()
    return (str(value),) if isinstance(value, str | int | float) else tuple(str(v) for v in value)


def _measure(raw: dict[str, Any]) -> MeasureSpec:
    return MeasureSpec(
        headers=tuple(raw.get("headers", [])),
        header_pattern=raw.get("header_pattern"),
        sets={k: str(v) for k, v in raw.get("set", {}).items()},
        when={k: _strings(v) for k, v in raw.get("when", {}).items()},
    )


def _rows(raw: dict[str, Any], codes: dict[str, Any]) -> RowsSpec:
    return RowsSpec(
        hierarchy=raw.get("hierarchy", "column"),
        label_is=raw.get("label_is", "dimension"),
        totals=_strings(raw.get("totals")),
        skip=_strings(raw.get("skip")),
        stop=_strings(raw["stop"]) if "stop" in raw else DEFAULT_STOP,
        of_which=_strings(raw["of_which"]) if "of_which" in raw else DEFAULT_OF_WHICH,
        lookup=raw.get("lookup"),
        codes={str(code): _strings(labels) for code, labels in codes.items()},
        unmatched=raw.get("unmatched", "keep"),
        footnote_units=bool(raw.get("footnote_units", False)),
    )


def _fingerprints(raw: Any) -> tuple[Fingerprint, ...]:
    entries = raw if isinstance(raw, list) else [raw] if raw else []
    return tuple(
        Fingerprint(e.get("sheet"), _strings(e.get("columns")), e.get("label_columns")) for e in entries
    )


def _check(spec: LayoutSpec, path: str) -> None:
    """Refuse specs that cannot work, naming what is wrong."""
    if spec.format > SPEC_FORMAT_VERSION:
        raise DataError(
            f"the layout spec uses format {spec.format}; this niengiam reads up to {SPEC_FORMAT_VERSION}",
            file=path, hint="Update niengiam, or write the spec in an older format.",
        )
    if not spec.measures and not spec.structural:
        raise DataError("the layout spec names no measures (columns of figures)", file=path)
    choices = {"hierarchy": ("column", "indent", "none"), "label_is": ("dimension", "period"),
               "unmatched": ("keep", "skip", "error")}
    for key, allowed in choices.items():
        if getattr(spec.rows, key) not in allowed:
            raise DataError(f"rows.{key} must be one of {', '.join(allowed)}", file=path)
    for pattern in [spec.sheet_pattern, spec.table_pattern, *spec.rows.totals, *spec.rows.skip, *spec.rows.stop]:
        try:
            re.compile(pattern or "")
        except re.error as exc:
            raise DataError(f"the pattern {pattern!r} is not a valid regular expression: {exc}", file=path) from exc


def parse_spec(text: str, path: str) -> LayoutSpec:
    """Build a spec from TOML text; DataError naming the file when it is malformed."""
    try:
        raw = tomllib.loads(text)
        sheet = raw.get("sheet", {})
        rows = raw.get("rows", {})
        header_rows = sheet.get("header_rows")
        spec = LayoutSpec(
            id=raw["id"],
            version=int(raw["version"]),
            dataset=raw["dataset"],
            description=raw.get("description", ""),
            title_contains=tuple(folded(t) for t in sheet.get("title_contains", [])),
            sheet_pattern=sheet.get("name_pattern"),
            max_header_rows=int(sheet.get("max_header_rows", 3 if int(raw.get("format", 1)) < 2 else 8)),
            fields={name: _field(name, f) for name, f in raw.get("fields", {}).items()},
            measures=tuple(_measure(m) for m in raw.get("measures", [])),
            unit=_field("unit", raw.get("unit", {})),
            missing_means_zero=bool(raw.get("missing_means_zero", False)),
            path=path,
            format=int(raw.get("format", 1)),
            hidden=bool(sheet.get("hidden", False)),
            header_rows=(int(header_rows[0]), int(header_rows[1])) if header_rows else None,
            fill_right=bool(sheet.get("fill_right", False)),
            measure_words={k: _strings(v) for k, v in raw.get("header", {}).get("measures", {}).items()},
            rows=_rows(rows, raw.get("row_codes", {})),
            fixed={k: str(v) for k, v in raw.get("fixed", {}).items()},
            defaults={k: str(v) for k, v in raw.get("defaults", {}).items()},
            units={str(k): str(v) for k, v in raw.get("units", {}).items()},
            mapping={k: str(v) for k, v in raw.get("map", {}).items()},
            routes=tuple(
                RouteSpec(r["dataset"], {k: _strings(v) for k, v in r.get("when", {}).items()},
                          {k: str(v) for k, v in r.get("set", {}).items()})
                for r in raw.get("route", [])
            ),
            fingerprints=_fingerprints(raw.get("fingerprint")),
            table_pattern=sheet.get("table_pattern"),
        )
    except KeyError as exc:
        raise DataError(f"the layout spec lacks the key {exc}", file=path,
                        hint="Every spec needs id, version and dataset.") from exc
    except (tomllib.TOMLDecodeError, TypeError, ValueError, IndexError) as exc:
        raise DataError(f"the layout spec is malformed: {exc}", file=path) from exc
    _check(spec, path)
    return spec


@cache
def builtin_specs() -> tuple[LayoutSpec, ...]:
    """The layout specs shipped with niengiam."""
    root = resources.files("schemas") / "layouts"
    files = sorted((p for p in root.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)
    return tuple(parse_spec(p.read_text(encoding="utf-8"), f"schemas/layouts/{p.name}") for p in files)


def load_specs(extra_dirs: tuple[Path, ...] = ()) -> tuple[LayoutSpec, ...]:
    """Built-in specs plus those in the given folders (a user's own specs win on equal id)."""
    specs = {s.id: s for s in builtin_specs()}
    for folder in extra_dirs:
        for path in sorted(folder.glob("*.toml")):
            spec = parse_spec(path.read_text(encoding="utf-8"), str(path))
            specs[spec.id] = spec
    return tuple(specs.values())
