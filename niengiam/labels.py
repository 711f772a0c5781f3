"""Vietnamese and English names for codes, columns and report texts, and numbers written the local way.

Names of industries, awards, trade flows, provinces, statuses and units come from the code lists in
schemas/catalogs/; everything else (datasets, indicators, levels, recipient kinds, columns, report
texts) from schemas/catalogs/labels.csv. Pure: no DuckDB, no Prefect, no pandas.
"""

from __future__ import annotations

import csv
import math
import re
from functools import cache
from importlib import resources

LANGUAGES = ("vi", "en")

# label kinds whose names live in a code list of schemas/catalogs/
CATALOG_KINDS = {
    "industry": "industries",
    "ownership": "ownership",
    "trade_flow": "trade_flows",
    "product_group": "trade_groups",
    "award": "awards",
    "province": "provinces",
    "status": "status",
    "unit": "units",
}

_SWAP_SEPARATORS = str.maketrans(",.", ".,")
_BILINGUAL = re.compile(r"^\s*vi:\s*(?P<vi>.*?)\s*\|\s*en:\s*(?P<en>.*?)\s*$", re.DOTALL)


@cache
def _label_rows() -> dict[tuple[str, str], dict[str, str]]:
    source = resources.files("schemas") / "catalogs" / "labels.csv"
    with source.open("r", encoding="utf-8") as handle:
        return {(row["kind"], row["code"]): row for row in csv.DictReader(handle)}


def check_language(lang: str) -> str:
    """The language code, or ValueError for one niengiam does not speak."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use vi or en")
    return lang


def label(kind: str, code: object, lang: str = "vi") -> str:
    """The name of a code in Vietnamese or English; the code itself when no name is known."""
    check_language(lang)
    if code is None:
        return ""
    text = str(code)
    if kind in CATALOG_KINDS:
        from schemas.catalogs import load_catalog

        name = load_catalog(CATALOG_KINDS[kind]).names(lang).get(text)
        if name:
            return name
    row = _label_rows().get((kind, text))
    return row[f"name_{lang}"] if row else text


def codes(kind: str) -> list[str]:
    """Every code of one kind in labels.csv, in file order."""
    return [code for (k, code) in _label_rows() if k == kind]


def text(key: str, lang: str = "vi", **values: object) -> str:
    """A report text by key, with {placeholders} filled in."""
    template = label("text", key, lang)
    return template.format(**values) if values else template


def pick_language(comment: str | None, lang: str) -> str:
    """One language out of a 'vi: … | en: …' comment; other comments are returned as they are."""
    if not comment:
        return ""
    match = _BILINGUAL.match(comment)
    return match.group(check_language(lang)) if match else comment


def describe_column(name: str, comment: str | None, lang: str) -> str:
    """A column's COMMENT ON in one language; without one, its short label from labels.csv (or nothing)."""
    if comment:
        return pick_language(comment, lang)
    known = label("column", name, lang)
    return known if known != name else ""


def format_number(value: object, decimals: int = 1, lang: str = "vi") -> str:
    """28029.5 -> '28.029,5' (vi) or '28,029.5' (en); blank for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    number = float(value)  # type: ignore[arg-type]
    written = f"{number:,.{decimals}f}"
    if check_language(lang) == "vi":
        written = written.translate(_SWAP_SEPARATORS)
    return written
