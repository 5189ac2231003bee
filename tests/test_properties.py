"""Properties that hold for any input, checked with hypothesis.

Elsewhere already: passages reproduce their text from the normalised document by their offsets and cover
every non-blank character exactly once (tests/test_passages.py); ``decode`` raises nothing but
``CorpusError`` and ``normalise`` is idempotent (tests/test_textnorm.py). Here: the framework loader and the
readers on arbitrary bytes, and the HTML report on arbitrary evidence text.
"""

from __future__ import annotations

import copy
import html.parser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govcompare.errors import CorpusError, FrameworkError
from govcompare.frameworks import parse_dimensions, parse_framework
from govcompare.mapping import EvidenceMap, EvidenceMapper
from govcompare.models import Passage
from govcompare.readers import READERS
from govcompare.readers.base import Limits
from govcompare.report.context import ReportContext, build_context
from govcompare.report.render import render_html
from govcompare.textnorm import normalise

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORK_TEXTS = [p.read_bytes() for p in sorted((ROOT / "tests" / "data" / "frameworks").glob("*.yaml"))]
DIMENSIONS = parse_dimensions(
    (ROOT / "frameworks" / "dimensions.yaml").read_bytes(), source="dimensions.yaml"
)

# Pieces of YAML syntax, so that generated documents reach past the parser into the builder and models.
YAML_TOKENS = [
    "id: ", "name: ", "date: ", "principles:\n", "  - ", "- ", ": ", "? ", "&a ", "*a", "<<: ", "!!str ",
    "!!python/object:os.system ", "!custom ", "[", "]", "{", "}", ", ", "'", '"', "|\n", ">-\n", "\n", "  ",
    "\t", "#", "---\n", "...\n", "%YAML 1.1\n", "2022-13-45", "2022-04-28", "9" * 50, "1e999", ".nan",
    "~", "null", "yes", "x", "a-b", "é", "网", "\x00", "\ufeff", "\\u0000",
]  # fmt: skip


def _yaml_like() -> st.SearchStrategy[bytes]:
    tokens = st.lists(st.sampled_from(YAML_TOKENS), max_size=60).map(lambda parts: "".join(parts).encode())
    edited = st.tuples(
        st.sampled_from(FRAMEWORK_TEXTS), st.integers(0, 5000), st.integers(0, 200), tokens
    ).map(lambda t: t[0][: t[1]] + t[3] + t[0][t[1] + t[2] :])
    return st.one_of(st.binary(max_size=2000), tokens, edited)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_yaml_like())
def test_any_bytes_load_as_a_framework_or_raise_framework_error(data: bytes) -> None:
    for parse in (
        lambda: parse_framework(data, source="any.yaml", dimensions=DIMENSIONS),
        lambda: parse_dimensions(data, source="any.yaml"),
    ):
        try:
            parse()
        except FrameworkError as exc:
            assert exc.problems and all("\n" not in str(p) for p in exc.problems)  # one line per problem


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from(sorted(READERS)))
def test_any_bytes_read_as_text_or_raise_corpus_error(data: bytes, suffix: str) -> None:
    try:
        result = READERS[suffix](data, Limits())
    except CorpusError:
        return
    normalise(result.text)


# --- the HTML report on arbitrary evidence text ---------------------------------------------------


class _Elements(html.parser.HTMLParser):
    """The start tags of a page in order, and the text inside each blockquote."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.quotes: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "blockquote":
            self._depth += 1
            self.quotes.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.quotes[-1] += data


@pytest.fixture(scope="module")
def context() -> ReportContext:
    from govcompare.pipeline import run

    found = build_context(run("frameworks", "seeds"), corpus_label="seeds")
    assert any(p["quotes"] for p in found.principles)
    return found


def _with_quote(context: ReportContext, text: str, marked: bool) -> ReportContext:
    """The context with every evidence quote replaced by ``text`` (highlighted when ``marked``)."""
    changed = copy.deepcopy(context)
    segments = [(text, marked)]
    for principle in changed.principles:
        for quote in principle["quotes"]:
            quote["segments"] = segments
    for dimension in changed.contrast:
        for cell in dimension["cells"]:
            evidence: dict[str, Any] | None = cell["evidence"]
            if evidence is not None:
                evidence["segments"] = segments
    return changed


HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "</blockquote><script>alert(1)</script><blockquote>",
        "<img src=x onerror=alert(1)>",
        "<!-- comment --> <![CDATA[ x ]]>",
        "&lt;script&gt; &amp; &#60; &#x3c;",
        "\" ' ` = / \\",
        "</mark></td></tr></table>",
        "{{ c.title }} {% raw %}",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(HOSTILE, st.text(st.characters(exclude_categories=("Cs",)), max_size=300)), st.booleans())
def test_any_evidence_text_renders_as_escaped_html(context: ReportContext, text: str, marked: bool) -> None:
    page = render_html(_with_quote(context, text, marked))
    baseline = render_html(_with_quote(context, "x", marked))
    parsed, expected = _Elements(), _Elements()
    parsed.feed(page)
    expected.feed(baseline)
    assert parsed.tags == expected.tags  # no element but the template's own
    assert "script" not in parsed.tags
    assert parsed.quotes and all(quote == text for quote in parsed.quotes)  # the text round-trips


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=30),
    st.integers(0, 4),
)
def test_context_is_the_mean_of_the_neighbours_in_the_same_document(
    rows: list[tuple[str, float, float]], window: int
) -> None:
    """Passages of one document need not be next to each other in the list: neighbours are counted
    among the document's own passages, in list order."""
    mapper = EvidenceMapper(context_window=window)
    mapper.passages_ = [Passage(doc, i, 0, 1, "x") for i, (doc, _, _) in enumerate(rows)]
    emap = EvidenceMap.__new__(EvidenceMap)
    emap.mapper, emap._groups = mapper, None
    values = np.array([[a, b] for _, a, b in rows])
    got = emap._context(values)
    for i, (doc, _, _) in enumerate(rows):
        same = [j for j, (d, _, _) in enumerate(rows) if d == doc]
        at = same.index(i)
        near = [same[k] for k in range(max(0, at - window), min(len(same), at + window + 1)) if k != at]
        expected = values[near].mean(axis=0) if near else np.zeros(2)
        assert np.allclose(got[i], expected, atol=1e-12)
