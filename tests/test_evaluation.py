from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from govcompare.errors import EvaluationError
from govcompare.evaluation import _headline, evaluate, locate, parse_gold
from govcompare.pipeline import run

GOLD = Path(__file__).parent / "data" / "gold"
SIDES = ["cn-shared-future", "us-multistakeholder"]

# The floor the mapping reached on the gold set (see README, Quality); a regression below it fails.
FLOOR = {"side_macro_f1": 0.92, "dimension_top1": 0.73, "neutral_recall": 0.57}


def test_locate_ignores_case_spacing_and_punctuation() -> None:
    text = "Intro.\n\nThe Internet should be OPEN,\nfree and multi-\nstakeholder."
    start, end = locate("the internet should be open, free and multistakeholder", text)
    assert text[start:end] == "The Internet should be OPEN,\nfree and multi-\nstakeholder"
    assert locate("not in the text at all", text) is None


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("a,b\n1,2\n", "header must have document,quote,side"),
        ("document,side\n", "no gold labels"),
        ("document,quote,side\nx.txt,short,neutral\n", ":2: quote is shorter than 20 characters"),
        ("document,side\n,neutral\n", ":2: document and side must not be empty"),
        ("document,side\nx.txt,neutral,extra\n", ":2: more fields than the header"),
    ],
)
def test_bad_gold_files(csv: str, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        parse_gold(csv, source="gold.csv")


def test_headline_figures_by_hand() -> None:
    items = pd.DataFrame(
        {
            "gold_side": [
                "cn-shared-future",
                "cn-shared-future",
                "us-multistakeholder",
                "neutral",
                "neutral",
            ],
            "side": ["cn-shared-future", "neutral", "us-multistakeholder", "neutral", "cn-shared-future"],
            "gold_dimension": ["sovereignty", "sovereignty", "governance-model", "", ""],
            "dimension": ["sovereignty", "data-governance", "governance-model", "x", "y"],
        }
    )
    figures = _headline(items, SIDES)
    # cn: tp 1, fn 1 -> F1 2/3 (predicted neutral counts as a miss); us: F1 1
    assert figures["side_macro_f1"] == pytest.approx((2 / 3 + 1) / 2)
    assert figures["dimension_top1"] == pytest.approx(2 / 3)
    assert figures["neutral_recall"] == pytest.approx(0.5)


def test_unknown_side_in_gold_is_an_error() -> None:
    result = run("frameworks", "seeds")
    gold = parse_gold("document,side\n000_56e5f92a99458bca.txt,china\n")
    with pytest.raises(EvaluationError, match="side 'china' is not one of"):
        evaluate(result, gold)


def test_gold_set_is_large_enough_and_well_formed() -> None:
    gold = parse_gold((GOLD / "passages.csv").read_text(encoding="utf-8"), source="passages.csv")
    assert len(gold) >= 150
    assert set(gold.side) == {*SIDES, "neutral"}
    assert gold.document.nunique() == 11


def test_quality_floor_on_the_gold_set(shared_corpus: Path) -> None:
    result = run("frameworks", [shared_corpus, Path("seeds")])
    gold = parse_gold((GOLD / "passages.csv").read_text(encoding="utf-8"), source="passages.csv")
    evaluation = evaluate(result, gold, n_bootstrap=200)
    assert evaluation.summary["items"] == len(gold)
    for key, floor in FLOOR.items():
        assert evaluation.summary[key] >= floor, (key, evaluation.summary[key])
    documents = parse_gold((GOLD / "documents.csv").read_text(encoding="utf-8"), source="documents.csv")
    by_document = evaluate(result, documents, n_bootstrap=100)
    assert by_document.kind == "documents"
    assert by_document.summary["items"] == 11
