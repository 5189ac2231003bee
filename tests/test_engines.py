"""Every engine gives the same tables; the cache gives them faster and is never trusted blindly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from govcompare import cache as cache_module
from govcompare.cli import app
from govcompare.engines import Engine
from govcompare.pipeline import Analysis, Settings, run
from govcompare.readers import READERS


def _tables(analysis: Analysis) -> dict[str, pd.DataFrame]:
    return {**analysis.tables(), "threshold": pd.DataFrame({"t": [analysis.emap.threshold]})}


def _assert_same(got: Analysis, want: Analysis) -> None:
    for name, table in _tables(want).items():
        pd.testing.assert_frame_equal(_tables(got)[name], table, check_exact=False, rtol=1e-6, obj=name)


@pytest.fixture(scope="module")
def corpora(request: pytest.FixtureRequest) -> dict[str, list[Path]]:
    shared = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    out = {"seeds": [Path("seeds")]}
    if shared.is_dir():
        out["shared"] = [shared, Path("seeds")]
    return out


@pytest.fixture(scope="module")
def local(corpora: dict[str, list[Path]]) -> dict[str, Analysis]:
    return {name: run("frameworks", paths, Settings()) for name, paths in corpora.items()}


@pytest.mark.parametrize("corpus", ["seeds", "shared"])
def test_parallel_engine_gives_the_local_tables(
    corpus: str, corpora: dict[str, list[Path]], local: dict[str, Analysis]
) -> None:
    if corpus not in corpora:
        pytest.skip("../shared/corpus is not next to this checkout")
    _assert_same(run("frameworks", corpora[corpus], Settings(engine=Engine("parallel"))), local[corpus])


@pytest.mark.parametrize("corpus", ["seeds", "shared"])
def test_dask_engine_on_a_two_worker_cluster_gives_the_local_tables(
    corpus: str, corpora: dict[str, list[Path]], local: dict[str, Analysis]
) -> None:
    pytest.importorskip("distributed")
    if corpus not in corpora:
        pytest.skip("../shared/corpus is not next to this checkout")
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


def test_cache_rerun_reads_only_the_changed_file_and_gives_the_same_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree("seeds", corpus)
    settings = Settings(cache=tmp_path / "cache")
    calls = _Calls(monkeypatch)
    cold = run("frameworks", corpus, settings)
    assert len(calls.paths) == 2
    assert list((tmp_path / "cache").rglob("*.pkl"))
    warm = run("frameworks", corpus, settings)
    assert len(calls.paths) == 2  # nothing read again
    _assert_same(warm, cold)

    changed = sorted(corpus.glob("*.txt"))[0]
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\n\nCyber sovereignty matters.\n", encoding="utf-8"
    )
    again = run("frameworks", corpus, settings)
    assert len(calls.paths) == 3  # only the changed file
    _assert_same(again, run("frameworks", corpus, Settings()))


def test_cache_entries_from_other_code_or_damaged_ones_are_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(cache=tmp_path / "cache")
    calls = _Calls(monkeypatch)
    first = run("frameworks", "seeds", settings)
    for entry in (tmp_path / "cache").rglob("*.pkl"):
        entry.write_bytes(entry.read_bytes()[:10])  # truncated
    _assert_same(run("frameworks", "seeds", settings), first)
    assert len(calls.paths) == 4  # read again, not trusted

    monkeypatch.setattr(cache_module, "_code_fingerprint", lambda: "another version")
    _assert_same(run("frameworks", "seeds", settings), first)
    assert len(calls.paths) == 6


def test_other_passage_sizes_do_not_use_the_cached_counts(tmp_path: Path) -> None:
    from govcompare.passages import Segmenter

    folder = tmp_path / "cache"
    run("frameworks", "seeds", Settings(cache=folder))
    small = Settings(cache=folder, segmenter=Segmenter(min_chars=100, target_chars=300, max_chars=500))
    got = run("frameworks", "seeds", small)
    _assert_same(got, run("frameworks", "seeds", Settings(segmenter=small.segmenter)))


def test_cli_caches_in_the_folder_given_and_not_with_no_cache(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["score", "seeds", "--cache", str(tmp_path / "c"), "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    assert list((tmp_path / "c").rglob("*.pkl"))
    again = runner.invoke(app, ["score", "seeds", "--no-cache", "--format", "csv", "--engine", "parallel"])
    assert again.exit_code == 0, again.stderr
    assert again.stdout == result.stdout
