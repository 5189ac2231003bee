"""Terms named by 64-bit keys, and the TF-IDF space they span: the same for every engine.

    parts = [KeyedCounts.count(texts) for texts in batches]   # rows = texts, columns = sorted term keys
    counts = KeyedCounts.concat(parts)                         # keys merged: document frequencies summed
    space = FeatureSpace.of(counts)                            # the terms, their df and idf
    matrix = space.weigh(counts)                               # TF-IDF rows, L2-normalised

A term's key is a hash of its text, so it is stateless: counts made in different processes, on different
machines or in different runs line up without sharing a vocabulary, and document frequencies from
separate parts are summed key by key. Keys are 64 bits wide, so unlike a ``HashingVectorizer`` with
2**20 columns no two terms of a real corpus share one (for ten million terms the chance of any clash is
about 3e-6): the weights are exactly scikit-learn's ``TfidfVectorizer(analyzer=analyze,
sublinear_tf=True)``, with the columns in key order instead of alphabetical order (a test checks this).
The arithmetic is done here with NumPy rather than by scikit-learn itself, because importing
scikit-learn costs a command about a second before it has read a file.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from govcompare.hashing import mix64, sorted_unique, text_keys
from govcompare.tokens import BIGRAM_BASE, TermCounts, count_terms

__all__ = ["FeatureSpace", "KeyedCounts", "l2_normalize"]

_U64 = np.uint64
_BLOCK_ENTRIES = 1 << 22  # matrix entries weighed and normalised at a time
_BIGRAM_SALT = _U64(0xD6E8FEB86659FD93)


def _bigram_keys(first: np.ndarray[Any, Any], second: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return mix64(first ^ mix64(second ^ _BIGRAM_SALT))


@dataclass(frozen=True)
class KeyedCounts:
    """Term counts of some texts: rows are texts, columns the sorted keys of the terms they hold."""

    keys: np.ndarray[Any, np.dtype[np.uint64]]
    pairs: np.ndarray[Any, np.dtype[np.uint64]]
    words: dict[int, str]
    matrix: sp.csr_matrix  # integer counts, column indices sorted within each row

    @property
    def n_texts(self) -> int:
        return int(self.matrix.shape[0])

    @classmethod
    def of(cls, counted: TermCounts) -> KeyedCounts:
        """Name the terms of ``counted`` by key and put its columns in key order."""
        word_keys = text_keys(counted.words, len(counted.words))
        first, second = np.divmod(counted.codes, BIGRAM_BASE)
        right = word_keys[second] if len(word_keys) else np.zeros(0, dtype=_U64)
        left = np.where(first > 0, word_keys[np.maximum(first - 1, 0)] if len(word_keys) else 0, 0)
        left = left.astype(_U64)
        keys = np.where(first > 0, _bigram_keys(left, right), right)
        order = np.argsort(keys, kind="stable")
        rank = np.empty(len(order), dtype=np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        matrix = sp.csr_matrix(
            (counted.counts, rank[counted.indices], counted.indptr), shape=(counted.n_texts, len(keys))
        )
        matrix.sort_indices()
        words = dict(zip(word_keys.tolist(), counted.words, strict=True))
        return cls(keys[order], np.column_stack([left[order], right[order]]), words, matrix)

    @classmethod
    def count(cls, texts: Sequence[str], n_jobs: int = 1) -> KeyedCounts:
        """Count the terms of ``texts`` (on ``n_jobs`` cores for a large batch)."""
        return cls.of(count_terms(texts, n_jobs=n_jobs))

    @classmethod
    def concat(cls, parts: Sequence[KeyedCounts]) -> KeyedCounts:
        """The counts of several parts, rows in order: their keys merged, document frequencies summed."""
        return cls.concat_taking(list(parts))

    @classmethod
    def concat_taking(cls, parts: list[KeyedCounts]) -> KeyedCounts:
        """:meth:`concat`, taking the parts out of ``parts`` (left empty) as each is copied, so that one
        the caller no longer holds is freed then: on a million passages the parts and the result
        together would be twice the counts' memory at once."""
        if len(parts) == 1:
            return parts.pop()
        if not parts:
            return cls(
                np.zeros(0, dtype=_U64),
                np.zeros((0, 2), dtype=_U64),
                {},
                sp.csr_matrix((0, 0), dtype=np.int32),
            )
        keys = sorted_unique(np.concatenate([part.keys for part in parts]))
        # Filled part by part: no list of remapped copies beside the result.
        pairs = np.empty((len(keys), 2), dtype=_U64)
        nnz = sum(part.matrix.nnz for part in parts)
        indices = np.empty(nnz, dtype=np.int32)
        data = np.empty(nnz, dtype=np.result_type(*[part.matrix.data.dtype for part in parts]))
        indptr = np.zeros(sum(part.n_texts for part in parts) + 1, dtype=np.int64)
        words: dict[int, str] = {}
        at = row = 0
        parts.reverse()
        while parts:
            part = parts.pop()
            words.update(part.words)
            columns = np.searchsorted(keys, part.keys).astype(np.int32)
            pairs[columns] = part.pairs  # a key's pair is the same in every part
            stop = at + part.matrix.nnz
            indices[at:stop] = columns[part.matrix.indices]
            data[at:stop] = part.matrix.data
            indptr[row + 1 : row + 1 + part.n_texts] = at + part.matrix.indptr[1:]
            at, row = stop, row + part.n_texts
            del part, columns
        matrix = sp.csr_matrix((data, indices, indptr), shape=(row, len(keys)))
        matrix.has_sorted_indices = True  # each part's rows are sorted, and the column map keeps key order
        return cls(keys, pairs, words, matrix)

    def rows(self, start: int, stop: int) -> KeyedCounts:
        """The counts of rows ``start`` to ``stop``, without the terms none of them holds."""
        matrix = self.matrix[start:stop]
        used = sorted_unique(matrix.indices)
        return self._columns(used, np.searchsorted(used, matrix.indices).astype(np.int32), matrix)

    def take(self, rows: np.ndarray[Any, Any], *, consume: bool = False) -> KeyedCounts:
        """The counts of ``rows`` (ascending), without the terms none of them holds: what :meth:`rows`
        gives for a range, for any rows at once (columns renumbered through a table, not a search).

        With ``consume``, the kept entries are moved to the front of this object's own arrays, a block
        at a time, and the result is built on them: no copy of the counts is made (on a million
        passages a copy is 0.75 GB beside the original), and this object must not be used afterwards.
        """
        rows = np.asarray(rows, dtype=np.intp)
        if not consume:
            matrix = self.matrix[rows]
            used = np.bincount(matrix.indices, minlength=len(self.keys)) > 0
            renumber = (np.cumsum(used) - 1).astype(np.int32)
            return self._columns(np.flatnonzero(used), renumber[matrix.indices], matrix)
        indptr, indices, data = self.matrix.indptr, self.matrix.indices, self.matrix.data
        lengths = np.diff(indptr)[rows]
        kept_indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(indptr.dtype)
        used = np.zeros(len(self.keys), dtype=bool)
        at = 0
        for start, stop in _joined_ranges(indptr[rows], indptr[rows + 1]):
            for lo in range(start, stop, _BLOCK_ENTRIES):  # forward, and never past what is read
                hi = min(stop, lo + _BLOCK_ENTRIES)
                data[at : at + hi - lo] = data[lo:hi]
                indices[at : at + hi - lo] = indices[lo:hi]
                used[indices[at : at + hi - lo]] = True
                at += hi - lo
        data, indices = data[:at], indices[:at]
        if not used.all():
            renumber = (np.cumsum(used) - 1).astype(indices.dtype)
            for lo in range(0, at, _BLOCK_ENTRIES):
                indices[lo : lo + _BLOCK_ENTRIES] = renumber[indices[lo : lo + _BLOCK_ENTRIES]]
        matrix = sp.csr_matrix((data, indices, kept_indptr), shape=(len(rows), len(self.keys)), copy=False)
        return self._columns(np.flatnonzero(used), matrix.indices, matrix)  # (SciPy may have copied them)

    def _columns(
        self, used: np.ndarray[Any, Any], indices: np.ndarray[Any, Any], matrix: sp.csr_matrix
    ) -> KeyedCounts:
        """The counts of ``matrix`` (rows of this one) in the columns ``used`` (ascending), their
        entries' new column numbers being ``indices``."""
        out = sp.csr_matrix((matrix.data, indices, matrix.indptr), shape=(matrix.shape[0], len(used)))
        out.has_sorted_indices = True
        pairs = self.pairs[used]
        words = {k: self.words[k] for k in set(pairs.ravel().tolist()) if k}
        return KeyedCounts(self.keys[used], pairs, words, out)

    def in_space(self, space: FeatureSpace) -> sp.csr_matrix:
        """The counts with the space's column numbers; terms the space lacks are dropped."""
        columns, known = space.columns(self.keys)
        matrix = self.matrix
        if not known.all():
            matrix = matrix[:, np.flatnonzero(known)]
            columns = columns[known]
        out = sp.csr_matrix(
            (matrix.data, columns[matrix.indices].astype(np.int32), matrix.indptr),
            shape=(matrix.shape[0], len(space.keys)),
        )
        out.has_sorted_indices = True  # the column map keeps key order
        return out


@dataclass(frozen=True)
class FeatureSpace:
    """The terms of a corpus (sorted keys), their document frequencies, and the TF-IDF they give."""

    keys: np.ndarray[Any, np.dtype[np.uint64]]
    df: np.ndarray[Any, np.dtype[np.int64]]
    pairs: np.ndarray[Any, np.dtype[np.uint64]]
    words: dict[int, str]
    n_texts: int

    @classmethod
    def of(cls, counts: KeyedCounts) -> FeatureSpace:
        """The space of the terms ``counts`` holds, with their document frequencies."""
        df = np.bincount(counts.matrix.indices, minlength=len(counts.keys)).astype(np.int64)
        return cls(counts.keys, df, counts.pairs, counts.words, counts.n_texts)

    @classmethod
    def merge(cls, parts: Sequence[FeatureSpace]) -> FeatureSpace:
        """The space of several parts' passages: keys merged, document frequencies summed.

        The same space as ``FeatureSpace.of(KeyedCounts.concat(counts))`` without the counts in one
        place: what the Dask engine's client does with the parts' summaries.
        """
        if len(parts) == 1:
            return parts[0]
        keys, first = np.unique(np.concatenate([part.keys for part in parts]), return_index=True)
        df = np.zeros(len(keys), dtype=np.int64)
        words: dict[int, str] = {}
        for part in parts:
            df[np.searchsorted(keys, part.keys)] += part.df
            words.update(part.words)
        pairs = np.concatenate([part.pairs for part in parts])[first]
        return cls(keys, df, pairs.reshape(-1, 2), words, sum(part.n_texts for part in parts))

    @property
    def idf(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Smoothed inverse document frequency, as scikit-learn's ``TfidfTransformer`` computes it."""
        return np.log((1 + self.n_texts) / (1 + self.df.astype(np.float64))) + 1.0

    def columns(
        self, keys: np.ndarray[Any, np.dtype[np.uint64]]
    ) -> tuple[np.ndarray[Any, np.dtype[np.intp]], np.ndarray[Any, np.dtype[np.bool_]]]:
        """Each key's column, and whether the space has it at all."""
        at = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        known = self.keys[at] == keys if len(self.keys) else np.zeros(len(keys), dtype=bool)
        return at, known

    def weigh(self, counts: sp.csr_matrix | KeyedCounts) -> sp.csr_matrix:
        """TF-IDF rows of term counts (already in this space's columns, or a part to place in them).

        ``1 + log(count)`` times the idf, in float32, then each row divided by its L2 norm: what
        ``TfidfVectorizer(sublinear_tf=True, dtype=np.float32)`` computes.
        """
        matrix = counts.in_space(self) if isinstance(counts, KeyedCounts) else counts
        idf = self.idf.astype(np.float32)
        data = np.empty(matrix.nnz, dtype=np.float32)
        for lo, hi in _blocks(matrix.indptr):  # a block at a time: small temporaries on a large corpus
            block = data[lo:hi]
            block[:] = matrix.data[lo:hi]
            np.log(block, out=block)
            block += np.float32(1.0)
            block *= idf.take(matrix.indices[lo:hi])  # float32, as scikit-learn multiplies
        out = l2_normalize(sp.csr_matrix((data, matrix.indices, matrix.indptr), shape=matrix.shape))
        out.has_sorted_indices = matrix.has_sorted_indices
        return out

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF rows of new texts (queries, or a passage being explained)."""
        return self.weigh(KeyedCounts.count(texts))

    def terms(self, columns: Sequence[int] | np.ndarray[Any, Any]) -> list[str]:
        """The terms of some columns, as text."""
        words = self.words
        out = []
        for left, right in self.pairs[np.asarray(columns, dtype=np.intp)].tolist():
            out.append(f"{words[left]} {words[right]}" if left else words[right])
        return out


def l2_normalize(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Each row divided by its L2 norm (rows of zeros stay zero), in float32.

    Done in blocks of whole rows, so the float64 squares and the per-entry norms are never as long as
    the whole matrix; each row's sum runs over its entries in order, as in one piece.
    """
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    indptr = matrix.indptr
    data = np.empty(matrix.nnz, dtype=np.float32)
    for lo, hi in _blocks(indptr):
        first, last = np.searchsorted(indptr, [lo, hi], side="left")
        lengths = np.diff(indptr[first : last + 1])
        rows = np.repeat(np.arange(len(lengths)), lengths)
        squares = np.square(matrix.data[lo:hi], dtype=np.float64)
        norms = np.sqrt(np.bincount(rows, weights=squares, minlength=len(lengths)))
        norms[norms == 0] = 1.0
        np.divide(matrix.data[lo:hi], norms.take(rows).astype(np.float32), out=data[lo:hi])
    return sp.csr_matrix((data, matrix.indices, matrix.indptr), shape=matrix.shape)


def _joined_ranges(starts: np.ndarray[Any, Any], stops: np.ndarray[Any, Any]) -> list[tuple[int, int]]:
    """Entry ranges ``(start, stop)`` with adjacent ones joined: the entries of ascending rows."""
    if not len(starts):
        return []
    breaks = np.flatnonzero(starts[1:] != stops[:-1]) + 1
    firsts, lasts = np.r_[0, breaks], np.r_[breaks, len(starts)] - 1
    return list(zip(starts[firsts].tolist(), stops[lasts].tolist(), strict=True))


def _blocks(indptr: np.ndarray[Any, Any]) -> list[tuple[int, int]]:
    """Entry ranges ``(lo, hi)`` of about ``_BLOCK_ENTRIES`` entries that start and end at row boundaries."""
    nnz, size = int(indptr[-1]), _BLOCK_ENTRIES
    cuts = sorted({0, nnz} | {int(indptr[np.searchsorted(indptr, at)]) for at in range(size, nnz, size)})
    return list(itertools.pairwise(cuts))
