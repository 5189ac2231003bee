"""One reader per input format, chosen by file suffix.

    READERS[".pdf"](data, limits) -> ReadResult(text, metadata, extra, heading)

A reader turns bytes into raw text plus what the file says about itself; the corpus opens files,
normalises text and decides metadata precedence. Add a format by adding a module and a line here.
A reader's module (and the library behind it: trafilatura, pypdfium2, python-docx, markdown-it) is
imported the first time a file of its kind is read, so a command pays only for the formats it meets.
"""

from __future__ import annotations

import importlib
from pathlib import PurePath

from govcompare.errors import CorpusError
from govcompare.readers.base import Limits, Reader, ReadResult

__all__ = [
    "READERS",
    "SUPPORTED_SUFFIXES",
    "Limits",
    "ReadResult",
    "Reader",
    "reader_for",
    "unsupported_reason",
]


def _lazy(module: str) -> Reader:
    """``govcompare.readers.<module>.read_<module>``, imported when first called."""

    def read(data: bytes, limits: Limits) -> ReadResult:
        reader: Reader = getattr(importlib.import_module(f"govcompare.readers.{module}"), f"read_{module}")
        return reader(data, limits)

    read.__name__ = read.__qualname__ = f"read_{module}"
    return read


READERS: dict[str, Reader] = {
    ".txt": _lazy("text"),
    ".md": _lazy("markdown"),
    ".markdown": _lazy("markdown"),
    ".html": _lazy("html"),
    ".htm": _lazy("html"),
    ".pdf": _lazy("pdf"),
    ".docx": _lazy("docx"),
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
