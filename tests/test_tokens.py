from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from govcompare.tokens import _ENGLISH_STOP_WORDS, analyze, count_terms, word_stream, words

TEXTS = [
    "We uphold cyber sovereignty; the multi-stakeholder model isn't the U.S. one.",
    "Rights-holders' rights: free flow of data (across borders), and the 1990s' policies.",
    "网络主权，尊重各国自主选择网络发展道路。人类命运共同体 and a Chinese-English mix 中国abc",
    "İstanbul KELVIN Kelvin café naïve — em dash – en dash … ‘quotes’ «guillemets»",
    "",
    "the of and 123 4 a",
    "Cyber sovereignty. Cyber sovereignty! CYBER SOVEREIGNTY? cyber-sovereignty",
    "中",
    "x--y ’s 's don't o'clock news bus analysis ethics countries policies",
]


def test_analyze_folds_and_keeps_bigrams_within_a_clause() -> None:
    assert analyze("Multi-stakeholder governance; rights of peoples.") == [
        "multistakeholder",
        "governance",
        "right",
        "people",
        "multistakeholder governance",
        "right people",
    ]
    assert words("The countries' news, the bus and analysis") == ["country", "news", "bus", "analysis"]
    assert analyze("网络主权") == ["网络", "络主", "主权", "网络 络主", "络主 主权"]


def _sklearn(texts: list[str]) -> tuple[CountVectorizer, object]:
    vectorizer = CountVectorizer(analyzer=analyze, dtype=np.float32)
    return vectorizer, vectorizer.fit_transform(texts)


@pytest.mark.parametrize(
    ("n_jobs", "batch"),
    [(1, 20_000), (1, 2), (2, 3), (3, 1)],
)
def test_count_terms_is_what_count_vectorizer_gives(n_jobs: int, batch: int) -> None:
    texts = TEXTS * 3
    vectorizer, matrix = _sklearn(texts)
    counted = count_terms(texts, n_jobs=n_jobs, batch=batch, min_chars_per_job=1)
    terms = counted.terms()
    position = np.array([vectorizer.vocabulary_[term] for term in terms])
    # Same vocabulary (in order of first appearance), same rows, same entry order within each row.
    assert list(vectorizer.vocabulary_) == terms
    assert np.array_equal(counted.indptr, matrix.indptr)
    assert np.array_equal(position[counted.indices], matrix.indices)
    assert np.array_equal(counted.counts.astype(np.float32), matrix.data)


def test_stop_words_are_scikit_learns() -> None:
    assert frozenset(_ENGLISH_STOP_WORDS) == ENGLISH_STOP_WORDS


def test_count_terms_of_texts_without_terms() -> None:
    counted = count_terms(["", "the of 1 2", "and"])
    assert counted.terms() == []
    assert counted.n_texts == 3
    assert counted.indptr.tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("marked", [False, True])
def test_texts_scanned_joined_or_apart_count_as_scikit_learn_does(marked: bool) -> None:
    """A batch is scanned as one string joined by a mark; a text holding the mark is scanned apart."""
    from govcompare.tokens import _MARK

    texts = [*TEXTS, f"odd {_MARK.upper()} text" if marked else "plain text", "", "free flow"]
    vectorizer, matrix = _sklearn(texts)
    counted = count_terms(texts)
    position = np.array([vectorizer.vocabulary_[term] for term in counted.terms()])
    assert list(vectorizer.vocabulary_) == counted.terms()
    assert np.array_equal(counted.indptr, matrix.indptr)
    assert np.array_equal(position[counted.indices], matrix.indices)
    assert (_MARK in counted.terms()) is marked


_PIECES_OF_TEXT = st.sampled_from(
    ["cyber", "Sovereignty", "multi-stakeholder", "free", "flow", "the", "of", "U.S.", "rights'", "’s",
     "网络主权", "共同体", " ", "  ", "\n", "\n\n", ".", ",", "-", "'", "2023", "a", "zq0govcompare0text0end0qz"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_PIECES_OF_TEXT, max_size=30).map("".join), min_size=1, max_size=8))
def test_count_terms_of_any_texts_is_what_count_vectorizer_gives(texts: list[str]) -> None:
    """However a batch is scanned (joined by the mark, or text by text), the counts are scikit-learn's."""
    _assert_counts_are_scikit_learns(texts)


def _assert_counts_are_scikit_learns(texts: list[str]) -> None:
    counted = count_terms(texts)
    if not counted.terms():
        return  # scikit-learn refuses an empty vocabulary
    vectorizer, matrix = _sklearn(texts)
    position = np.array([vectorizer.vocabulary_[term] for term in counted.terms()])
    assert list(vectorizer.vocabulary_) == counted.terms()
    assert np.array_equal(counted.indptr, matrix.indptr)
    assert np.array_equal(position[counted.indices], matrix.indices)
    assert np.array_equal(counted.counts.astype(np.float32), matrix.data)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_PIECES_OF_TEXT, max_size=30).map("".join), min_size=2, max_size=8))
def test_shingle_words_do_not_depend_on_scanning_texts_together(texts: list[str]) -> None:
    together = word_stream(texts)
    apart = [word_stream([text]) for text in texts]
    assert together.lengths.tolist() == [len(a.keys) for a in apart]
    assert together.keys.tolist() == [k for a in apart for k in a.keys.tolist()]


_TRICKY = st.sampled_from(
    ["Cyber", "sovereignty", "multi-stakeholder", "x--y", "-the", "rights'", "'", "-", "’s", "don’t", "o'clock",
     "İ", "\u0130x", "\u212a", "K", "ΣΑΣ", "Москва", "...", ". .", "café", "naïve", "—", "–", "…", "“", "”", "«", "»", "\u00a0", "\x01", "\t", "/", "&",
     " ", "  ", "\n", ".", ",", ";", "(", ")", "[", "]", '"', "2023", "a", "the", "zq0govcompare0text0end0qz",
     "ZQ0GOVCOMPARE0TEXT0END0QZ", "。", "，", "网络"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_TRICKY, max_size=30).map("".join), min_size=1, max_size=8))
def test_fast_scan_finds_the_tokens_and_breaks_the_expression_finds(texts: list[str]) -> None:
    """The byte-table scan and the regular expression give the same terms, breaks and shingle words."""
    from govcompare import tokens

    for text in texts:
        fast = tokens._fast_pieces(text)
        if fast is None:  # CJK: the expression's turn
            assert tokens._CJK_START.search(text)
            continue
        slow = tokens._PIECE.findall(text.lower())

        def expanded(pieces: list[str]) -> list[object]:
            out: list[object] = []
            for piece in pieces:
                entry = tokens._entry(piece)
                if entry is None:
                    if not out or out[-1] is not None:
                        out.append(None)  # one break however many marks in a row
                else:
                    out.extend(entry)
            return out

        assert expanded(fast) == expanded(slow)
        assert [w for p in fast for w in tokens._piece_words(p)] == [
            w for p in slow for w in tokens._piece_words(p)
        ]
    _assert_counts_are_scikit_learns(texts)


def test_fast_scan_knows_every_character_that_counts_once_lowercased() -> None:
    """Runs of other characters are blanked unseen: no character outside the list may lowercase to
    ASCII, an apostrophe or clause punctuation."""
    import sys

    from govcompare import tokens

    special = set(tokens._SPECIAL)
    for code in range(0x80, sys.maxunicode + 1):
        char = chr(code)
        if tokens._CJK_START.match(char) or char in special:
            continue
        lower = char.lower()
        assert not any(c.isascii() or c == "’" or c in tokens._CLAUSE_SET for c in lower), hex(code)


def test_a_run_of_clause_punctuation_is_one_piece() -> None:
    from govcompare import tokens

    pieces = tokens._fast_pieces("Contents " + "." * 200 + " 12\nCyber sovereignty. . . end")
    assert pieces == ["contents", "\x01", "12", "\x01", "cyber", "sovereignty", "\x01", "end"]
