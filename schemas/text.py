"""Text helpers for spreadsheet labels: cleaning, folding, units, footnotes, cell references."""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

__all__ = [
    "UNIT_LINE",
    "cell_ref",
    "clean_text",
    "col_letter",
    "find_unit_line",
    "fold",
    "fold_variants",
    "parse_cell_ref",
    "roman_to_int",
    "split_unit",
    "strip_footnote",
]

# Invisible characters dropped outright (soft hyphen U+00AD is kept: it is the letter ư in TCVN3).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff"))
_WHITESPACE = re.compile(r"\s+")
# 'Đ' and its look-alikes seen in mis-decoded files: Eth (cp1252 0xD0) and African D.
_D_LIKE = str.maketrans(dict.fromkeys("đĐðÐɖƉ", "d"))
_NOT_KEY_CHAR = re.compile(r"[^a-z0-9%]+")
_VARIANT_Y = re.compile(r"(?<=[bdhklmnqstv])y\b|(?<=qu)y\b")


def clean_text(value: object) -> str:
    """NFC-normalise, turn NBSP/tabs/newlines into spaces, collapse whitespace and strip."""
    if value is None:
        return ""
    text = str(value)
    if text.isascii():  # nothing to normalise or drop: most cells are numbers and plain words
        return _WHITESPACE.sub(" ", text).strip()
    text = unicodedata.normalize("NFC", text.translate(_INVISIBLE))
    text = _WHITESPACE.sub(" ", text).strip()
    return unicodedata.normalize("NFC", text)


class _CombiningMarks(dict):
    """str.translate table deleting combining marks, each character looked up once (fold is called a lot)."""

    def __missing__(self, code: int) -> int | None:
        found = self[code] = None if unicodedata.combining(chr(code)) else code
        return found


_COMBINING_MARKS = _CombiningMarks()


def _strip_marks(text: str) -> str:
    """Decompose compatibly and drop combining marks ('Hà' -> 'Ha', 'm²' -> 'm2')."""
    return unicodedata.normalize("NFKD", text).translate(_COMBINING_MARKS)


def fold(value: object) -> str:
    """Matching key: lower-case ASCII letters, digits and '%', single-spaced ('Năm' -> 'nam')."""
    text = clean_text(value)
    if text.isascii():  # no marks to strip, no 'đ' to map: the same key, without decomposing
        return _NOT_KEY_CHAR.sub(" ", text.lower()).strip()
    text = _strip_marks(text.casefold()).casefold()
    text = _strip_marks(text).translate(_D_LIKE)
    return _NOT_KEY_CHAR.sub(" ", text).strip()


def fold_variants(value: object) -> str:
    """fold() with i/y spelling variants made equal (sỹ/sĩ, kỹ/kĩ, lý/lí, quý/quí -> 'i')."""
    return _VARIANT_Y.sub("i", fold(value))


def _loose_char(ch: str) -> str:
    """A regex class matching an ASCII letter with any diacritic, or the escaped character."""
    if ch == " ":
        return r"\s*"
    if not ch.isascii() or not ch.isalpha():
        return re.escape(ch)
    variants = sorted(_LETTER_VARIANTS.get(ch, set()) | {ch})
    return "[" + "".join(variants) + "]"


def _letter_variants() -> dict[str, set[str]]:
    """Map each ASCII letter to the precomposed Latin letters that fold to it."""
    table: dict[str, set[str]] = {}
    for code in [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]:
        ch = chr(code)
        base = unicodedata.normalize("NFD", ch)[0].lower()
        if ch.isalpha() and base.isascii() and base.isalpha():
            table.setdefault(base, set()).add(ch.lower())
    table["d"] |= set("đðɖ")
    return table


_LETTER_VARIANTS = _letter_variants()


def _loose(phrase: str) -> str:
    """A regex matching an ASCII phrase written with or without Vietnamese diacritics."""
    return "".join(_loose_char(ch) for ch in phrase)


_SEP = "[:\uff1a\\-\u2013\u2014]"  # colon, full-width colon, hyphen, en and em dash
UNIT_LINE: re.Pattern[str] = re.compile(
    r"(?<![^\W_])(?:(?:"
    + _loose("don vi tinh")
    + "|"
    + _loose("dvt")
    + rf")\s*{_SEP}?|(?:"
    + _loose("don vi")
    + r"|units?)\s*"
    + _SEP
    + r")\s*(?P<unit>[^\s)\]][^)\]\n;]*)",
    re.IGNORECASE,
)

_UNIT_WORDS = frozenset(
    [
        *["đồng", "usd", "tấn", "%", "người", "lượt", "cái", "chiếc", "kg", "lít", "ha", "km"],
        *["kwh", "mwh", "gwh", "kw", "mw", "m2", "m3", "m\u00b2", "m\u00b3", "vnd"],
    ]
)
_ASCII_UNIT_WORDS = frozenset(fold(word) for word in _UNIT_WORDS)
_UNIT_SYMBOLS = ("$", "'000")
_UNIT_TOKEN = re.compile(r"%|[^\W_]+")
_TRAILING_PAREN = re.compile(r"^(?P<label>.*?)\s*(?:\((?P<p>[^()]*)\)|\[(?P<b>[^\[\]]*)\])$")


def find_unit_line(text: object) -> str | None:
    """Return the unit of a line like 'Đơn vị tính: Tỷ đồng' in its own spelling, else None."""
    match = UNIT_LINE.search(clean_text(text))
    if match is None:
        return None
    unit = match.group("unit").strip(" .,;:")
    return unit or None


def _is_unit_token(token: str) -> bool:
    """Whether one word is a unit word (exact, or as plain ASCII typed without diacritics)."""
    return token in _UNIT_WORDS or (token.isascii() and token in _ASCII_UNIT_WORDS)


def _looks_like_unit(text: str) -> bool:
    """Whether a parenthetical reads as a unit such as 'Tỷ đồng', 'triệu USD', '%' or '$m'."""
    if any(symbol in text for symbol in _UNIT_SYMBOLS):
        return True
    return any(_is_unit_token(token) for token in _UNIT_TOKEN.findall(text.casefold()))


def _unit_of_parenthetical(inner: str) -> str | None:
    """The unit carried by a parenthetical, whether bare ('Tỷ đồng') or a unit line."""
    from_line = find_unit_line(inner)
    if from_line is not None:
        return from_line
    inner = inner.strip()
    return inner if inner and _looks_like_unit(inner) else None


def split_unit(header: object) -> tuple[str, str | None]:
    """Split a header into (label, unit): 'Giá trị (Tỷ đồng)' -> ('Giá trị', 'Tỷ đồng')."""
    text = clean_text(header)
    paren = _TRAILING_PAREN.match(text)
    if paren is not None:
        inner = paren.group("p") if paren.group("p") is not None else paren.group("b")
        unit = _unit_of_parenthetical(inner)
        if unit is not None:
            return paren.group("label").strip(), unit
    line = UNIT_LINE.search(text)
    if line is not None:
        unit = find_unit_line(text[line.start() :])
        if unit is not None:
            return text[: line.start()].strip(" .,;:-\u2013\u2014(["), unit
    return text, None


_FOOTNOTE_PAREN = re.compile(r"^(?P<label>.*?\S)\s*\((?P<mark>\*{1,3}|[^\W\d_]|[0-9]{1,2})\)$")
_FOOTNOTE_STARS = re.compile(r"^(?P<label>.*?[^\s*])\s*(?P<mark>\*{1,3})$")
_FOOTNOTE_SUPERSCRIPT = re.compile(r"^(?P<label>.*?\S)(?P<mark>[¹²³⁰⁴⁵⁶⁷⁸⁹]{1,2})$")


def _footnote_match(text: str) -> tuple[str, str] | None:
    """Find a trailing footnote marker; a parenthesised letter counts only in lower case."""
    match = _FOOTNOTE_PAREN.match(text)
    if match is not None and (not match["mark"].isalpha() or match["mark"].islower()):
        return match["label"], match["mark"]
    match = _FOOTNOTE_STARS.match(text) or _FOOTNOTE_SUPERSCRIPT.match(text)
    if match is not None:
        return match["label"], unicodedata.normalize("NFKC", match["mark"])
    return None


def strip_footnote(label: object) -> tuple[str, str | None]:
    """Strip a trailing footnote marker: 'Xuất khẩu (*)' -> ('Xuất khẩu', '*')."""
    text = clean_text(label)
    found = _footnote_match(text)
    if found is None:
        return text, None
    stripped, mark = found
    stripped = stripped.strip()
    return (stripped, mark) if stripped else (text, None)


_CELL_REF = re.compile(r"\$?([A-Za-z]+)\$?([1-9][0-9]*)")


def col_letter(col0: int) -> str:
    """Spreadsheet column letters of a 0-based column index: 0 -> 'A', 26 -> 'AA'."""
    if col0 < 0:
        raise ValueError(f"column index must be >= 0, got {col0}")
    letters = ""
    number = col0 + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_ref(row0: int, col0: int) -> str:
    """A1-style reference of a 0-based (row, column): (0, 0) -> 'A1'."""
    if row0 < 0:
        raise ValueError(f"row index must be >= 0, got {row0}")
    return f"{col_letter(col0)}{row0 + 1}"


def _col_index(letters: str) -> int:
    """0-based column index of column letters: 'A' -> 0, 'AA' -> 26."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + (ord(ch) - ord("A") + 1)
    return number - 1


def parse_cell_ref(ref: str) -> tuple[int, int]:
    """0-based (row, column) of an A1-style reference ('$' allowed); ValueError if malformed."""
    match = _CELL_REF.fullmatch(ref.strip()) if isinstance(ref, str) else None
    if match is None or not match.group(1).isascii():
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(match.group(2)) - 1, _col_index(match.group(1))


_ROMAN = re.compile(r"(?=[MDCLXVI])M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}


def roman_to_int(text: str) -> int | None:
    """Value of a canonical Roman numeral ('IV' -> 4, 'ix' -> 9, 'II.' -> 2), else None."""
    if not isinstance(text, str):
        return None
    numeral = unicodedata.normalize("NFKC", text).strip().rstrip(".").upper()
    if not numeral.isascii() or _ROMAN.fullmatch(numeral) is None:
        return None
    values = [_ROMAN_VALUES[ch] for ch in numeral]
    total = sum(-v if v < nxt else v for v, nxt in pairwise(values))
    return total + values[-1]
