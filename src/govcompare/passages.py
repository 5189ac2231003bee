"""Documents -> passages: paragraph-based spans of the normalised text, with exact offsets.

A passage is one or more whole paragraphs, or part of a long paragraph cut at sentence boundaries.
Sizes: paragraphs under ``min_chars`` are merged with the next one (headings and one-line answers carry
little signal alone), paragraphs over ``max_chars`` are cut into runs of sentences of about
``target_chars``. The defaults (merge under 100, cut over 600 into about 300 characters: a paragraph of up
to four sentences stays whole, a longer one becomes runs of about two) keep a passage to one claim, which
is what a principle is compared with and what an analyst quotes. So few words are a noisy sample of a
position, so the mapping reads each passage with its neighbours (see ``EvidenceMap.labels``); with
passages of 700 characters, two claims of different dimensions often shared one passage.

Invariant: ``document.text[p.start:p.end] == p.text`` and the passages of a document cover every
non-blank character exactly once, in order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from govcompare.errors import CorpusError
from govcompare.models import Document, Passage
from govcompare.parallel import cores, fork_map, split_evenly

__all__ = ["Segmenter", "sentence_spans", "split_passages"]

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# A sentence ends at . ! ? (or their CJK forms), optionally followed by closing quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*\s+|[。！？；]+[”’」』)）]*\s*")
_MIN_CHARS_PER_JOB = 4_000_000  # below this a worker costs more than it saves
_LAST_WORD = re.compile(r"([\w.]+)[.!?]*$")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st no vs etc e.g i.e u.s u.k u.n e.u jan feb mar apr jun jul aug sep sept oct nov dec "
    "inc ltd co corp gov sen rep art sec fig p pp vol cf al approx".split()
)


_WORD_WINDOW = 64


def _last_space(text: str, start: int, stop: int) -> int:
    """Index after the last whitespace in ``text[start:stop]``, or ``start``."""
    for i in range(stop - 1, start - 1, -1):
        if text[i].isspace():
            return i + 1
    return start


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans in ``text[start:end]`` that tile it exactly (trailing spaces stay with a sentence)."""
    end = len(text) if end is None else end
    spans, begin = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        stop = match.end()
        if stop >= end:
            break
        if text.startswith(".", match.start()):
            # The word before the full stop. Abbreviations are short, so a bounded window finds the same
            # answer as the whole sentence without rescanning it (which made long runs quadratic).
            stop_at = match.start() + 1
            window = max(begin, stop_at - _WORD_WINDOW)
            word = _LAST_WORD.search(text, max(window, _last_space(text, window, stop_at)), stop_at)
            token = word.group(1).lower().rstrip(".") if word else ""
            if token in _ABBREVIATIONS or len(token) == 1:
                continue  # "U.S. policy", "Mr. Sullivan", "A. Introduction"
        nxt = text[stop : stop + 1]
        if nxt and nxt.islower():
            continue  # "e.g. the", "approx. two"
        spans.append((begin, stop))
        begin = stop
    if begin < end:
        spans.append((begin, end))
    return spans


@dataclass(frozen=True, slots=True)
class Segmenter:
    """Cuts documents into passages; see the module docstring for the sizes."""

    min_chars: int = 100
    target_chars: int = 300
    max_chars: int = 600
    max_passages: int = 50_000

    def __post_init__(self) -> None:
        if not 0 < self.min_chars <= self.target_chars <= self.max_chars:
            raise CorpusError(
                f"passage sizes must satisfy 0 < min ({self.min_chars}) <= target ({self.target_chars}) "
                f"<= max ({self.max_chars})"
            )

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Passage spans of one normalised text."""
        paragraphs = list(_paragraph_spans(text))
        merged: list[tuple[int, int]] = []
        for start, end in paragraphs:
            if merged and merged[-1][1] - merged[-1][0] < self.min_chars:
                merged[-1] = (merged[-1][0], end)  # a short paragraph joins the next one
            else:
                merged.append((start, end))
        if len(merged) > 1 and merged[-1][1] - merged[-1][0] < self.min_chars:
            last = merged.pop()
            merged[-1] = (merged[-1][0], last[1])  # a short tail joins the paragraph before it
        out: list[tuple[int, int]] = []
        for start, end in merged:
            if end - start <= self.max_chars:
                out.append((start, end))
            else:
                out.extend(self._cut(text, start, end))
        return out

    def _cut(self, text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
        pieces: list[tuple[int, int]] = []
        for s, e in sentence_spans(text, start, end):
            while e - s > self.max_chars:  # one overlong sentence: cut at a space near the limit
                cut = text.rfind(" ", s + self.target_chars // 2, s + self.max_chars)
                cut = cut + 1 if cut > s else s + self.max_chars
                pieces.append((s, cut))
                s = cut
            pieces.append((s, e))
        chunk_start, chunk_end = pieces[0]
        for s, e in pieces[1:]:
            if e - chunk_start > self.target_chars and chunk_end - chunk_start >= self.min_chars:
                yield _strip(text, chunk_start, chunk_end)
                chunk_start = s
            chunk_end = e
        yield _strip(text, chunk_start, chunk_end)

    def split(self, document: Document) -> list[Passage]:
        """The passages of one document, numbered from 1."""
        return self.passages(document, self.spans(document.text))

    def passages(
        self, document: Document, spans: Sequence[tuple[int, int]] | np.ndarray[Any, Any]
    ) -> list[Passage]:
        """The passages of ``document`` at ``spans`` (from :meth:`spans`, or as an n x 2 array), numbered
        from 1."""
        if len(spans) > self.max_passages:
            raise CorpusError(
                f"{document.path}: {len(spans):,} passages, over the limit of {self.max_passages:,} "
                "per document (--max-passages)"
            )
        text = document.text  # each passage refers to it: no copy of the text per passage
        pairs = spans.tolist() if isinstance(spans, np.ndarray) else spans
        return [Passage.within(document.id, i, s, e, text) for i, (s, e) in enumerate(pairs, start=1)]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _paragraph_spans(text: str) -> Iterator[tuple[int, int]]:
    pos = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        if match.start() > pos:
            yield _trimmed(text, pos, match.start())
        pos = match.end()
    if text[pos:].strip():
        yield _trimmed(text, pos, len(text))


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    return _strip(text, start, end)


def split_passages(
    documents: Iterable[Document], segmenter: Segmenter | None = None, *, n_jobs: int | None = None
) -> list[Passage]:
    """All passages of ``documents``, in document order.

    A large corpus is cut on ``n_jobs`` cores (``None``: all this process may use): workers find the
    spans of consecutive runs of documents, and the passages are made here, in order, so the result
    (and the first error) is the same as on one core.
    """
    segmenter = segmenter or Segmenter()
    documents = list(documents)
    sizes = [len(doc.text) for doc in documents]
    jobs = max(1, min(cores() if n_jobs is None else n_jobs, sum(sizes) // _MIN_CHARS_PER_JOB))
    if jobs == 1:
        return [p for doc in documents for p in segmenter.split(doc)]

    def spans(start: int, stop: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        found = [segmenter.spans(doc.text) for doc in documents[start:stop]]
        flat = np.array(
            [offset for doc_spans in found for span in doc_spans for offset in span], dtype=np.int64
        )
        return flat, np.array([len(doc_spans) for doc_spans in found], dtype=np.int64)

    out: list[Passage] = []
    documents_done = 0
    for flat, counts in fork_map(spans, split_evenly(sizes, jobs)):
        pairs = flat.reshape(-1, 2).tolist()
        first = 0
        for count in counts.tolist():
            doc_spans = [(s, e) for s, e in pairs[first : first + count]]
            out.extend(segmenter.passages(documents[documents_done], doc_spans))
            documents_done += 1
            first += count
    return out
