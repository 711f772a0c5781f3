"""Legacy Vietnamese encodings (schemas.encodings): TCVN3/ABC and VNI decoded per cell, round trips."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.encodings import (
    decode_legacy,
    decode_tcvn3,
    decode_vni,
    detect_encoding,
    encode_tcvn3,
    encode_vni,
    is_vietnamese_syllable,
)

ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "kh", "l", "m", "n", "ng", "nh", "ph", "qu", "s", "t",
          "th", "tr", "v", "x"]
NUCLEI = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "oa", "uô", "ươ", "iê", "uy", "yê"]
OPEN_NUCLEI = ["ai", "ao", "au", "âu", "oi", "ôi", "ơi", "ua", "ưa", "ia", "ươi", "uôi", "iêu"]
CODAS = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"]
TONES = ["", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"]


def tone_position(nucleus: str, closed: bool) -> int:
    """Where the tone goes: on the (last) vowel with a quality mark, else the last before a coda, else the first."""
    marked = [i for i, ch in enumerate(nucleus) if ch in "ăâêôơư"]
    if marked:
        return marked[-1]
    if closed:
        return len(nucleus) - 1
    return 1 if len(nucleus) == 3 else 0


@st.composite
def syllables(draw: st.DrawFn) -> str:
    """A Vietnamese syllable: onset, vowel cluster, coda and at most one tone, placed as spelling rules say."""
    nucleus = draw(st.sampled_from(NUCLEI + OPEN_NUCLEI))
    coda = "" if nucleus in OPEN_NUCLEI else draw(st.sampled_from(CODAS))
    at = tone_position(nucleus, bool(coda))
    toned = nucleus[: at + 1] + draw(st.sampled_from(TONES)) + nucleus[at + 1 :]
    onset = draw(st.sampled_from(ONSETS))
    if onset in ("g", "gi") and nucleus.startswith("i"):
        onset = "gh"  # 'g' + 'ia' is spelled 'gia' (onset gi); before i it is written gh
    return onset + unicodedata.normalize("NFC", toned) + coda


phrases = st.lists(syllables(), min_size=1, max_size=8).map(" ".join)


@pytest.mark.parametrize(
    ("legacy", "unicode"),
    [
        ("Gi¸ trÞ s¶n xuÊt", "Giá trị sản xuất"),
        ("Tæng sè doanh nghiÖp", "Tổng số doanh nghiệp"),
        ("§¬n vÞ tÝnh: Tû ®ång", "Đơn vị tính: Tỷ đồng"),
        ("th\u00ad¬ng m¹i", "thương mại"),  # U+00AD (soft hyphen) is the letter ư
        ("\u00adíc tÝnh", "ước tính"),
        ("n¨m 2014", "năm 2014"),  # ¨ is ă
        ("C©y l©u n¨m", "Cây lâu năm"),  # © is â
        ("Phó Thä", "Phú Thọ"),
        ("S¬ bé", "Sơ bộ"),
        ("ChÝnh thøc", "Chính thức"),
    ],
)
def test_tcvn3_known_words(legacy: str, unicode: str) -> None:
    """Known TCVN3 words decode to the Unicode spelling, and are detected as TCVN3."""
    assert decode_legacy(legacy) == unicode
    assert detect_encoding(legacy) == "tcvn3"


def test_tcvn3_upper_case_fonts() -> None:
    """Text typed for .VnTimeH (capitals drawn from lower-case codes) decodes to capitals."""
    assert decode_legacy("TæNG Sè") == "TỔNG SỐ"
    assert decode_legacy("GI¸ TRÞ S¶N XUÊT C¤NG NGHIÖP") == "GIÁ TRỊ SẢN XUẤT CÔNG NGHIỆP"
    assert decode_legacy("Sè liÖu") == "Số liệu"  # a capital initial alone is title case, not .VnTimeH


@pytest.mark.parametrize(
    ("legacy", "unicode"),
    [
        ("Vieät Nam", "Việt Nam"),
        ("Tröôøng Ñaïi hoïc", "Trường Đại học"),
        ("Thaønh phoá Hoà Chí Minh", "Thành phố Hồ Chí Minh"),
        ("Ñaø Naüng", "Đà Nẵng"),
        ("Giaù trò saûn xuaát coâng nghieäp", "Giá trị sản xuất công nghiệp"),
    ],
)
def test_vni_known_words(legacy: str, unicode: str) -> None:
    """Known VNI words decode to the Unicode spelling, and are detected as VNI."""
    assert decode_legacy(legacy) == unicode
    assert detect_encoding(legacy) == "vni"


@pytest.mark.parametrize("text", ["Hà Nội", "Lâm Đồng", "Giá trị", "Tôi", "Café", "2003–04", "$m", "'000"])
def test_unicode_left_alone(text: str) -> None:
    """Unicode text, and Latin-1 text that happens to be valid Vietnamese, is not re-decoded."""
    assert decode_legacy(text) == text


def test_mixed_cell_decodes_only_the_legacy_words() -> None:
    """A Unicode label with a pasted TCVN3 unit is decoded word by word (per run, not per file)."""
    assert decode_legacy("Giá trị SX (Tû ®ång)") == "Giá trị SX (Tỷ đồng)"


def test_result_is_nfc() -> None:
    """Decoded text is NFC-normalised."""
    text = decode_legacy("Gi¸ trÞ")
    assert unicodedata.is_normalized("NFC", text)


@given(phrases)
def test_syllables_are_valid(phrase: str) -> None:
    """The generator and the syllable checker agree."""
    assert all(is_vietnamese_syllable(word) for word in phrase.split())


@given(phrases)
def test_tcvn3_round_trip(phrase: str) -> None:
    """encode → decode is the identity for lower-case text."""
    assert decode_tcvn3(encode_tcvn3(phrase)) == phrase


@given(phrases.map(str.upper))
def test_tcvn3_round_trip_upper_case(phrase: str) -> None:
    """Capitals survive the .VnTimeH convention when the text has ASCII capitals to show the case."""
    encoded = encode_tcvn3(phrase)
    if sum(ch.isascii() and ch.isalpha() for ch in encoded) >= 2:
        assert decode_tcvn3(encoded) == phrase


@given(st.lists(syllables().map(str.capitalize) | syllables(), min_size=1, max_size=8).map(" ".join))
def test_vni_round_trip(phrase: str) -> None:
    """encode → decode is the identity for VNI, in both cases."""
    assert decode_vni(encode_vni(phrase)) == phrase


def score(text: str) -> int:
    """+1 per non-ASCII word that is a Vietnamese syllable, -1 per one that is not."""
    return sum(1 if is_vietnamese_syllable(w) else -1 for w in text.split() if not w.isascii())


@given(phrases, st.sampled_from(["tcvn3", "vni"]))
def test_detection_recovers_unless_ambiguous(phrase: str, encoding: str) -> None:
    """decode_legacy recovers the text, unless another reading spells Vietnamese as well (truly ambiguous)."""
    encoded = encode_tcvn3(phrase) if encoding == "tcvn3" else encode_vni(phrase)
    other = decode_vni(encoded) if encoding == "tcvn3" else decode_tcvn3(encoded)
    ambiguous = max(score(encoded), score(other)) >= score(phrase)
    assert decode_legacy(encoded) == phrase or ambiguous
