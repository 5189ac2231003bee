"""One call from inputs to a result: frameworks + corpus -> passages -> evidence map -> tables.

``analyze`` works on objects; ``run`` loads the inputs from paths first. Neither prints nor writes.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from govcompare import analysis
from govcompare.cache import Cache
from govcompare.corpus import Corpus, Limits
from govcompare.engines import Engine, Ingested, ingest, session
from govcompare.frameworks import FrameworkSet, load_frameworks
from govcompare.mapping import EvidenceMap, EvidenceMapper
from govcompare.models import Passage
from govcompare.passages import Segmenter, split_passages

__all__ = ["Analysis", "Settings", "analyze", "read_and_count", "run"]

DOCUMENT_COLUMNS = ["document", "title", "date", "actor", "passages"]


@dataclass(frozen=True)
class Settings:
    """Every parameter of a run; recorded in run.json."""

    top_k: int = 5
    min_score: float | None = None
    margin: float = 0.35
    segmenter: Segmenter = field(default_factory=Segmenter)
    limits: Limits = field(default_factory=Limits)
    strict: bool = False
    n_bootstrap: int = 1000
    random_state: int = 0
    # How the work is run, not what it computes: the results are the same, so these are not recorded.
    engine: Engine = field(default_factory=Engine)
    cache: Path | None = None  # a cache folder (see govcompare.cache), or none

    def mapper(self) -> EvidenceMapper:
        return EvidenceMapper(
            top_k=self.top_k,
            min_score=self.min_score,
            margin=self.margin,
            n_bootstrap=self.n_bootstrap,
            random_state=self.random_state,
            n_jobs=self.engine.n_jobs,
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["engine"], out["cache"]
        out["mapper"] = self.mapper().get_params()
        return out


@dataclass(frozen=True)
class Analysis:
    """The result of a run: inputs, the evidence map, and every table derived from it."""

    frameworks: FrameworkSet
    corpus: Corpus
    passages: list[Passage]
    emap: EvidenceMap
    settings: Settings

    @cached_property
    def evidence(self) -> pd.DataFrame:
        return self.emap.evidence()

    @cached_property
    def passage_table(self) -> pd.DataFrame:
        return self.emap.passages()

    @cached_property
    def documents(self) -> pd.DataFrame:
        """Document leaning with metadata, columns as documented in the README."""
        leaning = self.emap.documents()
        meta = pd.DataFrame(
            [
                {"document": d.id, "title": d.title, "date": d.date or "", "actor": d.actor or ""}
                for d in self.corpus.documents
            ],
            columns=["document", "title", "date", "actor"],
        )
        frame = meta.merge(leaning, on="document", how="inner")
        score_columns = [c for c in frame.columns if c.startswith("score:")]
        rest = ["leaning", "leaning_index", "ci_low", "ci_high", "top_principle", "top_dimension"]
        return frame[DOCUMENT_COLUMNS + score_columns + rest]

    @cached_property
    def coverage(self) -> pd.DataFrame:
        return analysis.coverage(self.emap)

    @cached_property
    def dimensions(self) -> pd.DataFrame:
        return analysis.dimension_summary(self.emap, self.coverage, self.passage_table)

    @cached_property
    def contrast(self) -> pd.DataFrame:
        return analysis.contrast(self.emap, self.evidence)

    @cached_property
    def keyness(self) -> pd.DataFrame:
        return analysis.keyness(self.emap)

    @cached_property
    def crosswalk(self) -> pd.DataFrame:
        return analysis.crosswalk(self.emap)

    @cached_property
    def divergence(self) -> pd.DataFrame:
        return analysis.divergence(self.emap, self.crosswalk)

    @cached_property
    def principle_document(self) -> pd.DataFrame:
        return analysis.principle_document(self.emap)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every export, by the file stem it is written under in ``data/``."""
        return {
            "documents": self.documents,
            "passages": self.passage_table,
            "evidence": self.evidence,
            "coverage": self.coverage,
            "dimensions": self.dimensions,
            "contrast": self.contrast,
            "divergence": self.divergence,
            "keyness": self.keyness,
            "crosswalk": self.crosswalk,
            "principle_document": self.principle_document,
            "inputs": self.corpus.records_frame(),
        }

    def record(self) -> dict[str, Any]:
        """The run record without a timestamp: inputs with hashes, frameworks, parameters, versions."""
        return {
            "govcompare": _version("govcompare"),
            "inputs": [{k: v for k, v in asdict(r).items() if v is not None} for r in self.corpus.records],
            "corpus": {"root": self.corpus.root, "summary": self.corpus.summary()},
            "frameworks": [
                {"id": fw.id, "version": fw.version, "path": path, "sha256": _sha256(Path(path))}
                for fw, path in zip(self.frameworks.frameworks, self.frameworks.paths, strict=False)
            ],
            "parameters": {**self.settings.as_dict(), "threshold": round(self.emap.threshold, 6)},
            "passages": len(self.passages),
            "versions": {
                "python": platform.python_version(),
                **{
                    name: _version(name)
                    for name in ("numpy", "pandas", "scikit-learn", "scipy", "matplotlib", "weasyprint")
                },
            },
        }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def analyze(frameworks: FrameworkSet, corpus: Corpus, settings: Settings | None = None) -> Analysis:
    """Map the frameworks onto the corpus and derive the comparison tables."""
    settings = settings or Settings()
    passages = split_passages(corpus.documents, settings.segmenter)
    mapper = settings.mapper().fit(passages)
    return Analysis(frameworks, corpus, passages, mapper.match(frameworks), settings)


def read_and_count(
    corpus: str | Path | Sequence[str | Path],
    settings: Settings | None = None,
    progress: Callable[[int, int], None] | None = None,
    client: Any = None,
) -> Ingested:
    """Read, cut and count a corpus with the limits, engine and cache of ``settings`` (on Dask, in the
    ``client``'s :func:`~govcompare.engines.session` if given, the counts then kept on the workers)."""
    settings = settings or Settings()
    return ingest(
        corpus,
        client=client,
        limits=settings.limits,
        segmenter=settings.segmenter,
        strict=settings.strict,
        engine=settings.engine,
        cache=Cache(settings.cache) if settings.cache is not None else None,
        progress=progress,
    )


def run(
    frameworks: str | Path | Sequence[str | Path] = "frameworks",
    corpus: str | Path | Sequence[str | Path] = "seeds",
    settings: Settings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Analysis:
    """Load frameworks and corpus from paths, and analyse them as :func:`analyze` does.

    The corpus is read, cut and counted on ``settings.engine``, with ``settings.cache`` if given.
    """
    settings = settings or Settings()
    framework_set = load_frameworks(frameworks)
    with session(settings.engine) as client:  # on Dask, counting, weighing and scoring stay on the workers
        ingested = read_and_count(corpus, settings, progress, client)
        mapper = settings.mapper().fit(ingested.passages, ingested.counts)
        emap = mapper.match(framework_set)
    return Analysis(framework_set, ingested.corpus, ingested.passages, emap, settings)
