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

On Dask, within a :func:`session` (as ``pipeline.run`` opens one), the counts stay on the workers:
``ingested.counts`` is then a :class:`DaskCounts`, from which the mapper gets the merged feature space
and :class:`DaskRows`, the TF-IDF rows weighed and scored part by part where they are.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import itertools
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from govcompare.cache import Cache
from govcompare.corpus import Corpus, CorpusPlan, Limits, plan_corpus, read_file, shingles_of
from govcompare.errors import CorpusError, MappingError
from govcompare.features import FeatureSpace, KeyedCounts
from govcompare.heap import release_free_memory
from govcompare.mapping import LocalRows
from govcompare.models import Document, InputRecord, Passage
from govcompare.parallel import cores, fork_map, split_evenly
from govcompare.passages import Segmenter
from govcompare.tokens import WordStream, count_terms_and_words

__all__ = ["ENGINES", "DaskCounts", "DaskRows", "Engine", "Ingested", "ingest", "session"]

EngineName = Literal["local", "parallel", "dask"]
ENGINES: tuple[EngineName, ...] = ("local", "parallel", "dask")
_DASK_PART_BYTES = 32 * 1024 * 1024
_RUN_DOCUMENTS = 32  # documents per cached run, on average
_BATCH_CHARS = 16_000_000  # text cut and counted at a time


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
    counts: list[KeyedCounts] | DaskCounts  # DaskCounts: kept on the workers of a session


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
    """A part's files read, and each document's passage spans, shingles and term counts.

    Passages are made from the spans only for the documents kept once duplicates are found across
    all parts (:func:`_assemble`): until then a million passages are 16 MB of spans, not 0.3 GB of
    objects.
    """

    reads: list[tuple[InputRecord, Document | None]]
    spans: list[np.ndarray[Any, Any]]  # per document read, in order: its passages' (start, end), n x 2
    counts: KeyedCounts | None  # rows follow the spans in order; None when the part has none
    shingles: dict[str, np.ndarray[Any, Any]]  # each document's shingle set, for near-duplicates

    def rows(self, kept: set[str]) -> list[tuple[Document, np.ndarray[Any, Any], range]]:
        """The documents in ``kept``, with their spans and rows of the counts."""
        out = []
        at = 0
        documents = [document for _, document in self.reads if document is not None]
        for document, spans in zip(documents, self.spans, strict=True):
            if document.id in kept:
                out.append((document, spans, range(at, at + len(spans))))
            at += len(spans)
        return out


@dataclass
class _Run:
    """Consecutive documents whose spans, shingles and counts are cached together."""

    documents: list[Document]
    spans: list[np.ndarray[Any, Any]] | None = None  # per document, n x 2; None: not cut yet
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
    runs = _runs([document for _, document in reads if document is not None])
    for run in runs:
        cached = cache.load_counts(run.digests, part.segmenter) if cache is not None else None
        if cached is not None:
            run.spans, run.shingles, run.counts = cached
    fresh = [run for run in runs if run.spans is None]
    # Cut and count in batches of runs, so the scan's temporary arrays stay small on a large part.
    counted = [_cut_and_count(batch, part.segmenter, split=cache is not None) for batch in _batches(fresh)]
    if cache is not None:
        for run in fresh:
            assert run.spans is not None and run.shingles is not None
            cache.save_counts(run.digests, part.segmenter, (run.spans, run.shingles, run.counts))
    spans = [found for run in runs for found in run.spans or []]
    if len(fresh) == len(runs):  # all counted now: the batches' counts, not the runs' again
        pieces = [found for found in counted if found is not None]
    else:
        pieces = [run.counts for run in runs if run.counts is not None and run.counts.n_texts]
    del counted  # each batch's counts freed as it is merged (unless the runs keep them for the cache)
    release_free_memory()
    counts = KeyedCounts.concat_taking(pieces) if pieces else None
    shingles = {
        document.id: found
        for run in runs
        for document, found in zip(run.documents, run.shingles or [], strict=True)
    }
    return _PartResult(reads, spans, counts, shingles)


def _batches(runs: list[_Run]) -> list[list[_Run]]:
    """Consecutive runs in batches of about ``_BATCH_CHARS`` characters of text."""
    batches: list[list[_Run]] = []
    size = 0
    for run in runs:
        if not batches or size >= _BATCH_CHARS:
            batches.append([])
            size = 0
        batches[-1].append(run)
        size += sum(len(d.text) for d in run.documents)
    return batches


def _cut_and_count(runs: list[_Run], segmenter: Segmenter, split: bool) -> KeyedCounts | None:
    """Cut the runs' documents into passages and count them, in one scan that also gives the shingles
    (the passages of a document cover all its words, in order). With ``split``, each run gets its share
    of the counts (to be cached); the counts of all of them are returned (``None`` without passages)."""
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
        run.spans = [np.array(found, dtype=np.int64).reshape(-1, 2) for found in spans[first_doc:last_doc]]
        run.shingles = shingles[first_doc:last_doc]
        if split and counted is not None and rows:
            run.counts = counted if len(runs) == 1 else counted.rows(first_row, first_row + rows)
        first_doc, first_row = last_doc, first_row + rows
    return counted


def ingest(
    paths: str | Path | Sequence[str | Path],
    *,
    limits: Limits | None = None,
    segmenter: Segmenter | None = None,
    strict: bool = False,
    engine: Engine | None = None,
    cache: Cache | None = None,
    progress: Callable[[int, int], None] | None = None,
    client: Any = None,
) -> Ingested:
    """Read, cut and count a corpus on ``engine``; see the module docstring.

    With the Dask ``client`` of a :func:`session`, the counts stay on the workers
    (:class:`DaskCounts`) for the mapping to weigh and score there; without one, they are gathered.
    """
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
    elif client is not None:
        parts = [part(a, b) for a, b in _dask_bounds(sizes, engine)]
        return _on_workers(client, plan, parts, strict, len(files), progress, cache)
    else:
        with _client(engine) as own:
            parts = [part(a, b) for a, b in _dask_bounds(sizes, engine)]
            results = own.gather(_submit(own, parts, len(files), progress))
    ingested = _assemble(plan, results, strict, segmenter, cache)
    del results
    release_free_memory()  # what reading and counting freed, before the mapping weighs the counts
    return ingested


def _size(path: Path) -> int:
    try:
        return max(1, path.stat().st_size)
    except OSError:
        return 1


def _assemble(
    plan: CorpusPlan,
    results: Sequence[_PartResult],
    strict: bool,
    segmenter: Segmenter,
    cache: Cache | None,
) -> Ingested:
    """The corpus of all parts (duplicates found across them), and the passages and counts it keeps."""
    shingles = {k: v for result in results for k, v in result.shingles.items()}
    reads = [r for result in results for r in result.reads]
    corpus = plan.assemble(reads, strict=strict, shingles=shingles, cache=cache, shingled_by=repr(segmenter))
    del shingles  # done with (a million passages' shingles are 0.4 GB): freed before the counts are cut
    for result in results:
        result.shingles.clear()
    kept = {document.id for document in corpus.documents}
    passages: list[Passage] = []
    counts: list[KeyedCounts] = []
    for result in results:
        rows: list[int] = []
        for document, spans, at in result.rows(kept):
            passages.extend(segmenter.passages(document, spans))
            rows.extend(at)
        found = _kept_counts(result.counts, rows, consume=True)  # the part's result is ours alone
        if found is not None:
            counts.append(found)
    return Ingested(corpus, passages, counts)


def _kept_counts(counts: KeyedCounts | None, rows: list[int], consume: bool) -> KeyedCounts | None:
    """The counts of ``rows`` (ascending): the passages of duplicates dropped; with ``consume``, in
    ``counts``' own arrays (when nothing else will read them)."""
    if not rows or counts is None:
        return None
    if len(rows) == counts.n_texts:
        return counts
    return counts.take(np.array(rows, dtype=np.intp), consume=consume)


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


def _submit(
    client: Any, parts: list[_Part], n_files: int, progress: Callable[[int, int], None] | None
) -> list[Any]:
    """Start every part on the cluster; report progress as parts finish; the futures, in order."""
    as_completed: Any = importlib.import_module("distributed").as_completed
    futures: list[Any] = client.map(_run_part, parts, pure=False)
    done = 0
    for future in as_completed(futures):
        if future.status == "error":
            break  # gathered in order, so the first error in file order is raised
        done += len(parts[futures.index(future)].files)
        if progress is not None:
            progress(done, n_files)
    return futures


def _on_workers(
    client: Any,
    plan: CorpusPlan,
    parts: list[_Part],
    strict: bool,
    n_files: int,
    progress: Callable[[int, int], None] | None,
    cache: Cache | None,
) -> Ingested:
    """The corpus and passages here; each part's counts (duplicates' rows dropped) kept on its worker."""
    futures = _submit(client, parts, n_files, progress)
    light: list[_PartResult] = client.gather(client.map(_without_counts, futures, pure=False))
    ingested = _assemble(plan, light, strict, parts[0].segmenter, cache)
    kept = {document.id for document in ingested.corpus.documents}
    rows = [[i for _, _, at in result.rows(kept) for i in at] for result in light]
    counts = client.map(_kept_part, futures, rows, pure=False)
    return Ingested(ingested.corpus, ingested.passages, DaskCounts(client, counts, [len(r) for r in rows]))


def _without_counts(result: _PartResult) -> _PartResult:
    return dataclasses.replace(result, counts=None)


def _kept_part(result: _PartResult, rows: list[int]) -> KeyedCounts | None:
    return _kept_counts(result.counts, rows, consume=False)  # Dask may hand the result to another task


@contextlib.contextmanager
def session(engine: Engine) -> Iterator[Any]:
    """The Dask client a whole run shares (ingest, weighing, scoring), or ``None`` on other engines."""
    if engine.name != "dask":
        yield None
        return
    with _client(engine) as client:
        yield client


@dataclass
class DaskCounts:
    """Parts' term counts on the Dask workers (:class:`govcompare.mapping.DistributedCounts`)."""

    client: Any
    parts: list[Any]  # futures: KeyedCounts | None, rows following the passages in order
    sizes: list[int]  # passages per part

    @property
    def n_texts(self) -> int:
        return sum(self.sizes)

    def space(self) -> FeatureSpace:
        """Each part's keys and document frequencies, merged here (no counts leave the workers)."""
        spaces = self.client.gather(self.client.map(_space_of, self.parts, pure=False))
        return FeatureSpace.merge([found for found in spaces if found is not None])

    def rows(self, space: FeatureSpace) -> DaskRows:
        """Each part weighed by TF-IDF on its worker, in ``space``'s columns."""
        shared = self.client.scatter(space, broadcast=True)
        parts = self.client.map(_weigh_part, self.parts, space=shared, pure=False)
        return DaskRows(self.client, parts, self.sizes)


def _space_of(counts: KeyedCounts | None) -> FeatureSpace | None:
    return FeatureSpace.of(counts) if counts is not None else None


def _weigh_part(counts: KeyedCounts | None, space: FeatureSpace) -> LocalRows | None:
    if counts is None:
        return None
    raw = counts.in_space(space)
    return LocalRows(space.weigh(raw), raw)


@dataclass
class DaskRows:
    """TF-IDF rows in parts on the workers (:class:`govcompare.mapping.PassageRows`): each request runs
    per part, and only its answer comes back: scores, chance scores, the rows asked for, summed counts."""

    client: Any
    parts: list[Any]  # futures: LocalRows | None
    sizes: list[int]

    @property
    def n_rows(self) -> int:
        return sum(self.sizes)

    def _each(self, function: Callable[..., Any], *per_part: Sequence[Any], **shared: Any) -> list[Any]:
        """``function(part, *arguments, **shared)`` on every part with rows, gathered in order."""
        if self.client.status != "running":
            raise MappingError(
                "the Dask cluster of this run has closed: ask for everything within the run "
                "(for more evidence rows, re-run with a larger --top-k)"
            )
        used = [i for i, size in enumerate(self.sizes) if size]
        # Shared arguments go to the workers once, wrapped: Dask would take a bare dict for keys.
        sent = self.client.scatter(_Shared(shared), broadcast=True)
        futures = self.client.map(
            _call,
            [function] * len(used),
            [self.parts[i] for i in used],
            [sent] * len(used),
            *[[a[i] for i in used] for a in per_part],
            pure=False,
        )
        return list(self.client.gather(futures))

    def _local(self, indices: np.ndarray[Any, Any]) -> list[np.ndarray[Any, Any]]:
        """Global row numbers -> each part's own row numbers (parts in order)."""
        bounds = np.cumsum([0, *self.sizes])
        return [indices[(indices >= a) & (indices < b)] - a for a, b in itertools.pairwise(bounds)]

    def scores(
        self, queries: sp.csr_matrix, opposite: sp.csr_matrix, penalty: float
    ) -> np.ndarray[Any, np.dtype[np.float32]]:
        blocks = self._each(_part_scores, queries=queries, opposite=opposite, penalty=penalty)
        return np.vstack(blocks) if blocks else np.zeros((0, queries.shape[0]), dtype=np.float32)

    def chance(self, null: sp.csr_matrix, sample: np.ndarray[Any, Any] | None) -> np.ndarray[Any, Any]:
        local = self._local(np.arange(self.n_rows) if sample is None else np.asarray(sample))
        return np.concatenate([np.zeros(0), *self._each(_part_chance, local, null=null)])

    def rows(self, indices: np.ndarray[Any, Any]) -> sp.csr_matrix:
        indices = np.asarray(indices, dtype=np.intp)
        order = np.argsort(indices, kind="stable")
        found = sp.vstack(self._each(_part_rows, self._local(indices[order]))).tocsr()
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        return found[back]

    def framework_counts(
        self, labels: np.ndarray[Any, Any], framework_ids: Sequence[str]
    ) -> dict[str, np.ndarray[Any, np.dtype[np.int64]]]:
        bounds = np.cumsum([0, *self.sizes])
        slices = [labels[a:b] for a, b in itertools.pairwise(bounds)]
        parts = self._each(_part_counts, slices, framework_ids=list(framework_ids))
        return {fid: np.sum([part[fid] for part in parts], axis=0, dtype=np.int64) for fid in framework_ids}


@dataclass(frozen=True)
class _Shared:
    values: dict[str, Any]


def _call(function: Callable[..., Any], part: Any, shared: _Shared, *arguments: Any) -> Any:
    return function(part, *arguments, **shared.values)


def _part_scores(
    rows: LocalRows, queries: sp.csr_matrix, opposite: sp.csr_matrix, penalty: float
) -> np.ndarray[Any, Any]:
    return rows.scores(queries, opposite, penalty)


def _part_chance(rows: LocalRows, sample: np.ndarray[Any, Any], null: sp.csr_matrix) -> np.ndarray[Any, Any]:
    return rows.chance(null, sample)


def _part_rows(rows: LocalRows, indices: np.ndarray[Any, Any]) -> sp.csr_matrix:
    return rows.rows(indices)


def _part_counts(
    rows: LocalRows, labels: np.ndarray[Any, Any], framework_ids: list[str]
) -> dict[str, np.ndarray[Any, Any]]:
    return rows.framework_counts(labels, framework_ids)
