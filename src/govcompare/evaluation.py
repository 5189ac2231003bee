"""How good the mapping is, measured against an analyst's gold labels.

Gold files are CSV. Passage gold: ``document,quote,side,dimension[,note]``: each quote is located in the
document's normalised text (case, spacing, hyphens and punctuation ignored) and compared with the passage
that holds most of it. Document gold: ``document,side``: compared with the document's leaning.
Sides are framework ids or ``neutral`` (``mixed`` for documents).
"""

from __future__ import annotations

import csv
import io
import unicodedata
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from govcompare.errors import EvaluationError
from govcompare.mapping import NEUTRAL
from govcompare.pipeline import Analysis

__all__ = ["Evaluation", "evaluate", "locate", "parse_gold"]

PASSAGE_COLUMNS = {"document", "quote", "side"}
DOCUMENT_COLUMNS = {"document", "side"}


def parse_gold(text: str, *, source: str = "<gold>") -> pd.DataFrame:
    """Read and check a gold CSV; the ``line`` column keeps each row's line number for messages."""
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or [])
    if not (columns >= PASSAGE_COLUMNS or columns >= DOCUMENT_COLUMNS):
        raise EvaluationError(
            f"{source}:1: header must have document,quote,side[,dimension] (passages) or "
            f"document,side (documents); found {','.join(reader.fieldnames or []) or 'nothing'}"
        )
    rows = []
    for row in reader:
        line = reader.line_num
        if None in row:
            raise EvaluationError(f"{source}:{line}: more fields than the header has: quote the text")
        if not (row.get("document") or "").strip() or not (row.get("side") or "").strip():
            raise EvaluationError(f"{source}:{line}: document and side must not be empty")
        if "quote" in columns and len((row.get("quote") or "").strip()) < 20:
            raise EvaluationError(f"{source}:{line}: quote is shorter than 20 characters: quote more")
        rows.append({**{k: (v or "").strip() for k, v in row.items()}, "line": line})
    if not rows:
        raise EvaluationError(f"{source}: no gold labels in the file")
    return pd.DataFrame(rows)


def _squash(text: str) -> tuple[str, list[int]]:
    """Lowercase letters and digits only, with each kept character's offset in ``text``."""
    chars, offsets = [], []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).casefold():
            if c.isalnum():
                chars.append(c)
                offsets.append(i)
    return "".join(chars), offsets


def locate(quote: str, text: str, squashed: tuple[str, list[int]] | None = None) -> tuple[int, int] | None:
    """Character offsets of ``quote`` in ``text``, ignoring case, spacing and punctuation."""
    hay, offsets = squashed or _squash(text)
    needle, _ = _squash(quote)
    at = hay.find(needle) if needle else -1
    if at < 0:
        return None
    return offsets[at], offsets[at + len(needle) - 1] + 1


@dataclass
class Evaluation:
    """Figures and tables of one evaluation; ``summary`` holds the headline numbers."""

    kind: str
    summary: dict[str, Any]
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    items: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _class_table(gold: np.ndarray[Any, Any], pred: np.ndarray[Any, Any], classes: list[str]) -> pd.DataFrame:
    rows = []
    for c in classes:
        tp = int(((gold == c) & (pred == c)).sum())
        fp = int(((gold != c) & (pred == c)).sum())
        fn = int(((gold == c) & (pred != c)).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(
            {
                "class": c,
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "support": int((gold == c).sum()),
            }
        )
    return pd.DataFrame(rows)


def _headline(
    items: pd.DataFrame, sides: list[str], weights: np.ndarray[Any, Any] | None = None
) -> dict[str, Any]:
    """Headline figures; with ``weights`` (resamples x items) one value per resample, vectorised."""
    w = np.ones((1, len(items))) if weights is None else weights
    gold, pred = items.gold_side.to_numpy(), items.side.to_numpy()

    def f1(mask_rows: np.ndarray[Any, Any], classes: list[str]) -> np.ndarray[Any, Any]:
        scores = []
        for c in classes:
            g, p = (gold == c) & mask_rows, (pred == c) & mask_rows
            tp, fp, fn = w @ (g & p), w @ (~g & p), w @ (g & ~p)
            support = w @ g
            with np.errstate(invalid="ignore", divide="ignore"):
                value = np.where(tp > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
            scores.append(np.where(support > 0, value, np.nan))
        return np.nanmean(np.vstack(scores), axis=0) if scores else np.full(len(w), np.nan)

    def share(hit: np.ndarray[Any, Any], among: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        with np.errstate(invalid="ignore", divide="ignore"):
            total = w @ among
            return np.where(total > 0, (w @ (hit & among)) / np.where(total > 0, total, 1), np.nan)

    everything = np.ones(len(items), dtype=bool)
    positioned = gold != NEUTRAL
    with_dim = positioned & (items.gold_dimension.to_numpy() != "")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN resamples give NaN, as they should
        out = {
            "macro_f1": f1(everything, [*sides, NEUTRAL]),
            "side_macro_f1": f1(positioned, sides),
            "dimension_top1": share(items.dimension.to_numpy() == items.gold_dimension.to_numpy(), with_dim),
            "neutral_recall": share(pred == NEUTRAL, ~positioned),
        }
    if weights is None:
        return {k: float(v[0]) for k, v in out.items()}
    return out


def evaluate(
    result: Analysis, gold: pd.DataFrame, *, n_bootstrap: int = 1000, random_state: int = 0
) -> Evaluation:
    """Compare the run's passage labels (or document leanings) with gold labels."""
    sides = result.frameworks.ids
    allowed = {*sides, NEUTRAL, "mixed"}
    bad = gold[~gold.side.isin(allowed)]
    if len(bad):
        row = bad.iloc[0]
        raise EvaluationError(
            f"gold line {row.line}: side {row.side!r} is not one of {', '.join(sorted(allowed))}"
        )
    if "dimension" in gold.columns:
        dims = set(result.frameworks.dimensions.ids())
        bad = gold[(gold.dimension != "") & ~gold.dimension.isin(dims)]
        if len(bad):
            row = bad.iloc[0]
            raise EvaluationError(f"gold line {row.line}: dimension {row.dimension!r} is not defined")
    if "quote" in gold.columns:
        items, notes = _passage_items(result, gold)
        kind = "passages"
    else:
        items, notes = _document_items(result, gold)
        kind = "documents"
    summary: dict[str, Any] = {"kind": kind, "items": len(items), **_headline(items, sides)}
    documents, doc_index = np.unique(items.document.to_numpy(), return_inverse=True)
    if len(documents) > 1 and n_bootstrap > 0:
        # Resample whole documents: passages of one document are not independent.
        rng = np.random.default_rng(random_state)
        counts = rng.multinomial(
            len(documents), np.full(len(documents), 1 / len(documents)), size=n_bootstrap
        )
        for k, values in _headline(items, sides, counts[:, doc_index].astype(float)).items():
            values = values[~np.isnan(values)]
            if len(values) and not np.isnan(summary.get(k, np.nan)):
                low, high = np.quantile(values, [0.025, 0.975])
                summary[f"{k}_ci"] = [round(float(low), 4), round(float(high), 4)]
    classes = [*sides, NEUTRAL] if kind == "passages" else [*sides, "mixed"]
    per_class = _class_table(items.gold_side.to_numpy(), items.side.to_numpy(), classes)
    confusion = pd.crosstab(
        pd.Categorical(items.gold_side, categories=classes),
        pd.Categorical(items.side, categories=classes),
        rownames=["gold"],
        colnames=["predicted"],
        dropna=False,
    )
    return Evaluation(kind, summary, per_class, confusion, items, notes)


def _passage_items(result: Analysis, gold: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    texts = {d.id: d.text for d in result.corpus.documents}
    by_name: dict[str, str] = {}
    for doc_id in texts:
        by_name.setdefault(doc_id.rsplit("/", 1)[-1], doc_id)
    table = result.passage_table
    starts = {str(d): g for d, g in table.groupby("document")}
    squashed: dict[str, tuple[str, list[int]]] = {}
    rows, missing, not_found = [], 0, []
    for row in gold.to_dict("records"):
        name, quote, line = str(row["document"]), str(row["quote"]), int(row["line"])
        doc = name if name in texts else by_name.get(name)
        if doc is None:
            missing += 1
            continue
        if doc not in squashed:
            squashed[doc] = _squash(texts[doc])
        span = locate(quote, texts[doc], squashed[doc])
        if span is None:
            not_found.append(f"line {line} ({name})")
            continue
        passages = starts[doc]
        ends, begins = passages.end.to_numpy(), passages.start.to_numpy()
        overlap = np.clip(np.minimum(ends, span[1]) - np.maximum(begins, span[0]), 0, None)
        hit = passages.iloc[int(np.argmax(overlap))]
        rows.append(
            {
                "line": line,
                "document": doc,
                "passage": int(hit.passage),
                "gold_side": str(row["side"]),
                "gold_dimension": str(row.get("dimension", "") or ""),
                "side": hit.label,
                "dimension": hit.top_dimension,
                "principle": hit.top_principle,
                "quote": quote,
            }
        )
    if not_found:
        raise EvaluationError(
            f"{len(not_found)} gold quote(s) not found in their document, e.g. {', '.join(not_found[:5])}: "
            "quotes must be verbatim"
        )
    if not rows:
        raise EvaluationError("no gold label matches a document of this corpus: check --corpus")
    notes = (
        [f"{missing} gold row(s) name documents outside this corpus and were not scored"] if missing else []
    )
    return pd.DataFrame(rows), notes


def _document_items(result: Analysis, gold: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    docs = result.documents.set_index("document")
    by_name = {d.rsplit("/", 1)[-1]: d for d in docs.index}
    rows, missing = [], 0
    for row in gold.to_dict("records"):
        name = str(row["document"])
        doc = name if name in docs.index else by_name.get(name)
        if doc is None:
            missing += 1
            continue
        rows.append(
            {
                "line": int(row["line"]),
                "document": doc,
                "gold_side": str(row["side"]),
                "gold_dimension": "",
                "side": docs.loc[doc, "leaning"],
                "dimension": docs.loc[doc, "top_dimension"],
            }
        )
    if not rows:
        raise EvaluationError("no gold label matches a document of this corpus: check --corpus")
    notes = (
        [f"{missing} gold row(s) name documents outside this corpus and were not scored"] if missing else []
    )
    return pd.DataFrame(rows), notes
