from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
# A copy of ../shared/corpus: the nine source documents (see tests/data/SHARED-CORPUS.md).
CORPUS = DATA / "shared-corpus"


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def shared_corpus() -> Path:
    return CORPUS


@pytest.fixture(autouse=True)
def _in_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands default to frameworks/ and seeds/ relative to the working folder."""
    monkeypatch.chdir(ROOT)


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test's commands cache in a fresh folder of their own, never in the user's cache."""
    monkeypatch.setenv("GOVCOMPARE_CACHE", str(tmp_path_factory.mktemp("cache")))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from this run")
