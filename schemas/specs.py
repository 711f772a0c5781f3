"""Declarative layout specs (TOML in schemas/layouts/): how a table in a workbook maps to observations."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from schemas.errors import DataError
from schemas.text import fold

SPEC_FORMAT_VERSION = 1


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
        return [frozenset(fold(a) for a in group) for group in self.sources]


@dataclass(frozen=True)
class MeasureSpec:
    """A column of figures: found by header aliases or a pattern; `sets` fixes dimensions it implies."""

    headers: tuple[str, ...] = ()
    header_pattern: str | None = None
    sets: dict[str, str] = field(default_factory=dict)

    def match(self, label: str, fragments: list[str]) -> dict[str, str] | None:
        """The dimensions implied when this header matches, or None."""
        keys = {fold(label)} | {fold(f) for f in fragments}
        if self.headers and keys & {fold(h) for h in self.headers}:
            return dict(self.sets)
        if self.header_pattern:
            found = re.search(self.header_pattern, fold(label))
            if found:
                groups = {k: v for k, v in found.groupdict().items() if v is not None}
                return {**self.sets, **groups}
        return None


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

    def required_fields(self) -> list[FieldSpec]:
        """Fields whose column must be present in the header."""
        return [f for f in self.fields.values() if f.required]


def _field(name: str, raw: dict[str, Any]) -> FieldSpec:
    return FieldSpec(
        name=name,
        sources=tuple(tuple(group) for group in raw.get("sources", [])),
        lookup=raw.get("lookup"),
        default=raw.get("default"),
        required=bool(raw.get("required", False)),
        from_title=bool(raw.get("from_title", False)),
    )


def parse_spec(text: str, path: str) -> LayoutSpec:
    """Build a spec from TOML text; DataError naming the file when it is malformed."""
    try:
        raw = tomllib.loads(text)
        sheet = raw.get("sheet", {})
        spec = LayoutSpec(
            id=raw["id"],
            version=int(raw["version"]),
            dataset=raw["dataset"],
            description=raw.get("description", ""),
            title_contains=tuple(fold(t) for t in sheet.get("title_contains", [])),
            sheet_pattern=sheet.get("name_pattern"),
            max_header_rows=int(sheet.get("max_header_rows", 3)),
            fields={name: _field(name, f) for name, f in raw.get("fields", {}).items()},
            measures=tuple(
                MeasureSpec(
                    headers=tuple(m.get("headers", [])),
                    header_pattern=m.get("header_pattern"),
                    sets=dict(m.get("set", {})),
                )
                for m in raw.get("measures", [])
            ),
            unit=_field("unit", raw.get("unit", {})),
            missing_means_zero=bool(raw.get("missing_means_zero", False)),
            path=path,
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DataError(f"the layout spec is malformed: {exc}", file=path) from exc
    if not spec.measures:
        raise DataError("the layout spec names no measures (columns of figures)", file=path)
    return spec


@cache
def builtin_specs() -> tuple[LayoutSpec, ...]:
    """The layout specs shipped with niengiam."""
    root = resources.files("schemas") / "layouts"
    files = sorted(p for p in root.iterdir() if p.name.endswith(".toml"))
    return tuple(parse_spec(p.read_text(encoding="utf-8"), f"schemas/layouts/{p.name}") for p in files)


def load_specs(extra_dirs: tuple[Path, ...] = ()) -> tuple[LayoutSpec, ...]:
    """Built-in specs plus those in the given folders (a user's own specs win on equal id)."""
    specs = {s.id: s for s in builtin_specs()}
    for folder in extra_dirs:
        for path in sorted(folder.glob("*.toml")):
            spec = parse_spec(path.read_text(encoding="utf-8"), str(path))
            specs[spec.id] = spec
    return tuple(specs.values())
