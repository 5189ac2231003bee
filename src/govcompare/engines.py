"""Where the corpus is read, cut into passages and counted: here, on every core, or on a Dask cluster.

    ingested = ingest("corpus/", engine=Engine("parallel"), cache=Cache(folder))
    ingested.corpus, ingested.passages, ingested.counts    # -> EvidenceMapper().fit(passages, counts)

The work is the same function on every engine: a part (a run of consecutive files, in id order) is
read, its documents cut into passages and their terms counted under 64-bit keys
(:mod:`govcompare.features`), so parts counted apart need no shared vocabulary. The parts come back in
order; duplicates are then found across all documents, and their passages dropped, exactly as on one
core. Merging the parts' counts sums the document frequencies by key. So every engine gives the same
corpus record, passages, counts and therefore the same tables (tests compare them).

- ``local``: one part, in this process.
- ``parallel``: one part per core, in forked processes (:func:`govcompare.parallel.fork_map`).
- ``dask``: parts of about 32 MB (at least two per worker) on a Dask cluster: the scheduler at
  ``--scheduler ADDRESS``, or a local cluster of two worker processes started for the run. Workers
  read the files themselves, so on a real cluster the corpus must be on storage every worker sees
  at the same path (and so must the cache folder, or each worker keeps its own).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from govcompare.cache import Cache
from govcompare.corpus import Corpus, CorpusPlan, Limits, plan_corpus, read_file
from govcompare.errors import CorpusError
from govcompare.features import KeyedCounts
from govcompare.models import Document, InputRecord, Passage
from govcompare.parallel import cores, fork_map, split_evenly
from govcompare.passages import Segmenter

__all__ = ["ENGINES", "Engine", "Ingested", "ingest"]

EngineName = Literal["local", "parallel", "dask"]
ENGINES: tuple[EngineName, ...] = ("local", "parallel", "dask")
_DASK_PART_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Engine:
    """Which engine runs the work, and for Dask, which scheduler (``None``: a local cluster)."""

    name: EngineName = "local"
    scheduler: str | None = None
    workers: int = 2  # workers of the local Dask cluster

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise CorpusError(f"unknown engine {self.name!r}: choose one of {', '.join(ENGINES)}")
        if self.scheduler is not None and self.name != "dask":
            raise CorpusError("--scheduler only applies to --engine dask")

    @property
    def n_jobs(self) -> int:
        """Cores the rest of the run (matching, bootstrap) may use."""
        return 1 if self.name == "local" else cores()


@dataclass(frozen=True)
class Ingested:
    """A corpus read, cut into passages and counted: what ``EvidenceMapper.fit`` needs."""

    corpus: Corpus
    passages: list[Passage]
    counts: list[KeyedCounts]


@dataclass(frozen=True)
class _Part:
    """One part's work: files with their manifest metadata, and the settings that shape the result."""

    files: list[Any]  # corpus._Found
    fields: list[dict[str, str]]
    limits: Limits
    segmenter: Segmenter
    cache_folder: Path | None


@dataclass(frozen=True)
class _PartResult:
    reads: list[tuple[InputRecord, Document | None]]
    passages: list[Passage]
    counts: KeyedCounts | None  # rows follow ``passages``; None when the part has none


def _run_part(part: _Part, progress: Callable[[int], None] | None = None) -> _PartResult:
    """Read, cut and count one part (runs in this process, a forked one, or on a Dask worker)."""
    cache = Cache(part.cache_folder) if part.cache_folder is not None else None
    reads = []
    documents: list[tuple[Document, list[tuple[int, int]], KeyedCounts | None]] = []
    for done, (item, fields) in enumerate(zip(part.files, part.fields, strict=True), start=1):
        record, document = read_file(item, part.limits, fields, cache)
        reads.append((record, document))
        if document is not None:
            cached = cache.load_counts(document.sha256, part.segmenter) if cache is not None else None
            if cached is None:
                documents.append((document, part.segmenter.spans(document.text), None))
            else:
                documents.append((document, *cached))
        if progress is not None:
            progress(done)
    passages = [p for document, spans, _ in documents for p in part.segmenter.passages(document, spans)]
    fresh = [i for i, (_, spans, counts) in enumerate(documents) if counts is None and spans]
    if len(fresh) == len(documents):  # nothing cached: count the whole part at once
        counted = KeyedCounts.count([p.text for p in passages]) if passages else None
        if cache is not None and counted is not None:
            _save_per_document(cache, part.segmenter, documents, counted)
        return _PartResult(reads, passages, counted)
    texts = [document.text[s:e] for i in fresh for document, spans, _ in [documents[i]] for s, e in spans]
    counted = KeyedCounts.count(texts) if texts else None
    per_document: list[KeyedCounts] = []
    row = 0
    for _, spans, counts in documents:
        if counts is None and spans and counted is not None:
            counts = counted.rows(range(row, row + len(spans)))
            row += len(spans)
        if counts is not None and counts.n_texts:
            per_document.append(counts)
    if cache is not None and counted is not None:
        _save_per_document(cache, part.segmenter, [documents[i] for i in fresh], counted)
    return _PartResult(reads, passages, KeyedCounts.concat(per_document) if per_document else None)


def _save_per_document(
    cache: Cache,
    segmenter: Segmenter,
    documents: Sequence[tuple[Document, list[tuple[int, int]], KeyedCounts | None]],
    counted: KeyedCounts,
) -> None:
    row = 0
    for document, spans, _ in documents:
        cache.save_counts(document.sha256, segmenter, (spans, counted.rows(range(row, row + len(spans)))))
        row += len(spans)


def ingest(
    paths: str | Path | Sequence[str | Path],
    *,
    limits: Limits | None = None,
    segmenter: Segmenter | None = None,
    strict: bool = False,
    engine: Engine | None = None,
    cache: Cache | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Ingested:
    """Read, cut and count a corpus on ``engine``; see the module docstring."""
    limits, segmenter, engine = limits or Limits(), segmenter or Segmenter(), engine or Engine()
    plan = plan_corpus(paths, limits)
    files = plan.files
    folder = cache.folder if cache is not None else None
    sizes = [_size(f.path) for f in files]

    def part(start: int, stop: int) -> _Part:
        return _Part(
            files[start:stop], [plan.fields(f) for f in files[start:stop]], limits, segmenter, folder
        )

    results: list[_PartResult]
    if engine.name == "local" or len(files) < 2:
        report = None if progress is None else (lambda done: progress(done, len(files)))
        results = [_run_part(part(0, len(files)), report)]
    elif engine.name == "parallel":
        results = fork_map(lambda a, b: _run_part(part(a, b)), split_evenly(sizes, cores()))
        if progress is not None:
            progress(len(files), len(files))
    else:
        results = _on_dask(engine, [part(a, b) for a, b in _dask_bounds(sizes, engine)], len(files), progress)
    return _assemble(plan, results, strict)


def _size(path: Path) -> int:
    try:
        return max(1, path.stat().st_size)
    except OSError:
        return 1


def _assemble(plan: CorpusPlan, results: Sequence[_PartResult], strict: bool) -> Ingested:
    """The corpus of all parts (duplicates found across them), and the passages and counts it keeps."""
    corpus = plan.assemble([r for result in results for r in result.reads], strict=strict)
    kept = {document.id for document in corpus.documents}
    passages: list[Passage] = []
    counts: list[KeyedCounts] = []
    for result in results:
        rows = [i for i, p in enumerate(result.passages) if p.document in kept]
        if not rows or result.counts is None:
            continue
        passages.extend(result.passages[i] for i in rows)
        counts.append(result.counts if len(rows) == len(result.passages) else result.counts.rows(rows))
    return Ingested(corpus, passages, counts)


# --- Dask -------------------------------------------------------------------------------------------


def _dask_bounds(sizes: Sequence[int], engine: Engine) -> list[tuple[int, int]]:
    parts = max(2 * engine.workers, sum(sizes) // _DASK_PART_BYTES + 1)
    return split_evenly(sizes, min(parts, len(sizes)))


@contextlib.contextmanager
def _client(engine: Engine) -> Iterator[Any]:
    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError:
        raise CorpusError(
            "--engine dask needs Dask: pip install 'govcompare[dask]' (or dask[distributed])"
        ) from None
    if engine.scheduler is not None:
        try:
            client = distributed.Client(engine.scheduler, timeout="5s")
        except (OSError, TimeoutError) as exc:
            raise CorpusError(
                f"--scheduler {engine.scheduler}: cannot reach the Dask scheduler ({exc}); "
                "check the address (tcp://HOST:8786) and that it is running"
            ) from None
        with client:
            yield client
        return
    with (
        distributed.LocalCluster(
            n_workers=engine.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _on_dask(
    engine: Engine, parts: list[_Part], n_files: int, progress: Callable[[int, int], None] | None
) -> list[_PartResult]:
    as_completed: Any = importlib.import_module("distributed").as_completed
    with _client(engine) as client:
        futures = client.map(_run_part, parts, pure=False)
        done = 0
        for future in as_completed(futures):
            if future.status == "error":
                break  # gathered below, in order, so the first error in file order is raised
            done += len(parts[futures.index(future)].files)
            if progress is not None:
                progress(done, n_files)
        results: list[_PartResult] = client.gather(futures)
    return results
