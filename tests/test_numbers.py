"""Tests for schemas.numbers: numbers as written, missing codes, decimal inference, rounding."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.numbers import (
    MISSING_CODES,
    ParsedNumber,
    infer_decimal,
    parse_number,
    round_half_up,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("28.029,5", 28029.5),
        ("28,029.5", 28029.5),
        ("28 029,5", 28029.5),
        ("28\u00a0029,5", 28029.5),
        ("28\u202f029,5", 28029.5),
        ("1 234 567", 1234567.0),
        ("30.618", 30618.0),
        ("1,234", 1234.0),
        ("119,6", 119.6),
        ("108.35", 108.35),
        ("108,35", 108.35),
        ("1.313", 1313.0),
        ("1.234.567", 1234567.0),
        ("1,234,567.89", 1234567.89),
        ("0,618", 0.618),
        ("1234,567", 1234.567),
        ("12,3456", 12.3456),
        (",5", 0.5),
        ("2014", 2014.0),
        ("  13,2 ", 13.2),
        ("+5,6", 5.6),
        ("-5,6", -5.6),
        ("\u22125,6", -5.6),
        ("- 5", -5.0),
        ("(12,5)", -12.5),
        ("(1.234,5)", -1234.5),
        ("1.234,5(*)", 1234.5),
        ("12,3 (a)", 12.3),
        ("12,3 (A)", 12.3),
        ("36*", 36.0),
        ("1.5E+03", 1500.0),
    ],
)
def test_parse_number_values(raw: str, expected: float) -> None:
    """Text numbers in either convention parse without a hint."""
    parsed = parse_number(raw)
    assert parsed == ParsedNumber(expected), parsed


@pytest.mark.parametrize(
    ("raw", "decimal", "expected"),
    [
        ("30.618", ".", 30.618),
        ("30.618", ",", 30618.0),
        ("1,234", ",", 1.234),
        ("1,234", ".", 1234.0),
        ("119,6", ",", 119.6),
        ("108.35", ".", 108.35),
        ("28.029,5", ".", 28029.5),  # both present: the last one wins regardless of the hint
        ("1.234.567", ".", 1234567.0),  # repeated: always thousands
    ],
)
def test_parse_number_with_hint(raw: str, decimal: str, expected: float) -> None:
    """The decimal hint settles a lone separator."""
    assert parse_number(raw, decimal) == ParsedNumber(expected)


@pytest.mark.parametrize(
    ("raw", "decimal"),
    [("119,6", "."), ("108.35", ","), ("0.618", ","), (".5", ",")],
)
def test_parse_number_hint_contradicted(raw: str, decimal: str) -> None:
    """A lone separator that the hint makes a thousands separator must group by 3."""
    parsed = parse_number(raw, decimal)
    assert parsed.value is None and parsed.error is not None
    assert "groups of 3 digits" in parsed.error


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("5%", 5.0), ("108,35 %", 108.35), ("-1,5%", -1.5), ("(2,5%)", -2.5), ("13,2 % (*)", 13.2)],
)
def test_parse_number_percent(raw: str, expected: float) -> None:
    """A trailing '%' is stripped and flagged; the value stays as written."""
    assert parse_number(raw) == ParsedNumber(expected, is_percent=True)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("-", "nil"),
        ("\u2013", "nil"),  # en dash
        ("\u2014", "nil"),  # em dash
        ("\u2212", "nil"),  # minus sign
        ("..", "not_available"),
        ("...", "not_available"),
        ("…", "not_available"),
        ("na", "not_available"),
        ("NA", "not_available"),
        ("n/a", "not_available"),
        ("N/A", "not_available"),
        ("x", "confidential"),
        ("X", "confidential"),
        ("", "blank"),
        ("  \u00a0", "blank"),
        (None, "blank"),
        (float("nan"), "blank"),
        (" - ", "nil"),
        ("-(*)", "nil"),
        (".. (a)", "not_available"),
    ],
)
def test_parse_number_missing(raw: object, reason: str) -> None:
    """Missing codes map to their reasons."""
    assert parse_number(raw) == ParsedNumber(None, missing=reason)


def test_missing_codes_table() -> None:
    """The documented codes are all there."""
    expected = {"-": "nil", "\u2013": "nil", "\u2014": "nil", "..": "not_available"}
    expected |= {"...": "not_available", "…": "not_available", "na": "not_available"}
    expected |= {"n/a": "not_available", "x": "confidential", "": "blank"}
    assert expected.items() <= MISSING_CODES.items()


@pytest.mark.parametrize(
    "raw",
    [
        *["abc", "1.23.4", "1,5.3", "1.234,5,6", "12 3", "5.", "(-5)", "1,2,3", "1 234.5 6"],
        *['"', "1e400", "12abc", "%", "()", "+", "--5", "1.234.567,", "Tỷ đồng", "0.618.000"],
    ],
)
def test_parse_number_errors(raw: str) -> None:
    """Non-numbers give an error that quotes the cell, never an exception."""
    parsed = parse_number(raw)
    assert parsed.value is None and parsed.missing is None
    assert parsed.error is not None and parsed.error.startswith(repr(raw)[:20])


def test_parse_number_error_message() -> None:
    """The plain error message is exactly as documented."""
    assert parse_number("abc") == ParsedNumber(None, error="'abc' is not a number")


def test_parse_number_error_message_is_short() -> None:
    """A huge cell is quoted only in part."""
    error = parse_number("z" * 10_000).error
    assert error is not None and len(error) < 100


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (5, 5.0),
        (-3, -3.0),
        (14075.000000000002, 14075.000000000002),
        (0.1, 0.1),
        (Decimal("1.5"), 1.5),
    ],
)
def test_parse_number_numeric_cells(raw: object, expected: float) -> None:
    """Numeric cells pass through as floats with full precision."""
    parsed = parse_number(raw)
    assert parsed == ParsedNumber(expected)
    assert isinstance(parsed.value, float)


@pytest.mark.parametrize("raw", [True, False, float("inf"), -float("inf"), 10**400, object()])
def test_parse_number_bad_objects(raw: object) -> None:
    """Booleans, infinities, huge integers and other objects are errors."""
    parsed = parse_number(raw)
    assert parsed.value is None and parsed.missing is None and parsed.error


def test_parse_number_rejects_bad_hint() -> None:
    """An unknown decimal hint is a programming error."""
    with pytest.raises(ValueError):
        parse_number("1,5", decimal=";")


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["119,6", "30.618"], ","),
        (["28.029,5"], ","),
        (["108.35", "1,234"], "."),
        (["28,029.5"], "."),
        (["30.618", "1.313"], None),
        (["1,234"], None),
        (["1.234.567"], ","),
        (["1,234,567"], "."),
        (["0,618"], ","),
        (["28 029,5"], ","),
        (["1,5", "2,5", "3.5"], ","),  # majority
        (["1,5", "3.5"], None),  # tie
        (["-", "..", "abc", ""], None),
        ([], None),
        (["(12,5)", "13,2 %", "1.234,5(*)"], ","),
    ],
)
def test_infer_decimal(texts: list[str], expected: str | None) -> None:
    """infer_decimal reads the column's convention from unambiguous numbers."""
    assert infer_decimal(texts) == expected


def test_infer_decimal_skips_non_text() -> None:
    """Numeric cells mixed into the column are ignored."""
    assert infer_decimal([1.5, None, "119,6"]) == ","  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("x", "digits", "expected"),
    [
        (14075.000000000002, 1, 14075.0),
        (0.05, 1, 0.1),
        (-0.05, 1, -0.1),
        (2.675, 2, 2.68),
        (1.005, 2, 1.01),
        (0.125, 2, 0.13),
        (1234.5, 0, 1235.0),
        (1250.0, -2, 1300.0),
        (1e300, 3, 1e300),
        (5e-324, 3, 0.0),
    ],
)
def test_round_half_up(x: float, digits: int, expected: float) -> None:
    """Rounding is half away from zero on the decimal repr, not on the binary value."""
    assert round_half_up(x, digits) == expected


def test_round_half_up_non_finite() -> None:
    """NaN and infinities come back unchanged."""
    assert math.isnan(round_half_up(float("nan"), 1))
    assert round_half_up(float("inf"), 1) == float("inf")


_FINITE = st.floats(allow_nan=False, allow_infinity=False)


def _english(value: float, digits: int) -> str:
    """Format like '28,029.5'."""
    return f"{value:,.{digits}f}"


def _vietnamese(value: float, digits: int) -> str:
    """Format like '28.029,5'."""
    return _english(value, digits).translate(str.maketrans(",.", ".,"))


@given(_FINITE, st.integers(1, 3))
def test_round_trip_both_conventions(x: float, digits: int) -> None:
    """Formatting in either convention and parsing with the matching hint gives the value back."""
    value = round(x, digits)
    for text, decimal in [(_vietnamese(value, digits), ","), (_english(value, digits), ".")]:
        parsed = parse_number(text, decimal)
        assert parsed.value is not None, (text, parsed)
        assert math.isclose(parsed.value, value, rel_tol=1e-12), (text, parsed)


@given(_FINITE, st.integers(1, 2))
def test_infer_then_parse(x: float, digits: int) -> None:
    """A hint inferred from a number with 1-2 decimals reads it back ('1.000' stays ambiguous)."""
    value = round(x, digits)
    for text in [_vietnamese(value, digits), _english(value, digits)]:
        parsed = parse_number(text, infer_decimal([text]))
        assert parsed.value is not None and math.isclose(parsed.value, value, rel_tol=1e-12)


@given(st.text())
def test_parse_number_never_raises_on_text(text: str) -> None:
    """Arbitrary text yields exactly one of a value, a missing reason or an error."""
    parsed = parse_number(text)
    assert (parsed.value is not None) + (parsed.missing is not None) + (
        parsed.error is not None
    ) == 1
    for decimal in (".", ","):
        parse_number(text, decimal)
    infer_decimal([text])


@given(st.one_of(st.none(), st.integers(), st.floats(), st.text(), st.booleans()))
def test_parse_number_never_raises_on_objects(raw: object) -> None:
    """Arbitrary cell objects never raise, and values are finite floats."""
    parsed = parse_number(raw)
    if parsed.value is not None:
        assert isinstance(parsed.value, float) and math.isfinite(parsed.value)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_round_half_up_close(x: float) -> None:
    """round_half_up moves a value by at most half a unit of the last digit."""
    assert abs(round_half_up(x, 2) - x) <= 0.005 + 1e-9 * max(1.0, abs(x))
