"""Evidence -> comparison tables: coverage, the dimension-by-dimension contrast, keyness and crosswalk.

Every function takes an :class:`~govcompare.mapping.EvidenceMap` and returns a tidy DataFrame; nothing
here reads files or prints.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from govcompare.features import l2_normalize
from govcompare.mapping import EvidenceMap

__all__ = [
    "contrast",
    "coverage",
    "crosswalk",
    "dimension_summary",
    "divergence",
    "keyness",
    "principle_document",
]


def coverage(emap: EvidenceMap) -> pd.DataFrame:
    """Per principle: how much evidence the corpus holds for it and where the strongest is."""
    labels = emap.labels()
    documents = np.array([p.document for p in emap.mapper.passages_])
    rows = []
    for j, (fw, principle) in enumerate(emap.pairs):
        column = emap.scores[:, j]
        hits = np.flatnonzero(column >= emap.threshold)
        best = int(np.argmax(column))
        passage = emap.mapper.passages_[best]
        rows.append(
            {
                "framework": fw.id,
                "principle": principle.id,
                "dimension": principle.dimension,
                "title": principle.title,
                "evidence": len(hits),
                "aligned": int((labels[hits] == fw.id).sum()),
                "documents": len(set(documents[hits].tolist())),
                "best_score": round(float(column[best]), 4),
                "best_document": passage.document if len(hits) else "",
                "best_passage": passage.number if len(hits) else 0,
                "gap": len(hits) == 0,
            }
        )
    return pd.DataFrame(rows)


def dimension_summary(
    emap: EvidenceMap, cov: pd.DataFrame | None = None, attributed: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per dimension and framework: principles held, principles with evidence, passages attributed.

    ``cov`` and ``attributed`` are :func:`coverage` and ``emap.passages()`` when the caller has them.
    """
    cov = coverage(emap) if cov is None else cov
    attributed = emap.passages() if attributed is None else attributed
    # Passages per (framework, dimension) counted once: a million passages compared 20 times is seconds.
    counted = attributed.groupby([attributed.label.astype(str), attributed.top_dimension.astype(str)]).size()
    per_pair = {key: int(n) for key, n in counted.items()}
    rows = []
    for dim in emap.frameworks.dimensions.dimensions:
        for fw in emap.frameworks.frameworks:
            mine = cov[(cov.framework == fw.id) & (cov.dimension == dim.id)]
            silent = next((s.reason for s in fw.silent if s.dimension == dim.id), "")
            rows.append(
                {
                    "dimension": dim.id,
                    "framework": fw.id,
                    "principles": len(mine),
                    "covered": int((~mine.gap).sum()) if len(mine) else 0,
                    "passages": per_pair.get((fw.id, dim.id), 0),
                    "best_score": round(float(mine.best_score.max()), 4) if len(mine) else 0.0,
                    "silent": silent,
                }
            )
    return pd.DataFrame(rows)


def contrast(emap: EvidenceMap, evidence: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per dimension and framework: the position and its strongest evidence.

    The strongest evidence is the best-scoring passage above the threshold that is attributed to the
    same framework; a passage attributed elsewhere is used only when there is no such passage.
    """
    evidence = emap.evidence() if evidence is None else evidence
    rows = []
    for dim in emap.frameworks.dimensions.dimensions:
        for fw in emap.frameworks.frameworks:
            principles = [p for p in fw.principles if p.dimension == dim.id]
            silent = next((s.reason for s in fw.silent if s.dimension == dim.id), "")
            found = evidence[(evidence.framework == fw.id) & (evidence.dimension == dim.id)]
            found = found.sort_values(["score", "document", "passage"], ascending=[False, True, True])
            aligned = found[found.label == fw.id]
            best = aligned.iloc[0] if len(aligned) else (found.iloc[0] if len(found) else None)
            row: dict[str, Any] = {
                "dimension": dim.id,
                "framework": fw.id,
                "principles": "; ".join(p.id for p in principles),
                "position": " ".join(p.statement for p in principles),
                "titles": "; ".join(p.title for p in principles),
                "silent": silent if not principles else "",
                "evidence_principle": "",
                "evidence_document": "",
                "evidence_passage": 0,
                "evidence_score": 0.0,
                "evidence_aligned": False,
                "evidence_text": "",
            }
            if best is not None:
                row.update(
                    evidence_principle=best.principle,
                    evidence_document=best.document,
                    evidence_passage=int(best.passage),
                    evidence_score=float(best.score),
                    evidence_aligned=bool(best.label == fw.id),
                    evidence_text=best.text,
                )
            rows.append(row)
    return pd.DataFrame(rows)


def keyness(emap: EvidenceMap, top: int = 20, min_count: int = 3) -> pd.DataFrame:
    """Terms that distinguish the passages attributed to each framework from those of the others.

    Dunning's log-likelihood (G2) on term counts, one framework against the rest; a term is kept when
    it is over-used in that framework's passages, occurs ``min_count`` times or more, and is
    significant at p < 0.05 (G2 >= 3.84). Columns give the raw counts, so the test can be redone.
    """
    # Term counts per framework: the column sums of the count matrix over its attributed passages.
    counts = emap.framework_counts()
    rows = []
    for fid in emap.framework_ids:
        mine = counts[fid]
        rest = sum((c for other, c in counts.items() if other != fid), np.zeros_like(mine))
        n_mine, n_rest = int(mine.sum()), int(rest.sum())
        if not n_mine or not n_rest:
            continue
        found = []
        over = np.flatnonzero((mine >= min_count) & (mine * n_rest > rest * n_mine))
        for j, term in zip(over.tolist(), emap.mapper.space_.terms(over), strict=True):
            a, b = int(mine[j]), int(rest[j])
            g2 = _log_likelihood(a, b, n_mine, n_rest)
            if g2 >= 3.84:
                found.append((term, a, b, g2))
        found.sort(key=lambda t: (-t[3], t[0]))
        for term, a, b, g2 in found[:top]:
            rows.append(
                {
                    "framework": fid,
                    "term": term,
                    "count": a,
                    "count_other": b,
                    "per_10k": round(10_000 * a / n_mine, 2),
                    "per_10k_other": round(10_000 * b / n_rest, 2),
                    "log_ratio": round(float(np.log2(((a + 0.5) / n_mine) / ((b + 0.5) / n_rest))), 3),
                    "g2": round(g2, 3),
                    "p_value": float(f"{math.erfc(math.sqrt(g2 / 2)):.3g}"),  # chi-squared, 1 df,
                }
            )
    columns = [
        "framework",
        "term",
        "count",
        "count_other",
        "per_10k",
        "per_10k_other",
        "log_ratio",
        "g2",
        "p_value",
    ]
    return pd.DataFrame(rows, columns=columns)


def _log_likelihood(a: int, b: int, n_a: int, n_b: int) -> float:
    e_a = n_a * (a + b) / (n_a + n_b)
    e_b = n_b * (a + b) / (n_a + n_b)
    g2 = 0.0
    for observed, expected in ((a, e_a), (b, e_b)):
        if observed > 0:
            g2 += observed * np.log(observed / expected)
    return float(2 * g2)


def crosswalk(emap: EvidenceMap) -> pd.DataFrame:
    """Cosine similarity of every principle's query with every principle of the other frameworks.

    Long form, one row per pair, with ``strongest`` marking each principle's closest counterpart.
    """
    queries = l2_normalize(emap.queries)
    similarity = np.asarray((queries @ queries.T).todense())
    rows = []
    for i, (fw_a, p_a) in enumerate(emap.pairs):
        others = [j for j, (fw_b, _) in enumerate(emap.pairs) if fw_b.id != fw_a.id]
        if not others:
            continue
        best = max(others, key=lambda j: (similarity[i, j], -j))
        for j in others:
            fw_b, p_b = emap.pairs[j]
            rows.append(
                {
                    "framework": fw_a.id,
                    "principle": p_a.id,
                    "dimension": p_a.dimension,
                    "other_framework": fw_b.id,
                    "other_principle": p_b.id,
                    "other_dimension": p_b.dimension,
                    "similarity": round(float(similarity[i, j]), 4),
                    "strongest": j == best,
                }
            )
    return pd.DataFrame(rows)


def divergence(emap: EvidenceMap, walk: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per dimension: how far apart the positions are, as 1 - the mean best counterpart similarity.

    For each principle on the dimension, its most similar principle of another framework on the same
    dimension; the mean of those similarities is the overlap, and 1 - overlap the divergence.
    A dimension on which a framework is silent has no overlap to measure and gets divergence NaN.
    """
    walk = crosswalk(emap) if walk is None else walk
    dims = emap.frameworks.dimensions.ids()
    same = walk[walk.dimension == walk.other_dimension]
    best = same.groupby(["dimension", "principle"]).similarity.max().reset_index()
    rows = []
    for dim in dims:
        scores = best[best.dimension == dim].similarity
        held = [fw.id for fw in emap.frameworks.frameworks if dim in fw.dimensions()]
        comparable = len(held) == len(emap.framework_ids) and len(scores)
        overlap = float(scores.mean()) if comparable else float("nan")
        rows.append(
            {
                "dimension": dim,
                "frameworks_holding": len(held),
                "overlap": round(overlap, 4),
                "divergence": round(1 - overlap, 4),
            }
        )
    return pd.DataFrame(rows)


def principle_document(emap: EvidenceMap) -> pd.DataFrame:
    """Long table of the best score of each principle in each document (for the heatmap)."""
    documents, groups = emap.document_groups()
    n_docs, n_principles = len(documents), len(emap.pairs)
    best = np.array([emap.scores[idx].max(axis=0) for idx in groups]).reshape(n_docs, n_principles)
    return pd.DataFrame(
        {
            "framework": [fw.id for fw, _ in emap.pairs] * n_docs,
            "principle": [p.id for _, p in emap.pairs] * n_docs,
            "dimension": [p.dimension for _, p in emap.pairs] * n_docs,
            "document": np.repeat(np.array(documents, dtype=object), n_principles),
            "score": [round(v, 4) for v in best.ravel().tolist()],
            "above_threshold": (best >= emap.threshold).ravel(),
        },
        columns=["framework", "principle", "dimension", "document", "score", "above_threshold"],
    )
