"""Legacy Vietnamese font encodings (TCVN3/ABC and VNI) decoded to NFC Unicode, detected per cell and word.

Old workbooks were typed with 8-bit "fonts" (.VnTime, .VnArial, VNI-Times): the text stored in the file is
Windows-1252 characters that only look Vietnamese in that font. "Gi¸ trÞ s¶n xuÊt" is TCVN3 for "Giá trị sản
xuất", "Vieät Nam" is VNI for "Việt Nam". Files mix encodings between sheets and within a sheet, so the choice
is made per cell (and per word inside a cell), by which reading gives valid Vietnamese syllables.
The soft hyphen U+00AD is the letter ư in TCVN3: nothing here strips "invisible" characters before decoding.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "decode_legacy",
    "decode_tcvn3",
    "decode_vni",
    "detect_encoding",
    "encode_tcvn3",
    "encode_vni",
    "is_vietnamese_syllable",
]

# --- TCVN3 (TCVN 5712:1993, "ABC") -----------------------------------------------------------
# Lower-case toned letters live in 0xA8–0xFE; only Ă Â Ê Ô Ơ Ư Đ have upper-case codes. Upper-case toned
# letters were shown by the ".VnTimeH" family of fonts, which draw the lower-case codes as capitals.
_TCVN3_LOWER = {
    "à": "\xb5", "ả": "\xb6", "ã": "\xb7", "á": "\xb8", "ạ": "\xb9",
    "ă": "\xa8", "ằ": "\xbb", "ẳ": "\xbc", "ẵ": "\xbd", "ắ": "\xbe", "ặ": "\xc6",
    "â": "\xa9", "ầ": "\xc7", "ẩ": "\xc8", "ẫ": "\xc9", "ấ": "\xca", "ậ": "\xcb",
    "đ": "\xae",
    "è": "\xcc", "ẻ": "\xce", "ẽ": "\xcf", "é": "\xd0", "ẹ": "\xd1",
    "ê": "\xaa", "ề": "\xd2", "ể": "\xd3", "ễ": "\xd4", "ế": "\xd5", "ệ": "\xd6",
    "ì": "\xd7", "ỉ": "\xd8", "ĩ": "\xdc", "í": "\xdd", "ị": "\xde",
    "ò": "\xdf", "ỏ": "\xe1", "õ": "\xe2", "ó": "\xe3", "ọ": "\xe4",
    "ô": "\xab", "ồ": "\xe5", "ổ": "\xe6", "ỗ": "\xe7", "ố": "\xe8", "ộ": "\xe9",
    "ơ": "\xac", "ờ": "\xea", "ở": "\xeb", "ỡ": "\xec", "ớ": "\xed", "ợ": "\xee",
    "ù": "\xef", "ủ": "\xf1", "ũ": "\xf2", "ú": "\xf3", "ụ": "\xf4",
    "ư": "\xad", "ừ": "\xf5", "ử": "\xf6", "ữ": "\xf7", "ứ": "\xf8", "ự": "\xf9",
    "ỳ": "\xfa", "ỷ": "\xfb", "ỹ": "\xfc", "ý": "\xfd", "ỵ": "\xfe",
}  # fmt: skip
_TCVN3_UPPER = {"Ă": "\xa1", "Â": "\xa2", "Ê": "\xa3", "Ô": "\xa4", "Ơ": "\xa5", "Ư": "\xa6", "Đ": "\xa7"}
_FROM_TCVN3 = {code: letter for letter, code in {**_TCVN3_LOWER, **_TCVN3_UPPER}.items()}

# --- VNI (VNI-Windows) --------------------------------------------------------------------------
# A base letter followed by one modifier character; i, ơ, ư, đ and ỵ have single codes of their own.
_VNI_TONES_LOWER = {"\u0301": "ù", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}
_VNI_HAT_LOWER = {"": "â", "\u0301": "á", "\u0300": "à", "\u0309": "å", "\u0303": "ã", "\u0323": "ä"}
_VNI_BREVE_LOWER = {"": "ê", "\u0301": "é", "\u0300": "è", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë"}
_VNI_I_LOWER = {"\u0301": "í", "\u0300": "ì", "\u0309": "æ", "\u0303": "ó", "\u0323": "ò"}
_VNI_SINGLE_LOWER = {"ơ": "ô", "ư": "ö", "đ": "ñ", "ỵ": "î"}


def _vni_table() -> dict[str, str]:
    """Unicode letter -> VNI text, for both cases."""
    table: dict[str, str] = {}
    for base in "aeouy":
        for mark, code in _VNI_TONES_LOWER.items():
            table[unicodedata.normalize("NFC", base + mark)] = base + code
    for base, marks in (("a", _VNI_HAT_LOWER), ("e", _VNI_HAT_LOWER), ("o", _VNI_HAT_LOWER)):
        for tone, code in marks.items():
            table[unicodedata.normalize("NFC", base + "\u0302" + tone)] = base + code
    for tone, code in _VNI_BREVE_LOWER.items():
        table[unicodedata.normalize("NFC", "a\u0306" + tone)] = "a" + code
    for tone, code in _VNI_I_LOWER.items():
        table[unicodedata.normalize("NFC", "i" + tone)] = code
    for letter, code in _VNI_SINGLE_LOWER.items():
        table[letter] = code
    for tone, code in _VNI_TONES_LOWER.items():
        table[unicodedata.normalize("NFC", "ơ" + tone)] = "ô" + code
        table[unicodedata.normalize("NFC", "ư" + tone)] = "ö" + code
    table["ỵ"] = "î"
    upper = {letter.upper(): code.upper() for letter, code in table.items()}
    return {**table, **upper}


_TO_VNI = _vni_table()
_FROM_VNI = {code: letter for letter, code in _TO_VNI.items()}
_VNI_PATTERN = re.compile("|".join(re.escape(c) for c in sorted(_FROM_VNI, key=len, reverse=True)))

# --- detection ----------------------------------------------------------------------------------
_LEGACY_RANGE = re.compile("[\u00a0-\u00ff]")
_UNICODE_VIETNAMESE = re.compile("[\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1\u01af\u01b0\u1ea0-\u1ef9]")
_WORD = re.compile(r"[^\s\d.,;:!?()\[\]{}\"'/\\|+=<>*&^%$#@~`_-]+|\s+|.", re.DOTALL)
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_ONSET = "(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|[bcdđghklmnprstvx])?"
# Vowel clusters that end in a glide take no final consonant ("mía", "ngươi"); the others may.
_OPEN_NUCLEUS = (
    "(?:uôi|ươi|ươu|iêu|yêu|oai|oay|oao|oeo|uây|uya|uyu|ai|ao|au|ay|âu|ây|eo|êu|ia|iu|oi|ôi|ơi|ua|ui|ưa|ưi|ưu)"
)
_CLOSABLE_NUCLEUS = "(?:uyê|oă|oa|oe|uâ|uê|uơ|uô|ươ|uy|iê|yê|oo|a|ă|â|e|ê|i|o|ô|ơ|u|ư|y)"
_SYLLABLE = re.compile(
    f"(?P<onset>{_ONSET})(?:(?P<open>{_OPEN_NUCLEUS})|(?P<closable>{_CLOSABLE_NUCLEUS})"
    "(?P<coda>ch|ng|nh|[cmnpt])?)"
)
_QUALITY = frozenset("ăâêôơư")
_EITHER = frozenset({"oa", "oe", "uy"})  # old and new styles put the tone on either vowel (hòa / hoà)


def _units(word: str) -> tuple[str, int | None, int]:
    """A word's letters without tone marks, the index of the letter carrying the tone, and the tone count."""
    units: list[str] = []
    toned, tones = None, 0
    for ch in unicodedata.normalize("NFD", word.casefold()):
        if ch in _TONES:
            tones += 1
            toned = len(units) - 1
        elif unicodedata.combining(ch) and units:
            units[-1] += ch
        else:
            units.append(ch)
    return "".join(unicodedata.normalize("NFC", u) for u in units), toned, tones


def _tone_placed(nucleus: str, at: int, closed: bool) -> bool:
    """Whether the tone sits where Vietnamese spelling puts it within the vowel cluster."""
    marked = [i for i, ch in enumerate(nucleus) if ch in _QUALITY]
    if marked:
        return at in marked
    if len(nucleus) == 1 or nucleus in _EITHER:
        return True
    if closed:
        return at == len(nucleus) - 1
    return at == (1 if len(nucleus) == 3 else 0)


def is_vietnamese_syllable(word: str) -> bool:
    """Whether a word spells one Vietnamese syllable (onset, vowel cluster, coda, one tone where it goes)."""
    bare, toned, tones = _units(word)
    match = _SYLLABLE.fullmatch(bare)
    if match is None or tones > 1:
        return False
    if toned is None:
        return True
    group = "open" if match["open"] else "closable"
    nucleus, at = match[group], toned - match.start(group)
    return 0 <= at < len(nucleus) and _tone_placed(nucleus, at, bool(match["coda"]))


def _word_score(word: str) -> int:
    """+1 for a Vietnamese syllable with non-ASCII letters, -1 for a non-ASCII word that is not one."""
    if word.isascii():
        return 0
    return 1 if is_vietnamese_syllable(word) else -1


def _score(text: str) -> int:
    return sum(_word_score(w) for w in _WORD.findall(text) if not w.isspace())


# --- decoders -----------------------------------------------------------------------------------


def _upper_mode(text: str) -> bool:
    """Whether TCVN3 text was typed for an upper-case '.VnTimeH' font: its ASCII letters are all capitals."""
    letters = [ch for ch in text if ch.isascii() and ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


def decode_tcvn3(text: str) -> str:
    """TCVN3 (ABC) text to NFC Unicode; words typed in capitals decode to capitals (the .VnTimeH fonts)."""
    capitals = _upper_mode(text)
    out = []
    for word in _WORD.findall(text):
        decoded = "".join(_FROM_TCVN3.get(ch, ch) for ch in word)
        lower_ascii = any(ch.isascii() and ch.islower() for ch in word)
        out.append(decoded.upper() if _upper_mode(word) or (capitals and not lower_ascii) else decoded)
    return unicodedata.normalize("NFC", "".join(out))


def decode_vni(text: str) -> str:
    """VNI-Windows text to NFC Unicode."""
    return unicodedata.normalize("NFC", _VNI_PATTERN.sub(lambda m: _FROM_VNI[m.group(0)], text))


def encode_tcvn3(text: str) -> str:
    """Unicode to TCVN3; upper-case toned letters are written the .VnTimeH way (their lower-case codes)."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in _TCVN3_UPPER:
            out.append(_TCVN3_UPPER[ch])
        elif ch in _TCVN3_LOWER:
            out.append(_TCVN3_LOWER[ch])
        elif ch.lower() in _TCVN3_LOWER:
            out.append(_TCVN3_LOWER[ch.lower()])
        else:
            out.append(ch)
    return "".join(out)


def encode_vni(text: str) -> str:
    """Unicode to VNI-Windows."""
    return "".join(_TO_VNI.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


_DECODERS = {"tcvn3": decode_tcvn3, "vni": decode_vni}


def detect_encoding(text: str) -> str:
    """'unicode', 'tcvn3' or 'vni': the reading of one run of text that gives the most Vietnamese syllables."""
    if text.isascii() or not _LEGACY_RANGE.search(text):
        return "unicode"
    best, best_score = "unicode", _score(unicodedata.normalize("NFC", text))
    for name, decoder in _DECODERS.items():
        score = _score(decoder(text))
        if score > best_score:
            best, best_score = name, score
    return best


def _decode_words(text: str) -> str:
    """Decode legacy words one by one inside a cell that is mostly Unicode (pasted fragments)."""
    out = []
    for word in _WORD.findall(text):
        encoding = detect_encoding(word) if not _UNICODE_VIETNAMESE.search(word) else "unicode"
        out.append(_DECODERS[encoding](word) if encoding != "unicode" else word)
    return "".join(out)


@lru_cache(maxsize=200_000)
def decode_legacy(text: str) -> str:
    """NFC Unicode for a cell that may be TCVN3 or VNI (or already Unicode); decided per cell, then per word."""
    if text.isascii() or not _LEGACY_RANGE.search(text):
        return text
    if _UNICODE_VIETNAMESE.search(text):  # real Unicode letters: only pasted legacy words need decoding
        return unicodedata.normalize("NFC", _decode_words(text))
    encoding = detect_encoding(text)
    if encoding != "unicode":
        return _DECODERS[encoding](text)
    return unicodedata.normalize("NFC", _decode_words(text))


def decode_legacy_bytes(raw: bytes) -> str:
    """Text from a non-UTF file, per cell: Windows-1258, or TCVN3/VNI bytes, whichever spells Vietnamese."""
    as_1258 = unicodedata.normalize("NFC", raw.decode("cp1258", errors="replace"))
    if raw.isascii():
        return as_1258
    legacy = decode_legacy(raw.decode("cp1252", errors="replace"))
    return legacy if _score(legacy) > _score(as_1258) else as_1258
