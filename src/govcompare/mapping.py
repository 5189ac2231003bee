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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from govcompare.errors import MappingError
from govcompare.frameworks import FrameworkSet
from govcompare.models import Passage, Principle
from govcompare.tokens import analyze, words

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
    margin : a passage is attributed to a framework only if its best score beats the runner-up
        framework's by this fraction of the best score; otherwise it is ``neutral``.
    opposite_penalty : weight of the similarity to a principle's opposite terms, subtracted.
    null_quantile : quantile of chance scores used as the derived threshold.
    n_bootstrap : resamples for document leaning intervals.
    random_state : seed for the null queries and the bootstrap.

    Examples
    --------
    >>> from govcompare.models import Passage
    >>> mapper = EvidenceMapper().fit([Passage("a.txt", 1, 0, 12, "cyber sovereignty")])
    >>> mapper.vectorizer_.get_feature_names_out().tolist()
    ['cyber', 'cyber sovereignty', 'sovereignty']
    """

    def __init__(
        self,
        *,
        weights: QueryWeights = QueryWeights(),
        top_k: int = 5,
        min_score: float | None = None,
        margin: float = 0.1,
        opposite_penalty: float = 0.5,
        null_quantile: float = 0.99,
        n_bootstrap: int = 1000,
        random_state: int = 0,
    ) -> None:
        self.weights = weights
        self.top_k = top_k
        self.min_score = min_score
        self.margin = margin
        self.opposite_penalty = opposite_penalty
        self.null_quantile = null_quantile
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state

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
            (0.0 <= self.opposite_penalty <= 2.0, "opposite_penalty must be in [0, 2]"),
            (0.5 <= self.null_quantile < 1.0, "null_quantile must be in [0.5, 1)"),
            (self.n_bootstrap >= 100, "n_bootstrap must be at least 100"),
            (
                min(self.weights.key_terms, self.weights.exemplars, self.weights.statement) >= 0
                and self.weights.key_terms + self.weights.exemplars + self.weights.statement > 0,
                "query weights must be non-negative and not all zero",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise MappingError(message)

    def fit(self, passages: Sequence[Passage]) -> EvidenceMapper:
        """Learn the vocabulary and document frequencies of the passages."""
        self._check_params()
        if not passages:
            raise MappingError("the corpus has no passages to map: check the corpus path and its files")
        self.passages_ = list(passages)
        self.vectorizer_ = TfidfVectorizer(analyzer=analyze, sublinear_tf=True, dtype=np.float32)
        self.matrix_ = self.vectorizer_.fit_transform([p.text for p in self.passages_]).tocsr()
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "vectorizer_"):
            raise MappingError("this EvidenceMapper is not fitted yet: call fit(passages) first")

    def _component(self, pieces: Sequence[str]) -> sp.csr_matrix:
        """One L2-normalised row: the sum of the pieces' own TF-IDF vectors."""
        if not pieces:
            return sp.csr_matrix((1, self.matrix_.shape[1]), dtype=np.float32)
        rows = self.vectorizer_.transform(list(pieces))
        return sp.csr_matrix(normalize(sp.csr_matrix(rows.sum(axis=0))), dtype=np.float32)

    def query(self, principle: Principle) -> sp.csr_matrix:
        """The query vector of one principle (1 x vocabulary, L2-normalised)."""
        self._check_fitted()
        w = self.weights
        combined = (
            w.key_terms * self._component(principle.key_terms)
            + w.exemplars * self._component(principle.exemplars)
            + w.statement * self._component([f"{principle.title}. {principle.statement}"])
        )
        return sp.csr_matrix(normalize(combined), dtype=np.float32)

    def match(self, frameworks: FrameworkSet) -> EvidenceMap:
        """Score every principle of ``frameworks`` against every passage."""
        self._check_fitted()
        pairs = frameworks.principles()
        queries = sp.vstack([self.query(p) for _, p in pairs]).tocsr()
        opposite = sp.vstack([self._component(p.opposite_terms) for _, p in pairs]).tocsr()
        scores = np.asarray((self.matrix_ @ queries.T).todense(), dtype=np.float64)
        if self.opposite_penalty and opposite.nnz:
            scores -= self.opposite_penalty * np.asarray((self.matrix_ @ opposite.T).todense())
            np.clip(scores, 0.0, None, out=scores)
        threshold = self.min_score if self.min_score is not None else self.null_threshold(queries)
        return EvidenceMap(self, frameworks, queries, scores.astype(np.float32), float(threshold))

    def null_threshold(self, queries: sp.csr_matrix, per_query: int = 8) -> float:
        """The ``null_quantile`` of scores of random queries shaped like ``queries``."""
        rng = np.random.default_rng(self.random_state)
        n_docs = self.matrix_.shape[0]
        df = np.maximum(np.rint((n_docs + 1) / np.exp(self.vectorizer_.idf_ - 1) - 1), 1.0)
        p = df / df.sum()
        vocab = len(p)
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        r = 0
        for i in range(queries.shape[0]):
            weights = queries.data[queries.indptr[i] : queries.indptr[i + 1]]
            k = min(len(weights), vocab)
            for _ in range(per_query):
                cols.extend(rng.choice(vocab, size=k, replace=False, p=p))
                vals.extend(rng.permutation(weights)[:k])
                rows.extend([r] * k)
                r += 1
        null = sp.csr_matrix((vals, (rows, cols)), shape=(r, vocab), dtype=np.float32)
        sample = self.matrix_
        if n_docs > 20_000:  # the quantile is stable long before that; keep it cheap on big corpora
            sample = self.matrix_[np.sort(rng.choice(n_docs, 20_000, replace=False))]
        chance = np.asarray((sample @ normalize(null).T).todense()).ravel()
        return float(np.quantile(chance, self.null_quantile))


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
        self._framework_scores = np.column_stack(
            [
                scores[:, self.framework_of == fid].max(axis=1)
                if (self.framework_of == fid).any()
                else np.zeros(len(scores))
                for fid in self.framework_ids
            ]
        )

    # --- passages -----------------------------------------------------------------------------------
    def labels(self) -> np.ndarray[Any, np.dtype[np.str_]]:
        """Each passage's framework id, or ``neutral`` when no framework wins clearly."""
        fs = self._framework_scores
        order = np.argsort(-fs, axis=1, kind="stable")
        best = fs[np.arange(len(fs)), order[:, 0]]
        second = fs[np.arange(len(fs)), order[:, 1]] if fs.shape[1] > 1 else np.zeros(len(fs))
        clear = (best >= self.threshold) & (best - second >= self.mapper.margin * best)
        ids = np.array(self.framework_ids)
        return np.where(clear, ids[order[:, 0]], NEUTRAL)

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
        vocabulary = self.mapper.vectorizer_.get_feature_names_out()
        rows = []
        for j, (fw, principle) in enumerate(self.pairs):
            column = self.scores[:, j]
            candidates = np.flatnonzero(column >= threshold)
            ranked = candidates[np.lexsort((candidates, -column[candidates]))][:top_k]
            for rank, i in enumerate(ranked, start=1):
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
                        "terms": "; ".join(self._top_terms(i, j, vocabulary, n_terms)),
                        "key_terms": "; ".join(matched_key_terms(principle, passage.text)),
                        "text": passage.text,
                    }
                )
        columns = [
            "framework", "principle", "dimension", "rank", "document", "passage", "start", "end",
            "score", "label", "terms", "key_terms", "text",
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=columns)

    def _top_terms(self, i: int, j: int, vocabulary: Any, n: int) -> list[str]:
        contribution = self.mapper.matrix_[i].multiply(self.queries[j]).tocoo()
        order = np.lexsort((contribution.col, -contribution.data))[:n]
        return [str(vocabulary[contribution.col[k]]) for k in order if contribution.data[k] > 0]

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
        documents = np.array([p.document for p in self.mapper.passages_])
        best = self.scores.argmax(axis=1)
        rows = []
        for doc in dict.fromkeys(documents.tolist()):
            idx = np.flatnonzero(documents == doc)
            w = weights[idx]
            totals = w.sum(axis=0)
            index, low, high = self._leaning(w, doc)
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
        rng = np.random.default_rng(_seed(self.mapper.random_state, key))
        counts = rng.multinomial(len(w), np.full(len(w), 1.0 / len(w)), size=self.mapper.n_bootstrap)
        boot = index(counts @ a, counts @ b)
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
