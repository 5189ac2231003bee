"""HTML (.html, .htm): the main text of the page, found by trafilatura.

Navigation, share buttons, related links, scripts and iframes are left out. Each paragraph, heading,
list item and table row of the main content becomes one paragraph. Title, date, URL and language come
from the page's metadata.

A page with more than ``MAX_EXTRACTOR_ELEMENTS`` elements (main-text detection would take minutes and
gigabytes) is read by a plain streaming extractor: all text outside scripts, styles, frames, navigation,
headers, footers and forms. A page nested deeper than the parser can follow is a failure, not a page
silently cut short.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import trafilatura
from lxml import etree  # type: ignore[import-untyped]

from govcompare.errors import CorpusError
from govcompare.readers.base import Limits, ReadResult, parse_date
from govcompare.textnorm import decode

__all__ = ["MAX_EXTRACTOR_ELEMENTS", "read_html"]

_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTML_LANG = re.compile(r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3})\b""", re.I)
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")
# Main-text detection (trafilatura) costs about 35 microseconds per element and a few kB of memory per
# element: a page with more elements than this is read by the plain streaming extractor instead.
MAX_EXTRACTOR_ELEMENTS = 100_000
_SKIPPED = frozenset(
    "script style iframe frame frameset noscript template object embed canvas svg math head nav header "
    "footer aside form button select textarea".split()
)
_PLAIN_BLOCKS = frozenset(
    "p div li dt dd h1 h2 h3 h4 h5 h6 tr blockquote pre article section main table ul ol dl br hr "
    "figure figcaption address".split()
)
_LANG = re.compile(r"\s*([A-Za-z]{2,3})\b")
# Elements of trafilatura's output tree that hold paragraphs; everything else is inline.
_BLOCKS = frozenset({"p", "head", "item", "quote", "code", "row", "list", "table", "div"})


def read_html(data: bytes, limits: Limits) -> ReadResult:
    """Read the main content of an HTML page."""
    page = _XML_DECLARATION.sub("", _decode(data))
    if not page.strip():
        return ReadResult("")
    plain = _plain(page)
    if plain.elements > MAX_EXTRACTOR_ELEMENTS:
        known = {"title": plain.title} if plain.title else {}
        if plain.language:
            known["language"] = plain.language
        return ReadResult(plain.text, known, {"extractor": "plain (page too large for main-text detection)"})
    result: Any = trafilatura.bare_extraction(page, with_metadata=True, include_comments=False)
    if result is None:  # nothing looked like main content: take what the lenient mode finds
        result = trafilatura.bare_extraction(
            page, with_metadata=True, include_comments=False, favor_recall=True
        )
    if result is None:
        return ReadResult("")
    paragraphs: list[str] = []
    if result.body is not None:
        _emit(result.body, paragraphs)
    text = "\n\n".join(p for p in paragraphs if p.strip()) or (result.text or "")
    known, extra = _metadata(result)
    lang = _HTML_LANG.search(page[:4096])
    if "language" not in known and lang is not None:
        known["language"] = lang.group(1).lower()
    return ReadResult(text, known, extra)


@dataclass(frozen=True, slots=True)
class _Plain:
    text: str
    elements: int
    title: str | None
    language: str | None


def _plain(page: str) -> _Plain:
    """One streaming pass over the page: its element count and all text outside scripts, navigation...

    Memory stays flat (each element is freed once read). A page the parser cannot read whole (nested
    deeper than libxml2's limit of 256) is refused rather than silently cut short.
    """
    events = etree.iterparse(
        io.BytesIO(page.encode("utf-8", "replace")),
        events=("start", "end"),
        html=True,
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        no_network=True,
    )
    paragraphs: list[str] = []
    pending: list[str] = []
    elements = skipping = 0
    title: str | None = None
    language: str | None = None

    def close_paragraph() -> None:
        text = " ".join("".join(pending).split())
        if text:
            paragraphs.append(text)
        pending.clear()

    for event, element in events:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if event == "start":
            elements += 1
            if tag == "html" and language is None:
                lang = _LANG.match(str(element.get("lang") or ""))
                language = lang.group(1).lower() if lang else None
            if tag in _SKIPPED:
                skipping += 1
            elif tag in _PLAIN_BLOCKS:
                close_paragraph()
            if not skipping and element.text:
                pending.append(element.text)
            continue
        if tag == "title" and title is None:
            title = " ".join(str(element.text or "").split()) or None
        if tag in _SKIPPED:
            skipping -= 1
        elif tag in _PLAIN_BLOCKS:
            close_paragraph()
        if not skipping and element.tail:
            pending.append(element.tail)
        element.clear(keep_tail=True)
        parent = element.getparent()
        while parent is not None and element.getprevious() is not None:  # free the siblings already read
            del parent[0]
    close_paragraph()
    limit = next((e for e in events.error_log if e.type_name == "ERR_RESOURCE_LIMIT"), None)
    if limit is not None:
        if "depth" in limit.message:
            raise CorpusError(
                "HTML elements are nested more than 256 deep (the parser's limit), so the rest of the "
                "page would be lost: repair the markup"
            )
        raise CorpusError(
            f"HTML is past a parser limit ({limit.message.split(',')[0]}), so part of the page would be "
            "lost: repair the markup"
        )
    return _Plain("\n\n".join(paragraphs), elements, title, language)


def _decode(data: bytes) -> str:
    match = _DECLARED_CHARSET.search(data[:4096])
    if match:
        try:
            return data.decode(match.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common: fall back to detection
    return decode(data)


def _metadata(result: Any) -> tuple[dict[str, str], dict[str, str]]:
    known: dict[str, str] = {}
    if result.title:
        known["title"] = " ".join(str(result.title).split())
    date = parse_date(result.date) if result.date else None
    if date:
        known["date"] = date
    if result.url:
        known["source_url"] = str(result.url)
    if result.language:
        known["language"] = str(result.language).split("-")[0].lower()
    extra = {
        name: " ".join(str(value).split())
        for name, value in (
            ("author", result.author),
            ("site", result.sitename),
            ("description", result.description),
        )
        if value
    }
    return known, extra


def _emit(element: Any, out: list[str]) -> None:
    """Append the paragraphs of ``element`` (a trafilatura XML element) to ``out``."""
    if element.tag == "row":
        cells = (_text(cell).strip() for cell in element if cell.tag == "cell")
        out.append(" | ".join(cell for cell in cells if cell))
        return
    if not any(child.tag in _BLOCKS for child in element.iterdescendants()):
        out.append(_text(element).strip())
        return
    pending = [element.text or ""]
    for child in element:
        if child.tag in _BLOCKS or any(c.tag in _BLOCKS for c in child.iterdescendants()):
            out.append("".join(pending).strip())
            _emit(child, out)
            pending = []
        else:
            pending.append(_text(child))
        pending.append(child.tail or "")
    out.append("".join(pending).strip())


def _text(element: Any) -> str:
    parts = [element.text or ""]
    for child in element:
        parts.append("\n" if child.tag == "lb" else _text(child))
        parts.append(child.tail or "")
    return "".join(parts)
