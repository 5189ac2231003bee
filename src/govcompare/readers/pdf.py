"""PDF (.pdf): the text layer as paragraphs, without running headers, footers or page numbers.

pdfium gives every character with its box. From the boxes we rebuild lines, then paragraphs:

* a line in the top or bottom margin that repeats on many pages (``NATIONAL CYBERSECURITY STRATEGY``
  plus a page number) is a running header or footer; a bare number in a margin is a page number;
* lines belong to one paragraph while the vertical gap between them stays under about half a line
  and the type size does not change; a paragraph cut by a page break continues when the next page
  starts in lower case;
* a word hyphenated at a line end is joined (``infra-`` + ``structure``) unless the document suggests
  a real compound (``multi-stakeholder``, ``cyber-enabled``); see ``_keep_hyphen``.

Encrypted PDFs and PDFs without a text layer (scans) are failures with the fix in the reason.
"""

from __future__ import annotations

import ctypes
import math
import re
import statistics
import sys
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from govcompare.errors import CorpusError
from govcompare.readers.base import Limits, ReadResult, megabytes, parse_date

__all__ = ["ENCRYPTED", "NO_TEXT_LAYER", "read_pdf"]

ENCRYPTED = "encrypted PDF: remove the password and try again"
NO_TEXT_LAYER = "no text layer (scanned image?): run OCR first"

_MARGIN = 0.12  # share of the page height at the top and bottom where headers and footers live
_REPEATED_SHARE = 0.3  # a margin line on this share of pages (and at least 2) is a running header
_PARAGRAPH_GAP = 0.6  # a gap over this share of the type size between lines starts a paragraph
_SIZE_CHANGE = 0.25
_PDFIUM_HYPHENS = (0x02, 0xFFFE)  # pdfium's marks for a hyphen at the end of a line
_BULLETS = frozenset("•◦▪▫●○■□‣⁃∙·")
_PRIVATE_BULLETS = frozenset("\uf0b7\uf0a7\uf0a8\uf076\uf0d8\uf0fc\uf06e\uf0be")
_PAGE_NUMBER = re.compile(
    r"^[-–—(\[]?\s*(?:page\s*)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:of|/)\s*\d{1,4})?\s*[-–—)\]]?$",
    re.IGNORECASE,
)
_NOT_KEY = re.compile(r"[\d\s]+")
_SENTENCE_END = (".", "!", "?", ":", ";", "”", '"', "’", ")")
_WORD = re.compile(r"\w+(?:[-\u2010]\w+)*")
_TRAILING_HYPHEN = re.compile(r"([^\W\d_]+)[-\u2010]$")
_LEADING_WORD = re.compile(r"^\w+")
_DICTIONARY_WINDOW = 4096  # bytes before a stream searched for its dictionary
_CHUNK = 1 << 20
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_LONGEST_WORD = 64  # characters; a longer "word" at a line end is not a hyphenated word
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_END = re.compile(f"[{_CJK}]$")
_CJK_START = re.compile(f"[{_CJK}]")
_DASH_END = ("—", "–", "/")
# First parts that make compounds far more often than they are syllables of one word.
_PREFIXES = frozenset(
    "multi non self cross well co ex anti semi quasi post pre long short high low full half "
    "state public private open free counter".split()
)
_MEANINGLESS_TITLE = re.compile(
    r"^(untitled|microsoft word|document\d*|title|slide \d+)\b|\.(docx?|pdf|indd|qxd|rtf|odt)$",
    re.IGNORECASE,
)


@dataclass(slots=True)
class _Line:
    text: str
    left: float
    right: float
    bottom: float
    top: float
    size: float  # type size: median height of the glyphs' font boxes


def read_pdf(data: bytes, limits: Limits) -> ReadResult:
    """Read the text layer of a PDF into paragraphs separated by blank lines."""
    _check_unpacked_size(data, limits)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise CorpusError(ENCRYPTED) from None
        raise CorpusError(
            f"not a readable PDF ({exc}): the file is damaged or truncated; download or export it again"
        ) from None
    try:
        count = len(document)
        if count > limits.max_pdf_pages:
            raise CorpusError(
                f"PDF has {count:,} pages, over the {limits.max_pdf_pages:,}-page limit (--max-pages)"
            )
        pages, heights = [], []
        chars = 0
        for number in range(count):
            try:
                page = document[number]
            except pdfium.PdfiumError as exc:
                raise CorpusError(f"page {number + 1} cannot be read ({exc}): the PDF is damaged") from None
            try:
                heights.append(page.get_height())
                lines, page_chars = _page_lines(page, limits.max_chars - chars)
                chars += page_chars
                if chars > limits.max_chars:
                    raise CorpusError(
                        f"text has {chars:,} characters, over the {limits.max_chars:,} limit (--max-chars)"
                    )
                pages.append(lines)
            except pdfium.PdfiumError as exc:
                raise CorpusError(f"page {number + 1} cannot be read ({exc}): the PDF is damaged") from None
            finally:
                page.close()
        info = document.get_metadata_dict()
    finally:
        document.close()
    if not any(pages):
        raise CorpusError(NO_TEXT_LAYER)
    pages = _drop_running_lines(pages, heights)
    heading = _title_lines(pages)
    paragraphs = _paragraphs(pages)
    counts = _word_counts(paragraphs)
    text = "\n\n".join(_join(lines, counts) for lines in paragraphs)
    return ReadResult(text, *_info(info), heading=heading)


def _page_lines(page: Any, room: int) -> tuple[list[_Line], int]:
    """The lines of one page and its character count (no lines when it has more than ``room``)."""
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        if count > room:  # checked before the per-character loop, which would take minutes
            return [], count
        return _lines(_chars(textpage.raw, count)), count
    finally:
        textpage.close()


def _check_unpacked_size(data: bytes, limits: Limits) -> None:
    """Refuse a PDF whose compressed streams unpack past ``limits.max_decompressed_bytes``.

    pdfium inflates content, font and object streams whole and in memory, so a small file can hold
    gigabytes (a "decompression bomb"). Each Flate stream is inflated here first in bounded chunks,
    counting and discarding the output. Images are skipped: text extraction never decodes them. The
    streams of an encrypted PDF that opens without a password cannot be inflated without decrypting
    them, so such a file is not checked.
    """
    total = 0
    position = data.find(b"stream")
    while position != -1:
        start = position + len(b"stream")
        if data[position - 3 : position] != b"end" and data[start : start + 1] in (b"\r", b"\n"):
            start += 2 if data[start : start + 2] == b"\r\n" else 1
            dictionary = data[max(0, position - _DICTIONARY_WINDOW) : position]
            if not _IMAGE.search(dictionary[dictionary.rfind(b"obj") + 1 :]):
                total += _inflated_size(data, start, limits.max_decompressed_bytes - total)
                if total > limits.max_decompressed_bytes:
                    raise CorpusError(
                        f"PDF streams unpack to more than the {megabytes(limits.max_decompressed_bytes)} "
                        "limit (--max-decompressed-mb)"
                    )
        position = data.find(b"stream", start)


def _inflated_size(data: bytes, start: int, room: int) -> int:
    """How many bytes the zlib stream at ``start`` inflates to (0 if it is not one), up to ``room + 1``."""
    inflater = zlib.decompressobj()
    view = memoryview(data)  # slices without copies: most streams end (or fail) in their first bytes
    size = 0
    position = start
    try:
        while not inflater.eof and size <= room:
            chunk: bytes | memoryview
            if inflater.unconsumed_tail:
                chunk = inflater.unconsumed_tail
            elif position < len(data):
                chunk = view[position : position + _CHUNK]
                position += len(chunk)
            else:
                break
            size += len(inflater.decompress(chunk, _CHUNK))
    except zlib.error:
        pass  # not Flate data, or damaged: pdfium will say so, or read what it can
    return size


# (character, left, right, bottom, top, font-box height, generated by pdfium)
_Char = tuple[str, float, float, float, float, float, bool]


def _chars(handle: Any, count: int) -> list[_Char]:
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    loose = pdfium_c.FS_RECTF()
    chars: list[_Char] = []
    pending_high = 0
    for index in range(count):
        code = pdfium_c.FPDFText_GetUnicode(handle, index)
        if 0xD800 <= code < 0xDC00:  # a character outside the BMP comes as a surrogate pair
            pending_high = code
            continue
        if 0xDC00 <= code < 0xE000 and pending_high:
            code = 0x10000 + ((pending_high - 0xD800) << 10) + (code - 0xDC00)
        pending_high = 0
        if code == 13:
            continue
        generated = bool(pdfium_c.FPDFText_IsGenerated(handle, index) == 1)
        if code == 10:
            chars.append(("\n", 0.0, 0.0, 0.0, 0.0, 0.0, generated))
            continue
        if code > sys.maxunicode:
            continue  # a broken font's mapping: no character
        if code in _PDFIUM_HYPHENS:
            code = ord("-")
        pdfium_c.FPDFText_GetCharBox(handle, index, left, right, bottom, top)
        pdfium_c.FPDFText_GetLooseCharBox(handle, index, loose)
        size = loose.top - loose.bottom or top.value - bottom.value
        chars.append((chr(code), left.value, right.value, bottom.value, top.value, size, generated))
    return chars


def _lines(chars: list[_Char]) -> list[_Line]:
    lines: list[_Line] = []
    text: list[str] = []
    boxes: list[_Char] = []

    def close() -> None:
        line = _make_line("".join(text), boxes)
        if line is not None:
            lines.append(line)
        text.clear()
        boxes.clear()

    for i, char in enumerate(chars):
        glyph, left, _, _, top, _, generated = char
        if glyph == "\n":
            close()
            continue
        if glyph == " ":
            if generated and _small_caps_split(chars, i, text):
                continue
            text.append(" ")
            continue
        if boxes and top < min(b[3] for b in boxes[-3:]) and left < boxes[-1][1]:
            close()  # wrapped to a new line without pdfium saying so
        text.append(glyph)
        boxes.append(char)
    close()
    return lines


def _small_caps_split(chars: list[_Char], i: int, text: list[str]) -> bool:
    """Whether pdfium's space at ``i`` splits a small-caps word after its capital ("N ATIONAL")."""
    if i == 0 or i + 1 >= len(chars) or not text or text[-1] != chars[i - 1][0]:
        return False
    capital, following = chars[i - 1], chars[i + 1]
    word_start = len(text) < 2 or text[-2] in (" ", "")
    return (
        word_start
        and capital[0].isupper()
        and following[0].isupper()
        and following[5] < 0.95 * capital[5]
        and following[1] - capital[2] < 0.25 * capital[5]
    )


def _make_line(raw: str, boxes: list[_Char]) -> _Line | None:
    text = "".join(
        "•" if ch in _PRIVATE_BULLETS else ch
        for ch in raw
        if unicodedata.category(ch) != "Co" or ch in _PRIVATE_BULLETS
    )
    text = " ".join(text.split())
    if not text or not boxes:
        return None
    return _Line(
        text=text,
        left=min(b[1] for b in boxes),
        right=max(b[2] for b in boxes),
        bottom=min(b[3] for b in boxes),
        top=max(b[4] for b in boxes),
        size=statistics.median(b[5] for b in boxes),
    )


def _drop_running_lines(pages: list[list[_Line]], heights: list[float]) -> list[list[_Line]]:
    """Remove running headers and footers (repeated margin lines) and page numbers."""

    def in_margin(line: _Line, height: float) -> bool:
        return line.bottom > height * (1 - _MARGIN) or line.top < height * _MARGIN

    repeated = Counter(
        key
        for lines, height in zip(pages, heights, strict=True)
        for key in {_key(line) for line in lines if in_margin(line, height)}
    )
    needed = max(2, math.ceil(_REPEATED_SHARE * len(pages)))
    kept: list[list[_Line]] = []
    for lines, height in zip(pages, heights, strict=True):
        kept.append(
            [
                line
                for line in lines
                if not (
                    in_margin(line, height)
                    and (_PAGE_NUMBER.match(line.text) or repeated[_key(line)] >= needed)
                )
            ]
        )
    body = [line.size for lines in kept for line in lines]
    if not body:
        return kept
    typical = statistics.median(body)
    # A glyph or two at several times the body size is decoration: a drop cap, a signature, a logo.
    return [[ln for ln in lines if not (len(ln.text) <= 2 and ln.size > 3 * typical)] for lines in kept]


def _key(line: _Line) -> str:
    return _NOT_KEY.sub("", line.text.lower())


def _title_lines(pages: list[list[_Line]]) -> str | None:
    """The largest type on the first page with text, if it stands out from the body text."""
    first = next((lines for lines in pages if lines), [])
    sizes = [line.size for lines in pages for line in lines]
    if not first or not sizes:
        return None
    largest = max(line.size for line in first)
    if largest < 1.3 * statistics.median(sizes):
        return None
    title = " ".join(line.text for line in first if line.size >= 0.9 * largest)
    return title if 3 <= len(title) <= 200 else None


def _paragraphs(pages: list[list[_Line]]) -> list[list[str]]:
    paragraphs: list[list[str]] = []
    last: _Line | None = None
    for lines in pages:
        previous: _Line | None = None
        for line in lines:
            if previous is None:
                joins = last is not None and paragraphs and _continues(last, line)
            else:
                joins = _same_paragraph(previous, line)
            if joins:
                paragraphs[-1].append(line.text)
            else:
                paragraphs.append([line.text])
            previous = last = line
    return paragraphs


def _same_paragraph(previous: _Line, line: _Line) -> bool:
    size = min(previous.size, line.size)
    overlap = min(previous.top, line.top) - max(previous.bottom, line.bottom)
    if overlap > 0.5 * min(previous.top - previous.bottom, line.top - line.bottom):
        return True  # the same visual line, split by the PDF
    if line.top > previous.top:
        return False  # moved up: a new column or a box placed out of order
    if previous.bottom - line.top > _PARAGRAPH_GAP * size:
        return False
    if abs(previous.size - line.size) > _SIZE_CHANGE * size:
        return False
    if _toc_entry(previous.text):
        return False
    return line.text[0] not in _BULLETS


def _toc_entry(text: str) -> bool:
    """A table-of-contents line: leader dots, then a page number (``Introduction ...... 4``)."""
    head = text.rstrip()
    digits = len(head)
    while digits and head[digits - 1].isdecimal():
        digits -= 1
    if digits == len(head):
        return False
    return head[:digits].rstrip().endswith(("....", "……"))


def _trailing_hyphen(text: str) -> re.Match[str] | None:
    """The word broken by a hyphen at the end of ``text``, if any.

    Only the end of the line is searched: a regex anchored at ``$`` tried from every position of a
    line that is one enormous word would take quadratic time.
    """
    if not text.endswith(("-", "\u2010")):
        return None
    return _TRAILING_HYPHEN.search(text, max(0, len(text) - _LONGEST_WORD))


def _continues(last: _Line, first: _Line) -> bool:
    """Whether the first line of a page continues the last paragraph of the page before."""
    if abs(last.size - first.size) > _SIZE_CHANGE * min(last.size, first.size):
        return False
    if last.text.endswith(_SENTENCE_END) or last.text.isupper() or first.text.isupper():
        return False  # a finished sentence, or a heading on either side of the break
    return first.text[0].isalnum() or first.text[0] in "“‘\"'("


def _word_counts(paragraphs: list[list[str]]) -> Counter[str]:
    """Word frequencies of the document, leaving out the pieces of words broken at line ends."""
    counts: Counter[str] = Counter()
    for lines in paragraphs:
        broken = False
        for line in lines:
            text = _LEADING_WORD.sub("", line, count=1) if broken else line
            hyphen = _trailing_hyphen(text)
            broken = hyphen is not None
            if hyphen is not None:
                text = text[: hyphen.start()]
            counts.update(_tokens(text))
    return counts


def _tokens(text: str) -> Iterable[str]:
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        yield word
        if "-" in word or "\u2010" in word:
            yield from re.split(r"[-\u2010]", word)


def _join(lines: list[str], counts: Counter[str]) -> str:
    parts = [lines[0]]
    for line in lines[1:]:
        end = parts[-1]
        hyphen = _trailing_hyphen(end)
        second = _LEADING_WORD.match(line)
        if hyphen is not None and second is not None:
            if _keep_hyphen(hyphen.group(1), second.group(), counts):
                parts.append(line)
            else:
                parts[-1] = end[:-1]
                parts.append(line)
        elif end.endswith(_DASH_END) and not end[-2:-1].isspace():
            parts.append(line)  # "secure—" + "anchored", "and/" + "or"
        elif _CJK_END.search(end) and _CJK_START.match(line):
            parts.append(line)  # Chinese and Japanese lines join without a space
        else:
            parts.append(" " + line)
    return "".join(parts)


def _keep_hyphen(first: str, second: str, counts: Counter[str]) -> bool:
    """Whether ``first-`` at a line end and ``second`` on the next line form a hyphenated compound.

    The document decides when it can: the form it uses more often wins ("infrastructure" elsewhere
    joins ``infra-structure``). Otherwise a capital or digit after the hyphen (``non-Federal``,
    ``COVID-19``), a compounding prefix (``multi-``) or two parts that are words of their own in
    the document (``cyber`` and ``enabled``) keep the hyphen; anything else is a broken word.
    """
    joined = counts[(first + second).lower()]
    hyphenated = counts[f"{first}-{second}".lower()]
    if joined != hyphenated:
        return hyphenated > joined
    if not second[:1].islower():
        return True
    if first.lower() in _PREFIXES:
        return True
    return counts[first.lower()] > 0 and _is_word(second.lower(), counts)


def _is_word(part: str, counts: Counter[str]) -> bool:
    """Whether ``part`` is used as a word in the document, allowing an inflection (safe: safely)."""
    if counts[part] > 0:
        return True
    return len(part) >= 4 and any(
        counts[part + ending] > 0 for ending in ("s", "d", "r", "ly", "ty", "ed", "er", "es", "ing")
    )


def _info(info: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    known: dict[str, str] = {}
    title = " ".join((info.get("Title") or "").split())
    if len(title) >= 3 and any(ch.isalpha() for ch in title) and not _MEANINGLESS_TITLE.search(title):
        known["title"] = title
    date = parse_date(info.get("CreationDate") or "")
    if date:
        known["date"] = date
    extra = {
        name.lower(): " ".join(value.split())
        for name in ("Author", "Subject", "Keywords")
        if (value := info.get(name) or "").strip()
    }
    return known, extra
