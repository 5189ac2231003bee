"""HTML (.html, .htm): the main text of the page, found by trafilatura.

Navigation, share buttons, related links, scripts and iframes are left out. Each paragraph, heading,
list item and table row of the main content becomes one paragraph. Title, date, URL and language come
from the page's metadata.
"""

from __future__ import annotations

import re
from typing import Any

import trafilatura

from govcompare.readers.base import Limits, ReadResult, parse_date
from govcompare.textnorm import decode

__all__ = ["read_html"]

_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTML_LANG = re.compile(r"""<html\b[^>]*?\blang\s*=\s*["']?([A-Za-z]{2,3})\b""", re.I)
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")
# Elements of trafilatura's output tree that hold paragraphs; everything else is inline.
_BLOCKS = frozenset({"p", "head", "item", "quote", "code", "row", "list", "table", "div"})


def read_html(data: bytes, limits: Limits) -> ReadResult:
    """Read the main content of an HTML page."""
    page = _XML_DECLARATION.sub("", _decode(data))
    if not page.strip():
        return ReadResult("")
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
