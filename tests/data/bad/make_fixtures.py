"""The catalogue of bad corpus files: small ones are committed next to this script, the others generated.

    python tests/data/bad/make_fixtures.py            # rewrite the committed fixtures in this folder
    python tests/data/bad/make_fixtures.py DIR --all  # write every fixture, the generated ones too, into DIR

``tests/test_bad_inputs.py`` reads the committed files and calls ``write_generated`` once per test
session for the fixtures too big to commit (bombs, 10 MB of HTML, a 5 MB line) or that would trip the
repository's linters (binary data in a .md file). ``FRAMEWORKS`` and ``MANIFESTS``
hold YAML texts that the tests write next to good files.
"""

from __future__ import annotations

import io
import random
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # tests/: corpus_fixtures

from corpus_fixtures import blank_pdf, encrypted_pdf, make_docx, make_pdf, paragraph_lines  # noqa: E402

PARAGRAPH = (
    "Governance of the internet should include governments, the private sector, civil society and the "
    "technical community, and every state has the right to choose its own path of development."
)
# Texts whose encoding must be detected without a declaration; the first line is the title.
LATIN = "Open Internet Principles\n\nThe délégation présented a naïve café strategy. " + PARAGRAPH
ENGLISH = "Principles in UTF-16\n\nThe Declaration's partners “commit” to one global Internet. " + PARAGRAPH
CHINESE = "网络空间命运共同体\n\n构建网络空间命运共同体，尊重网络主权，维护和平安全，促进开放合作。" * 2
CHINESE_UTF16 = "全球数据安全倡议\n\n各国应以事实为依据全面客观看待数据安全问题，积极维护全球信息技术产品和服务的供应链开放。"
MB = 1_000_000


def _pdf_pages(count: int) -> bytes:
    """A PDF of ``count`` pages that all share one small content stream (so it stays small)."""
    content = b"BT /F1 11 Tf 72 400 Td (A page about internet governance.) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",
        b"<< /Length %d >>\nstream\n%s\nendstream"
        % (
            len(content),
            content,
        ),
    ]
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    kids = []
    for _ in range(count):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 3 0 R >>"
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), count)
    return _pdf(objects)


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def bomb_pdf(unpacked: int = 250 * MB) -> bytes:
    """One page whose content stream inflates to ``unpacked`` bytes of spaces (built in chunks)."""
    packer = zlib.compressobj(9)
    chunk = b" " * MB
    stream = packer.compress(b"BT /F1 11 Tf 72 400 Td (Bomb.) Tj ET\n")
    stream += b"".join(packer.compress(chunk) for _ in range(unpacked // MB)) + packer.flush()
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 3 0 R >>",
        ]
    )


def bad_page_tree_pdf() -> bytes:
    """The page tree names an object that is not a page: pdfium opens the file but not the page."""
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def _rezip(data: bytes, replace: dict[str, bytes], *, stored: bool = False) -> bytes:
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", method) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
    return out.getvalue()


def bomb_docx(unpacked: int = 250 * MB) -> bytes:
    """A real .docx with one more member: ``unpacked`` bytes of zeros that deflate to a few hundred kB."""
    out = io.BytesIO(_rezip(make_docx([PARAGRAPH]), {}))
    with (
        zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/media/bomb.bin", "w") as f,
    ):
        chunk = bytes(MB)
        for _ in range(unpacked // MB):
            f.write(chunk)
    return out.getvalue()


def damaged_part_docx() -> bytes:
    """The package relationships hold another XML element: python-docx trips over it (found by fuzzing)."""
    return _rezip(make_docx([PARAGRAPH]), {"_rels/.rels": b'<?xml version="1.0"?><other xmlns="urn:x"/>'})


def damaged_deflate_docx() -> bytes:
    """document.xml's compressed bytes are corrupted, its header left intact (found by fuzzing)."""
    data = bytearray(_rezip(make_docx([PARAGRAPH * 5]), {}))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + info.compress_size - 10, 7):
        data[i] ^= 0x55
    return bytes(data)


def unsupported_zip_version_docx() -> bytes:
    """A .docx whose central directory asks for zip version 14.8 to extract (found by fuzzing)."""
    data = bytearray(make_docx([PARAGRAPH]))
    entry = data.find(b"PK\x01\x02")
    data[entry + 6 : entry + 8] = (148).to_bytes(2, "little")
    return bytes(data)


def zip_without_word() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a Word document")
    return out.getvalue()


def nested_html(size: int = 10 * MB) -> bytes:
    """Scripts and iframes around 10 MB of nested tags (too many elements for main-text detection)."""
    head = (
        b"<!DOCTYPE html><html lang='en'><head><title>Nested page</title>"
        b"<script>document.write('SCRIPT-TEXT')</script></head><body>"
        b"<iframe src='https://example.org'>IFRAME-TEXT</iframe><nav>NAV-TEXT</nav>"
        b"<p>" + PARAGRAPH.encode() + b"</p>"
    )
    unit = b"<div><section><span><b>deep</b> text</span></section></div>"
    return head + unit * (size // len(unit)) + b"<script>alert('END-SCRIPT')</script></body></html>"


def long_line_txt(size: int = 5 * MB) -> bytes:
    """One line of ``size`` bytes: words without a single line break or sentence end."""
    words = b"sovereignty multistakeholder governance internet cooperation "
    return (words * (size // len(words)))[:size]


def binary(seed: int) -> bytes:
    """Random bytes, as an executable or image renamed to a text suffix would look."""
    return b"\x7fELF\x02\x01\x01\x00" + random.Random(seed).randbytes(4000)


def _front_matter(yaml: str, body: str = PARAGRAPH) -> bytes:
    return f"---\n{yaml}---\n\n{body}\n".encode()


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)
DEEP = "title: " + "[" * 200 + "x" + "]" * 200 + "\n"

SMALL: dict[str, Callable[[], bytes]] = {
    "truncated.pdf": lambda: make_pdf([paragraph_lines([PARAGRAPH[:90], PARAGRAPH[90:]], top=600)])[:300],
    "encrypted.pdf": encrypted_pdf,
    "malformed.pdf": lambda: (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer <<>>\n%%EOF\n"
    ),
    "bad-page-tree.pdf": bad_page_tree_pdf,
    "scan.pdf": blank_pdf,
    "three-pages.pdf": lambda: _pdf_pages(3),
    "not-a-zip.docx": lambda: b"This is plain text saved with a .docx name.\n",
    "zip-not-word.docx": zip_without_word,
    "damaged-part.docx": damaged_part_docx,
    "damaged-deflate.docx": damaged_deflate_docx,
    "unsupported-zip-version.docx": unsupported_zip_version_docx,
    "good.docx": lambda: make_docx([PARAGRAPH], title="A Word document"),
    "scripts-iframes.html": lambda: (
        "<html lang='en'><head><title>Scripts and frames</title><script>var s = 'SCRIPT-TEXT';</script>"
        "<style>p { color: red } STYLE-TEXT</style></head><body><nav>NAV-TEXT</nav><article>"
        f"<h1>Scripts and frames</h1><p>{PARAGRAPH}</p><iframe src='https://example.org'>IFRAME-TEXT"
        f"</iframe><script>document.write('INLINE-SCRIPT')</script><p>{PARAGRAPH.upper()}</p></article>"
        "<noscript>NOSCRIPT-TEXT</noscript></body></html>"
    ).encode(),
    "deep-nesting.html": lambda: (
        f"<html><body><p>{PARAGRAPH}</p>" + "<div>" * 300 + "hidden" + "</div>" * 300 + "</body></html>"
    ).encode(),
    # several closing </html> tags left lone elements with no parent (found by fuzzing)
    "stray-closing-tags.html": lambda: (
        "<html><body><article><p>Stray closing tags after the end of the page must not stop the reader, "
        "which keeps this paragraph.</p></article></body></html>" + "T</p></footer></body></html>" * 3
    ).encode(),
    "binary.txt": lambda: binary(1),
    "binary.html": lambda: binary(3),
    "empty.txt": lambda: b"",
    "empty.pdf": lambda: b"",
    "empty.docx": lambda: b"",
    "blank.md": lambda: _front_matter("title: Nothing below\n", body="   \n\t\n"),
    "utf16.txt": lambda: ENGLISH.encode("utf-16-le"),  # no byte-order mark
    "utf16-chinese.txt": lambda: CHINESE_UTF16.encode("utf-16-le"),
    "gb18030.txt": lambda: CHINESE.encode("gb18030"),
    "latin1.txt": lambda: LATIN.encode("latin-1"),
    "mixed-line-endings.txt": lambda: (
        b"Mixed Line Endings\r\n\r\nFirst paragraph, CRLF.\r\nSame paragraph.\r\rSecond paragraph, CR.\r"
        b"Same one.\n\nThird paragraph, LF.\n"
    ),
    "front-matter-not-yaml.md": lambda: _front_matter('title: "an unclosed quote\ndate: [2022\n'),
    "front-matter-python-tag.md": lambda: _front_matter("title: !!python/object/apply:os.system ['true']\n"),
    "front-matter-alias-bomb.md": lambda: _front_matter(ALIAS_BOMB),
    "front-matter-deep.md": lambda: _front_matter(DEEP),
    "front-matter-duplicate-key.md": lambda: _front_matter("title: One\ntitle: Two\n"),
    "front-matter-bad-date.md": lambda: _front_matter("date: 2022-13-45\n"),
}

# Generated at test time: too large to commit, or (binary.md) a file the repository's linters would read.
GENERATED: dict[str, Callable[[], bytes]] = {
    "binary.md": lambda: binary(2),
    "many-pages.pdf": lambda: _pdf_pages(2001),
    "bomb.pdf": bomb_pdf,
    "bomb.docx": bomb_docx,
    "nested-10mb.html": nested_html,
    "long-line.txt": long_line_txt,
}

# Framework texts, each written next to the bundled dimensions.yaml by the tests.
FRAMEWORKS: dict[str, str | bytes] = {
    "bad-date.yaml": "id: x\nname: X\nactors: [A]\nsummary: S\nversion: '1'\ndate: 2022-13-45\n",
    "nul.yaml": "id: x\nname: X\x00\n",
    "binary.yaml": binary(4),
}

# Manifests (corpus.yaml unless named .csv), each put in a corpus with the seeds' two documents.
MANIFESTS = {
    "missing-file": ("corpus.yaml", "- file: 000_56e5f92a99458bca.txt\n- file: missing.txt\n"),
    "traversal": ("corpus.yaml", "- file: ../../evil.txt\n"),
    "python-tag": (
        "corpus.yaml",
        "- file: 000_56e5f92a99458bca.txt\n  title: !!python/object/apply:os.system ['true']\n",
    ),
    "alias-bomb": ("corpus.yaml", ALIAS_BOMB),
    "deep": ("corpus.yaml", "- file: 000_56e5f92a99458bca.txt\n  " + DEEP),
    "duplicate-key": ("corpus.yaml", "- file: 000_56e5f92a99458bca.txt\n  title: One\n  title: Two\n"),
    "bad-date": ("corpus.yaml", "- file: 000_56e5f92a99458bca.txt\n  date: 2022-13-45\n"),
    "huge-csv-field": ("corpus.csv", "file,title\n000_56e5f92a99458bca.txt," + "x" * 200_000 + "\n"),
}


def write(folder: Path, fixtures: dict[str, Callable[[], bytes]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in fixtures.items():
        (folder / name).write_bytes(make())


def write_generated(folder: Path) -> None:
    """Write the fixtures that are not committed into ``folder``."""
    write(folder, GENERATED)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    write(target, SMALL)
    if "--all" in sys.argv:
        write_generated(target)
