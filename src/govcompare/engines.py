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

import numpy as np

from govcompare.cache import Cache
from govcompare.corpus import Corpus, CorpusPlan, Limits, plan_corpus, read_file, shingles_of
from govcompare.errors import CorpusError
from govcompare.features import KeyedCounts
from govcompare.models import Document, InputRecord, Passage
from govcompare.parallel import cores, fork_map, split_evenly
from govcompare.passages import Segmenter
from govcompare.tokens import WordStream, count_terms_and_words

__all__ = ["ENGINES", "Engine", "Ingested", "ingest"]

EngineName = Literal["local", "parallel", "dask"]
ENGINES: tuple[EngineName, ...] = ("local", "parallel", "dask")
_DASK_PART_BYTES = 32 * 1024 * 1024
_RUN_DOCUMENTS = 32  # documents per cached run, on average


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
    shingles: dict[str, np.ndarray[Any, Any]]  # each document's shingle set, for near-duplicates


@dataclass
class _Run:
    """Consecutive documents whose spans, shingles and counts are cached together."""

    documents: list[Document]
    spans: list[list[tuple[int, int]]] | None = None  # None: not cut yet
    shingles: list[np.ndarray[Any, Any]] | None = None
    counts: KeyedCounts | None = None

    @property
    def digests(self) -> list[str]:
        return [d.sha256 for d in self.documents]


def _runs(documents: list[Document]) -> list[_Run]:
    """Documents in runs whose ends depend only on the documents' own text hashes (a run ends after a
    document whose hash is 0 modulo ``_RUN_DOCUMENTS``, or at ``4 * _RUN_DOCUMENTS``): editing, adding
    or removing one document changes only the run it is in, so the other runs' cache entries still match.
    """
    runs: list[_Run] = []
    current: list[Document] = []
    for document in documents:
        current.append(document)
        if int(document.sha256[:8], 16) % _RUN_DOCUMENTS == 0 or len(current) >= 4 * _RUN_DOCUMENTS:
            runs.append(_Run(current))
            current = []
    if current:
        runs.append(_Run(current))
    return runs


def _run_part(part: _Part, progress: Callable[[int], None] | None = None) -> _PartResult:
    """Read, cut and count one part (runs in this process, a forked one, or on a Dask worker).

    With a cache, runs of documents (see :func:`_runs`) are looked up by their text hashes; the
    documents of the runs not found there are cut and counted together, and their counts split by run
    to be kept.
    """
    cache = Cache(part.cache_folder) if part.cache_folder is not None else None
    reads = []
    for done, (item, fields) in enumerate(zip(part.files, part.fields, strict=True), start=1):
        reads.append(read_file(item, part.limits, fields, cache))
        if progress is not None:
            progress(done)
    documents = [document for _, document in reads if document is not None]
    runs = _runs(documents) if cache is not None else [_Run(documents)]
    for run in runs:
        cached = cache.load_counts(run.digests, part.segmenter) if cache is not None else None
        if cached is not None:
            run.spans, run.shingles, run.counts = cached
    fresh = [run for run in runs if run.spans is None]
    _cut_and_count(fresh, part.segmenter)
    if cache is not None:
        for run in fresh:
            assert run.spans is not None and run.shingles is not None
            cache.save_counts(run.digests, part.segmenter, (run.spans, run.shingles, run.counts))
    passages = [
        p
        for run in runs
        for document, spans in zip(run.documents, run.spans or [], strict=True)
        for p in part.segmenter.passages(document, spans)
    ]
    pieces = [run.counts for run in runs if run.counts is not None and run.counts.n_texts]
    shingles = {
        document.id: found
        for run in runs
        for document, found in zip(run.documents, run.shingles or [], strict=True)
    }
    return _PartResult(reads, passages, KeyedCounts.concat(pieces) if pieces else None, shingles)


def _cut_and_count(runs: list[_Run], segmenter: Segmenter) -> None:
    """Cut the runs' documents into passages and count them, in one scan that also gives the shingles
    (the passages of a document cover all its words, in order)."""
    documents = [d for run in runs for d in run.documents]
    spans = [segmenter.spans(d.text) for d in documents]
    texts = [d.text[s:e] for d, found in zip(documents, spans, strict=True) for s, e in found]
    terms, words = count_terms_and_words(texts)
    spans_per_doc = np.fromiter(map(len, spans), dtype=np.int64, count=len(spans))
    of_doc = np.repeat(np.arange(len(documents)), spans_per_doc)
    per_doc = np.bincount(of_doc, weights=words.lengths, minlength=len(documents)).astype(np.int64)
    shingles = shingles_of(WordStream(words.keys, per_doc))
    counted = KeyedCounts.of(terms) if texts else None
    first_doc = first_row = 0
    for run in runs:
        last_doc = first_doc + len(run.documents)
        rows = int(spans_per_doc[first_doc:last_doc].sum())
        run.spans, run.shingles = spans[first_doc:last_doc], shingles[first_doc:last_doc]
        if counted is not None and rows:
            whole = len(runs) == 1
            run.counts = counted if whole else counted.rows(first_row, first_row + rows)
        first_doc, first_row = last_doc, first_row + rows


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
    shingles = {k: v for result in results for k, v in result.shingles.items()}
    corpus = plan.assemble([r for result in results for r in result.reads], strict=strict, shingles=shingles)
    kept = {document.id for document in corpus.documents}
    passages: list[Passage] = []
    counts: list[KeyedCounts] = []
    for result in results:
        rows = [i for i, p in enumerate(result.passages) if p.document in kept]
        if not rows or result.counts is None:
            continue
        passages.extend(result.passages[i] for i in rows)
        if len(rows) == len(result.passages):
            counts.append(result.counts)
        else:  # drop the passages of duplicates: keep each run of consecutive kept rows
            cuts = [i + 1 for i in range(len(rows) - 1) if rows[i + 1] != rows[i] + 1]
            runs = zip([0, *cuts], [*cuts, len(rows)], strict=True)
            counts.extend(result.counts.rows(rows[a], rows[b - 1] + 1) for a, b in runs)
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
