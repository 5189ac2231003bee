"""govcompare: compare governance positions encoded as YAML principle sets against a corpus.

The public API is imported lazily, so that ``govcompare validate`` does not pay for pandas and
scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Analysis": "govcompare.pipeline",
    "Corpus": "govcompare.corpus",
    "CorpusError": "govcompare.errors",
    "Dimension": "govcompare.models",
    "DimensionSet": "govcompare.models",
    "Document": "govcompare.models",
    "EvaluationError": "govcompare.errors",
    "EvidenceMap": "govcompare.mapping",
    "EvidenceMapper": "govcompare.mapping",
    "Framework": "govcompare.models",
    "FrameworkError": "govcompare.errors",
    "FrameworkSet": "govcompare.frameworks",
    "GovCompareError": "govcompare.errors",
    "InputRecord": "govcompare.models",
    "MappingError": "govcompare.errors",
    "Passage": "govcompare.models",
    "Principle": "govcompare.models",
    "ReportError": "govcompare.errors",
    "Segmenter": "govcompare.passages",
    "Settings": "govcompare.pipeline",
    "Silence": "govcompare.models",
    "Source": "govcompare.models",
    "SourceRef": "govcompare.models",
    "analyze": "govcompare.pipeline",
    "evaluate": "govcompare.evaluation",
    "load_frameworks": "govcompare.frameworks",
    "parse_dimensions": "govcompare.frameworks",
    "parse_framework": "govcompare.frameworks",
    "parse_gold": "govcompare.evaluation",
    "read_corpus": "govcompare.corpus",
    "run": "govcompare.pipeline",
    "split_passages": "govcompare.passages",
    "write_report": "govcompare.report.write",
}

__all__ = [
    "Analysis",
    "Corpus",
    "CorpusError",
    "Dimension",
    "DimensionSet",
    "Document",
    "EvaluationError",
    "EvidenceMap",
    "EvidenceMapper",
    "Framework",
    "FrameworkError",
    "FrameworkSet",
    "GovCompareError",
    "InputRecord",
    "MappingError",
    "Passage",
    "Principle",
    "ReportError",
    "Segmenter",
    "Settings",
    "Silence",
    "Source",
    "SourceRef",
    "analyze",
    "evaluate",
    "load_frameworks",
    "parse_dimensions",
    "parse_framework",
    "parse_gold",
    "read_corpus",
    "run",
    "split_passages",
    "write_report",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'govcompare' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:
    from govcompare.corpus import Corpus, read_corpus
    from govcompare.errors import (
        CorpusError,
        EvaluationError,
        FrameworkError,
        GovCompareError,
        MappingError,
        ReportError,
    )
    from govcompare.evaluation import evaluate, parse_gold
    from govcompare.frameworks import FrameworkSet, load_frameworks, parse_dimensions, parse_framework
    from govcompare.mapping import EvidenceMap, EvidenceMapper
    from govcompare.models import (
        Dimension,
        DimensionSet,
        Document,
        Framework,
        InputRecord,
        Passage,
        Principle,
        Silence,
        Source,
        SourceRef,
    )
    from govcompare.passages import Segmenter, split_passages
    from govcompare.pipeline import Analysis, Settings, analyze, run
    from govcompare.report.write import write_report
