"""Analysis -> report context: every number and sentence the templates show, as plain data.

The templates only lay this out and escape it; nothing here knows about Markdown or HTML. Sentences of the
executive summary are written from the numbers (no language model), so the same analysis always gives the
same words.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pandas as pd

from govcompare.mapping import NEUTRAL
from govcompare.pipeline import Analysis
from govcompare.tokens import words

__all__ = ["ReportContext", "build_context", "run_date"]

METHOD = (
    "Each principle (key terms, exemplar phrasings, statement) is a TF-IDF query; passages are scored by "
    "cosine similarity, attributed to the framework whose best principle wins clearly, and documents lean "
    "by their attributed evidence, with 95% bootstrap intervals over passages."
)


def run_date() -> str:
    """Today's date, or the date of ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date().isoformat()
    return dt.date.today().isoformat()


REPORT_DOCUMENTS = 100  # rows of the report's document table; data/documents.csv has every document
REPORT_INPUTS = 100  # up to this many files, every one is listed under Inputs; beyond, the first this
# many of those not read (data/inputs.csv and run.json have every file)


@dataclass
class ReportContext:
    """What the report templates render."""

    title: str
    run_date: str
    method: str
    frameworks: list[dict[str, Any]]
    corpus: dict[str, Any]
    summary: list[str]
    contrast: list[dict[str, Any]]
    principles: list[dict[str, Any]]
    gaps: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    keyness: list[dict[str, Any]]
    crosswalk: list[dict[str, Any]]
    parameters: list[tuple[str, str]]
    quality: dict[str, Any] | None
    inputs: list[dict[str, Any]]
    documents_total: int = 0  # documents in the corpus (``documents`` may list fewer)
    inputs_total: int = 0  # files found (``inputs`` may list fewer)
    inputs_not_read: int = 0
    charts: list[dict[str, Any]] = field(default_factory=list)


def _segments(text: str, terms: list[str]) -> list[tuple[str, bool]]:
    """Split ``text`` into (chunk, matched) pieces, marking occurrences of the matched terms."""
    patterns = []
    for term in sorted({t for t in terms if t.strip()}, key=len, reverse=True):
        parts = [re.escape(w) for w in re.findall(r"[\w’']+", term)]
        if parts:
            patterns.append(r"\b" + r"[\s\-–—]+".join(parts) + r"(?:s|es|’s|'s)?\b")
    if not patterns:
        return [(text, False)]
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for match in re.finditer("|".join(patterns), text, flags=re.IGNORECASE):
        if match.start() > pos:
            pieces.append((text[pos : match.start()], False))
        pieces.append((match.group(), True))
        pos = match.end()
    if pos < len(text):
        pieces.append((text[pos:], False))
    return pieces


def _highlight_terms(row: Any) -> list[str]:
    """Surface forms to highlight: matched key terms plus the single words behind the top terms."""
    matched = [t for t in str(row.key_terms).split("; ") if t]
    top_words = {w for term in str(row.terms).split("; ") for w in term.split() if len(w) > 2}
    extra = [w for w in re.findall(r"[A-Za-z][\w’'-]+", str(row.text)) if (words(w) or [""])[0] in top_words]
    return matched + sorted(set(extra))


def _rows(frame: pd.DataFrame) -> list[Any]:
    """Rows as objects with attribute access (names as columns), untyped like the cells they hold."""
    return [SimpleNamespace(**{str(k): v for k, v in row.items()}) for row in frame.to_dict("records")]


def _fmt_ci(low: float, high: float) -> str:
    return f"{low:+.2f} to {high:+.2f}"


def build_context(
    result: Analysis,
    *,
    title: str | None = None,
    corpus_label: str = "",
    evaluation: Any | None = None,
) -> ReportContext:
    """Everything the templates need, derived from ``result`` only."""
    fs = result.frameworks
    ids = fs.ids
    dims = {d.id: d for d in fs.dimensions.dimensions}
    n_docs = len(result.corpus.documents)
    frameworks = [
        {
            "id": fw.id,
            "name": fw.name,
            "actors": ", ".join(fw.actors),
            "version": fw.version,
            "date": str(fw.date),
        }
        for fw in fs.frameworks
    ]
    title = title or " vs ".join(fw.name for fw in fs.frameworks)
    corpus = {
        "label": corpus_label or result.corpus.root,
        "documents": n_docs,
        "files": len(result.corpus.records),
        "passages": len(result.passages),
        "skipped": [r for r in result.corpus.records if r.status != "read"],
    }
    evidence = result.evidence
    principle_titles = {p.id: p.title for _, p in fs.principles()}

    contrast = []
    for dim in fs.dimensions.dimensions:
        cells = []
        for row in _rows(result.contrast[result.contrast.dimension == dim.id]):
            principles = [
                {"id": p.id, "title": p.title, "statement": p.statement}
                for p in fs.get(row.framework).principles
                if p.dimension == dim.id
            ]
            cell: dict[str, Any] = {
                "framework": row.framework,
                "principles": principles,
                "silent": row.silent,
                "evidence": None,
            }
            if row.evidence_text:
                ev = evidence[
                    (evidence.principle == row.evidence_principle)
                    & (evidence.document == row.evidence_document)
                    & (evidence.passage == row.evidence_passage)
                ].iloc[0]
                cell["evidence"] = {
                    "segments": _segments(row.evidence_text, _highlight_terms(ev)),
                    "document": row.evidence_document,
                    "passage": int(row.evidence_passage),
                    "score": f"{row.evidence_score:.3f}",
                    "principle": row.evidence_principle,
                    "aligned": bool(row.evidence_aligned),
                }
            cells.append(cell)
        contrast.append({"id": dim.id, "name": dim.name, "definition": dim.definition, "cells": cells})

    principles = []
    for fw, p in fs.principles():
        rows = evidence[evidence.principle == p.id]
        quotes = [
            {
                "rank": int(r.rank),
                "score": f"{r.score:.3f}",
                "document": r.document,
                "passage": int(r.passage),
                "start": int(r.start),
                "end": int(r.end),
                "segments": _segments(str(r.text), _highlight_terms(r)),
                "terms": str(r.terms),
                "key_terms": str(r.key_terms),
                "label": str(r.label),
                "aligned": r.label == fw.id,
            }
            for r in _rows(rows)
        ]
        principle_entry: dict[str, Any] = {
            "framework": fw.id,
            "id": p.id,
            "title": p.title,
            "dimension": dims[p.dimension].name,
            "statement": p.statement,
            "quotes": quotes,
        }
        principles.append(principle_entry)
    cov = result.coverage
    gaps = [
        {"framework": r.framework, "id": r.principle, "title": r.title, "best": f"{r.best_score:.3f}"}
        for r in _rows(cov[cov.gap])
    ]
    documents = [
        {
            "document": r["document"],
            "title": r["title"],
            "date": r["date"],
            "actor": r["actor"],
            "passages": int(r["passages"]),
            "scores": [f"{r[f'score:{fid}']:.3f}" for fid in ids],
            "leaning": r["leaning"],
            "index": f"{r['leaning_index']:+.2f}",
            "ci": _fmt_ci(r["ci_low"], r["ci_high"]),
            "top_principle": r["top_principle"],
        }
        for r in _listed_documents(result.documents).to_dict("records")
    ]
    keyness = [
        {
            "framework": fid,
            "terms": [
                {
                    "term": r.term,
                    "count": int(r.count),
                    "other": int(r.count_other),
                    "g2": f"{r.g2:.1f}",
                    "p": f"{r.p_value:.2g}",
                }
                for r in _rows(result.keyness[result.keyness.framework == fid].head(15))
            ],
        }
        for fid in ids
    ]
    walk = result.crosswalk
    crosswalk = [
        {
            "framework": r.framework,
            "principle": r.principle,
            "title": principle_titles[r.principle],
            "other": r.other_principle,
            "other_title": principle_titles[r.other_principle],
            "same_dimension": r.dimension == r.other_dimension,
            "similarity": f"{r.similarity:.3f}",
        }
        for r in _rows(walk[walk.strongest])
    ]
    params = result.settings.as_dict()
    mapper = params["mapper"]
    parameters = [
        (
            "evidence threshold",
            f"{result.emap.threshold:.4f}"
            + (
                " (given)"
                if params["min_score"] is not None
                else " (derived: 99th percentile of chance scores)"
            ),
        ),
        ("evidence per principle (top-k)", str(params["top_k"])),
        ("attribution margin", f"{mapper['margin']:.2f} of the best score"),
        (
            "taking a side read with context",
            f"(own scores + {mapper['decision_context']:.2f} x mean of up to {mapper['context_window']} "
            f"passages either side) / {1 + mapper['decision_context']:.2f}",
        ),
        (
            "side read with context",
            f"own scores + {mapper['context_weight']:.2f} x mean of up to {mapper['context_window']} "
            "passages either side",
        ),
        ("query weights", ", ".join(f"{k.replace('_', ' ')} {v:.2f}" for k, v in mapper["weights"].items())),
        ("opposite-term penalty", f"{mapper['opposite_penalty']:.2f}"),
        (
            "passage size",
            "merge under {min_chars}, cut over {max_chars} into about {target_chars} characters".format(
                **params["segmenter"]
            ),
        ),
        ("bootstrap resamples", str(mapper["n_bootstrap"])),
        ("random seed", str(mapper["random_state"])),
    ]
    quality = None
    if evaluation is not None:
        quality = {
            "count": evaluation.summary["items"],
            "kind": evaluation.kind,
            "figures": [
                (name, f"{evaluation.summary[key]:.3f}", _ci_text(evaluation.summary.get(f"{key}_ci")))
                for key, name in (
                    ("side_macro_f1", "side macro-F1 (gold passages with a side)"),
                    ("dimension_top1", "dimension top-1 accuracy"),
                    ("neutral_recall", "neutral passages labelled neutral"),
                    ("macro_f1", "three-class macro-F1"),
                )
                if key in evaluation.summary and not pd.isna(evaluation.summary[key])
            ],
            "notes": evaluation.notes,
        }
    records = result.corpus.records
    not_read = [r for r in records if r.status != "read"]
    listed = records if len(records) <= REPORT_INPUTS else not_read[:REPORT_INPUTS]
    inputs = [
        {"path": r.path, "status": r.status, "reason": r.reason or "", "sha256": (r.sha256 or "")[:12]}
        for r in listed
    ]
    return ReportContext(
        title=title,
        run_date=run_date(),
        method=METHOD,
        frameworks=frameworks,
        corpus=corpus,
        summary=_summary(result, dims),
        contrast=contrast,
        principles=principles,
        gaps=gaps,
        documents=documents,
        keyness=keyness,
        crosswalk=crosswalk,
        parameters=parameters,
        quality=quality,
        inputs=inputs,
        documents_total=len(result.documents),
        inputs_total=len(records),
        inputs_not_read=len(not_read),
    )


def _listed_documents(documents: pd.DataFrame) -> pd.DataFrame:
    """The documents the report lists: all of them, or on a large corpus the ``REPORT_DOCUMENTS`` with
    the most passages (ties by id, as the leaning chart picks them), in corpus order."""
    if len(documents) <= REPORT_DOCUMENTS:
        return documents
    most = documents.sort_values(["passages", "document"], ascending=[False, True], kind="stable")
    return documents.loc[sorted(most.index[:REPORT_DOCUMENTS])]


def _ci_text(ci: list[float] | None) -> str:
    return f"{ci[0]:.2f}-{ci[1]:.2f}" if ci else ""


def _summary(result: Analysis, dims: dict[str, Any]) -> list[str]:
    """The executive summary: a few sentences written from the numbers."""
    out = []
    ids = result.frameworks.ids
    div = result.divergence.dropna(subset=["divergence"]).sort_values(
        ["divergence", "dimension"], ascending=[False, True]
    )
    if len(div):
        top = div.head(3)
        names = ", ".join(f"{dims[r.dimension].name.lower()} ({r.divergence:.2f})" for r in _rows(top))
        low = div.iloc[-1]
        out.append(
            f"The positions diverge most on {names}, measured as 1 minus the similarity of each principle "
            f"to its closest counterpart; they are closest on {dims[low.dimension].name.lower()} "
            f"({low.divergence:.2f})."
        )
    silent = [(fw.id, s.dimension) for fw in result.frameworks.frameworks for s in fw.silent]
    if silent:
        out.append(
            "Silent by design: " + "; ".join(f"{f} on {dims[d].name.lower()}" for f, d in silent) + "."
        )
    passages = result.passage_table
    attributed = passages[passages.label != NEUTRAL]
    if len(attributed):
        by_dim = attributed.groupby("top_dimension").size().sort_values(ascending=False)
        strongest = ", ".join(f"{dims[str(d)].name.lower()} ({n:,})" for d, n in by_dim.head(3).items())
        share = ", ".join(f"{(passages.label == f).sum():,} to {f}" for f in ids)
        out.append(
            f"Of {len(passages):,} passages, {share} and {(passages.label == NEUTRAL).sum():,} neutral; "
            f"the corpus holds the most attributed evidence on {strongest} (passages)."
        )
    else:
        out.append(f"None of the {len(passages):,} passages is attributed clearly to a framework.")
    docs = result.documents
    counts = docs.leaning.value_counts()
    mixed = int(counts.get("mixed", 0))
    parts = [f"{n:,} lean{'s' if n == 1 else ''} to {f}" for f in ids for n in [int(counts.get(f, 0))]]
    parts.append(f"{mixed:,} {'is' if mixed == 1 else 'are'} mixed")
    sentence = (
        f"Of {len(docs):,} documents, " + ", ".join(parts) + " (95% bootstrap intervals over passages)."
    )
    decided = docs[docs.leaning != "mixed"].copy()
    if len(decided):
        decided["width"] = decided.ci_high - decided.ci_low
        sure = decided.sort_values(["width", "document"]).iloc[0]
        sentence += (
            f" Most surely: {sure.document} toward {sure.leaning} "
            f"(index {sure.leaning_index:+.2f}, interval {_fmt_ci(sure.ci_low, sure.ci_high)})."
        )
    out.append(sentence)
    cov = result.coverage
    if cov.gap.any():
        out.append(
            f"{int(cov.gap.sum())} of {len(cov)} principles have no evidence above the threshold "
            f"({result.emap.threshold:.3f}): see Gaps."
        )
    else:
        out.append(f"Every principle has evidence above the threshold ({result.emap.threshold:.3f}).")
    return out
