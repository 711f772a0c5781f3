"""Numbers as written in Vietnamese and English spreadsheets: '28.029,5', '28,029.5', '-', '..'."""

from __future__ import annotations

import math
import numbers
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import NamedTuple

from .text import clean_text

__all__ = ["MISSING_CODES", "ParsedNumber", "infer_decimal", "parse_number", "round_half_up"]

MISSING_CODES: dict[str, str] = {
    "-": "nil",
    "\u2013": "nil",  # en dash
    "\u2014": "nil",  # em dash
    "\u2212": "nil",  # minus sign
    "--": "nil",
    "..": "not_available",
    "...": "not_available",
    "…": "not_available",
    "na": "not_available",
    "n/a": "not_available",
    "x": "confidential",
    "": "blank",
}

_MINUS_SIGNS = "-\u2212"
_MAX_QUOTE = 60
_FOOTNOTE = re.compile(
    r"^(?P<body>.*?\S)\s*(?:\((?:\*{1,3}|[^\W\d_]|[0-9]{1,2})\)|\*{1,3}|[¹²³⁰⁴⁵⁶⁷⁸⁹]{1,2})$"
)
_MANTISSA = re.compile(r"(?P<mant>[0-9.,]+(?: [0-9.,]+)*)(?:[eE](?P<exp>[+-]?[0-9]{1,4}))?")
_FIRST_GROUP = re.compile(r"[1-9][0-9]{0,2}")
_MIDDLE_GROUP = re.compile(r"[0-9]{3}")
_LAST_GROUP = re.compile(r"(?P<int>[0-9]{3})(?:[.,](?P<frac>[0-9]+))?")


@dataclass(frozen=True)
class ParsedNumber:
    """A parsed cell: a value, or why there is none (a missing code, or an error message)."""

    value: float | None
    missing: str | None = None
    error: str | None = None
    is_percent: bool = False


class _NotANumberError(ValueError):
    """Internal: the text has the shape of a number but breaks a rule (the detail says which)."""


class _Lexed(NamedTuple):
    """A numeric text taken apart: sign, percent flag, digits with separators, exponent."""

    negative: bool
    percent: bool
    mantissa: str
    exponent: int


def _strip_footnotes(text: str) -> str:
    """Remove footnote markers glued to a number: '1.234,5(*)' -> '1.234,5'."""
    match = _FOOTNOTE.match(text)
    return match["body"].strip() if match else text


def _strip_percent(text: str) -> tuple[str, bool]:
    """Remove one trailing '%' and say whether there was one."""
    if text.endswith("%"):
        return text[:-1].rstrip(), True
    return text, False


def _strip_parentheses(text: str) -> tuple[str, bool]:
    """Remove accounting parentheses '(12,5)' and say whether they were there (negative)."""
    if len(text) >= 2 and text[0] == "(" and text[-1] == ")":
        return text[1:-1].strip(), True
    return text, False


def _strip_sign(text: str) -> tuple[str, bool | None]:
    """Remove a leading '+', '-' or U+2212; True if negative, None if there was no sign."""
    if text[:1] == "+":
        return text[1:].lstrip(), False
    if text[:1] and text[0] in _MINUS_SIGNS:
        return text[1:].lstrip(), True
    return text, None


def _lex(text: str) -> _Lexed | None:
    """Take a cleaned numeric text apart, or None if it does not have the shape of a number."""
    body, percent = _strip_percent(text)
    body, in_parens = _strip_parentheses(body)
    if in_parens and not percent:
        body, percent = _strip_percent(body)
    body, sign = _strip_sign(body)
    if in_parens and sign is not None:
        return None
    match = _MANTISSA.fullmatch(body)
    if match is None or not any(ch.isdigit() for ch in match["mant"]):
        return None
    exponent = int(match["exp"]) if match["exp"] else 0
    return _Lexed(in_parens or bool(sign), percent, match["mant"], exponent)


def _thousands(text: str, sep: str) -> str:
    """Digits of an integer grouped by 3 with `sep` ('1.234.567'); _NotANumberError otherwise."""
    groups = text.split(sep)
    head_ok = _FIRST_GROUP.fullmatch(groups[0]) is not None
    if not head_ok or not all(_MIDDLE_GROUP.fullmatch(g) for g in groups[1:]):
        raise _NotANumberError(f"'{sep}' as thousands separator needs groups of 3 digits")
    return "".join(groups)


def _space_grouped(text: str) -> tuple[str, str]:
    """Integer and fraction digits of '28 029,5' (spaces group thousands; '.'/',' is decimal)."""
    groups = text.split(" ")
    head, middle, last = groups[0], groups[1:-1], _LAST_GROUP.fullmatch(groups[-1])
    if _FIRST_GROUP.fullmatch(head) is None or last is None:
        raise _NotANumberError("spaces as thousands separator need groups of 3 digits")
    if not all(_MIDDLE_GROUP.fullmatch(g) for g in middle):
        raise _NotANumberError("spaces as thousands separator need groups of 3 digits")
    return head + "".join(middle) + last["int"], last["frac"] or ""


def _both_separators(text: str) -> tuple[str, str]:
    """Integer and fraction digits when '.' and ',' both occur: the last one is the decimal."""
    decimal = "." if text.rfind(".") > text.rfind(",") else ","
    if text.count(decimal) > 1:
        raise _NotANumberError(f"'{decimal}' occurs more than once")
    whole, frac = text.split(decimal)
    if not frac:
        raise _NotANumberError("nothing after the decimal separator")
    return _thousands(whole, "," if decimal == "." else "."), frac


def _is_ambiguous(whole: str, frac: str) -> bool:
    """Whether 'w.fff' could be a thousands group (1-3 digit integer part, no leading zero)."""
    return len(frac) == 3 and 1 <= len(whole) <= 3 and not whole.startswith("0")


def _one_separator(text: str, sep: str, decimal: str | None) -> tuple[str, str]:
    """Integer and fraction digits of a text with a single '.' or ','."""
    whole, frac = text.split(sep)
    if not frac:
        raise _NotANumberError("nothing after the separator")
    as_decimal = sep == decimal if decimal is not None else not _is_ambiguous(whole, frac)
    if as_decimal:
        return whole, frac
    return _thousands(text, sep), ""


def _split_mantissa(text: str, decimal: str | None) -> tuple[str, str]:
    """Integer and fraction digits of a mantissa such as '28.029,5' under the rules above."""
    if " " in text:
        return _space_grouped(text)
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        return _both_separators(text)
    if not dots and not commas:
        return text, ""
    sep = "." if dots else ","
    if max(dots, commas) > 1:
        return _thousands(text, sep), ""
    return _one_separator(text, sep, decimal)


def _not_a_number(raw: object, detail: str | None = None) -> ParsedNumber:
    """The error result, with a message that quotes the cell as written."""
    quoted = repr(raw)
    if len(quoted) > _MAX_QUOTE:
        quoted = quoted[: _MAX_QUOTE - 3] + "..."
    message = f"{quoted} is not a number"
    return ParsedNumber(None, error=f"{message} ({detail})" if detail else message)


def _from_number(raw: object) -> ParsedNumber:
    """A numeric cell: passed through as float; NaN is blank, infinities are errors."""
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (OverflowError, ValueError, TypeError):
        return _not_a_number(raw, "out of range")
    if math.isnan(value):
        return ParsedNumber(None, missing="blank")
    if math.isinf(value):
        return _not_a_number(raw, "not finite")
    return ParsedNumber(value)


def _missing_reason(text: str) -> str | None:
    """The missing-value reason of a code such as '-', '..', 'n/a' or 'x', else None."""
    return MISSING_CODES.get(text.casefold())


def _from_text(raw: str, decimal: str | None) -> ParsedNumber:
    """A text cell: a missing code, a number as written in either convention, or an error."""
    text = clean_text(raw)
    reason = _missing_reason(text)
    if reason is None:
        text = _strip_footnotes(text)
        reason = _missing_reason(text)
    if reason is not None:
        return ParsedNumber(None, missing=reason)
    lexed = _lex(text)
    if lexed is None:
        return _not_a_number(raw)
    try:
        whole, frac = _split_mantissa(lexed.mantissa, decimal)
    except _NotANumberError as exc:
        return _not_a_number(raw, str(exc))
    value = float(f"{whole or '0'}.{frac or '0'}e{lexed.exponent}")
    if not math.isfinite(value):
        return _not_a_number(raw, "out of range")
    return ParsedNumber(-value if lexed.negative else value, is_percent=lexed.percent)


def parse_number(raw: object, decimal: str | None = None) -> ParsedNumber:
    """Parse a cell as a number; `decimal` ('.' or ',') settles a lone separator. Never raises."""
    if decimal not in (None, ".", ","):
        raise ValueError(f"decimal must be '.', ',' or None, got {decimal!r}")
    if raw is None:
        return ParsedNumber(None, missing="blank")
    if isinstance(raw, bool):
        return _not_a_number(raw, "a boolean")
    if raw.__class__ is float or isinstance(raw, numbers.Real | Decimal):  # float first: the abstract check is slow
        return _from_number(raw)
    if isinstance(raw, str):
        return _from_text(raw, decimal)
    return _not_a_number(raw)


def _decimal_vote(mantissa: str) -> str | None:
    """Which separator one mantissa shows to be the decimal one, if it shows any."""
    if " " in mantissa:
        last = mantissa.rsplit(" ", 1)[-1]
        return next((sep for sep in ".," if sep in last), None)
    dots, commas = mantissa.count("."), mantissa.count(",")
    if dots and commas:
        return "." if mantissa.rfind(".") > mantissa.rfind(",") else ","
    if max(dots, commas) > 1:
        return "," if dots else "."
    if max(dots, commas) == 0:
        return None
    sep = "." if dots else ","
    whole, frac = mantissa.split(sep)
    return None if not frac or _is_ambiguous(whole, frac) else sep


def infer_decimal(texts: Iterable[str]) -> str | None:
    """The decimal separator that the text numbers of one column show, by majority; else None."""
    votes: Counter[str] = Counter()
    for text in texts:
        if not isinstance(text, str):
            continue
        lexed = _lex(_strip_footnotes(clean_text(text)))
        vote = _decimal_vote(lexed.mantissa) if lexed else None
        if vote is not None:
            votes[vote] += 1
    if votes["."] == votes[","]:
        return None
    return "." if votes["."] > votes[","] else ","


def round_half_up(x: float, digits: int) -> float:
    """Round half away from zero on the decimal repr: round_half_up(0.05, 1) == 0.1."""
    if not math.isfinite(x):
        return x
    exact = Decimal(repr(float(x)))
    with localcontext() as ctx:
        ctx.prec = max(28, exact.adjusted() + abs(digits) + 2)
        try:
            return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
        except InvalidOperation:
            return float(x)
