"""Tests for schemas.text: cleaning, folding, units, footnotes, cell references, Roman numerals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.text import (
    UNIT_LINE,
    cell_ref,
    clean_text,
    col_letter,
    find_unit_line,
    fold,
    fold_variants,
    parse_cell_ref,
    roman_to_int,
    split_unit,
    strip_footnote,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("  Giá\u00a0trị\tsản\nxuất  ", "Giá trị sản xuất"),
        ("Gia\u0301 tri\u0323", "Giá trị"),  # NFD input comes out NFC
        ("a\u200bb", "ab"),
        ("a\r\n\r\nb", "a b"),
        (2014, "2014"),
        ("   ", ""),
    ],
)
def test_clean_text(raw: object, expected: str) -> None:
    """clean_text normalises, collapses whitespace and strips."""
    assert clean_text(raw) == expected


def test_clean_text_keeps_soft_hyphen() -> None:
    """U+00AD is the letter ư in TCVN3 text, so it must survive cleaning."""
    assert clean_text("Gi\u00b8 tr\u00de s\u00adn") == "Gi\u00b8 tr\u00de s\u00adn"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Năm", "nam"),
        ("nam", "nam"),
        ("Giá  hiện\nhành", "gia hien hanh"),
        ("ĐƠN VỊ TÍNH: Tỷ đồng", "don vi tinh ty dong"),
        ("Ðồng", "dong"),  # Eth look-alike from mis-decoded files
        ("Tỷ trọng (%)", "ty trong %"),
        ("Sơ bộ 2024", "so bo 2024"),
        ("m²", "m2"),
        ("Huân chương Lao động hạng Nhất", "huan chuong lao dong hang nhat"),
        (None, ""),
    ],
)
def test_fold(raw: object, expected: str) -> None:
    """fold gives the documented matching keys."""
    assert fold(raw) == expected


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Chiến sỹ thi đua cấp tỉnh", "Chiến sĩ thi đua cấp tỉnh"),
        ("Kỹ thuật", "Kĩ thuật"),
        ("Lý luận", "Lí luận"),
        ("Mỹ thuật", "Mĩ thuật"),
        ("Quý I", "Quí I"),
        ("Hy vọng", "Hi vọng"),
        ("tỷ đồng", "tỉ đồng"),
    ],
)
def test_fold_variants_equal(left: str, right: str) -> None:
    """Vietnamese i/y spelling variants fold to one key."""
    assert fold_variants(left) == fold_variants(right)
    assert fold(left) != fold(right)


@pytest.mark.parametrize("word", ["Huy chương", "Thủy sản", "Duy trì", "Tây Ninh", "ý kiến"])
def test_fold_variants_leaves_other_y(word: str) -> None:
    """A 'y' after a vowel, or alone, is not a spelling variant."""
    assert fold_variants(word) == fold(word)


@given(st.text())
def test_fold_idempotent_and_ascii(text: str) -> None:
    """fold is idempotent and its output is ASCII letters, digits, '%' and single spaces."""
    key = fold(text)
    assert fold(key) == key
    assert key.isascii()
    assert key == key.strip() and "  " not in key
    assert fold_variants(fold_variants(text)) == fold_variants(text)


@given(st.text())
def test_fold_of_clean_text(text: str) -> None:
    """Cleaning first changes nothing: fold(clean_text(s)) == fold(s); clean_text is idempotent."""
    assert fold(clean_text(text)) == fold(text)
    assert clean_text(clean_text(text)) == clean_text(text)


@given(st.text(st.characters(max_codepoint=127)))
def test_ascii_shortcut_agrees_with_normalising(text: str) -> None:
    """clean_text and fold skip normalising ASCII text; a character they drop forces the long way.

    clean_text drops invisible characters, fold combining marks (which clean_text keeps).
    """
    assert clean_text(text) == clean_text(text + "\u200b") == clean_text("\ufeff" + text)
    assert fold(text) == fold(text + "\u0301")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Giá trị (Tỷ đồng)", ("Giá trị", "Tỷ đồng")),
        ("Đơn vị tính: Tỷ đồng", ("", "Tỷ đồng")),
        ("Giá hiện hành", ("Giá hiện hành", None)),
        ("Giá so sánh (2010)", ("Giá so sánh (2010)", None)),
        ("Tỷ trọng (%)", ("Tỷ trọng", "%")),
        ("Xuất khẩu (Triệu USD)", ("Xuất khẩu", "Triệu USD")),
        ("Sản lượng (Nghìn tấn)", ("Sản lượng", "Nghìn tấn")),
        ("Lao động (Người)", ("Lao động", "Người")),
        ("Diện tích (ha)", ("Diện tích", "ha")),
        ("Điện (Triệu kWh)", ("Điện", "Triệu kWh")),
        ("Revenue ($m)", ("Revenue", "$m")),
        ("Exports ('000 tonnes)", ("Exports", "'000 tonnes")),
        ("Doanh thu [tỷ đồng]", ("Doanh thu", "tỷ đồng")),
        ("GTSX (Đơn vị tính: tỷ đồng)", ("GTSX", "tỷ đồng")),
        (
            "Biểu 1. GTSX công nghiệp - Đơn vị tính: Tỷ đồng",
            ("Biểu 1. GTSX công nghiệp", "Tỷ đồng"),
        ),
        ("Vùng (Đông Nam Bộ)", ("Vùng (Đông Nam Bộ)", None)),  # Đông is not đồng
        ("Khu vực (Nhà nước)", ("Khu vực (Nhà nước)", None)),
        ("Doanh thu (ty dong)", ("Doanh thu", "ty dong")),  # typed without diacritics
        (None, ("", None)),
    ],
)
def test_split_unit(header: object, expected: tuple[str, str | None]) -> None:
    """split_unit finds units in trailing parentheses and in unit lines only."""
    assert split_unit(header) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đơn vị tính: Tỷ đồng", "Tỷ đồng"),
        ("ĐVT: triệu USD", "triệu USD"),
        ("Đơn vị: %", "%"),
        ("Unit: $m", "$m"),
        ("Units: '000 USD", "'000 USD"),
        ("don vi tinh: tan", "tan"),
        ("ĐƠN VỊ TÍNH : Nghìn người.", "Nghìn người"),
        ("(Đơn vị tính: Tỷ đồng)", "Tỷ đồng"),
        ("Đvt - Lượt", "Lượt"),
        ("Đơn vị hành chính", None),
        ("Unit price", None),
        ("Giá trị sản xuất", None),
        (None, None),
    ],
)
def test_find_unit_line(text: object, expected: str | None) -> None:
    """find_unit_line returns the unit as written, or None."""
    assert find_unit_line(text) == expected


def test_unit_line_pattern_is_exported() -> None:
    """UNIT_LINE is a compiled pattern with a 'unit' group."""
    match = UNIT_LINE.search("Đơn vị tính: Tỷ đồng")
    assert match is not None and match.group("unit") == "Tỷ đồng"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Luxury car tax (b)", ("Luxury car tax", "b")),
        ("Xuất khẩu (*)", ("Xuất khẩu", "*")),
        ("Xuất khẩu (**)", ("Xuất khẩu", "**")),
        ("Tổng số(1)", ("Tổng số", "1")),
        ("Tổng số (12)", ("Tổng số", "12")),
        ("Khai khoáng*", ("Khai khoáng", "*")),
        ("Khai khoáng **", ("Khai khoáng", "**")),
        ("Tổng số¹", ("Tổng số", "1")),
        ("Giá so sánh (2010)", ("Giá so sánh (2010)", None)),
        ("Giá trị (Tỷ đồng)", ("Giá trị (Tỷ đồng)", None)),
        ("Diện tích (ha)", ("Diện tích (ha)", None)),
        ("Chế biến, chế tạo (C)", ("Chế biến, chế tạo (C)", None)),  # VSIC section, not a note
        ("(1)", ("(1)", None)),  # a column-number cell, not a footnote
        ("*", ("*", None)),
        ("Khai khoáng", ("Khai khoáng", None)),
        (None, ("", None)),
    ],
)
def test_strip_footnote(label: object, expected: tuple[str, str | None]) -> None:
    """strip_footnote removes short trailing markers and nothing meaningful."""
    assert strip_footnote(label) == expected


@pytest.mark.parametrize(
    ("col0", "letters"),
    [
        *[(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA")],
        *[(701, "ZZ"), (702, "AAA"), (16383, "XFD")],
    ],
)
def test_col_letter(col0: int, letters: str) -> None:
    """col_letter uses bijective base 26."""
    assert col_letter(col0) == letters


def test_cell_ref_examples() -> None:
    """cell_ref and parse_cell_ref on simple cases, '$' and lower case."""
    assert cell_ref(0, 0) == "A1"
    assert cell_ref(6, 1) == "B7"
    assert cell_ref(1_048_575, 16383) == "XFD1048576"
    assert parse_cell_ref("A1") == (0, 0)
    assert parse_cell_ref("$B$7") == (6, 1)
    assert parse_cell_ref("xfd1048576") == (1_048_575, 16383)


@pytest.mark.parametrize("bad", ["", "A", "1", "A0", "1A", "A-1", "A1B", "Á1", "A 1", "A01"])
def test_parse_cell_ref_rejects(bad: str) -> None:
    """Malformed references raise ValueError."""
    with pytest.raises(ValueError, match="not a cell reference"):
        parse_cell_ref(bad)


def test_negative_indices_rejected() -> None:
    """Negative indices are programming errors."""
    with pytest.raises(ValueError):
        col_letter(-1)
    with pytest.raises(ValueError):
        cell_ref(-1, 0)


@given(st.integers(0, 1_048_575), st.integers(0, 16383))
def test_cell_ref_round_trip(row0: int, col0: int) -> None:
    """parse_cell_ref inverts cell_ref over the whole Excel sheet."""
    assert parse_cell_ref(cell_ref(row0, col0)) == (row0, col0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IV", 4),
        ("ix", 9),
        ("I", 1),
        ("XIV", 14),
        ("MCMXCIV", 1994),
        ("II.", 2),
        (" III ", 3),
        ("Ⅻ", 12),
        ("abc", None),
        ("", None),
        ("IIII", None),
        ("VX", None),
        ("12", None),
    ],
)
def test_roman_to_int(text: str, expected: int | None) -> None:
    """roman_to_int accepts canonical numerals only."""
    assert roman_to_int(text) == expected


@given(st.integers(1, 3999))
def test_roman_round_trip(number: int) -> None:
    """Every canonical numeral 1..3999 reads back as its value."""
    pairs = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC")]
    pairs += [(50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    numeral, rest = "", number
    for value, letters in pairs:
        count, rest = divmod(rest, value)
        numeral += letters * count
    assert roman_to_int(numeral) == number
