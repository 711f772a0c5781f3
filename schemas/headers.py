"""What a column header says: reference period, status, comparison base, measure and unit.

Headers of official tables are phrases broken over rows ('Sơ bộ' / 'tháng 12' / 'năm' / 2024 / 'Lượng');
this module reads the joined fragments of one column. Pure functions, no pandas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas.text import clean_text, fold, roman_to_int, split_unit

# Status words, folded, longest first so that 'uoc thuc hien' wins over 'thuc hien'.
STATUS_WORDS: dict[str, str] = {
    "uoc thuc hien": "estimate",
    "uoc tinh": "estimate",
    "uoc dat": "estimate",
    "du uoc": "estimate",
    "uoc": "estimate",
    "so bo": "preliminary",
    "chinh thuc": "final",
    "thuc hien": "final",
}
_COMPARE = re.compile(r"\b(?:so voi|compared with|vs)\b")
_YEAR = r"(?:19[5-9]\d|20\d\d)"
_FISCAL = re.compile(rf"\b({_YEAR}) ?(\d{{2}}|{_YEAR})\b")
_CUMULATIVE = re.compile(r"\b(\d{1,2}) thang\b")
_MONTH = re.compile(r"\bthang (\d{1,2})\b")
_QUARTER = re.compile(r"\bquy (iv|iii|ii|i|[1-4])\b")
_YEAR_WORD = re.compile(rf"\b({_YEAR})\b")
_PERIOD_WORDS = frozenset({"nam", "thang", "quy", "year", "dau nam", "ca nam"})
_PREVIOUS = re.compile(r"\b(?:thang|quy|ky) truoc\b")
_SAME_PERIOD = re.compile(rf"\bcung ky\b|\bnam truoc\b|\bnam {_YEAR}\b|\bprevious year\b")
_UNIT_ONLY = re.compile(r"^(?:%|\$?'000|\$m|\$b|\$bn|\$'000|times|no\.|number)$", re.IGNORECASE)

SAME_PERIOD_PREVIOUS_YEAR = "same_period_previous_year"
PREVIOUS_PERIOD = "previous_period"


@dataclass(frozen=True)
class Period:
    """A reference period: code ('Y', 'M12', 'Q4', 'M1-M11', 'FY'), the year it belongs to, as written."""

    code: str
    year: int
    label: str


@dataclass(frozen=True)
class Header:
    """The meaning read from one column's header fragments."""

    text: str
    fragments: tuple[str, ...]
    label: str = ""
    status: str | None = None
    period: Period | None = None
    base: str | None = None
    measure: str | None = None
    unit: str | None = None


def read_status(folded: str) -> str | None:
    """The status a folded header names ('so bo' -> 'preliminary'), or None."""
    for words, status in STATUS_WORDS.items():
        if re.search(rf"\b{words}\b", folded):
            return status
    return None


def _fiscal(folded: str, label: str) -> Period | None:
    for match in _FISCAL.finditer(folded):
        start, end = int(match.group(1)), match.group(2)
        end_year = int(end) if len(end) == 4 else (start // 100) * 100 + int(end)
        if end_year == start + 1:
            return Period("FY", end_year, label)
    return None


def read_period(text: str, default_year: int | None = None) -> Period | None:
    """The period a header or row label names: 'Tháng 12 năm 2024' -> M12 2024, '2003–04' -> FY 2004."""
    label = clean_text(text)
    folded = _COMPARE.split(fold(label))[0]
    fiscal = _fiscal(folded, label)
    if fiscal is not None:
        return fiscal
    year_match = _YEAR_WORD.search(folded)
    year = int(year_match.group(1)) if year_match else default_year
    if year is None:
        return None
    cumulative, month, quarter = _CUMULATIVE.search(folded), _MONTH.search(folded), _QUARTER.search(folded)
    if cumulative and not month:
        return Period(f"M1-M{int(cumulative.group(1))}", year, label)
    if month and 1 <= int(month.group(1)) <= 12:
        return Period(f"M{int(month.group(1))}", year, label)
    if quarter:
        number = int(quarter.group(1)) if quarter.group(1).isdigit() else roman_to_int(quarter.group(1))
        return Period(f"Q{number}", year, label)
    return Period("Y", year, label) if year_match else None


def read_base(folded: str) -> str | None:
    """What an index compares with: 'so với cùng kỳ năm trước' -> same period of the previous year."""
    parts = _COMPARE.split(folded, maxsplit=1)
    if len(parts) < 2:
        return None
    against = parts[1]
    if _PREVIOUS.search(against):
        return PREVIOUS_PERIOD
    if _SAME_PERIOD.search(against):
        return SAME_PERIOD_PREVIOUS_YEAR
    if "ke hoach" in against or "plan" in against:
        return "plan"
    return "other"


def read_measure(folded: str, words: dict[str, tuple[str, ...]]) -> str | None:
    """The measure a header names by the spec's words ('Lượng' -> quantity, 'Trị giá' -> value)."""
    for measure, phrases in words.items():
        if any(re.search(rf"\b{re.escape(fold(p))}\b", folded) for p in phrases):
            return measure
    return None


def unit_of_fragment(fragment: str, known_units: frozenset[str] = frozenset()) -> tuple[str, str | None]:
    """(rest, unit) of one fragment: a unit row cell ("'000", '$m', 'Tỷ đồng') or a '(%)' at its end."""
    text = clean_text(fragment)
    if text in known_units or _UNIT_ONLY.match(text):
        return "", text
    rest, unit = split_unit(text)
    if unit is not None:
        return rest, unit
    return text, None


def _is_period_fragment(fragment: str) -> bool:
    folded = fold(fragment)
    if folded in _PERIOD_WORDS:
        return True
    period = read_period(fragment, default_year=0)
    if period is None:
        return False
    rest = _YEAR_WORD.sub(" ", folded)
    rest = re.sub(r"\b(?:thang|quy|nam|\d{1,2}|iv|iii|ii|i|dau|ca)\b", " ", rest)
    return not rest.strip()


def _label_parts(kept: list[str], measure_words: dict[str, tuple[str, ...]]) -> list[str]:
    """Fragments that name what is measured: not the period, status or comparison clause."""
    parts, comparing = [], False
    for fragment in kept:
        folded = fold(fragment)
        if _COMPARE.search(folded):
            comparing = True
            continue
        if comparing and read_measure(folded, measure_words) is None:
            continue
        comparing = False
        if folded and not _is_period_fragment(fragment) and folded not in STATUS_WORDS:
            parts.append(fragment)
    return parts


def read_header(
    fragments: list[str],
    measure_words: dict[str, tuple[str, ...]] | None = None,
    known_units: frozenset[str] = frozenset(),
    default_year: int | None = None,
) -> Header:
    """Read the joined fragments of one column: period, status, base, measure, unit and the rest as label."""
    words = measure_words or {}
    units, kept = [], []
    for fragment in fragments:
        rest, unit = unit_of_fragment(fragment, known_units)
        if unit is not None:
            units.append(unit)
        if rest:
            kept.append(rest)
    folded = fold(" ".join(kept))
    period = read_period(" ".join(kept), default_year)
    if period is not None:
        before = kept[: next((i for i, f in enumerate(kept) if _COMPARE.search(fold(f))), len(kept))]
        written = [f for f in before if _is_period_fragment(f)]
        period = Period(period.code, period.year, " ".join(written) or period.label)
    return Header(
        text=" ".join(clean_text(f) for f in fragments),
        fragments=tuple(fragments),
        label=" / ".join(_label_parts(kept, words)),
        status=read_status(folded),
        period=period,
        base=read_base(folded),
        measure=read_measure(folded, words),
        unit=units[-1] if units else None,
    )


# --- units ---------------------------------------------------------------------------------------

_MULTIPLIERS = [
    (re.compile(r"^\$\s*'000$|^'000\s*\$$"), "$", 1e3),
    (re.compile(r"^\$\s*m$", re.IGNORECASE), "$", 1e6),
    (re.compile(r"^\$\s*bn?$", re.IGNORECASE), "$", 1e9),
    (re.compile(r"^'000$"), "", 1e3),
]
_MULTIPLIER_WORDS = {
    "nghin": 1e3, "ngan": 1e3, "trieu": 1e6, "ty": 1e9, "ti": 1e9,
    "thousand": 1e3, "million": 1e6, "billion": 1e9, "mn": 1e6, "bn": 1e9, "tr": 1e6,
}  # fmt: skip


def split_multiplier(unit: str) -> tuple[str, float]:
    """('tấn', 1000.0) for 'Nghìn tấn', ('USD', 1e6) for 'Triệu USD', ('$', 1e6) for '$m'."""
    text = clean_text(unit)
    for pattern, base, factor in _MULTIPLIERS:
        if pattern.match(text):
            return base, factor
    words = text.split()
    if len(words) > 1 and fold(words[0]).rstrip(".") in _MULTIPLIER_WORDS:
        return " ".join(words[1:]), _MULTIPLIER_WORDS[fold(words[0]).rstrip(".")]
    return text, 1.0


_UNIT_WORDS = frozenset(
    ["dong", "usd", "vnd", "tan", "kg", "ta", "lit", "ha", "km", "m2", "m3", "kwh", "mwh", "gwh", "kw", "mw", "nguoi", "luot", "cai", "chiec", "con", "chai", "hop", "bo", "doi", "tonnes", "tons", "litres", "persons", "number", "$", "%"]
)


def looks_like_unit(text: str) -> bool:
    """Whether a short text names a unit: 'Tỷ đồng', 'Nghìn tấn; Triệu USD', '$m', '%'."""
    if _UNIT_ONLY.match(clean_text(text)) or "$" in text:
        return True
    words = [w for part in split_unit_cell(text) for w in fold(part).split()]
    known = [w for w in words if w in _UNIT_WORDS or w in _MULTIPLIER_WORDS]
    return bool(words) and len(known) * 2 >= len(words) and any(w in _UNIT_WORDS for w in words) or "%" in text


def split_unit_cell(text: str) -> list[str]:
    """A unit cell naming several units: 'Nghìn tấn; Triệu USD' -> ['Nghìn tấn', 'Triệu USD']."""
    return [part.strip() for part in re.split(r"[;]", clean_text(text)) if part.strip()]
