"""One reader per input format, chosen by file suffix.

    READERS[".pdf"](data, limits) -> ReadResult(text, metadata, extra, heading)

A reader turns bytes into raw text plus what the file says about itself; the corpus opens files,
normalises text and decides metadata precedence. Add a format by adding a module and a line here.
"""

from __future__ import annotations

from pathlib import PurePath

from govcompare.errors import CorpusError
from govcompare.readers.base import Limits, Reader, ReadResult
from govcompare.readers.docx import read_docx
from govcompare.readers.html import read_html
from govcompare.readers.markdown import read_markdown
from govcompare.readers.pdf import read_pdf
from govcompare.readers.text import read_text

__all__ = [
    "READERS",
    "SUPPORTED_SUFFIXES",
    "Limits",
    "ReadResult",
    "Reader",
    "reader_for",
    "unsupported_reason",
]

READERS: dict[str, Reader] = {
    ".txt": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}

SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(sorted(READERS))


def reader_for(path: str | PurePath) -> Reader:
    """The reader for ``path``'s suffix (case-insensitive); ``CorpusError`` if there is none."""
    reader = READERS.get(PurePath(path).suffix.lower())
    if reader is None:
        raise CorpusError(f"{path}: {unsupported_reason(path)}")
    return reader


def unsupported_reason(path: str | PurePath) -> str:
    """Why ``path`` has no reader, listing the suffixes that do."""
    suffix = PurePath(path).suffix
    what = f"{suffix}" if suffix else "files without a suffix"
    return f"no reader for {what} (supported: {', '.join(SUPPORTED_SUFFIXES)})"
