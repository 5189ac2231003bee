"""Time govcompare's stages on the benchmark corpora and compare them with the raw floor.

    .venv/bin/python benchmarks/build_corpus.py                 # once: builds /tmp/govcompare-bench
    .venv/bin/python benchmarks/run.py [--root DIR] [--sizes 10mb,100mb,1m] [--repeat 3]

For each corpus and engine (``--engines local,parallel,dask``), every repetition runs in a fresh
process (so peak memory is that run's own): ingest (``engines.ingest``: read, passages, term counts),
vectorise (``EvidenceMapper.fit``: merge the counts, TF-IDF), score (``EvidenceMapper.match``: every
principle of both frameworks), then the analysis tables. On ``--cache-sizes`` corpora, a cached re-run
is timed too: a copy of the corpus run cold with a fresh cache, one document changed, run again. In the same run
the raw floor is measured: reading the files and tokenising them with one regular expression
(govcompare's token pattern on lowercased text), on one core and on two (multiprocessing). Every
throughput is printed in MB/s of text and as a ratio to both floors. Peak memory is the peak resident
memory of the run's process during each stage (VmHWM, reset between stages through /proc/self/clear_refs;
elsewhere ``ru_maxrss``, the peak so far),
the memory it holds after the stage, and the peak of its largest worker process (a forked worker's
resident memory includes pages it shares with the parent).

Also measured: the fixed start-up cost (a fresh process importing govcompare and running the whole chain
on the two-document seeds corpus), plain scikit-learn ``TfidfVectorizer()`` on the same files as a
reference (corpora up to 100 MB), and report rendering (the smallest corpus only, as
``benchmarks/report_bench.py`` times it). Printed figures are medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = Path("/tmp/govcompare-bench")
MB = 1_000_000
# govcompare's own token pattern (tokens.py), applied to lowercased text: the least any tokenizer does.
FLOOR_TOKEN = re.compile(r"[a-z0-9]+(?:['’\-][a-z0-9]+)*|[\u3400-\u9fff\uf900-\ufaff]+")
PIPELINE = ("ingest", "vectorise", "score")
ENGINES = ("local", "parallel", "dask")
REPORT_STAGES = ("read + analyse", "charts", "markdown + html", "pdf")


def corpus_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.txt") if p.is_file())


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Start a new peak-memory window (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def stage_peak_mb() -> float:
    """Peak resident memory since ``reset_peak`` (or since the process started)."""
    return _status_mb("VmHWM") or peak_mb()


# --- children: each measurement runs in a fresh interpreter ---------------------------------------


def child_pipeline(corpus: Path, frameworks: Path, engine: str) -> dict[str, Any]:
    """Time every stage in this process (and its workers); peak memory after each."""
    started = time.perf_counter()
    from govcompare.engines import Engine, ingest, session
    from govcompare.frameworks import load_frameworks
    from govcompare.pipeline import Analysis, Settings

    out: dict[str, Any] = {
        "import": time.perf_counter() - started,
        "peak": {},
        "held": {},
        "workers_peak": {},
    }
    settings = Settings(engine=Engine(engine))  # type: ignore[arg-type]
    fs = load_frameworks(frameworks)

    def stage(name: str, call: Callable[[], Any]) -> Any:
        reset_peak()
        t0 = time.perf_counter()
        value = call()
        out[name] = time.perf_counter() - t0
        out["peak"][name] = stage_peak_mb()  # the peak during this stage (Linux), else the run's so far
        out["held"][name] = _status_mb("VmRSS") or 0.0
        out["workers_peak"][name] = peak_mb(resource.RUSAGE_CHILDREN)
        return value

    with session(settings.engine) as client:  # dask: a local cluster; its start-up is not timed
        ingested = stage(
            "ingest",
            lambda: ingest(
                corpus,
                limits=settings.limits,
                segmenter=settings.segmenter,
                engine=settings.engine,
                client=client,
            ),
        )
        mapper = stage("vectorise", lambda: settings.mapper().fit(ingested.passages, ingested.counts))
        emap = stage("score", lambda: mapper.match(fs))
        # match() = queries and scores of every principle + the derived threshold (random null queries);
        # with min_score given, match() skips the threshold: that is the scoring alone.
        mapper.min_score = emap.threshold
        stage("scores", lambda: mapper.match(fs))
        mapper.min_score = None
        result = Analysis(fs, ingested.corpus, ingested.passages, emap, settings)
        stage("tables", result.tables)
    out["counts"] = {
        "documents": len(ingested.corpus.documents),
        "passages": len(ingested.passages),
        "features": len(mapper.space_.keys),
        "nnz": int(mapper.space_.df.sum()),
        "threshold": emap.threshold,
    }
    return out


def child_cache(corpus: Path, frameworks: Path) -> dict[str, Any]:
    """A copy of the corpus run cold with a fresh cache, then again after changing one document.

    Each run is a fresh process, as each command of a user is: a run does not inherit the tokenizer's
    in-memory tables from the one before.
    """
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "corpus"
        shutil.copytree(corpus, copy)
        cache = str(Path(tmp) / "cache")
        cold = spawn("cache-run", str(copy), str(frameworks), cache)
        changed = corpus_files(copy)[len(corpus_files(copy)) // 2]
        changed.write_text(
            changed.read_text(encoding="utf-8") + "\n\nOne more paragraph.\n", encoding="utf-8"
        )
        warm = spawn("cache-run", str(copy), str(frameworks), cache)
        uncached = spawn("cache-run", str(copy), str(frameworks), "")
    return {
        "cold": cold["seconds"],
        "warm": warm["seconds"],
        "uncached": uncached["seconds"],
        "same": warm["documents"] == uncached["documents"],
        "documents": cold["n"],
    }


def child_cache_run(corpus: Path, frameworks: Path, cache: str) -> dict[str, Any]:
    """One whole run (tables included) with the cache folder given, or none."""
    t0 = time.perf_counter()
    from govcompare.pipeline import Settings, run

    documents = run(frameworks, corpus, Settings(cache=Path(cache) if cache else None)).documents
    return {
        "seconds": time.perf_counter() - t0,
        "documents": documents.to_csv(index=False),
        "n": len(documents),
    }


def child_startup(frameworks: Path) -> dict[str, Any]:
    """Fixed cost: imports, then the whole chain on the two seeds documents."""
    started = time.perf_counter()
    from govcompare.pipeline import run

    imported = time.perf_counter()
    run(frameworks, ROOT / "seeds").tables()
    return {"import": imported - started, "seeds": time.perf_counter() - imported}


def child_sklearn(corpus: Path) -> dict[str, Any]:
    """Plain scikit-learn, default settings, on the files' text (a reference, not govcompare)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    t0 = time.perf_counter()
    texts = [p.read_bytes().decode("utf-8") for p in corpus_files(corpus)]
    TfidfVectorizer().fit_transform(texts)
    return {"seconds": time.perf_counter() - t0, "peak": peak_mb()}


def child_report(corpus: Path, repeat: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from report_bench import stages

    times = stages(corpus, repeat)
    return {"stages": {k: statistics.median(v) for k, v in times.items()}, "peak": peak_mb()}


def _floor_file(path: Path) -> int:
    return len(FLOOR_TOKEN.findall(path.read_bytes().decode("utf-8").lower()))


def child_floor(corpus: Path, processes: int) -> dict[str, Any]:
    files = corpus_files(corpus)
    t0 = time.perf_counter()
    if processes == 1:
        tokens = sum(map(_floor_file, files))
    else:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            tokens = sum(pool.imap_unordered(_floor_file, files, chunksize=32))
    return {"seconds": time.perf_counter() - t0, "tokens": tokens}


def spawn(*args: str) -> dict[str, Any]:
    """Run this script as a child with ``args``; its last stdout line is JSON."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"benchmark child {' '.join(args)} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the parent: repeat, take medians, print ----------------------------------------------------


def median(runs: list[dict[str, Any]], *keys: str) -> float:
    values = []
    for run in runs:
        value: Any = run
        for key in keys:
            value = value[key]
        values.append(float(value))
    return statistics.median(values)


class Table:
    """Rows of stage, seconds, MB/s, ratios to the floors, peak memory."""

    def __init__(self, size_mb: float, floor1: float, floor2: float) -> None:
        self.size_mb, self.floor1, self.floor2 = size_mb, floor1, floor2
        print(
            f"  {'stage':<46} {'seconds':>8} {'MB/s':>7} {'x 1-core':>8} {'x 2-core':>8} "
            f"{'peak MB':>8} {'held MB':>8} {'worker MB':>9}"
        )

    def row(
        self,
        name: str,
        seconds: float,
        peak: float | None = None,
        held: float | None = None,
        workers: float | None = None,
    ) -> None:
        rate = self.size_mb / seconds if seconds > 0 else float("inf")

        def shown(value: float | None, width: int = 8) -> str:
            return f"{value:>{width},.0f}" if value else " " * width

        print(
            f"  {name:<46} {seconds:>8.2f} {rate:>7.1f} {rate / self.floor1:>8.2f} "
            f"{rate / self.floor2:>8.2f} {shown(peak)} {shown(held)} {shown(workers, 9)}"
        )


def bench_corpus(
    folder: Path,
    frameworks: Path,
    repeat: int,
    reference: bool,
    report: bool,
    engines: list[str],
    cache: bool,
) -> None:
    files = corpus_files(folder)
    size_mb = sum(p.stat().st_size for p in files) / MB
    floor1_runs = [spawn("floor", str(folder), "1") for _ in range(repeat)]
    floor2_runs = [spawn("floor", str(folder), "2") for _ in range(repeat)]
    floor1 = size_mb / median(floor1_runs, "seconds")
    floor2 = size_mb / median(floor2_runs, "seconds")
    table: Table | None = None
    for engine in engines:
        runs = [spawn("pipeline", str(folder), str(frameworks), engine) for _ in range(repeat)]
        if table is None:
            first = runs[0]["counts"]
            print(
                f"\n{folder.name}: {len(files):,} files, {size_mb:,.1f} MB of text, {first['documents']:,} "
                f"documents, {first['passages']:,} passages, {first['features']:,} features, "
                f"{first['nnz']:,} non-zeros; median of {repeat} run(s)"
            )
            table = Table(size_mb, floor1, floor2)
            table.row("floor: read + one regex, 1 core", median(floor1_runs, "seconds"))
            table.row("floor: read + one regex, 2 cores", median(floor2_runs, "seconds"))

        def stage_row(label: str, key: str, runs: list[dict[str, Any]] = runs, table: Table = table) -> None:
            table.row(
                label,
                median(runs, key),
                median(runs, "peak", key),
                median(runs, "held", key),
                median(runs, "workers_peak", key),
            )

        print(f"  engine {engine}:")
        stage_row("  ingest (read + passages + count)", "ingest")
        stage_row("  vectorise (merge counts, TF-IDF)", "vectorise")
        stage_row("  score all principles (match)", "score")
        stage_row("    scoring alone (threshold given)", "scores")
        assert table is not None
        total = sum(median(runs, key) for key in PIPELINE)
        peak = statistics.median(max(run["peak"][key] for key in PIPELINE) for run in runs)
        table.row("  ingest + vectorise + score", total, peak)
        stage_row("  analysis tables (Analysis.tables)", "tables")
    assert table is not None
    if cache:
        cached = [spawn("cache", str(folder), str(frameworks)) for _ in range(repeat)]
        cold, warm = median(cached, "cold"), median(cached, "warm")
        print(
            f"  cache (local engine, whole run incl. tables): cold {cold:.2f} s, after changing one of "
            f"{cached[0]['documents']:,} documents {warm:.2f} s ({cold / warm:.1f}x faster); "
            f"no cache {median(cached, 'uncached'):.2f} s; same tables: {all(c['same'] for c in cached)}"
        )
    if reference:
        sk = [spawn("sklearn", str(folder)) for _ in range(repeat)]
        table.row("reference: plain sklearn TfidfVectorizer()", median(sk, "seconds"), median(sk, "peak"))
    if report:
        rendered = spawn("report", str(folder), str(repeat))
        for key in REPORT_STAGES:
            seconds = rendered["stages"][key]
            table.row(f"report: {key}", seconds, rendered["peak"] if key == "pdf" else None)


def main(argv: list[str] | None = None) -> None:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, *rest = sys.argv[2:]
        if kind == "pipeline":
            result = child_pipeline(Path(rest[0]), Path(rest[1]), rest[2])
        elif kind == "cache":
            result = child_cache(Path(rest[0]), Path(rest[1]))
        elif kind == "cache-run":
            result = child_cache_run(Path(rest[0]), Path(rest[1]), rest[2])
        elif kind == "startup":
            result = child_startup(Path(rest[0]))
        elif kind == "sklearn":
            result = child_sklearn(Path(rest[0]))
        elif kind == "report":
            result = child_report(Path(rest[0]), int(rest[1]))
        else:
            result = child_floor(Path(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="where build_corpus.py wrote")
    parser.add_argument("--sizes", default="10mb,100mb,1m", help="corpus folders under --root")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (1 is fine for 1m)")
    parser.add_argument("--frameworks", type=Path, default=ROOT / "frameworks")
    parser.add_argument("--no-reference", action="store_true", help="skip plain TfidfVectorizer")
    parser.add_argument("--no-report", action="store_true", help="skip report rendering")
    parser.add_argument("--engines", default="local,parallel,dask", help="engines to time, comma-separated")
    parser.add_argument("--cache-sizes", default="100mb", help="corpora on which to time a cached re-run")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    names = [s.strip() for s in args.sizes.split(",") if s.strip()]
    missing = [n for n in names if not corpus_files(args.root / n)]
    if missing:
        parser.error(
            f"no corpus {', '.join(missing)} under {args.root}: run benchmarks/build_corpus.py first"
        )
    print(f"govcompare benchmarks: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    startup = [spawn("startup", str(args.frameworks)) for _ in range(args.repeat)]
    print(
        f"fixed start-up (fresh process, median of {args.repeat}): import {median(startup, 'import'):.2f} s, "
        f"whole chain on seeds/ (2 documents) {median(startup, 'seeds'):.2f} s"
    )
    sizes = {n: sum(p.stat().st_size for p in corpus_files(args.root / n)) for n in names}
    smallest = min(sizes, key=lambda n: sizes[n])
    for name in names:
        bench_corpus(
            args.root / name,
            args.frameworks,
            args.repeat,
            reference=not args.no_reference and sizes[name] <= 150 * MB,
            report=not args.no_report and name == smallest,
            engines=[e.strip() for e in args.engines.split(",") if e.strip()],
            cache=name in args.cache_sizes.split(","),
        )


if __name__ == "__main__":
    main()
