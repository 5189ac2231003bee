"""Word documents (.docx): paragraphs and table rows in document order, title from the properties."""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import Any

import docx
from docx.opc.exceptions import PackageNotFoundError

from govcompare.errors import CorpusError
from govcompare.readers.base import Limits, ReadResult, megabytes

__all__ = ["read_docx"]

_HEADING_STYLES = ("Title", "Heading")


def read_docx(data: bytes, limits: Limits) -> ReadResult:
    """Read a .docx file; a file that is not one (or unpacks too large) is a failure."""
    _check_archive(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs, heading = _paragraphs(document)
        known, extra = _properties(document)
    # lxml's XMLSyntaxError is a SyntaxError; a member that lies about its size is a BadZipFile, damaged
    # compressed data a zlib.error or EOFError; python-docx meets a part whose XML is not the element it
    # expects with AttributeError or TypeError
    except (
        PackageNotFoundError,
        KeyError,
        ValueError,
        SyntaxError,
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        AttributeError,
        TypeError,
        NotImplementedError,  # zipfile: a compression method it cannot read
        RuntimeError,  # zipfile: an encrypted member
    ) as exc:
        reason = " ".join(str(exc).split())
        raise CorpusError(f"not a readable Word document ({reason}): open and re-save it in Word") from None
    return ReadResult("\n\n".join(paragraphs), known, extra, heading=heading)


def _check_archive(data: bytes, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        raise CorpusError(
            "not a .docx file (not a zip archive): if it is an old .doc or another format, save it as .docx"
        ) from None
    except NotImplementedError as exc:  # a zip version or feature Python's zipfile cannot read
        raise CorpusError(f"not a readable .docx file ({exc}): open and re-save it in Word") from None
    if "word/document.xml" not in names:
        raise CorpusError("not a Word document (no word/document.xml inside): save it as .docx")
    if unpacked > limits.max_decompressed_bytes:
        raise CorpusError(
            f"docx unpacks to {megabytes(unpacked)}, over the "
            f"{megabytes(limits.max_decompressed_bytes)} limit (--max-decompressed-mb)"
        )


def _paragraphs(document: Any) -> tuple[list[str], str | None]:
    paragraphs: list[str] = []
    heading: str | None = None
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):  # a table: one paragraph per row, cells joined
            for row in block.rows:
                cells: list[str] = []
                previous = None
                for cell in row.cells:
                    if cell._tc is previous:  # a merged cell appears once per spanned column
                        continue
                    previous = cell._tc
                    text = " ".join(cell.text.split())
                    if text:
                        cells.append(text)
                if cells:
                    paragraphs.append(" | ".join(cells))
            continue
        text = block.text.strip()
        if not text:
            continue
        style = block.style.name if block.style is not None else ""
        if heading is None and style.startswith(_HEADING_STYLES):
            heading = text
        paragraphs.append(text)
    return paragraphs, heading


def _properties(document: Any) -> tuple[dict[str, str], dict[str, str]]:
    props = document.core_properties
    known: dict[str, str] = {}
    if props.title and props.title.strip():
        known["title"] = " ".join(props.title.split())
    if props.language and props.language.strip():
        known["language"] = props.language.strip().split("-")[0].lower()
    extra = {
        name: " ".join(value.split())
        for name, value in (
            ("author", props.author),
            ("subject", props.subject),
            ("keywords", props.keywords),
        )
        if value and value.strip()
    }
    if props.created is not None:
        extra["created"] = props.created.date().isoformat()
    return known, extra
