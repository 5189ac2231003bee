"""Bytes -> text, and text -> the one normal form every document is stored in.

``decode`` accepts UTF-8 (with or without a byte-order mark), UTF-16/32 with a mark, and otherwise lets
charset-normalizer guess (UTF-16 without a mark, GB18030, Latin-1/cp1252, ...). Data that is not text
raises ``CorpusError("binary file, not text")``.

``normalise`` gives paragraphs separated by exactly one blank line, single spaces, no invisible
characters, and Unicode NFC. Typographic quotes and dashes are kept: passages are quoted verbatim.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from charset_normalizer import from_bytes

from govcompare.errors import CorpusError

__all__ = ["BINARY", "decode", "guess_language", "normalise"]

BINARY = "binary file, not text"

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# When charset-normalizer finds several encodings equally plausible (short or mostly-ASCII text), the
# one most common in practice wins: cp1252 rather than cp1250 for "naïve", GB18030 for Chinese.
_PREVALENCE = (
    "utf_8",
    "cp1252",
    "latin_1",
    "iso8859_15",
    "gb18030",
    "gbk",
    "gb2312",
    "big5",
    "utf_16_le",
    "utf_16_be",
    "shift_jis",
    "euc_jp",
    "euc_kr",
    "cp1251",
)
_MOSTLY_UTF8 = 20  # valid non-ASCII characters per undecodable byte
_CONTROL = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f]")  # not tab, newlines, form feed or escape
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])
_MAX_CONTROL_SHARE = 0.01

# Character classes, each used by one step of ``normalise`` and all by its shortcut for clean text.
_NEWLINE_CHARS = "\v\f\x85\u2028"  # besides \r
# Invisible characters: zero-width spaces and joiners, word joiner, BOM, soft hyphen, bidi controls.
_INVISIBLE_CHARS = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
# C0/C1 controls except tab and newline, lone surrogates, non-characters
_CONTROL_CHARS = "\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
_SPACE_CHARS = "\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"

_NEWLINES = re.compile(f"\r\n?|[{_NEWLINE_CHARS}]")
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]|[{_CONTROL_CHARS}]")
_SPACES = re.compile(f"[{_SPACE_CHARS}]")
_RUN_OF_SPACES = re.compile(" {2,}")
_SPACE_AROUND_NEWLINE = re.compile(" *\n *")
_BLANK_LINES = re.compile(r"\n{3,}")
# Anything one of the steps would change (NFC aside): text without it is already normal.
_NOT_NORMAL_CHAR = re.compile(f"[\r\u2029{_NEWLINE_CHARS}{_INVISIBLE_CHARS}{_CONTROL_CHARS}{_SPACE_CHARS}]")
_NOT_NORMAL_RUNS = ("  ", " \n", "\n ", "\n\n\n")

_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def decode(data: bytes) -> str:
    """Decode file bytes to ``str``; raise ``CorpusError`` if they are not text."""
    if not data:
        return ""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _checked(data[len(bom) :].decode(encoding, errors="replace"))
    if b"\x00" not in data:
        text = data.decode("utf-8", errors="replace")
        bad = text.count("\ufffd") - data.count("\ufffd".encode())
        if bad == 0:
            return _checked(text, data)
        if sum(1 for ch in text if ch > "\x7f") - bad >= _MOSTLY_UTF8 * bad:
            return _checked(text, data)  # UTF-8 with a few stray bytes, not another encoding
    return _checked(_guess(data))


def _guess(data: bytes) -> str:
    matches = list(from_bytes(data))
    if not matches:
        raise CorpusError(BINARY)
    best = matches[0]
    # Coherence (letter frequencies) is noisy on short text where only a few bytes are non-ASCII.
    ties = [m for m in matches if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.1]
    rank = {name: i for i, name in enumerate(_PREVALENCE)}
    chosen = min(ties, key=lambda m: rank.get(m.encoding, len(rank)))
    return str(chosen)


def _checked(text: str, utf8: bytes | None = None) -> str:
    """``text``, unless control characters make up more than 1% of it (``utf8``: the bytes it was
    decoded from, in which they are the same bytes and are counted in C)."""
    if utf8 is not None:
        controls = len(utf8) - len(utf8.translate(None, _CONTROL_BYTES))
    else:
        controls = sum(1 for _ in _CONTROL.finditer(text))
    if controls > _MAX_CONTROL_SHARE * len(text):
        raise CorpusError(BINARY)
    return text


def normalise(text: str) -> str:
    """NFC, ``\\n`` line ends, single spaces, no invisible characters, paragraphs split by one blank line.

    Lines are stripped at both ends; text is stripped of leading and trailing blank lines.
    Idempotent: ``normalise(normalise(t)) == normalise(t)``.
    """
    if (
        _NOT_NORMAL_CHAR.search(text) is None
        and not any(run in text for run in _NOT_NORMAL_RUNS)
        and (text.isascii() or unicodedata.is_normalized("NFC", text))
    ):
        return text.strip(" \n")  # one scan instead of seven, for the usual clean file
    return _normalise_steps(text)


def _normalise_steps(text: str) -> str:
    text = _NEWLINES.sub("\n", text).replace("\u2029", "\n\n")
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = unicodedata.normalize("NFC", text)
    text = _RUN_OF_SPACES.sub(" ", text)
    text = _SPACE_AROUND_NEWLINE.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip(" \n")


_LANGUAGE_SAMPLE = 5_000


def guess_language(text: str) -> str | None:
    """``"zh"`` when CJK characters dominate, ``"en"`` when Latin letters do, ``None`` without letters.

    Judged on the first 5,000 characters: enough to tell, and a long text costs no more.
    """
    sample = text[:_LANGUAGE_SAMPLE]
    cjk = len(_CJK.findall(sample))
    if cjk == 0:  # the usual case, without counting every Latin letter
        return "en" if _LATIN.search(sample) else None
    latin = len(_LATIN.findall(sample))
    if cjk == 0 and latin == 0:
        return None
    # One Chinese character carries about as much as a short English word (~3 letters).
    return "zh" if cjk * 3 >= latin else "en"
