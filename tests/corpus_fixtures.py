"""Binary fixtures for the reader and corpus tests, written at test time instead of committed.

``make_pdf`` writes a minimal PDF by hand (Helvetica, one text object per line) so that tests control
exactly where every line sits on the page: running headers, page numbers, paragraph gaps, hyphens.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import docx
from pypdf import PdfWriter

# A line of text on a PDF page: x, y (baseline, points from the bottom), font size, text.
PdfLine = tuple[float, float, float, str]

# tests/ -> main/ -> the folder holding main/ and shared/
SHARED_CORPUS = Path(__file__).resolve().parent / "data" / "shared-corpus"  # copy of ../shared/corpus
REAL_PDF = SHARED_CORPUS / "us-national-cybersecurity-strategy-2023.pdf"


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def make_pdf(
    pages: Sequence[Sequence[PdfLine]], *, title: str | None = None, size: tuple[int, int] = (612, 792)
) -> bytes:
    """A PDF with the given lines on each page (WinAnsi text in Helvetica)."""
    objects: list[bytes] = []  # object n is objects[n - 1]
    page_ids = [3 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = b" ".join(b"%d 0 R" % n for n in page_ids)
    objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)))
    font_id = 3 + 2 * len(pages)
    for number, lines in zip(page_ids, pages, strict=True):
        stream = b"".join(
            b"BT /F1 %.2f Tf 1 0 0 1 %.2f %.2f Tm %s Tj ET\n" % (s, x, y, _pdf_string(t))
            for x, y, s, t in lines
        )
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
            % (size[0], size[1], font_id, number + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    info_id = None
    if title is not None:
        objects.append(b"<< /Title %s >>" % _pdf_string(title))
        info_id = len(objects)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (n, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    info = b" /Info %d 0 R" % info_id if info_id else b""
    out.write(b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (len(objects) + 1, info))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def paragraph_lines(
    lines: Sequence[str], *, top: float, x: float = 72, size: float = 11, pitch: float = 14
) -> list[PdfLine]:
    """Consecutive lines of one paragraph, starting at baseline ``top`` and going down."""
    return [(x, top - i * pitch, size, text) for i, text in enumerate(lines)]


def blank_pdf(pages: int = 1) -> bytes:
    """A PDF whose pages have no text at all, like a scan without OCR."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    """A PDF that needs a password to open."""
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    # RC4 needs no crypto library (AES would need `cryptography`); pdfium asks for the password either way
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(
    paragraphs: Sequence[str],
    *,
    title: str | None = None,
    heading: str | None = None,
    table: Sequence[Sequence[str]] = (),
) -> bytes:
    """A .docx with an optional heading, the paragraphs, then an optional table."""
    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    if heading is not None:
        document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
