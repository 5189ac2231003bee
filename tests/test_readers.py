from __future__ import annotations

import importlib
import io
import re
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from corpus_fixtures import (
    REAL_PDF,
    blank_pdf,
    encrypted_pdf,
    make_docx,
    make_pdf,
    paragraph_lines,
)

from govcompare.errors import CorpusError
from govcompare.readers import READERS, SUPPORTED_SUFFIXES, reader_for, unsupported_reason
from govcompare.readers.base import Limits, ReadResult, parse_date, split_metadata
from govcompare.readers.docx import read_docx
from govcompare.readers.html import read_html
from govcompare.readers.markdown import read_markdown
from govcompare.readers.pdf import ENCRYPTED, NO_TEXT_LAYER, read_pdf
from govcompare.readers.text import read_text
from govcompare.textnorm import normalise

DATA = Path(__file__).parent / "data" / "corpus"
LIMITS = Limits()


def read(reader_path: Path) -> ReadResult:
    return reader_for(reader_path)(reader_path.read_bytes(), LIMITS)


def paragraphs(result: ReadResult) -> list[str]:
    return normalise(result.text).split("\n\n")


# --- registry -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("a.txt", read_text),
        ("a.md", read_markdown),
        ("a.markdown", read_markdown),
        ("a.html", read_html),
        ("a.htm", read_html),
        ("a.pdf", read_pdf),
        ("a.docx", read_docx),
        ("UPPER.PDF", read_pdf),
    ],
)
def test_reader_for_picks_by_suffix(name: str, reader: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry's readers import their module when first called, then call its reader."""
    module = importlib.import_module(reader.__module__)
    monkeypatch.setattr(module, reader.__name__, lambda data, limits: ("called", data))
    assert reader_for(name).__name__ == reader.__name__
    assert reader_for(name)(b"x", Limits()) == ("called", b"x")


def test_a_command_imports_only_the_readers_it_needs() -> None:
    code = (
        "import sys; from govcompare.corpus import read_corpus; read_corpus('seeds'); "
        "print(sorted(m for m in ('trafilatura', 'pypdfium2', 'docx', 'markdown_it') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_supported_suffixes_are_the_registry_sorted() -> None:
    assert list(SUPPORTED_SUFFIXES) == sorted(READERS)


@pytest.mark.parametrize("name", ["slides.pptx", "README", "data.csv"])
def test_reader_for_unsupported_names_the_supported_suffixes(name: str) -> None:
    with pytest.raises(CorpusError, match=r"no reader for .* \(supported: \.docx, \.htm, "):
        reader_for(name)


def test_unsupported_reason_without_suffix() -> None:
    assert unsupported_reason("Makefile").startswith("no reader for files without a suffix")


# --- metadata helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-04-28", "2022-04-28"),
        ("2022-04-28T07:00:00-04:00", "2022-04-28"),
        ("D:20230301121912-05'00'", "2023-03-01"),
        ("March 1, 2023", "2023-03-01"),
        ("1 March 2023", "2023-03-01"),
        ("April 28th, 2022", "2022-04-28"),
        ("2022/11/07", "2022-11-07"),
        ("November 2022", None),
        ("soon", None),
        (20220428, None),
    ],
)
def test_parse_date(value: object, expected: str | None) -> None:
    assert parse_date(value) == expected


def test_split_metadata_maps_aliases_and_keeps_other_scalars() -> None:
    known, extra = split_metadata(
        {"Title": " A  title ", "side": "US", "url": "https://x", "tags": ["a"], "views": 3, "date": "later"}
    )
    assert known == {"title": "A title", "actor": "US", "source_url": "https://x"}
    assert extra == {"views": "3", "date": "later"}


def test_split_metadata_full_names_win_over_aliases() -> None:
    known, _ = split_metadata({"actor": "China", "side": "CN", "source_url": "https://a", "url": "b"})
    assert known == {"actor": "China", "source_url": "https://a"}


# --- text -----------------------------------------------------------------------------------------


def test_text_reader_keeps_the_text() -> None:
    result = read(DATA / "good_plain.txt")
    assert paragraphs(result)[0] == "Open Internet Principles"
    assert "Data should flow freely across borders" in paragraphs(result)[2]
    assert result.metadata == {}


def test_text_reader_rejects_binary() -> None:
    with pytest.raises(CorpusError, match="binary file, not text"):
        read_text(bytes(range(256)) * 4, LIMITS)


# --- markdown -------------------------------------------------------------------------------------


def test_markdown_front_matter_is_metadata() -> None:
    result = read(DATA / "good_front_matter.md")
    assert result.metadata == {
        "title": "Readout of a Roundtable on the Declaration",
        "date": "2022-04-29",
        "actor": "US",
        "source_url": "https://example.gov/readout",
        "kind": "readout",
    }
    assert result.extra == {"tags": "statements-releases", "published_time": "2022-04-29T12:31:26-04:00"}
    assert result.heading == "A heading that is not the title"


def test_markdown_syntax_is_stripped() -> None:
    result = read(DATA / "good_front_matter.md")
    assert paragraphs(result) == [
        "A heading that is not the title",
        "The Declaration for the Future of the Internet was launched by 60 partners, who committed "
        "to an open internet.",
        "First, protect human rights online.",
        "Second, keep one global internet.",
        "Partner | Role",
        "ICANN | technical coordination",
        "code stays as text",
        "A quoted remark about multi-stakeholder governance.",
    ]
    for residue in ("---", "#", "**", "](", "![", "photo", "```", "title:"):
        assert residue not in result.text


def test_markdown_without_front_matter_takes_the_first_heading() -> None:
    result = read(DATA / "good_heading_title.md")
    assert result.metadata == {}
    assert result.heading == "Cyber Sovereignty and Shared Governance"


def test_markdown_wrapped_lines_join_with_a_space_except_in_chinese() -> None:
    data = "Open and\nfree internet.\n\n尊重网络\n主权。\n".encode()
    assert paragraphs(read_markdown(data, LIMITS)) == ["Open and free internet.", "尊重网络主权。"]


def test_markdown_raw_html_keeps_text_only() -> None:
    data = b"Intro.\n\n<div class='box'>Boxed <b>text</b> &amp; more<script>alert('x')</script></div>\n"
    result = read_markdown(data, LIMITS)
    assert paragraphs(result) == ["Intro.", "Boxed text & more"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad_front_matter_syntax.md", r"front matter is not valid YAML \(line \d+: "),
        ("bad_front_matter_list.md", r"front matter must be a mapping .*not a list"),
    ],
)
def test_markdown_bad_front_matter_fails(name: str, message: str) -> None:
    with pytest.raises(CorpusError, match=message):
        read(DATA / name)


def test_markdown_front_matter_scalar_fails() -> None:
    with pytest.raises(CorpusError, match=r"not a single value \(str\)"):
        read_markdown(b"---\njust a sentence\n---\nBody\n", LIMITS)


# --- html -----------------------------------------------------------------------------------------


def test_html_main_text_and_metadata() -> None:
    result = read(DATA / "good_page.html")
    assert result.metadata == {
        "title": "Fact Sheet: Partners Launch the Declaration",
        "date": "2022-04-28",
        "source_url": "https://example.gov/briefing-room/fact-sheet",
        "language": "en",
    }
    found = paragraphs(result)
    assert "The Internet has been revolutionary." in found[1]
    assert found[2].endswith("launched the Declaration for the Future of the Internet.")
    assert len(found) == 5


@pytest.mark.parametrize(
    "residue",
    [
        "SCRIPT-SECRET-TEXT",
        "INLINE-SCRIPT-TEXT",
        "IFRAME-FALLBACK-TEXT",
        "NAVIGATION-ONLY-TEXT",
        "SHARE-ON-TWITTER",
        "RELATED-STORY-ONE",
        "FOOTER-COPYRIGHT-TEXT",
        "display: none",
    ],
)
def test_html_leaves_out_everything_but_the_main_text(residue: str) -> None:
    assert residue not in read(DATA / "good_page.html").text


def test_html_honours_a_declared_charset() -> None:
    page = (
        "<html><head><meta charset='iso-8859-1'><title>Café</title></head><body><article>"
        "<p>Le café de la gare était fermé, et nous avons marché jusqu'à l'hôtel de ville.</p>"
        "<p>La délégation a présenté la stratégie numérique à la conférence de presse.</p>"
        "</article></body></html>"
    ).encode("latin-1")
    assert "Le café de la gare était fermé" in read_html(page, LIMITS).text


def test_html_empty_page_gives_no_text() -> None:
    assert read_html(b"<html><body></body></html>", LIMITS).text == ""


# --- pdf ------------------------------------------------------------------------------------------

HEADER = "ANNUAL REVIEW OF INTERNET GOVERNANCE"


def _page(number: int, body: list[tuple[float, float, float, str]]) -> list[tuple[float, float, float, str]]:
    return [(72, 760, 9, f"{HEADER} {number}"), *body, (300, 40, 9, str(number))]


SYNTHETIC_PAGES = [
    _page(
        1,
        paragraph_lines(
            [
                "The critical infrastructure of the network must be protected by",
                "all parties. Investment in infra-",
                "structure keeps the network secure and reliable for everyone.",
            ],
            top=700,
        )
        + paragraph_lines(
            [
                "Governance of the internet is multi-",
                "stakeholder by design and includes civil society and the technical",
                "community. Cooperation continues across",
            ],
            top=640,
        ),
    ),
    _page(
        2,
        paragraph_lines(
            [
                "borders and across sectors, so that the paragraph continues on the",
                "next page without a break.",
            ],
            top=700,
        )
        + paragraph_lines(["A second paragraph on the second page."], top=650),
    ),
    _page(3, paragraph_lines(["The third page has one short paragraph."], top=700)),
]


@pytest.fixture(scope="module")
def synthetic_pdf() -> ReadResult:
    return read_pdf(make_pdf(SYNTHETIC_PAGES, title="Annual Review"), LIMITS)


def test_pdf_paragraphs_are_rebuilt(synthetic_pdf: ReadResult) -> None:
    assert paragraphs(synthetic_pdf) == [
        "The critical infrastructure of the network must be protected by all parties. Investment "
        "in infrastructure keeps the network secure and reliable for everyone.",
        "Governance of the internet is multi-stakeholder by design and includes civil society and "
        "the technical community. Cooperation continues across borders and across sectors, so "
        "that the paragraph continues on the next page without a break.",
        "A second paragraph on the second page.",
        "The third page has one short paragraph.",
    ]


def test_pdf_running_headers_and_page_numbers_are_removed(synthetic_pdf: ReadResult) -> None:
    assert HEADER not in synthetic_pdf.text
    assert not re.search(r"^\d+$", synthetic_pdf.text, re.MULTILINE)


def test_pdf_title_from_info(synthetic_pdf: ReadResult) -> None:
    assert synthetic_pdf.metadata["title"] == "Annual Review"


@pytest.mark.parametrize("title", ["Microsoft Word - draft.docx", "untitled", "report.pdf", "  "])
def test_pdf_meaningless_info_title_is_ignored(title: str) -> None:
    data = make_pdf([[(72, 700, 11, "Some text on the page.")]], title=title)
    assert "title" not in read_pdf(data, LIMITS).metadata


def test_pdf_heading_from_large_type_on_the_first_page() -> None:
    page = [(72, 700, 28, "Cyber Strategy"), *paragraph_lines(["Body text.", "More body."], top=600)]
    assert read_pdf(make_pdf([page]), LIMITS).heading == "Cyber Strategy"


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        pytest.param("infra-", "structure is built", "infrastructure is built", id="broken-word"),
        pytest.param("a multi-", "stakeholder model", "a multi-stakeholder model", id="prefix"),
        pytest.param("the non-", "Federal partners", "the non-Federal partners", id="capital"),
        pytest.param("the COVID-", "19 pandemic", "the COVID-19 pandemic", id="digit"),
        pytest.param("the ransom -", "should be paid", "the ransom - should be paid", id="spaced-dash"),
        pytest.param("secure—", "anchored", "secure—anchored", id="em-dash"),
    ],
)
def test_pdf_line_end_hyphens(first: str, second: str, expected: str) -> None:
    lines = paragraph_lines([f"Start {first}", second], top=700)
    assert normalise(read_pdf(make_pdf([lines]), LIMITS).text) == f"Start {expected}"


def test_pdf_hyphen_kept_when_the_document_uses_the_compound() -> None:
    lines = paragraph_lines(
        ["The cyber-enabled threat and cyber-", "enabled campaigns are growing."], top=700
    )
    text = normalise(read_pdf(make_pdf([lines]), LIMITS).text)
    assert text == "The cyber-enabled threat and cyber-enabled campaigns are growing."


def test_pdf_encrypted_fails() -> None:
    with pytest.raises(CorpusError, match=re.escape(ENCRYPTED)):
        read_pdf(encrypted_pdf(), LIMITS)


def test_pdf_without_text_layer_fails() -> None:
    with pytest.raises(CorpusError, match=re.escape(NO_TEXT_LAYER)):
        read_pdf(blank_pdf(pages=2), LIMITS)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(make_pdf(SYNTHETIC_PAGES)[:400], id="truncated"),
        pytest.param(b"%PDF-1.7\n this is not really a pdf", id="malformed"),
        pytest.param(b"", id="empty"),
    ],
)
def test_pdf_damaged_fails(data: bytes) -> None:
    with pytest.raises(CorpusError, match=r"not a readable PDF .*download or export it again"):
        read_pdf(data, LIMITS)


def test_pdf_over_the_page_limit_fails() -> None:
    with pytest.raises(CorpusError, match=r"PDF has 3 pages, over the 2-page limit \(--max-pages\)"):
        read_pdf(make_pdf(SYNTHETIC_PAGES), Limits(max_pdf_pages=2))


# --- the real 39-page PDF -------------------------------------------------------------------------

needs_real_pdf = pytest.mark.skipif(not REAL_PDF.exists(), reason=f"{REAL_PDF} is not there")


@pytest.fixture(scope="module")
def real_pdf() -> tuple[ReadResult, float]:
    start = time.perf_counter()
    result = read_pdf(REAL_PDF.read_bytes(), LIMITS)
    return result, time.perf_counter() - start


@needs_real_pdf
def test_real_pdf_is_fast(real_pdf: tuple[ReadResult, float]) -> None:
    assert real_pdf[1] < 3.0


@needs_real_pdf
def test_real_pdf_has_no_running_headers_or_page_numbers(real_pdf: tuple[ReadResult, float]) -> None:
    lines = normalise(real_pdf[0].text).split("\n")
    header = re.compile(r"^(\d+ )?N ?ATIONAL C ?YBERSECURITY S ?TRATEGY( \d+)?$")
    assert [line for line in lines if re.fullmatch(r"\d+", line) or header.match(line)] == [
        "NATIONAL CYBERSECURITY STRATEGY"  # the title on the cover, not a header
    ]
    assert "N ATIONAL" not in real_pdf[0].text


@needs_real_pdf
def test_real_pdf_paragraphs(real_pdf: tuple[ReadResult, float]) -> None:
    text = normalise(real_pdf[0].text)
    assert "-\n" not in text
    found = text.split("\n\n")
    assert len(found) > 150
    assert statistics.median(len(p) for p in found) > 150
    assert max(len(p) for p in found) < 3000


@needs_real_pdf
@pytest.mark.parametrize(
    "sentence",
    [
        "We must ensure the Internet remains open, free, global, interoperable, reliable, and "
        "secure—anchored in universal values that respect human rights and fundamental freedoms.",
        "Malicious cyber activity has evolved from nuisance defacement, to espionage and intellectual "
        "property theft, to damaging attacks against critical infrastructure, to ransomware attacks "
        "and cyber-enabled influence campaigns designed to undermine public trust in the foundation "
        "of our democracy.",
        "The People’s Republic of China (PRC) now presents the broadest, most active, and most "
        "persistent threat to both government and private sector networks",
        "STRATEGIC OBJECTIVE 1.2: SCALE PUBLIC-PRIVATE COLLABORATION",
        "Combining organizational collaboration and technology-enabled connectivity will create",
    ],
)
def test_real_pdf_known_sentences_are_whole(real_pdf: tuple[ReadResult, float], sentence: str) -> None:
    assert sentence in normalise(real_pdf[0].text)


@needs_real_pdf
def test_real_pdf_metadata(real_pdf: tuple[ReadResult, float]) -> None:
    result = real_pdf[0]
    assert result.metadata == {"date": "2023-03-01"}
    assert result.heading == "NATIONAL CYBERSECURITY STRATEGY"


# --- docx -----------------------------------------------------------------------------------------


def test_docx_paragraphs_tables_and_title() -> None:
    data = make_docx(
        ["First paragraph about cyber sovereignty.", "", "Second paragraph about data security."],
        title="White Paper Excerpts",
        heading="Chapter I",
        table=[["Principle", "Meaning"], ["Sovereignty", "Each state governs its own cyberspace"]],
    )
    result = read_docx(data, LIMITS)
    assert result.metadata == {"title": "White Paper Excerpts"}
    assert result.heading == "Chapter I"
    assert paragraphs(result) == [
        "Chapter I",
        "First paragraph about cyber sovereignty.",
        "Second paragraph about data security.",
        "Principle | Meaning",
        "Sovereignty | Each state governs its own cyberspace",
    ]


def test_docx_not_a_zip_fails() -> None:
    with pytest.raises(CorpusError, match=r"not a \.docx file \(not a zip archive\)"):
        read_docx(b"This is plain text saved with a .docx name.", LIMITS)


def test_docx_zip_without_a_document_fails() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not word")
    with pytest.raises(CorpusError, match=r"not a Word document \(no word/document.xml"):
        read_docx(buffer.getvalue(), LIMITS)


def test_docx_damaged_xml_fails() -> None:
    original = make_docx(["Text."])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, b"<w:document" if item.filename == "word/document.xml" else data)
    with pytest.raises(CorpusError, match="not a readable Word document"):
        read_docx(buffer.getvalue(), LIMITS)


def test_docx_over_the_decompressed_limit_fails() -> None:
    with pytest.raises(CorpusError, match=r"docx unpacks to .* over the .* limit \(--max-decompressed-mb\)"):
        read_docx(make_docx(["Text."]), Limits(max_decompressed_bytes=1000))
