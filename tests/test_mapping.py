from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from govcompare import features, mapping
from govcompare.errors import MappingError
from govcompare.features import FeatureSpace, KeyedCounts, l2_normalize
from govcompare.frameworks import load_frameworks
from govcompare.mapping import NEUTRAL, EvidenceMapper
from govcompare.models import Passage
from govcompare.tokens import analyze

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


def _corpus() -> list[Passage]:
    extra = [
        "Multi-stakeholder governance of the Internet, with civil society and the technical community.",
        "网络主权，尊重各国自主选择网络发展道路。",
        "the of and 1 2 3",
    ]
    return passages() + [Passage("z.txt", i, 0, len(t), t) for i, t in enumerate(extra, start=1)]


def test_fit_is_what_tfidf_vectorizer_gives() -> None:
    """The same weights as scikit-learn's, columns named by key instead of sorted by term."""
    corpus = _corpus()
    mapper = EvidenceMapper().fit(corpus)
    reference = TfidfVectorizer(analyzer=analyze, sublinear_tf=True, dtype=np.float32)
    expected = reference.fit_transform([p.text for p in corpus])
    terms = mapper.space_.terms(range(len(mapper.space_.keys)))
    assert sorted(terms) == reference.get_feature_names_out().tolist()
    order = [reference.vocabulary_[term] for term in terms]
    assert np.allclose(mapper.matrix_.toarray(), expected.toarray()[:, order], rtol=1e-6, atol=0)
    assert np.allclose(mapper.space_.idf, reference.idf_[order], rtol=1e-6, atol=0)
    queries = ["cyber sovereignty", "free flow of data"]
    assert np.allclose(
        mapper.space_.transform(queries).toarray(),
        reference.transform(queries).toarray()[:, order],
        rtol=1e-6,
    )
    counts = CountVectorizer(analyzer=analyze).fit_transform([p.text for p in corpus]).toarray()
    assert np.array_equal(mapper.counts_.toarray(), counts[:, order])


def test_fit_does_not_depend_on_how_the_counts_were_split() -> None:
    corpus = _corpus()
    whole = EvidenceMapper().fit(corpus)
    parts = [KeyedCounts.count([p.text for p in corpus[a:b]]) for a, b in [(0, 2), (2, 3), (3, len(corpus))]]
    split = EvidenceMapper().fit(corpus, counts=parts)
    assert np.array_equal(whole.space_.keys, split.space_.keys)
    assert np.array_equal(whole.space_.df, split.space_.df)
    assert (whole.counts_ != split.counts_).nnz == 0
    assert np.array_equal(whole.matrix_.toarray(), split.matrix_.toarray())
    merged = FeatureSpace.merge([FeatureSpace.of(part) for part in parts])  # as Dask's client merges
    for name in ("keys", "df", "pairs"):
        assert np.array_equal(getattr(merged, name), getattr(whole.space_, name))
    assert merged.words == whole.space_.words and merged.n_texts == whole.space_.n_texts


def test_weighing_in_blocks_of_rows_gives_the_same_floats(monkeypatch: pytest.MonkeyPatch) -> None:
    from govcompare import features

    corpus = _corpus()
    counts = KeyedCounts.count([p.text for p in corpus] + ["", "the of"])  # empty rows too
    space = FeatureSpace.of(counts)
    whole = space.weigh(counts)
    monkeypatch.setattr(features, "_BLOCK_ENTRIES", 3)
    blocked = space.weigh(counts)
    assert len(features._blocks(counts.matrix.indptr)) > 3
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(blocked, name), getattr(whole, name))


def test_counts_that_do_not_match_the_passages_are_refused() -> None:
    corpus = _corpus()
    with pytest.raises(MappingError, match="one row per passage"):
        EvidenceMapper().fit(corpus, counts=[KeyedCounts.count(["cyber sovereignty"])])


def test_passages_without_terms_are_a_mapping_error() -> None:
    with pytest.raises(MappingError, match="no terms"):
        EvidenceMapper().fit([Passage("a.txt", 1, 0, 10, "the of and")])


def test_queries_and_scores_are_the_unbatched_floats(monkeypatch: pytest.MonkeyPatch) -> None:
    fs = load_frameworks(Path(__file__).parents[1] / "frameworks")  # the bundled ones: opposite terms too
    mapper = EvidenceMapper().fit(_corpus())
    principles = [p for _, p in fs.principles()]

    def component(pieces: list[str]) -> sp.csr_matrix:  # the straightforward way: a dense sum per group
        if not pieces:
            return sp.csr_matrix((1, mapper.matrix_.shape[1]), dtype=np.float32)
        rows = mapper.space_.transform(list(pieces))
        return sp.csr_matrix(l2_normalize(sp.csr_matrix(rows.sum(axis=0))), dtype=np.float32)

    w = mapper.weights
    expected = sp.vstack(
        [
            sp.csr_matrix(
                l2_normalize(
                    w.key_terms * component(p.key_terms)
                    + w.exemplars * component(p.exemplars)
                    + w.statement * component([f"{p.title}. {p.statement}"])
                ),
                dtype=np.float32,
            )
            for p in principles
        ]
    ).tocsr()
    opposite = sp.vstack([component(p.opposite_terms) for p in principles]).tocsr()
    queries, got_opposite = mapper.queries(principles)
    assert opposite.nnz and mapper.opposite_penalty  # the subtraction is exercised
    for got, want in ((queries, expected), (got_opposite, opposite)):
        for name in ("data", "indices", "indptr"):
            assert np.array_equal(getattr(got, name), getattr(want, name))
    combined = expected - np.float32(mapper.opposite_penalty) * opposite  # a score is linear in the query
    scores = np.asarray((mapper.matrix_ @ combined.T).todense())
    assert scores.dtype == np.float32
    np.clip(scores, 0.0, None, out=scores)
    monkeypatch.setattr(mapping, "_BLOCK", 2)  # several blocks, scored on two threads
    assert np.array_equal(mapper.match(fs).scores, scores)
    apart = np.asarray((mapper.matrix_ @ expected.T).todense(), dtype=np.float64)
    apart -= mapper.opposite_penalty * np.asarray((mapper.matrix_ @ opposite.T).todense())
    assert np.allclose(scores, np.clip(apart, 0.0, None), rtol=1e-5, atol=1e-7)  # the two products


@pytest.mark.parametrize("seed", range(10))
def test_weighted_sampler_draws_distinct_indices_of_positive_weight(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 5000))
    df = np.maximum(np.rint(rng.pareto(1.0, size) * 3), 1.0)
    df[rng.integers(0, size, size=size // 10)] = 0.0  # terms that may not be drawn
    sampler = mapping._WeightedSampler(df / df.sum())
    for k in rng.integers(0, min(sampler.positive, 300) + 1, size=5):
        drawn = sampler.choice(rng, int(k))
        assert len(drawn) == k == len(set(drawn.tolist()))
        assert (df[drawn] > 0).all()


def test_weighted_sampler_follows_successive_sampling() -> None:
    """P(first = i) = p_i; P(second = j | first = i) = p_j / (1 - p_i): checked on 40,000 draws of 2 of 3."""
    p = np.array([0.6, 0.3, 0.1])
    sampler = mapping._WeightedSampler(np.concatenate([p, np.full(3, 1e-12)]) / (1 + 3e-12))
    rng = np.random.default_rng(0)
    pairs = collections.Counter(tuple(sampler.choice(rng, 2).tolist()) for _ in range(40_000))
    for (i, j), count in pairs.items():
        if max(i, j) < 3:
            expected = p[i] * p[j] / (1 - p[i])
            assert abs(count / 40_000 - expected) < 0.01, (i, j)


def _map_with_scores(documents: list[str], scores: list[list[float]], **params: float) -> mapping.EvidenceMap:
    """An evidence map over passages of ``documents`` whose framework scores are ``scores``."""
    fs = load_frameworks([FRAMEWORKS / "good_minimal.yaml", FRAMEWORKS / "good_second.yaml"])
    corpus = [Passage(doc, i, 0, 9, "cyber sovereignty") for i, doc in enumerate(documents, start=1)]
    params = {"min_score": 0.1, **params}
    emap = EvidenceMapper(**params).fit(corpus).match(fs)  # type: ignore[arg-type]
    emap._framework_scores = np.array(scores, dtype=np.float32)
    return emap


def test_context_decides_the_side_and_without_decision_context_own_scores_decide_whether() -> None:
    own = {"decision_context": 0.0, "margin": 0.3}
    documents = ["a", "a", "a", "a", "b"]
    scores = [
        [0.05, 0.60],  # strongly the second framework
        [0.20, 0.12],  # clear on its own (margin 0.08 >= 0.3 x 0.20), a little for the first
        [0.05, 0.60],
        [0.05, 0.06],  # over the threshold (0.1)? no: best 0.06; neutral whatever its neighbours say
        [0.20, 0.12],  # alone in its document: its own scores decide
    ]
    emap = _map_with_scores(documents, scores, **own)
    assert list(emap.labels()) == ["test-b", "test-b", "test-b", NEUTRAL, "test-a"]
    scores[3] = [0.30, 0.28]  # over the threshold but under the margin: still neutral
    assert list(_map_with_scores(documents, scores, **own).labels()) == [
        "test-b",
        "test-b",
        "test-b",
        NEUTRAL,
        "test-a",
    ]
    alone = _map_with_scores(documents, scores, context_weight=0.0, **own)
    assert list(alone.labels()) == ["test-b", "test-a", "test-b", NEUTRAL, "test-a"]
    far = [[0.2, 0.12], [0.01, 0.0], [0.01, 0.0], [0.05, 0.9], [0.2, 0.1]]  # the strong one is 3 away
    assert _map_with_scores(documents, far, context_window=2, **own).labels()[0] == "test-a"
    assert _map_with_scores(documents, far, context_window=3, **own).labels()[0] == "test-b"


def test_decision_context_lets_neighbours_decide_whether_a_passage_takes_a_side() -> None:
    documents = ["a", "a", "a", "b", "b"]
    scores = [
        [0.02, 0.40],
        [0.03, 0.08],  # under the threshold (0.1) alone; with its neighbours (0.02, 0.40) twice: over it
        [0.02, 0.40],
        [0.30, 0.02],  # clear alone; with its only neighbour (0.01): (0.30 + 1.5 x 0.01) / 2.5 = 0.126
        [0.01, 0.01],  # next to it, little of its own: (0.01 + 1.5 x 0.30) / 2.5 = 0.184 takes its side
    ]
    alone = _map_with_scores(documents, scores, decision_context=0.0, context_weight=0.0)
    assert list(alone.labels()) == ["test-b", NEUTRAL, "test-b", "test-a", NEUTRAL]
    mixed = _map_with_scores(documents, scores, decision_context=1.5, context_weight=0.0)
    # passage 2: (0.08 + 1.5 x 0.40) / 2.5 = 0.272 >= 0.1 and the margin holds; passage 4: 0.126, clear
    assert list(mixed.labels()) == ["test-b", "test-b", "test-b", "test-a", "test-a"]
    scores[4] = [0.0, 0.0]  # nothing of its own: neutral, whatever its neighbours say
    assert _map_with_scores(documents, scores, decision_context=1.5).labels()[4] == NEUTRAL
    strict = _map_with_scores(documents, scores, decision_context=1.5, context_weight=0.0, min_score=0.2)
    assert list(strict.labels())[3] == NEUTRAL
    # a passage with no neighbours is tested on its own scores, not diluted by a mix with nothing
    single = _map_with_scores(["x", "y"], [[0.3, 0.1], [0.05, 0.06]], decision_context=5.0)
    assert list(single.labels()) == ["test-a", NEUTRAL]


def test_bad_context_parameters() -> None:
    with pytest.raises(MappingError, match="context_weight must be at least 0"):
        EvidenceMapper(context_weight=-1).fit(passages())
    with pytest.raises(MappingError, match="context_window must be at least 0"):
        EvidenceMapper(context_window=-1).fit(passages())
    with pytest.raises(MappingError, match="decision_context must be at least 0"):
        EvidenceMapper(decision_context=-0.5).fit(passages())


def test_a_document_whose_only_evidence_is_on_one_side_leans_that_way_however_little_there_is() -> None:
    """Resamples that draw none of the document's attributed passages have no index: left out, not 0."""
    documents = ["thin"] * 6 + ["none"] * 3
    scores = [[0.30, 0.05]] + [[0.02, 0.01]] * 5 + [[0.02, 0.01]] * 3
    table = _map_with_scores(documents, scores, context_weight=0.0).documents().set_index("document")
    assert table.loc["thin", "leaning"] == "test-a"
    assert (table.loc["thin", "ci_low"], table.loc["thin", "ci_high"]) == (-1.0, -1.0)
    assert table.loc["none", "leaning"] == "mixed"
    assert (table.loc["none", "ci_low"], table.loc["none", "ci_high"]) == (0.0, 0.0)


@pytest.mark.parametrize(("n", "attributed"), [(200, 5), (200, 20), (40, 12)])
def test_leaning_interval_is_the_plain_bootstrap_of_the_passages(n: int, attributed: int) -> None:
    """Drawing only the weighed passages (a binomial number of them) is the bootstrap of all passages:
    its interval matches one made by resampling every passage, up to the resampling noise."""
    rng = np.random.default_rng(7)
    w = np.zeros((n, 2))
    sides = np.arange(attributed) % 2  # evidence on both sides
    w[rng.choice(n, attributed, replace=False), sides] = rng.uniform(0.1, 0.6, attributed)
    resamples = 20_000
    emap = _map_with_scores(["a"], [[0.0, 0.0]], n_bootstrap=resamples)
    _, low, high = emap._leaning(w, "a")
    draws = rng.integers(0, n, size=(resamples, n))
    sums_a, sums_b = w[draws, 0].sum(axis=1), w[draws, 1].sum(axis=1)
    some = sums_a + sums_b > 0
    plain = (sums_b[some] - sums_a[some]) / (sums_a[some] + sums_b[some])
    expected_low, expected_high = np.quantile(plain, [0.025, 0.975])
    assert low == pytest.approx(expected_low, abs=0.03) and high == pytest.approx(expected_high, abs=0.03)


def test_concat_taking_merges_the_parts_and_lets_each_go_once_copied() -> None:
    import gc
    import weakref

    texts = [p.text for p in _corpus()]
    whole = KeyedCounts.count(texts)
    parts = [KeyedCounts.count(texts[a:b]) for a, b in [(0, 3), (3, 5), (5, len(texts))]]
    watched = [weakref.ref(part.matrix) for part in parts]
    merged = KeyedCounts.concat_taking(parts)
    gc.collect()
    assert parts == [] and all(ref() is None for ref in watched)
    assert np.array_equal(merged.keys, whole.keys) and np.array_equal(merged.pairs, whole.pairs)
    assert (merged.matrix != whole.matrix).nnz == 0 and merged.words == whole.words


@pytest.mark.parametrize("rows", [[0], [1, 2, 5], [0, 2, 4, 6, 7], list(range(8))])
def test_taking_rows_of_counts_is_counting_those_texts(rows: list[int]) -> None:
    texts = [p.text for p in _corpus()]
    taken = KeyedCounts.count(texts).take(np.array(rows))
    alone = KeyedCounts.count([texts[i] for i in rows])
    assert np.array_equal(taken.keys, alone.keys) and np.array_equal(taken.pairs, alone.pairs)
    assert (taken.matrix != alone.matrix).nnz == 0 and taken.matrix.shape == alone.matrix.shape
    named = {k for k in taken.pairs.ravel().tolist() if k}
    assert set(taken.words) == named and taken.words.items() <= alone.words.items()


@pytest.mark.parametrize("rows", [[0], [1, 2, 5], [0, 2, 4, 6, 7], [0, 1, 2, 4, 5, 6, 7], list(range(8))])
def test_taking_rows_in_place_gives_the_same_counts_without_a_copy(
    rows: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(features, "_BLOCK_ENTRIES", 7)  # entries moved a few at a time, runs overlapping
    texts = [p.text for p in _corpus()]
    expected = KeyedCounts.count(texts).take(np.array(rows))
    counts = KeyedCounts.count(texts)
    data = counts.matrix.data
    taken = counts.take(np.array(rows), consume=True)
    if 2 * taken.matrix.nnz >= len(data):  # (SciPy copies a view of under half its array, to free it)
        assert np.shares_memory(taken.matrix.data, data)  # the original's arrays, reused
    assert np.array_equal(taken.keys, expected.keys) and np.array_equal(taken.pairs, expected.pairs)
    assert taken.matrix.shape == expected.matrix.shape and (taken.matrix != expected.matrix).nnz == 0
    assert np.array_equal(taken.matrix.indptr, expected.matrix.indptr) and taken.words == expected.words


def test_group_max_is_the_maximum_over_each_group_of_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mapping, "_BLOCK", 3)  # blocks of rows, on two threads
    scores = np.random.default_rng(3).random((10, 5), dtype=np.float32)
    groups = [np.array([1, 0, 1, 0, 0], bool), np.array([0, 1, 0, 1, 1], bool), np.zeros(5, bool)]
    got = mapping._group_max(scores, groups)
    assert got.dtype == np.float32 and got.shape == (10, 3)
    assert np.array_equal(got[:, 0], scores[:, [0, 2]].max(axis=1))
    assert np.array_equal(got[:, 1], scores[:, [1, 3, 4]].max(axis=1))
    assert not got[:, 2].any()  # a framework without principles scores 0


def test_dimension_summary_counts_each_frameworks_passages_per_dimension(shared_corpus: Path) -> None:
    from govcompare.pipeline import run

    result = run("frameworks", [shared_corpus, "seeds"])
    table, summary = result.passage_table, result.dimensions
    assert len(summary) == len(result.frameworks.dimensions.dimensions) * len(result.frameworks.ids)
    for row in summary.itertuples():
        expected = int(((table.label == row.framework) & (table.top_dimension == row.dimension)).sum())
        assert row.passages == expected
    assert summary.passages.sum() == int((table.label != "neutral").sum())
