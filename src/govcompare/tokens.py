"""The one tokenizer used for passages, principle queries and keyness.

Latin-script words are lowercased, hyphens and apostrophes inside a word are dropped (so
"multi-stakeholder" and "multistakeholder" are one term), English stop words are removed and plurals are
folded ("rights" -> "right"). Runs of CJK characters become character bigrams, the usual unit for Chinese
retrieval without a word segmenter. Bigrams of adjacent kept words are added, so that "free flow" and
"cyber sovereignty" count as terms of their own.

``analyze`` gives the terms of one text (the analyzer handed to scikit-learn); ``count_terms`` counts the
terms of many texts at once, exactly as ``CountVectorizer(analyzer=analyze)`` would, but without a Python
call per term: a batch of texts is cut into pieces in C (``_fast_pieces``: byte translation and
``str.split``, or for text with CJK one regular-expression scan), the pieces are numbered in C
(``pandas.factorize``) and only the distinct pieces are looked at in Python; the bigrams and counts are
built with array operations. ``count_terms_and_words`` also gives, from the same scan, the words of each
text for near-duplicate shingles (``WordStream``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from govcompare.hashing import text_keys
from govcompare.parallel import fork_map, split_evenly

__all__ = [
    "BIGRAM_BASE",
    "TermCounts",
    "WordStream",
    "analyze",
    "count_terms",
    "count_terms_and_words",
    "word_stream",
    "words",
]

_TOKEN = re.compile(r"[a-z0-9]+(?:['’\-][a-z0-9]+)*|[\u3400-\u9fff\uf900-\ufaff]+")
_JOINERS = re.compile(r"['’\-]")
# scikit-learn's ENGLISH_STOP_WORDS, word for word (a test checks they agree): importing scikit-learn
# to get them would cost every command about a second.
_ENGLISH_STOP_WORDS = """
    a about above across after afterwards again against all almost alone along already also although
    always am among amongst amoungst amount an and another any anyhow anyone anything anyway anywhere
    are around as at back be became because become becomes becoming been before beforehand behind being
    below beside besides between beyond bill both bottom but by call can cannot cant co con could
    couldnt cry de describe detail do done down due during each eg eight either eleven else elsewhere
    empty enough etc even ever every everyone everything everywhere except few fifteen fifty fill find
    fire first five for former formerly forty found four from front full further get give go had has
    hasnt have he hence her here hereafter hereby herein hereupon hers herself him himself his how
    however hundred i ie if in inc indeed interest into is it its itself keep last latter latterly least
    less ltd made many may me meanwhile might mill mine more moreover most mostly move much must my
    myself name namely neither never nevertheless next nine no nobody none noone nor not nothing now
    nowhere of off often on once one only onto or other others otherwise our ours ourselves out over own
    part per perhaps please put rather re same see seem seemed seeming seems serious several she should
    show side since sincere six sixty so some somehow someone something sometime sometimes somewhere
    still such system take ten than that the their them themselves then thence there thereafter thereby
    therefore therein thereupon these they thick thin third this those though three through throughout
    thru thus to together too top toward towards twelve twenty two un under until up upon us very via
    was we well were what whatever when whence whenever where whereafter whereas whereby wherein
    whereupon wherever whether which while whither who whoever whole whom whose why will with within
    without would yet you your yours yourself yourselves
""".split()
_STOP = frozenset(_ENGLISH_STOP_WORDS) | {"s", "t", "ll", "ve", "re", "d", "m"}
_NO_PLURAL = ("ss", "us", "is", "ics", "news", "ous")
# Bigrams do not cross clause punctuation.
_CLAUSE_SET = frozenset('.;:!?,()[]"“”\n。，；：！？、（）')
_CLAUSE_CHARS = "".join(re.escape(char) for char in sorted(_CLAUSE_SET))
# One scan of lowercased text finds both: a run of clause punctuation, or a token. No character can start
# both, so the tokens are those ``_TOKEN`` finds clause by clause.
_PIECE = re.compile(f"[{_CLAUSE_CHARS}]+|{_TOKEN.pattern}")
_CJK_START = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CACHE_LIMIT = 1_000_000  # distinct pieces remembered; the cache is cleared when it grows past this


@lru_cache(maxsize=200_000)
def _fold(word: str) -> str:
    if word.endswith("’s") or word.endswith("'s"):
        word = word[:-2]
    word = _JOINERS.sub("", word)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(_NO_PLURAL):
        return word[:-1]
    return word


def _content(token: str) -> tuple[str, ...]:
    """The content words of one token: folded, or none for a stop word; CJK runs as character bigrams."""
    if _CJK_START.match(token):
        return tuple(token[i : i + 2] for i in range(max(1, len(token) - 1)))
    folded = _fold(token)
    if folded not in _STOP and token not in _STOP and len(folded) > 1 and not folded.isdigit():
        return (folded,)
    return ()


# piece -> its content words, or None for clause punctuation
_PIECES: dict[str, tuple[str, ...] | None] = {}


def _entry(piece: str) -> tuple[str, ...] | None:
    if len(_PIECES) >= _CACHE_LIMIT:
        _PIECES.clear()
    if piece[0] in _CLAUSE_SET or piece[0] == _BREAK_PIECE:
        entry = None
    elif _TOKEN.fullmatch(piece):
        entry = _content(piece)
    else:  # a piece of the fast scan holding joiners out of place ("x--y", "-the"): its tokens'
        entry = tuple(chain.from_iterable(_content(token) for token in _TOKEN.findall(piece)))
    _PIECES[piece] = entry
    return entry


# --- cutting text into pieces fast ------------------------------------------------------------------
#
# The regular expression ``_PIECE`` costs about 150 ns a piece. Without CJK the same pieces come from C:
# each run of characters that are not ASCII is replaced (once per distinct run) by what it stands for
# once lowercased (an apostrophe, clause punctuation, an ASCII letter as for the Kelvin sign, else
# spaces), one byte table lowercases
# ASCII, marks clause punctuation and blanks everything else, and ``str.split`` cuts the rest. A piece
# may then hold joiners out of place ("x--y"); ``_entry`` expands it to the tokens the expression finds
# in it. Clause punctuation comes as one piece per character instead of one per run: the same breaks.

_BREAK_PIECE = "\x01"
# Characters that are not ASCII and still count once lowercased: those whose lowercase holds ASCII
# (dotted capital I, Kelvin sign), the apostrophe and clause punctuation (a test checks the list).
_SPECIAL = "\u0130\u212a’" + "".join(sorted(c for c in _CLAUSE_SET if not c.isascii()))
_NOT_ASCII = re.compile(r"[^\x00-\x7f]+")
_BREAK_RUN = re.compile(rb"\x01[\x01 ]*")


def _byte_table() -> bytes:
    table = bytearray(b" " * 256)
    for code in range(128):
        char = chr(code)
        if char.isalnum() or char in "'-":
            table[code] = ord(char.lower())
        elif char in _CLAUSE_SET:
            table[code] = ord(_BREAK_PIECE)
    return bytes(table)


_BYTE_TABLE = _byte_table()


class _HasCJK(Exception):
    pass


@lru_cache(maxsize=65_536)
def _ascii_for(run: str) -> str:
    """What a run of characters that are not ASCII becomes for the byte table (``_HasCJK`` for CJK)."""
    out = []
    for lower in run.lower():
        if lower.isascii():
            out.append(lower)
        elif lower == "’":
            out.append("'")
        elif lower in _CLAUSE_SET:
            out.append(",")
        elif _CJK_START.match(lower):
            raise _HasCJK
        else:
            out.append(" ")
    return "".join(out)


def _ascii_match(match: re.Match[str]) -> str:
    return _ascii_for(match.group())


def _fast_pieces(text: str) -> list[str] | None:
    """The pieces of ``text`` as the fast scan cuts them, or ``None`` if it holds CJK."""
    try:
        plain = text if text.isascii() else _NOT_ASCII.sub(_ascii_match, text)
    except _HasCJK:
        return None
    cut = plain.encode("ascii").translate(_BYTE_TABLE)
    if cut.count(b"\x01\x01") * 256 > len(cut):  # dot leaders: one break a run, not a piece a dot
        return _BREAK_RUN.sub(b" \x01 ", cut).decode("ascii").split()
    return cut.replace(b"\x01", b" \x01 ").decode("ascii").split()


def _pieces(text: str) -> list[str]:
    """The pieces of ``text``: tokens (some with joiners out of place) and clause punctuation."""
    found = _fast_pieces(text)
    return _PIECE.findall(text.lower()) if found is None else found


def words(text: str) -> list[str]:
    """Content words of ``text`` in order: folded, stop words removed, CJK as character bigrams."""
    out: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        entry = _PIECES[token] if token in _PIECES else _entry(token)
        if entry:
            out.extend(entry)
    return out


def analyze(text: str) -> list[str]:
    """Unigrams, and bigrams within a clause, of the content words: the analyzer given to scikit-learn."""
    unigrams: list[str] = []
    bigrams: list[str] = []
    previous = ""
    pieces = _PIECES
    for piece in _PIECE.findall(text.lower()):
        entry = pieces[piece] if piece in pieces else _entry(piece)
        if entry is None:
            previous = ""
            continue
        for word in entry:
            if previous:
                bigrams.append(f"{previous} {word}")
            unigrams.append(word)
            previous = word
    unigrams.extend(bigrams)
    return unigrams


# --- counting many texts at once -------------------------------------------------------------------

_BREAK = -1  # clause punctuation: no bigram across it
BIGRAM_BASE = (
    np.int64(1) << 31
)  # a bigram's code: (first + 1) * BIGRAM_BASE + second; a unigram's: its word id


@dataclass(frozen=True)
class TermCounts:
    """Term counts of many texts, as ``CountVectorizer(analyzer=analyze)`` computes them.

    Terms are numbered in order of first appearance (text by text, each in the order ``analyze`` gives
    them); ``codes`` holds each term as word ids (a unigram's code is its word's id, a bigram's is
    ``(first + 1) * 2**31 + second``). Row ``i`` of the counts is ``indices``/``counts`` between
    ``indptr[i]`` and ``indptr[i + 1]``, term numbers increasing.
    """

    words: list[str]
    codes: np.ndarray[Any, np.dtype[np.int64]]
    indptr: np.ndarray[Any, np.dtype[np.int64]]
    indices: np.ndarray[Any, np.dtype[np.int32]]
    counts: np.ndarray[Any, np.dtype[np.integer[Any]]]

    @property
    def n_texts(self) -> int:
        return len(self.indptr) - 1

    def terms(self) -> list[str]:
        """The terms as text, in order of first appearance."""
        words = self.words
        first, second = np.divmod(self.codes, BIGRAM_BASE)
        return [
            words[b] if a == 0 else f"{words[a - 1]} {words[b]}"
            for a, b in zip(first.tolist(), second.tolist(), strict=True)
        ]


@dataclass(frozen=True)
class WordStream:
    """The words of some texts in order, stop words included, CJK per character, by 64-bit key."""

    keys: np.ndarray[Any, np.dtype[np.uint64]]
    lengths: np.ndarray[Any, np.dtype[np.int64]]  # words per text


_SHINGLE_WORDS: dict[str, tuple[int, ...]] = {}


def _shingle_words(pieces: Sequence[str]) -> list[tuple[int, ...]]:
    """The keys of each piece's words for shingles: a token is one word, a CJK run one per character."""
    known = _SHINGLE_WORDS
    missing = [p for p in pieces if p not in known]
    if missing:
        if len(known) + len(missing) >= _CACHE_LIMIT:
            known.clear()
        words = [_piece_words(p) for p in missing]
        keys = text_keys(chain.from_iterable(words)).tolist()
        at = 0
        for piece, found in zip(missing, words, strict=True):
            known[piece] = tuple(keys[at : at + len(found)])
            at += len(found)
    return [known[p] for p in pieces]


def _piece_words(piece: str) -> list[str]:
    """A piece's words for shingles, apostrophes as ``'``: a token is one, a CJK run one per character."""
    if _CJK_START.match(piece):
        return list(piece)
    if _TOKEN.fullmatch(piece):
        return [piece.replace("’", "'")]
    return [token.replace("’", "'") for token in _TOKEN.findall(piece)]


def _expand(
    labels: np.ndarray[Any, Any], lengths: np.ndarray[Any, Any], table: Sequence[tuple[int, ...]], dtype: Any
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, np.dtype[np.int64]]]:
    """Each piece (``labels`` into ``table``) replaced by its expansion; and the values per text.

    ``lengths`` are the pieces per text; the result holds the expansions in order, and how many values
    each text got.
    """
    sizes = np.fromiter(map(len, table), dtype=np.int64, count=len(table))
    values = np.fromiter(chain.from_iterable(table), dtype=dtype, count=int(sizes.sum()))
    starts = np.cumsum(sizes) - sizes
    n = sizes[labels]
    out_starts = np.cumsum(n) - n
    at = np.repeat(starts[labels] - out_starts, n) + np.arange(int(n.sum()), dtype=np.int64)
    text = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    per_text = np.bincount(text, weights=n, minlength=len(lengths)).astype(np.int64)
    return values[at], per_text


# Texts of a batch are scanned as one string, joined by a token no text holds (checked): one regex call
# instead of one per text. Each mark ends the text before it and expands to nothing.
_MARK = "zq0govcompare0text0end0qz"
_JOIN = f" {_MARK} "


def _scan(
    texts: Sequence[str],
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any], int | None]:
    """The pieces of ``texts`` numbered (labels into the distinct pieces), pieces per text, and the
    number of the joining mark among the distinct pieces (``None`` if the texts were scanned apart)."""
    if len(texts) > 1:
        pieces = _pieces(_JOIN.join(texts))
        flat = np.empty(len(pieces), dtype=object)
        flat[:] = pieces
        del pieces
        labels, uniques = pd.factorize(flat)
        del flat
        marks = np.flatnonzero(uniques == _MARK)
        if len(marks):
            mark = int(marks[0])
            ends = np.flatnonzero(labels == mark) + 1
            if len(ends) == len(texts) - 1:  # no text holds the mark itself
                lengths = np.diff(np.concatenate([[0], ends, [len(labels)]]))
                return labels, uniques, lengths, mark
    found = [_pieces(text) for text in texts]
    lengths = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
    flat = np.empty(int(lengths.sum()), dtype=object)
    flat[:] = list(chain.from_iterable(found))
    del found
    labels, uniques = pd.factorize(flat)
    return labels, uniques, lengths, None


def word_stream(texts: Sequence[str], batch: int = 20_000) -> WordStream:
    """The words of ``texts`` for near-duplicate shingles (see :class:`WordStream`)."""
    counter = _Counter(keep_words=True, count_terms=False)
    for start in range(0, len(texts), batch):
        counter.add(texts[start : start + batch])
    return counter.word_stream()


class _Counter:
    """Accumulates word ids, term codes and per-text counts over batches of texts.

    A batch costs one scan (:func:`_pieces`); the pieces it finds are numbered with
    ``pandas.factorize`` (hashing in C), and only the distinct pieces are looked at in Python. Each
    distinct piece expands to its term words (none for a stop word, a break for clause punctuation,
    character bigrams for a CJK run) and, when ``keep_words`` is set, to the stateless keys of its
    words for near-duplicate shingles (stop words included, CJK per character).
    """

    def __init__(self, keep_words: bool = False, count_terms: bool = True) -> None:
        self.words: list[str] = []
        self.word_ids: dict[str, int] = {}
        self.expansions: dict[str, tuple[int, ...]] = {}  # piece -> word ids, (_BREAK,) or ()
        self.terms = np.zeros(0, dtype=np.int64)  # term codes in order of first appearance
        self.indptr: list[np.ndarray[Any, Any]] = [np.zeros(1, dtype=np.int64)]
        self.indices: list[np.ndarray[Any, Any]] = []
        self.counts: list[np.ndarray[Any, Any]] = []
        self.nnz = 0
        self.keep_words = keep_words
        self.count_terms = count_terms
        self.word_keys: list[np.ndarray[Any, Any]] = []
        self.word_lengths: list[np.ndarray[Any, Any]] = []

    def _word(self, word: str) -> int:
        found = self.word_ids.get(word)
        if found is None:
            found = self.word_ids[word] = len(self.words)
            self.words.append(word)
        return found

    def _expansion(self, piece: str) -> tuple[int, ...]:
        entry = _PIECES[piece] if piece in _PIECES else _entry(piece)
        found = (_BREAK,) if entry is None else tuple(self._word(w) for w in entry)
        self.expansions[piece] = found
        return found

    def add(self, texts: Sequence[str]) -> None:
        """Count the terms of ``texts`` (one batch; rows follow the texts already added)."""
        labels, uniques, lengths, mark = _scan(texts)
        if self.count_terms:
            expansions = self.expansions
            table = [expansions[p] if p in expansions else self._expansion(p) for p in uniques]
            if mark is not None:
                table[mark] = ()
            self._add_codes(*_expand(labels, lengths, table, np.int64))
        if self.keep_words:
            words = _shingle_words(list(uniques))
            if mark is not None:
                words[mark] = ()
            keys, word_lengths = _expand(labels, lengths, words, np.uint64)
            self.word_keys.append(keys)
            self.word_lengths.append(word_lengths)

    def word_stream(self) -> WordStream:
        """The words of every text added, in order, by key (for :func:`govcompare.corpus.shingle_sets`)."""
        return WordStream(
            np.concatenate(self.word_keys) if self.word_keys else np.zeros(0, dtype=np.uint64),
            np.concatenate(self.word_lengths) if self.word_lengths else np.zeros(0, dtype=np.int64),
        )

    def _add_codes(self, seq: np.ndarray[Any, Any], lengths: np.ndarray[Any, Any]) -> None:
        n = len(lengths)
        doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
        word = seq >= 0
        unigrams, uni_doc = seq[word], doc[word]
        pair = word[:-1] & word[1:] & (doc[:-1] == doc[1:])
        bigrams = (seq[:-1][pair] + 1) * BIGRAM_BASE + seq[1:][pair]
        bi_doc = doc[:-1][pair]
        # Each text's terms in the order analyze() gives them: its unigrams, then its bigrams.
        n_uni = np.bincount(uni_doc, minlength=n)
        n_bi = np.bincount(bi_doc, minlength=n)
        per_doc = n_uni + n_bi
        start = np.cumsum(per_doc) - per_doc
        stream = np.empty(len(unigrams) + len(bigrams), dtype=np.int64)
        uni_start = np.cumsum(n_uni) - n_uni
        bi_start = np.cumsum(n_bi) - n_bi
        stream[np.repeat(start - uni_start, n_uni) + np.arange(len(unigrams))] = unigrams
        stream[np.repeat(start + n_uni - bi_start, n_bi) + np.arange(len(bigrams))] = bigrams
        # Term ids by first appearance over everything counted so far: the known terms lead, in order.
        known = len(self.terms)
        labels, uniques = pd.factorize(np.concatenate([self.terms, stream]))
        self.terms = np.asarray(uniques, dtype=np.int64)
        term_ids = labels[known:]
        # Each text's terms as a row with repeats; SciPy sorts each row (short sorts, not one long one)
        # and sums the repeats into counts.
        rows = sp.csr_matrix(
            (np.ones(len(term_ids), dtype=np.int32), term_ids.astype(np.int32), np.r_[0, np.cumsum(per_doc)]),
            shape=(n, len(self.terms)),
        )
        rows.sum_duplicates()
        self.indptr.append(self.nnz + rows.indptr[1:].astype(np.int64))
        self.indices.append(rows.indices.astype(np.int32, copy=False))
        self.counts.append(rows.data)
        self.nnz += rows.nnz

    def result(self) -> TermCounts:
        counts = np.concatenate(self.counts) if self.counts else np.zeros(0, dtype=np.int32)
        if counts.size and counts.max() <= np.iinfo(np.uint16).max:
            counts = counts.astype(np.uint16)  # half the memory (and the bytes a worker sends back)
        return TermCounts(
            self.words,
            self.terms,
            np.concatenate(self.indptr),
            np.concatenate(self.indices) if self.indices else np.zeros(0, dtype=np.int32),
            counts,
        )


def _count(texts: Sequence[str], batch: int) -> TermCounts:
    return _counted(texts, batch, keep_words=False).result()


def _counted(texts: Sequence[str], batch: int, keep_words: bool) -> _Counter:
    counter = _Counter(keep_words=keep_words)
    for start in range(0, len(texts), batch):
        counter.add(texts[start : start + batch])
    return counter


def count_terms_and_words(texts: Sequence[str], *, batch: int = 20_000) -> tuple[TermCounts, WordStream]:
    """:func:`count_terms` on one core, and the :func:`word_stream` of the same texts from the same scan."""
    counter = _counted(texts, batch, keep_words=True)
    return counter.result(), counter.word_stream()


def _merge(parts: Sequence[TermCounts]) -> TermCounts:
    """Counts of consecutive runs of texts -> the counts of all of them, numbered as one run would be."""
    first = parts[0]
    words = list(first.words)
    word_ids = {w: i for i, w in enumerate(words)}
    codes = first.codes
    indptr, indices, counts = [first.indptr], [first.indices], [first.counts]
    offset = int(first.indptr[-1])
    for part in parts[1:]:
        for word in part.words:
            if word not in word_ids:
                word_ids[word] = len(words)
                words.append(word)
        word_map = np.array([word_ids[w] for w in part.words], dtype=np.int64)
        high, low = np.divmod(part.codes, BIGRAM_BASE)
        mapped = word_map[low] + np.where(high > 0, (word_map[high - 1] + 1) * BIGRAM_BASE, 0)
        # Terms new in this part follow the known ones, in the order they first appear in it.
        known = len(codes)
        labels, uniques = pd.factorize(np.concatenate([codes, mapped]))
        codes = np.asarray(uniques, dtype=np.int64)
        renumbered = sp.csr_matrix(
            (part.counts, labels[known:].astype(np.int32)[part.indices], part.indptr),
            shape=(part.n_texts, len(codes)),
        )
        renumbered.sort_indices()
        indptr.append(offset + renumbered.indptr[1:].astype(np.int64))
        indices.append(renumbered.indices.astype(np.int32))
        counts.append(renumbered.data)
        offset += int(renumbered.indptr[-1])
    return TermCounts(words, codes, np.concatenate(indptr), np.concatenate(indices), np.concatenate(counts))


def count_terms(
    texts: Sequence[str], *, n_jobs: int = 1, batch: int = 20_000, min_chars_per_job: int = 2_000_000
) -> TermCounts:
    """Count the terms of ``texts``: the same terms, counts and order as ``CountVectorizer(analyze)``.

    With ``n_jobs`` > 1 (and at least ``min_chars_per_job`` characters for each job), consecutive runs
    of texts are counted on several cores (:func:`~govcompare.parallel.fork_map`) and merged in
    order, so the result does not depend on how the work was split.
    """
    sizes = [len(t) for t in texts]
    jobs = max(1, min(n_jobs, sum(sizes) // max(1, min_chars_per_job)))
    if jobs == 1:
        return _count(texts, batch)
    parts = fork_map(lambda start, stop: _count(texts[start:stop], batch), split_evenly(sizes, jobs))
    return _merge(parts)
