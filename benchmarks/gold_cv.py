"""Does the attribution rule generalise? Leave-one-document-out on the gold passages.

    .venv/bin/python benchmarks/gold_cv.py [--corpus tests/data/shared-corpus --corpus seeds]

The passage labels depend on four settings of the rule (``margin``, ``decision_context``,
``context_weight``, ``context_window``; see :meth:`govcompare.mapping.EvidenceMap.labels`). For each of the 11 gold documents
in turn, the settings are chosen on the other ten (best three-class macro-F1 over a small grid) and used to
label the held-out document; the pooled held-out labels give figures that no label of their own document
helped choose. Printed beside them: the shipped defaults and earlier rules on all documents. Passage
sizes are not searched here (they need a run each): the defaults' are used.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from govcompare.evaluation import _headline, evaluate, parse_gold
from govcompare.pipeline import run

GRID = list(
    itertools.product([0.1, 0.2, 0.3, 0.35, 0.4, 0.5], [0.0, 0.5, 1.0, 1.5, 2.0], [0.0, 1.0], [2, 3, 5])
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gold", default="tests/data/gold/passages.csv")
    parser.add_argument("--corpus", action="append", default=None)
    args = parser.parse_args()
    corpus = args.corpus or ["tests/data/shared-corpus", "seeds"]
    result = run("frameworks", corpus)
    gold = parse_gold(Path(args.gold).read_text(encoding="utf-8"), source=args.gold)
    items = evaluate(result, gold, n_bootstrap=0).items
    emap, sides = result.emap, result.frameworks.ids
    table = result.passage_table
    row_of = {(d, int(p)): i for i, (d, p) in enumerate(zip(table.document, table.passage, strict=True))}
    at = np.array([row_of[(d, int(p))] for d, p in zip(items.document, items.passage, strict=True)])

    def labels(margin: float, decision: float, weight: float, window: int) -> np.ndarray[Any, Any]:
        mapper = emap.mapper
        mapper.margin, mapper.decision_context = margin, decision
        mapper.context_weight, mapper.context_window = weight, window
        return emap.labels()[at]

    predicted = {settings: labels(*settings) for settings in GRID}
    held_out = np.empty(len(items), dtype=object)
    chosen = []
    documents = items.document.to_numpy()
    for document in dict.fromkeys(documents):
        train = documents != document

        def fit(settings: tuple[float, float, float, int], train: np.ndarray[Any, Any] = train) -> float:
            return float(_headline(items[train].assign(side=predicted[settings][train]), sides)["macro_f1"])

        best = max(GRID, key=fit)
        chosen.append(best)
        held_out[~train] = predicted[best][~train]

    def show(name: str, side: np.ndarray[Any, Any]) -> None:
        figures = _headline(items.assign(side=side), sides)
        print(f"{name:<52}" + "  ".join(f"{k} {v:.3f}" for k, v in figures.items()))

    show("no context (margin 0.1)", predicted[(0.1, 0.0, 0.0, 2)])
    show("context for the side only (margin 0.3)", predicted[(0.3, 0.0, 1.0, 3)])
    show("defaults (margin 0.35, decision 1.5, side 1.0, x 3)", predicted[(0.35, 1.5, 1.0, 3)])
    show("leave-one-document-out", held_out)
    counts = {s: chosen.count(s) for s in dict.fromkeys(chosen)}
    print("settings chosen (margin, decision context, side context, window): documents")
    for settings, n in counts.items():
        print(f"  {settings}: {n}")


if __name__ == "__main__":
    main()
