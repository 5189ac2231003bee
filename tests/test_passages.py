from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govcompare import passages
from govcompare.errors import CorpusError
from govcompare.models import Document, Passage
from govcompare.passages import Segmenter, sentence_spans, split_passages
from govcompare.textnorm import normalise


def doc(text: str) -> Document:
    return Document(id="d.txt", path="d.txt", text=text, sha256="", title="d")


PARAGRAPH = "Cyber sovereignty is the extension of national sovereignty into cyberspace. " * 3


def test_short_paragraphs_merge_and_long_ones_split_on_sentences() -> None:
    text = "Heading\n\n" + PARAGRAPH.strip() + "\n\n" + ("A sentence of moderate length here. " * 60).strip()
    passages = Segmenter().split(doc(text))
    assert passages[0].text.startswith("Heading\n\nCyber sovereignty")
    assert all(len(p.text) <= 1200 for p in passages)
    assert all(p.text.endswith(".") for p in passages)
    assert [p.number for p in passages] == list(range(1, len(passages) + 1))


def test_abbreviations_do_not_end_sentences() -> None:
    text = "The U.S. and Mr. Sullivan spoke. Then the E.U. agreed, e.g. on data. New sentence here."
    sentences = [text[s:e].strip() for s, e in sentence_spans(text)]
    assert sentences == [
        "The U.S. and Mr. Sullivan spoke.",
        "Then the E.U. agreed, e.g. on data.",
        "New sentence here.",
    ]


def test_invalid_sizes_and_passage_limit() -> None:
    with pytest.raises(CorpusError, match="passage sizes"):
        Segmenter(min_chars=900, target_chars=700)
    with pytest.raises(CorpusError, match="over the limit of 2 per document"):
        Segmenter(max_passages=2).split(doc("\n\n".join([PARAGRAPH] * 5)))


paragraph_text = st.lists(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400),
    max_size=12,
).map(lambda parts: normalise("\n\n".join(parts)))


@settings(max_examples=300, deadline=None)
@given(paragraph_text, st.integers(20, 300), st.integers(0, 400), st.integers(0, 600))
def test_passages_are_verbatim_and_cover_every_visible_character_once(
    text: str, min_chars: int, extra_target: int, extra_max: int
) -> None:
    segmenter = Segmenter(
        min_chars=min_chars,
        target_chars=min_chars + extra_target,
        max_chars=min_chars + extra_target + extra_max,
    )
    passages = segmenter.split(doc(text))
    covered = [0] * len(text)
    for p in passages:
        assert text[p.start : p.end] == p.text
        assert p.text.strip() == p.text or p.text.strip()
        for i in range(p.start, p.end):
            covered[i] += 1
    for i, ch in enumerate(text):
        if not ch.isspace():
            assert covered[i] == 1, (i, ch)
    assert all(a.end <= b.start for a, b in itertools.pairwise(passages))


def test_split_passages_on_several_cores_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    documents = [
        Document(id=f"{i}.txt", path=f"{i}.txt", text=(PARAGRAPH * (i % 7 + 1)).strip(), sha256="", title="d")
        for i in range(40)
    ]
    serial = split_passages(documents, n_jobs=1)
    monkeypatch.setattr(passages, "_MIN_CHARS_PER_JOB", 1)
    assert split_passages(documents, n_jobs=3) == serial
    first_long = next(d for d in documents if len(Segmenter().split(d)) > 1)
    with pytest.raises(CorpusError, match=rf"^{first_long.path}: .* over the limit of 1 "):
        split_passages(documents, Segmenter(max_passages=1), n_jobs=3)  # the first one, as on one core


def test_long_runs_without_sentence_breaks_stay_linear() -> None:
    # Found by fuzzing: full stops followed by lower-case words on new lines made the search quadratic.
    text = "Start. " + "rules.\n" * 8000
    passages = Segmenter().split(doc(text))
    assert "".join(p.text for p in passages).replace("\n", "") == text.replace("\n", "").rstrip()


def test_a_passage_of_a_document_refers_to_its_text_and_behaves_like_one_that_holds_it() -> None:
    import pickle

    text = "First paragraph of the text.\n\nSecond paragraph, a little longer than the first one."
    inside = Passage.within("d.txt", 2, 30, len(text), text)
    alone = Passage("d.txt", 2, 30, len(text), text[30:])
    assert inside.text == text[30:] and inside == alone and hash(inside) == hash(alone)
    assert inside != Passage("d.txt", 2, 30, len(text), "another text")
    assert repr(inside) == repr(alone)
    with pytest.raises(AttributeError, match="immutable"):
        inside.start = 0  # type: ignore[misc]
    many = [Passage.within("d.txt", i, 0, 5, text) for i in range(1, 200)]
    restored = pickle.loads(pickle.dumps(many))
    assert restored == many
    assert len(pickle.dumps(many)) < 2 * len(pickle.dumps(many[0])) + 200 * 40  # the text once, not 199 times
