"""Principles x passages -> scored, explained evidence; passage attribution and document leaning.

    mapper = EvidenceMapper().fit(passages)      # TF-IDF over the corpus passages
    result = mapper.match(framework_set)         # EvidenceMap: scores of every principle on every passage
    result.evidence()                            # ranked, explained evidence per principle (DataFrame)
    result.passages()                            # each passage's label: a framework id or "neutral"
    result.documents()                           # each document's leaning with a bootstrap interval

How a principle becomes a query: three TF-IDF vectors, each L2-normalised, added with weights and
normalised again: the key terms (each term a unit vector, so a long phrase does not outweigh a short one),
the exemplar phrasings, and the title plus statement. Key terms weigh most because they are the
position's own vocabulary; exemplars add the phrasing texts of that side use; the statement is our
analytical prose and is mostly topical, so it weighs least. Opposite terms are a query of their own, whose
similarity is subtracted (scaled by ``opposite_penalty``): a passage in the other side's vocabulary should
not count as evidence for this side.

The default threshold is derived, not chosen: random queries with the same number of terms and the same
weights as the real ones, their terms drawn in proportion to document frequency, are scored against the
passages; the threshold is the ``null_quantile`` of those scores, i.e. a score that chance alone reaches in
only 1% of passages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from govcompare.errors import MappingError
from govcompare.features import FeatureSpace, KeyedCounts, l2_normalize
from govcompare.frameworks import FrameworkSet
from govcompare.models import Passage, Principle
from govcompare.parallel import cores, fork_map, split_evenly
from govcompare.tokens import words

__all__ = ["NEUTRAL", "EvidenceMap", "EvidenceMapper", "QueryWeights"]

NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class QueryWeights:
    """How much each part of a principle counts in its query."""

    key_terms: float = 0.45
    exemplars: float = 0.35
    statement: float = 0.20


class EvidenceMapper:
    """Map principles to passages by TF-IDF cosine similarity.

    Parameters
    ----------
    weights : how the parts of a principle are combined into its query.
    top_k : evidence passages kept per principle.
    min_score : evidence threshold; ``None`` derives it from a null distribution (see module docstring).
    margin : a passage takes a side only if its best framework score passes the threshold and beats
        the runner-up framework's by this fraction of the best score; otherwise it is ``neutral``.
    decision_context : how much the neighbours' scores count in that test: the scores tested are the
        passage's own best score per framework plus ``decision_context`` x the mean of those of up to
        ``context_window`` passages on either side in the same document, divided by
        ``1 + decision_context`` (0: the passage's own scores alone).
    context_weight, context_window : which side a passage that takes one is given: its own best score
        per framework plus ``context_weight`` x the mean of those of up to ``context_window`` passages
        on either side in the same document (see :meth:`EvidenceMap.labels`).
    opposite_penalty : weight of the similarity to a principle's opposite terms, subtracted.
    null_quantile : quantile of chance scores used as the derived threshold.
    n_bootstrap : resamples for document leaning intervals.
    random_state : seed for the null queries and the bootstrap.
    n_jobs : processes that tokenise the passages (``None``: every core this process may use). The
        result is the same for any value, so it is not one of the recorded parameters.

    Examples
    --------
    >>> from govcompare.models import Passage
    >>> mapper = EvidenceMapper().fit([Passage("a.txt", 1, 0, 17, "cyber sovereignty")])
    >>> sorted(mapper.space_.terms(range(3)))
    ['cyber', 'cyber sovereignty', 'sovereignty']
    """

    def __init__(
        self,
        *,
        weights: QueryWeights = QueryWeights(),
        top_k: int = 5,
        min_score: float | None = None,
        margin: float = 0.35,
        decision_context: float = 1.5,
        context_weight: float = 1.0,
        context_window: int = 3,
        opposite_penalty: float = 0.5,
        null_quantile: float = 0.99,
        n_bootstrap: int = 1000,
        random_state: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.weights = weights
        self.top_k = top_k
        self.min_score = min_score
        self.margin = margin
        self.decision_context = decision_context
        self.context_weight = context_weight
        self.context_window = context_window
        self.opposite_penalty = opposite_penalty
        self.null_quantile = null_quantile
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.n_jobs = n_jobs

    def get_params(self) -> dict[str, Any]:
        return {
            "weights": {
                "key_terms": self.weights.key_terms,
                "exemplars": self.weights.exemplars,
                "statement": self.weights.statement,
            },
            "top_k": self.top_k,
            "min_score": self.min_score,
            "margin": self.margin,
            "decision_context": self.decision_context,
            "context_weight": self.context_weight,
            "context_window": self.context_window,
            "opposite_penalty": self.opposite_penalty,
            "null_quantile": self.null_quantile,
            "n_bootstrap": self.n_bootstrap,
            "random_state": self.random_state,
        }

    def _check_params(self) -> None:
        checks = [
            (self.top_k >= 1, f"top_k must be at least 1, got {self.top_k}"),
            (
                self.min_score is None or 0.0 <= self.min_score <= 1.0,
                f"min_score must be between 0 and 1, got {self.min_score}",
            ),
            (0.0 <= self.margin < 1.0, f"margin must be in [0, 1), got {self.margin}"),
            (
                self.decision_context >= 0.0,
                f"decision_context must be at least 0, got {self.decision_context}",
            ),
            (self.context_weight >= 0.0, f"context_weight must be at least 0, got {self.context_weight}"),
            (self.context_window >= 0, f"context_window must be at least 0, got {self.context_window}"),
            (0.0 <= self.opposite_penalty <= 2.0, "opposite_penalty must be in [0, 2]"),
            (0.5 <= self.null_quantile < 1.0, "null_quantile must be in [0.5, 1)"),
            (self.n_bootstrap >= 100, "n_bootstrap must be at least 100"),
            (self.n_jobs is None or self.n_jobs >= 1, f"n_jobs must be at least 1, got {self.n_jobs}"),
            (
                min(self.weights.key_terms, self.weights.exemplars, self.weights.statement) >= 0
                and self.weights.key_terms + self.weights.exemplars + self.weights.statement > 0,
                "query weights must be non-negative and not all zero",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise MappingError(message)

    def fit(
        self, passages: Sequence[Passage], counts: Sequence[KeyedCounts] | DistributedCounts | None = None
    ) -> EvidenceMapper:
        """Learn the terms and document frequencies of the passages, and weigh them by TF-IDF.

        ``counts`` are the passages' term counts when another engine or the cache has them, in parts
        whose rows follow ``passages`` in order (or kept on Dask workers: :class:`DistributedCounts`);
        otherwise they are counted here, on ``n_jobs`` cores. The weights are scikit-learn's
        ``TfidfVectorizer(analyzer=analyze, sublinear_tf=True)``, in the columns of a
        :class:`~govcompare.features.FeatureSpace` (terms named by 64-bit keys), so they do not depend
        on how the passages were split into parts. ``space_`` is that space and ``rows_`` the TF-IDF
        rows (:class:`PassageRows`); here in this process, also ``counts_`` (raw counts) and
        ``matrix_`` (TF-IDF), both passages x terms.
        """
        self._check_params()
        if not passages:
            raise MappingError("the corpus has no passages to map: check the corpus path and its files")
        self.passages_ = list(passages)
        if counts is None:
            jobs = cores() if self.n_jobs is None else self.n_jobs
            counts = [KeyedCounts.count([p.text for p in self.passages_], n_jobs=jobs)]
        n_texts = sum(c.n_texts for c in counts) if isinstance(counts, Sequence) else counts.n_texts
        if n_texts != len(self.passages_):
            raise MappingError("the term counts given do not match the passages: one row per passage")
        if isinstance(counts, Sequence):
            merged = KeyedCounts.concat(counts)
            space = FeatureSpace.of(merged)
        else:
            space = counts.space()
        if not len(space.keys):
            raise MappingError(
                "the passages hold no terms (only stop words, numbers or punctuation): check the corpus"
            )
        self.space_ = space
        if isinstance(counts, Sequence):
            self.rows_: PassageRows = LocalRows(space.weigh(merged.matrix), merged.matrix)
        else:
            self.rows_ = counts.rows(space)
        return self

    @property
    def matrix_(self) -> sp.csr_matrix:
        """The TF-IDF rows (passages x terms), when they are in this process."""
        return self._local_rows().matrix

    @property
    def counts_(self) -> sp.csr_matrix:
        """The raw term counts (passages x terms), when they are in this process."""
        return self._local_rows().counts

    def _local_rows(self) -> LocalRows:
        self._check_fitted()
        if not isinstance(self.rows_, LocalRows):
            raise MappingError("the passages' rows are on the Dask workers, not in this process")
        return self.rows_

    def _check_fitted(self) -> None:
        if not hasattr(self, "space_"):
            raise MappingError("this EvidenceMapper is not fitted yet: call fit(passages) first")

    def _components(self, groups: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """One L2-normalised row per group: the sum of its pieces' own TF-IDF vectors.

        All pieces go through the vectorizer in one call (its rows do not depend on each other). Each
        sum adds the group's rows in order in float32, as ``rows.sum(axis=0)`` does, without building a
        dense row as wide as the vocabulary.
        """
        pieces = [piece for group in groups for piece in group]
        rows = self.space_.transform(pieces) if pieces else sp.csr_matrix((0, 0), dtype=np.float32)
        data: list[np.ndarray[Any, Any]] = []
        indices: list[np.ndarray[Any, Any]] = []
        lengths: list[int] = []
        first = 0
        for group in groups:
            lo, hi = rows.indptr[first], rows.indptr[first + len(group)]
            columns, where = np.unique(rows.indices[lo:hi], return_inverse=True)
            total = np.zeros(len(columns), dtype=np.float32)
            np.add.at(total, where, rows.data[lo:hi])
            kept = total != 0
            data.append(total[kept])
            indices.append(columns[kept])
            lengths.append(int(kept.sum()))
            first += len(group)
        summed = sp.csr_matrix(
            (np.concatenate(data), np.concatenate(indices), np.concatenate([[0], np.cumsum(lengths)])),
            shape=(len(groups), len(self.space_.keys)),
            dtype=np.float32,
        )
        return l2_normalize(summed)

    def queries(self, principles: Sequence[Principle]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The query vectors of ``principles`` and of their opposite terms, one row each."""
        self._check_fitted()
        w = self.weights
        key_terms = self._components([p.key_terms for p in principles])
        exemplars = self._components([p.exemplars for p in principles])
        statements = self._components([[f"{p.title}. {p.statement}"] for p in principles])
        combined = w.key_terms * key_terms + w.exemplars * exemplars + w.statement * statements
        queries = l2_normalize(sp.csr_matrix(combined, dtype=np.float32))
        return queries, self._components([p.opposite_terms for p in principles])

    def query(self, principle: Principle) -> sp.csr_matrix:
        """The query vector of one principle (1 x vocabulary, L2-normalised)."""
        return self.queries([principle])[0]

    def match(self, frameworks: FrameworkSet) -> EvidenceMap:
        """Score every principle of ``frameworks`` against every passage."""
        self._check_fitted()
        pairs = frameworks.principles()
        queries, opposite = self.queries([p for _, p in pairs])
        scores = self.rows_.scores(queries, opposite, self.opposite_penalty)
        threshold = self.min_score if self.min_score is not None else self.null_threshold(queries)
        emap = EvidenceMap(self, frameworks, queries, scores, float(threshold))
        if not isinstance(self.rows_, LocalRows):
            emap.prefetch()
        return emap

    def null_threshold(self, queries: sp.csr_matrix, per_query: int | None = None) -> float:
        """The ``null_quantile`` of scores of random queries shaped like ``queries``.

        ``per_query`` random queries are drawn for each real one: by default enough for about 200,000
        chance scores (at least 8, at most 64), so a small corpus's threshold is as steady as a large one's.
        """
        rng = np.random.default_rng(self.random_state)
        n_docs = self.rows_.n_rows
        if per_query is None:
            per_query = int(
                np.clip(np.ceil(_NULL_SCORES / (min(n_docs, _NULL_SAMPLE) * max(1, queries.shape[0]))), 8, 64)
            )
        df = self.space_.df.astype(np.float64)
        p = df / df.sum()
        vocab = len(p)
        sampler = _WeightedSampler(p)
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        r = 0
        for i in range(queries.shape[0]):
            weights = queries.data[queries.indptr[i] : queries.indptr[i + 1]]
            k = min(len(weights), vocab)
            for _ in range(per_query):
                cols.extend(sampler.choice(rng, k))
                vals.extend(rng.permutation(weights)[:k])
                rows.extend([r] * k)
                r += 1
        null = sp.csr_matrix((vals, (rows, cols)), shape=(r, vocab), dtype=np.float32)
        sample = None
        if n_docs > _NULL_SAMPLE:  # the quantile is stable long before that; keep it cheap on big corpora
            sample = np.sort(rng.choice(n_docs, _NULL_SAMPLE, replace=False))
        chance = self.rows_.chance(l2_normalize(null), sample)
        return float(np.quantile(chance, self.null_quantile))


_NULL_SCORES = 200_000  # chance scores wanted for the null quantile
_NULL_SAMPLE = 20_000  # passages they are scored against, at most


class _WeightedSampler:
    """Weighted sampling without replacement: ``size`` distinct indices, drawn one after another.

    Each draw follows ``p`` renormalised over the indices not drawn yet. Drawing from ``p`` itself and
    skipping repeats gives exactly that distribution, with the cumulative sum computed once for every
    call (NumPy's ``choice(replace=False, p=p)`` recomputes it over the whole vocabulary in each round).
    When ``size`` is over half the indices that can be drawn, skipping would take long, and NumPy draws.
    """

    def __init__(self, p: np.ndarray[Any, Any]) -> None:
        self.p = np.asarray(p, dtype=np.float64)
        raw = np.cumsum(self.p)
        self.cdf = raw / raw[-1]
        self.positive = int(np.count_nonzero(self.p > 0))

    def choice(self, rng: np.random.Generator, size: int) -> np.ndarray[Any, np.dtype[np.int64]]:
        if self.positive < size:
            raise ValueError("Fewer non-zero entries in p than size")
        if 2 * size > self.positive:
            return np.asarray(rng.choice(len(self.p), size=size, replace=False, p=self.p), dtype=np.int64)
        found: dict[int, None] = {}  # insertion-ordered: the draws in order
        while len(found) < size:
            for i in self.cdf.searchsorted(rng.random(2 * (size - len(found)) + 4), side="right").tolist():
                found.setdefault(i)
                if len(found) == size:
                    break
        return np.fromiter(found, dtype=np.int64, count=size)


class PassageRows(Protocol):
    """The passages' TF-IDF rows and raw counts: in this process, or in parts on Dask workers.

    Everything the mapping asks of them: scores against queries, chance scores for the threshold,
    a few rows for explanations, and term counts summed per framework for keyness.
    """

    @property
    def n_rows(self) -> int: ...

    def scores(
        self, queries: sp.csr_matrix, opposite: sp.csr_matrix, penalty: float
    ) -> np.ndarray[Any, np.dtype[np.float32]]: ...

    def chance(self, null: sp.csr_matrix, sample: np.ndarray[Any, Any] | None) -> np.ndarray[Any, Any]: ...

    def rows(self, indices: np.ndarray[Any, Any]) -> sp.csr_matrix: ...

    def framework_counts(
        self, labels: np.ndarray[Any, Any], framework_ids: Sequence[str]
    ) -> dict[str, np.ndarray[Any, np.dtype[np.int64]]]: ...


class DistributedCounts(Protocol):
    """Term counts kept where they were counted (Dask workers): their space, then their TF-IDF rows."""

    @property
    def n_texts(self) -> int: ...

    def space(self) -> FeatureSpace: ...

    def rows(self, space: FeatureSpace) -> PassageRows: ...


@dataclass(frozen=True)
class LocalRows:
    """:class:`PassageRows` in this process."""

    matrix: sp.csr_matrix  # TF-IDF
    counts: sp.csr_matrix  # raw counts

    @property
    def n_rows(self) -> int:
        return int(self.matrix.shape[0])

    def scores(
        self, queries: sp.csr_matrix, opposite: sp.csr_matrix, penalty: float
    ) -> np.ndarray[Any, np.dtype[np.float32]]:
        return _scores(self.matrix, queries, opposite, penalty)

    def chance(self, null: sp.csr_matrix, sample: np.ndarray[Any, Any] | None) -> np.ndarray[Any, Any]:
        """Scores of the (normalised) null queries against the sampled rows, or all of them."""
        return chance_scores(self.matrix if sample is None else self.matrix[sample], null)

    def rows(self, indices: np.ndarray[Any, Any]) -> sp.csr_matrix:
        return self.matrix[np.asarray(indices, dtype=np.intp)]

    def framework_counts(
        self, labels: np.ndarray[Any, Any], framework_ids: Sequence[str]
    ) -> dict[str, np.ndarray[Any, np.dtype[np.int64]]]:
        return framework_counts(self.counts, labels, framework_ids)


def chance_scores(rows: sp.csr_matrix, null: sp.csr_matrix) -> np.ndarray[Any, Any]:
    """Every row's score with every null query (each the same float however the rows are split)."""
    return np.asarray((rows @ null.T).todense()).ravel()


def framework_counts(
    counts: sp.csr_matrix, labels: np.ndarray[Any, Any], framework_ids: Sequence[str]
) -> dict[str, np.ndarray[Any, np.dtype[np.int64]]]:
    """Term counts summed over the passages attributed to each framework."""
    return {
        fid: np.asarray(counts[np.flatnonzero(labels == fid)].sum(axis=0, dtype=np.int64)).ravel()
        for fid in framework_ids
    }


_BOOTSTRAP_DRAWS = 4_000_000  # passage indices drawn at a time for one document's bootstrap
_PARALLEL_BOOTSTRAP = 20_000_000  # passages x resamples from which document intervals use every core
_BLOCK = 1 << 16  # passages scored at a time: bounds the sparse product's temporary memory


def _scores(
    matrix: sp.csr_matrix, queries: sp.csr_matrix, opposite: sp.csr_matrix, penalty: float
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Cosine scores of every passage with every query, less ``penalty`` x the opposite-term scores.

    A score is linear in the query, so both come from one product with ``queries - penalty * opposite``
    (in float32), clipped at 0: the same floats as ``matrix @ (queries - penalty * opposite).T``, computed
    faster. Those sums run over a passage's terms in stored order, in float32; only terms some query
    holds add anything, so each block of passages keeps just those entries (in order) and multiplies
    them by the dense query columns: the additions that remain are the same ones, and adding a query's
    zeros leaves a sum unchanged. Blocks run on two threads; NumPy and SciPy release the GIL.
    """
    subtract = bool(penalty) and opposite.nnz > 0
    combined = sp.csr_matrix(
        queries - np.float32(penalty) * opposite if subtract else queries, dtype=np.float32
    )
    k = combined.shape[0]
    by_term = combined.T.tocsr()
    used = np.diff(by_term.indptr) > 0
    column = np.cumsum(used, dtype=np.int32) - 1  # a used term's row in the dense query columns
    dense = by_term[used].toarray()
    n = matrix.shape[0]
    out = np.empty((n, k), dtype=np.float32)

    def block(start: int) -> None:
        stop = min(n, start + _BLOCK)
        lo, hi = matrix.indptr[start], matrix.indptr[stop]
        indices = matrix.indices[lo:hi]
        kept = np.flatnonzero(used[indices])
        indptr = np.searchsorted(kept, matrix.indptr[start : stop + 1] - lo)
        rows = sp.csr_matrix(
            (matrix.data[lo:hi].take(kept), column.take(indices.take(kept)), indptr),
            shape=(stop - start, len(dense)),
        )
        out[start:stop] = rows @ dense
        if subtract:
            np.clip(out[start:stop], 0.0, None, out=out[start:stop])

    starts = range(0, n, _BLOCK)
    if len(starts) == 1:
        block(0)
    else:
        with ThreadPoolExecutor(max_workers=min(2, cores())) as pool:
            list(pool.map(block, starts))
    return out


def _group_max(
    scores: np.ndarray[Any, Any], groups: Sequence[np.ndarray[Any, np.dtype[np.bool_]]]
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Per row, the maximum over each group of columns (0 for an empty group), one column per group.

    A block of rows at a time, every group on it while it is in the cache (a million passages' scores
    are 140 MB: a pass per column over all of them costs more than the maxima), blocks on two threads.
    """
    out = np.zeros((len(scores), len(groups)), dtype=np.float32)

    def block(start: int) -> None:
        part = scores[start : start + _BLOCK]
        for j, mask in enumerate(groups):
            if mask.any():
                out[start : start + _BLOCK, j] = _row_max(part, mask)

    starts = range(0, len(scores), _BLOCK)
    if len(starts) <= 1:
        block(0)
    else:
        with ThreadPoolExecutor(max_workers=min(2, cores())) as pool:  # NumPy releases the GIL
            list(pool.map(block, starts))
    return out


def _row_max(matrix: np.ndarray[Any, Any], mask: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``matrix[:, mask].max(axis=1)``, a column at a time (NumPy is slow at short rows; max is exact)."""
    columns = np.flatnonzero(mask)
    out = matrix[:, columns[0]].copy()
    for j in columns[1:]:
        np.maximum(out, matrix[:, j], out=out)
    return out


def _seed(random_state: int, key: str) -> int:
    return random_state ^ int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")


class EvidenceMap:
    """Scores of every principle on every passage, and the tables derived from them."""

    def __init__(
        self,
        mapper: EvidenceMapper,
        frameworks: FrameworkSet,
        queries: sp.csr_matrix,
        scores: np.ndarray[Any, np.dtype[np.float32]],
        threshold: float,
    ) -> None:
        self.mapper = mapper
        self.frameworks = frameworks
        self.queries = queries
        self.scores = scores
        self.threshold = threshold
        self.pairs = frameworks.principles()
        self.principle_ids = [p.id for _, p in self.pairs]
        self.framework_of = np.array([f.id for f, _ in self.pairs])
        self.framework_ids = frameworks.ids

        self._framework_scores = _group_max(scores, [self.framework_of == fid for fid in self.framework_ids])

        self._labels: tuple[tuple[float, ...], np.ndarray[Any, np.dtype[np.str_]]] | None = None
        self._groups: tuple[list[str], list[np.ndarray[Any, np.dtype[np.intp]]]] | None = None
        self._rows: dict[int, sp.csr_matrix] = {}  # TF-IDF rows of passages explained
        self._counts: tuple[tuple[float, ...], dict[str, np.ndarray[Any, Any]]] | None = None

    def prefetch(self) -> None:
        """Fetch now what the tables will ask of the passages' rows: those of the evidence shown (to
        explain it) and the term counts per framework (for keyness). For rows on Dask workers, while
        the cluster is still there."""
        ranked = [self._ranked(j, self.mapper.top_k, self.threshold) for j in range(len(self.pairs))]
        needed = np.unique(np.concatenate([np.zeros(0, dtype=np.intp), *ranked]))
        if len(needed):
            self._rows.update(zip(needed.tolist(), self.mapper.rows_.rows(needed), strict=True))
        self.framework_counts()

    def _ranked(self, j: int, top_k: int, threshold: float) -> np.ndarray[Any, np.dtype[np.intp]]:
        """Passages at or over ``threshold`` for principle ``j``, best first (ties by position), top_k."""
        column = self.scores[:, j]
        candidates = np.flatnonzero(column >= threshold)
        return candidates[np.lexsort((candidates, -column[candidates]))][:top_k]

    def _row(self, i: int) -> sp.csr_matrix:
        if i not in self._rows:
            self._rows[i] = self.mapper.rows_.rows(np.array([i]))
        return self._rows[i]

    def framework_counts(self) -> dict[str, np.ndarray[Any, np.dtype[np.int64]]]:
        """Term counts summed over the passages attributed to each framework (columns: ``space_``)."""
        key = self._label_key()
        if self._counts is None or self._counts[0] != key:
            self._counts = (key, self.mapper.rows_.framework_counts(self.labels(), self.framework_ids))
        return self._counts[1]

    # --- passages -----------------------------------------------------------------------------------
    def labels(self) -> np.ndarray[Any, np.dtype[np.str_]]:
        """Each passage's framework id, or ``neutral`` when it takes no side clearly (read-only).

        A position is argued over several paragraphs, and a passage's own words are often ones both
        sides use (security, development, cooperation), so both decisions read a passage with its
        neighbours: up to ``context_window`` passages before and after it in its document.

        * Whether it takes a side: its framework scores, mixed with the mean of its neighbours' as
          ``(own + decision_context x neighbours) / (1 + decision_context)``, must have a best that
          passes the threshold and beats the runner-up framework's by ``margin`` x the best. The mix
          stays on the scale of a score, so the threshold keeps its meaning; a passage with no
          neighbours is tested on its own scores, and one that no principle scores at all stays neutral.
        * Which side: the framework with the highest own score plus ``context_weight`` x the
          neighbours' mean.
        """
        mapper = self.mapper
        key = self._label_key()  # computed once per threshold and rule: every table asks
        if self._labels is None or self._labels[0] != key:
            fs = self._framework_scores
            tested: np.ndarray[Any, Any] = fs
            if mapper.decision_context:
                # A passage with no neighbours is tested on its own scores, not on a mix with nothing.
                around = self._context(fs, alone_as_own=True)
                tested = (fs + mapper.decision_context * around) / (1.0 + mapper.decision_context)
            ranked = np.sort(tested, axis=1)
            best = ranked[:, -1]
            second = ranked[:, -2] if fs.shape[1] > 1 else np.zeros(len(fs))
            clear = (best >= self.threshold) & (best - second >= mapper.margin * best)
            clear &= fs.max(axis=1) > 0  # evidence first: no term of its own matches, no side
            side = fs + mapper.context_weight * self._context(fs) if mapper.context_weight else fs
            ids = np.array(self.framework_ids)
            labels = np.where(clear, ids[np.argmax(side, axis=1)], NEUTRAL)
            labels.flags.writeable = False
            self._labels = (key, labels)
        return self._labels[1]

    def _label_key(self) -> tuple[float, ...]:
        m = self.mapper
        return (self.threshold, m.margin, m.decision_context, m.context_weight, float(m.context_window))

    def _context(
        self, values: np.ndarray[Any, Any], alone_as_own: bool = False
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Per passage, the mean of ``values`` over up to ``context_window`` passages before and after it
        in the same document; for a passage alone in its document (or with a window of 0), zeros, or
        with ``alone_as_own`` its own values."""
        window = self.mapper.context_window
        _, groups = self.document_groups()
        order = np.concatenate([np.zeros(0, dtype=np.intp), *groups])  # passages grouped by document
        lengths = np.array([len(g) for g in groups], dtype=np.intp)
        ends = np.cumsum(lengths)
        first = np.repeat(ends - lengths, lengths)
        last = np.repeat(ends, lengths)  # one past each passage's document's last
        at = np.arange(len(order))
        lo, hi = np.maximum(at - window, first), np.minimum(at + window + 1, last)
        grouped = values[order].astype(np.float64)
        running = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(grouped, axis=0)])
        neighbours = (hi - lo - 1)[:, None]
        total = running[hi] - running[lo] - grouped
        out = np.zeros(values.shape, dtype=np.float64)
        fill = grouped if alone_as_own else np.zeros_like(total)
        out[order] = np.divide(total, neighbours, out=fill.copy(), where=neighbours > 0)
        return out

    def document_groups(self) -> tuple[list[str], list[np.ndarray[Any, np.dtype[np.intp]]]]:
        """Document ids in order of first appearance, and each one's passage indices (ascending)."""
        if self._groups is None:
            codes, uniques = pd.factorize(np.array([p.document for p in self.mapper.passages_]))
            order = np.argsort(codes, kind="stable")
            cuts = np.cumsum(np.bincount(codes, minlength=len(uniques)))[:-1]
            self._groups = ([str(u) for u in uniques], np.split(order, cuts))
        return self._groups

    def passages(self) -> pd.DataFrame:
        """Passage attribution: scores per framework, label, best principle and dimension, text."""
        passages = self.mapper.passages_
        best = self.scores.argmax(axis=1)
        dims = np.array([p.dimension for _, p in self.pairs])
        frame = pd.DataFrame(
            {
                "document": [p.document for p in passages],
                "passage": [p.number for p in passages],
                "start": [p.start for p in passages],
                "end": [p.end for p in passages],
            }
        )
        for j, fid in enumerate(self.framework_ids):
            frame[f"score:{fid}"] = np.round(self._framework_scores[:, j], 4)
        frame["label"] = self.labels()
        frame["top_principle"] = np.array(self.principle_ids)[best]
        frame["top_dimension"] = dims[best]
        frame["text"] = [p.text for p in passages]
        return frame

    # --- evidence -----------------------------------------------------------------------------------
    def evidence(
        self, top_k: int | None = None, min_score: float | None = None, n_terms: int = 6
    ) -> pd.DataFrame:
        """Ranked evidence per principle: passage, score, rank, and the terms behind the score."""
        top_k = top_k or self.mapper.top_k
        threshold = self.threshold if min_score is None else min_score
        labels = self.labels()
        rows = []
        for j, (fw, principle) in enumerate(self.pairs):
            column = self.scores[:, j]
            for rank, i in enumerate(self._ranked(j, top_k, threshold).tolist(), start=1):
                passage = self.mapper.passages_[i]
                rows.append(
                    {
                        "framework": fw.id,
                        "principle": principle.id,
                        "dimension": principle.dimension,
                        "rank": rank,
                        "document": passage.document,
                        "passage": passage.number,
                        "start": passage.start,
                        "end": passage.end,
                        "score": round(float(column[i]), 4),
                        "label": str(labels[i]),
                        "terms": "; ".join(self._top_terms(i, j, n_terms)),
                        "key_terms": "; ".join(matched_key_terms(principle, passage.text)),
                        "text": passage.text,
                    }
                )
        columns = [
            "framework", "principle", "dimension", "rank", "document", "passage", "start", "end",
            "score", "label", "terms", "key_terms", "text",
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=columns)

    def _top_terms(self, i: int, j: int, n: int) -> list[str]:
        """The terms that add most to passage ``i``'s score for principle ``j`` (ties alphabetical)."""
        contribution = self._row(i).multiply(self.queries[j]).tocoo()
        positive = contribution.data > 0
        terms = self.mapper.space_.terms(contribution.col[positive])
        ranked = sorted(zip((-contribution.data[positive]).tolist(), terms, strict=True))
        return [term for _, term in ranked[:n]]

    # --- documents ----------------------------------------------------------------------------------
    def documents(self) -> pd.DataFrame:
        """Document leaning: evidence per framework, a leaning index in [-1, 1] and its interval.

        Only passages attributed to a framework count, with their score as weight. The index compares
        the first two frameworks: -1 is all first framework, +1 all second. ``leaning`` is the
        stronger framework when the bootstrap interval excludes zero, else ``mixed``.
        """
        labels = self.labels()
        weights = np.where(
            labels[:, None] == np.array(self.framework_ids)[None, :], self._framework_scores, 0.0
        )
        best = self.scores.argmax(axis=1)
        documents, groups = self.document_groups()

        def leanings(start: int, stop: int) -> list[tuple[float, float, float]]:
            return [self._leaning(weights[groups[d]], documents[d]) for d in range(start, stop)]

        # Each document's bootstrap has its own seed, so running them on several cores changes nothing.
        available = cores() if self.mapper.n_jobs is None else self.mapper.n_jobs
        jobs = available if len(weights) * self.mapper.n_bootstrap >= _PARALLEL_BOOTSTRAP else 1
        bounds = split_evenly([len(g) for g in groups], jobs)
        leaning = [x for part in fork_map(leanings, bounds) for x in part]
        rows = []
        for doc, idx, (index, low, high) in zip(documents, groups, leaning, strict=True):
            w = weights[idx]
            totals = w.sum(axis=0)
            row: dict[str, Any] = {"document": doc, "passages": len(idx)}
            for k, fid in enumerate(self.framework_ids):
                row[f"score:{fid}"] = round(float(totals[k] / len(idx)), 4)
            top = int(np.argmax(totals))
            decided = totals[top] > 0 and (low > 0 or high < 0)
            row["leaning"] = self.framework_ids[top] if decided else "mixed"
            row["leaning_index"] = round(index, 4)
            row["ci_low"], row["ci_high"] = round(low, 4), round(high, 4)
            attributed = idx[labels[idx] != NEUTRAL]
            pool = attributed if len(attributed) else idx
            strongest = pool[np.argmax(self.scores[pool, best[pool]])]
            _, principle = self.pairs[best[strongest]]
            row["top_principle"] = principle.id
            row["top_dimension"] = principle.dimension
            rows.append(row)
        return pd.DataFrame(rows)

    def _leaning(self, w: np.ndarray[Any, Any], key: str) -> tuple[float, float, float]:
        if w.shape[1] < 2:
            return 0.0, 0.0, 0.0

        def index(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
            total = a + b
            out: np.ndarray[Any, Any] = np.divide(
                b - a, total, out=np.zeros_like(total, dtype=float), where=total > 0
            )
            return out

        a, b = w[:, 0], w[:, 1]
        point = float(index(np.array([a.sum()]), np.array([b.sum()]))[0])
        # Resampling the n passages with replacement, only draws of the m passages with weight on either
        # side add anything: a resample holds Binomial(n, m / n) of them, each one of those m alike.
        # Drawn that way (the same distribution of sums), the work is B x m rather than B x n.
        rng = np.random.default_rng(_seed(self.mapper.random_state, key))
        weighed = np.flatnonzero((a > 0) | (b > 0))
        n, m, resamples = len(w), len(weighed), self.mapper.n_bootstrap
        if m == 0:
            return point, 0.0, 0.0
        a, b = a[weighed], b[weighed]
        sums_a, sums_b = np.zeros(resamples), np.zeros(resamples)
        per_block = max(1, _BOOTSTRAP_DRAWS // n)  # resamples at a time: at most ~4M draws in memory
        for start in range(0, resamples, per_block):
            stop = min(resamples, start + per_block)
            drawn = rng.binomial(n, m / n, size=stop - start)
            owner = np.repeat(np.arange(stop - start), drawn)
            picks = rng.integers(0, m, size=len(owner))
            sums_a[start:stop] = np.bincount(owner, weights=a[picks], minlength=stop - start)
            sums_b[start:stop] = np.bincount(owner, weights=b[picks], minlength=stop - start)
        # A resample that draws no attributed passage has no index (0 / 0): it is left out rather than
        # counted as balanced, which would call a document whose every piece of evidence is on one side
        # "mixed" whenever it has few passages.
        some = sums_a + sums_b > 0
        if not some.any():
            return point, 0.0, 0.0
        boot = index(sums_a[some], sums_b[some])
        low, high = np.quantile(boot, [0.025, 0.975])
        return point, float(low), float(high)


def matched_key_terms(principle: Principle, text: str) -> list[str]:
    """The principle's key terms that occur in ``text`` (as content words, in order, folded)."""
    passage = words(text)
    joined = f" {' '.join(passage)} "
    found = []
    for term in principle.key_terms:
        term_words = words(term)
        if term_words and f" {' '.join(term_words)} " in joined:
            found.append(term)
    return found
