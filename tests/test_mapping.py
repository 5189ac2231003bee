from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from govcompare.errors import MappingError
from govcompare.frameworks import load_frameworks
from govcompare.mapping import NEUTRAL, EvidenceMapper
from govcompare.models import Passage

FRAMEWORKS = Path(__file__).parent / "data" / "frameworks"

TEXTS = [
    (
        "cn.txt",
        "We uphold cyber sovereignty and non-interference in internal affairs; jurisdiction belongs to each state.",
    ),
    ("cn.txt", "Every country may choose its own path of internet governance under cyber sovereignty."),
    ("us.txt", "The weather in the capital was mild and the meeting started on time with coffee."),
    ("us.txt", "Participants discussed the agenda and the schedule for the next plenary session."),
    ("x.txt", "Trains leave the station every hour; tickets are sold at the counter near the entrance."),
]


def passages() -> list[Passage]:
    return [Passage(doc, i, 0, len(t), t) for i, (doc, t) in enumerate(TEXTS, start=1)]


def test_not_fitted_and_bad_parameters() -> None:
    fs = load_frameworks(FRAMEWORKS / "good_minimal.yaml")
    with pytest.raises(MappingError, match="not fitted"):
        EvidenceMapper().match(fs)
    with pytest.raises(MappingError, match="no passages"):
        EvidenceMapper().fit([])
    with pytest.raises(MappingError, match="top_k must be at least 1"):
        EvidenceMapper(top_k=0).fit(passages())
    with pytest.raises(MappingError, match="min_score must be between 0 and 1"):
        EvidenceMapper(min_score=1.5).fit(passages())


def test_evidence_is_ranked_and_explained() -> None:
    fs = load_frameworks(FRAMEWORKS / "good_minimal.yaml")
    emap = EvidenceMapper().fit(passages()).match(fs)
    evidence = emap.evidence()
    assert list(evidence.document) == ["cn.txt", "cn.txt"]
    assert list(evidence["rank"]) == [1, 2]
    assert evidence.score.is_monotonic_decreasing
    assert "sovereignty" in evidence.iloc[0].terms.split("; ")
    assert "cyber sovereignty" in evidence.key_terms.str.cat(sep="; ")
    assert 0 < emap.threshold < evidence.score.min()


def test_unrelated_passages_are_neutral_and_documents_lean() -> None:
    fs = load_frameworks([FRAMEWORKS / "good_minimal.yaml", FRAMEWORKS / "good_second.yaml"])
    emap = EvidenceMapper().fit(passages()).match(fs)
    labels = emap.labels()
    assert list(labels[2:]) == [NEUTRAL, NEUTRAL, NEUTRAL]
    docs = emap.documents().set_index("document")
    # test-a and test-b are identical frameworks: nothing can separate them, so every document is mixed
    assert set(docs.leaning) == {"mixed"}
    assert (docs.ci_low <= docs.ci_high).all()


def test_min_score_override_and_determinism() -> None:
    fs = load_frameworks(FRAMEWORKS / "good_minimal.yaml")
    a = EvidenceMapper(min_score=0.0, top_k=3).fit(passages()).match(fs)
    b = EvidenceMapper(min_score=0.0, top_k=3).fit(passages()).match(fs)
    assert a.threshold == 0.0
    assert len(a.evidence()) == 3
    assert a.evidence().equals(b.evidence())
    assert np.array_equal(a.scores, b.scores)
