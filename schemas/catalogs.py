"""Code lists (industries, awards, trade groups, …) and the aliases that map written labels to codes."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

from schemas.text import clean_text, fold, fold_variants

# catalogue name -> (code column, key function used to match labels)
CATALOGS: dict[str, tuple[str, Callable[[object], str]]] = {
    "industries": ("industry_code", fold),
    "ownership": ("ownership_code", fold),
    "trade_flows": ("flow_code", fold),
    "trade_groups": ("product_group_code", fold),
    "awards": ("award_code", fold_variants),
    "provinces": ("province_code", fold),
    "status": ("status", fold),
    "units": ("unit", fold),
    "provinces_2025": ("province_code", fold),
    "province_crosswalk": ("predecessor_code", fold),
    "indicators": ("indicator_code", fold),
    "targets": ("indicator_code", fold),
}


@dataclass(frozen=True)
class Catalog:
    """One code list: its rows and a folded-alias index."""

    name: str
    code_column: str
    rows: tuple[dict[str, str], ...]
    index: dict[str, str]
    key: Callable[[object], str]

    @cached_property
    def codes(self) -> frozenset[str]:
        """Every code in the list."""
        return frozenset(row[self.code_column] for row in self.rows)

    def lookup(self, label: object) -> str | None:
        """The code a written label stands for, or None."""
        text = clean_text(label)
        if not text:
            return None
        if text in self.codes:
            return text
        return self.index.get(self.key(text))

    def names(self, lang: str = "vi") -> dict[str, str]:
        """Code -> display name in Vietnamese or English."""
        column = next((c for c in (f"name_{lang}", f"award_name_{lang}") if c in self.rows[0]), None)
        return {row[self.code_column]: row[column] if column else row[self.code_column] for row in self.rows}


def _read_rows(name: str) -> list[dict[str, str]]:
    source = resources.files("schemas") / "catalogs" / f"{name}.csv"
    with source.open("r", encoding="utf-8", newline="") as handle:  # type: ignore[call-overload]  # a file on disk
        return [{k: clean_text(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def _build_index(rows: list[dict[str, str]], code_column: str, key: Callable[[object], str]) -> dict[str, str]:
    index: dict[str, str] = {}
    for row in rows:
        code = row[code_column]
        names = [code, row.get("name_vi", ""), row.get("award_name_vi", "")]
        names += [row.get("name_en", ""), row.get("award_name_en", "")]
        names += (row.get("aliases") or "").split("|")
        for name in names:
            folded = key(name)
            if folded:
                index.setdefault(folded, code)
    return index


@cache
def load_catalog(name: str) -> Catalog:
    """Load a catalogue shipped in schemas/catalogs/ (cached: catalogues do not change while running)."""
    code_column, key = CATALOGS[name]
    rows = _read_rows(name)
    return Catalog(name, code_column, tuple(rows), _build_index(rows, code_column, key), key)
