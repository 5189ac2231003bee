"""Every engine gives the same tables; the cache gives them faster and is never trusted blindly."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from govcompare import cache as cache_module
from govcompare import corpus as corpus_module
from govcompare import engines
from govcompare.cli import app
from govcompare.engines import DaskRows, Engine
from govcompare.errors import MappingError
from govcompare.pipeline import Analysis, Settings, run
from govcompare.readers import READERS


def _tables(analysis: Analysis) -> dict[str, pd.DataFrame]:
    return {**analysis.tables(), "threshold": pd.DataFrame({"t": [analysis.emap.threshold]})}


def _assert_same(got: Analysis, want: Analysis) -> None:
    for name, table in _tables(want).items():
        pd.testing.assert_frame_equal(_tables(got)[name], table, check_exact=False, rtol=1e-6, obj=name)


@pytest.fixture(scope="module")
def corpora(request: pytest.FixtureRequest) -> dict[str, list[Path]]:
    shared = Path(__file__).resolve().parent / "data" / "shared-corpus"  # copy of ../shared/corpus
    return {"seeds": [Path("seeds")], "shared": [shared, Path("seeds")]}


@pytest.fixture(scope="module")
def local(corpora: dict[str, list[Path]]) -> dict[str, Analysis]:
    return {name: run("frameworks", paths, Settings()) for name, paths in corpora.items()}


@pytest.mark.parametrize("corpus", ["seeds", "shared"])
def test_parallel_engine_gives_the_local_tables(
    corpus: str, corpora: dict[str, list[Path]], local: dict[str, Analysis]
) -> None:
    _assert_same(run("frameworks", corpora[corpus], Settings(engine=Engine("parallel"))), local[corpus])


@pytest.mark.parametrize("corpus", ["seeds", "shared"])
def test_dask_engine_on_a_two_worker_cluster_gives_the_local_tables(
    corpus: str, corpora: dict[str, list[Path]], local: dict[str, Analysis]
) -> None:
    pytest.importorskip("distributed")
    got = run("frameworks", corpora[corpus], Settings(engine=Engine("dask", workers=2)))
    _assert_same(got, local[corpus])
    assert [r.status for r in got.corpus.records] == [r.status for r in local[corpus].corpus.records]


def test_dask_engine_with_an_unreachable_scheduler_is_a_one_line_error() -> None:
    pytest.importorskip("distributed")
    result = CliRunner().invoke(
        app, ["score", "seeds", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9", "--no-cache"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --scheduler tcp://127.0.0.1:9: cannot reach the Dask scheduler")
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


class _Calls:
    """Counts the files the readers really read."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[int] = []
        for suffix, reader in list(READERS.items()):
            monkeypatch.setitem(READERS, suffix, self._counting(reader))

    def _counting(self, reader: object) -> object:
        def read(data: bytes, limits: object) -> object:
            self.paths.append(len(data))
            return reader(data, limits)  # type: ignore[operator]

        return read


class _Counted:
    """Counts the passages really cut and counted (the work the cache saves)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.passages: list[int] = []
        real = engines.count_terms_and_words

        def counting(texts: list[str]) -> object:
            self.passages.append(len(texts))
            return real(texts)

        monkeypatch.setattr(engines, "count_terms_and_words", counting)


def _many_documents(folder: Path, n: int = 120) -> list[Path]:
    """``n`` small documents of the seeds' paragraphs, each with its own mix."""
    paragraphs = [p for f in sorted(Path("seeds").glob("*.txt")) for p in f.read_text().split("\n\n") if p]
    folder.mkdir()
    paths = []
    for i in range(n):
        path = folder / f"doc{i:03d}.txt"
        picked = random.Random(i).sample(paragraphs, 4)
        path.write_text(f"Document {i}\n\n" + "\n\n".join(picked), encoding="utf-8")
        paths.append(path)
    return paths


def test_cache_rerun_counts_only_the_changed_documents_run_and_gives_the_same_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = _many_documents(tmp_path / "corpus")
    settings = Settings(cache=tmp_path / "cache")
    counted = _Counted(monkeypatch)
    checks: list[int] = []  # near-duplicate checks run, by number of documents
    real_check = corpus_module.near_duplicate_sets
    monkeypatch.setattr(
        corpus_module, "near_duplicate_sets", lambda sets: checks.append(len(sets)) or real_check(sets)
    )
    cold = run("frameworks", tmp_path / "corpus", settings)
    total = sum(counted.passages)
    assert total >= len(cold.emap.mapper.passages_) > 0
    assert cold.corpus.summary()["duplicate"] > 0  # (a few documents are near-duplicates)
    assert 1 < len(list((tmp_path / "cache").rglob("*.pkl"))) < len(documents)  # runs, not documents
    warm = run("frameworks", tmp_path / "corpus", settings)
    assert sum(counted.passages) == total and len(checks) == 1  # nothing counted or checked again
    _assert_same(warm, cold)

    documents[60].write_text(documents[60].read_text() + "\n\nCyber sovereignty matters.\n")
    again = run("frameworks", tmp_path / "corpus", settings)
    recounted = sum(counted.passages) - total
    assert 0 < recounted < total / 2  # the changed document's run only
    assert len(checks) == 2  # a changed document: near-duplicates found again
    _assert_same(again, run("frameworks", tmp_path / "corpus", Settings()))


def test_cache_keeps_the_text_of_formats_slow_to_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("good_page.html", "good_plain.txt"):
        shutil.copy(Path(__file__).parent / "data" / "corpus" / name, corpus / name)
    settings = Settings(cache=tmp_path / "cache")
    calls = _Calls(monkeypatch)
    cold = run("frameworks", corpus, settings)
    assert len(calls.paths) == 2
    _assert_same(run("frameworks", corpus, settings), cold)
    assert len(calls.paths) == 3  # the plain text read again (cheaper than an entry), the HTML not


def test_cache_entries_from_other_code_or_damaged_ones_are_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _many_documents(tmp_path / "corpus", 40)
    settings = Settings(cache=tmp_path / "cache")
    counted = _Counted(monkeypatch)
    first = run("frameworks", tmp_path / "corpus", settings)
    total = sum(counted.passages)
    for entry in (tmp_path / "cache").rglob("*.pkl"):
        entry.write_bytes(entry.read_bytes()[:10])  # truncated
    _assert_same(run("frameworks", tmp_path / "corpus", settings), first)
    assert sum(counted.passages) == 2 * total  # counted again, not trusted

    monkeypatch.setattr(cache_module, "_code_fingerprint", lambda: "another version")
    _assert_same(run("frameworks", tmp_path / "corpus", settings), first)
    assert sum(counted.passages) == 3 * total


def test_other_passage_sizes_do_not_use_the_cached_counts(tmp_path: Path) -> None:
    from govcompare.passages import Segmenter

    folder = tmp_path / "cache"
    run("frameworks", "seeds", Settings(cache=folder))
    other = Settings(cache=folder, segmenter=Segmenter(min_chars=200, target_chars=700, max_chars=1200))
    got = run("frameworks", "seeds", other)
    _assert_same(got, run("frameworks", "seeds", Settings(segmenter=other.segmenter)))


def test_cli_caches_in_the_folder_given_and_not_with_no_cache(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["score", "seeds", "--cache", str(tmp_path / "c"), "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    assert list((tmp_path / "c").rglob("*.pkl"))
    again = runner.invoke(app, ["score", "seeds", "--no-cache", "--format", "csv", "--engine", "parallel"])
    assert again.exit_code == 0, again.stderr
    assert again.stdout == result.stdout


def test_dask_engine_keeps_the_passage_rows_on_the_workers() -> None:
    """Weighing and scoring run per part on the workers; the client holds scores and a few rows."""
    pytest.importorskip("distributed")
    got = run("frameworks", "seeds", Settings(engine=Engine("dask", workers=2)))
    mapper = got.emap.mapper
    assert isinstance(mapper.rows_, DaskRows)
    with pytest.raises(MappingError, match="on the Dask workers, not in this process"):
        _ = mapper.matrix_
    shown = got.emap.evidence()  # explained from rows fetched while the cluster ran
    assert len(shown) and shown["terms"].str.len().gt(0).all()
    with pytest.raises(MappingError, match="the Dask cluster of this run has closed"):
        got.emap.evidence(top_k=len(mapper.passages_), min_score=0.0)


def test_counting_in_small_batches_gives_the_same_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _many_documents(tmp_path / "corpus", 40)
    whole = run("frameworks", tmp_path / "corpus", Settings())
    monkeypatch.setattr(engines, "_BATCH_CHARS", 2_000)  # about one run per batch
    counted = _Counted(monkeypatch)
    _assert_same(run("frameworks", tmp_path / "corpus", Settings()), whole)
    assert len(counted.passages) > 1
