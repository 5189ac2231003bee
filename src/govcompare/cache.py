"""What reading and counting a file cost, kept between runs and keyed by content hashes.

    cache = Cache(Path("~/.cache/govcompare").expanduser())
    cache.load_text(sha256_of_file_bytes, ".pdf")          # (text, ReadResult) or None
    cache.load_counts(text_digests, segmenter)              # a run of documents: Counted or None
    cache.load_near_duplicates(key)                         # ids and text hashes -> {duplicate: kept}

Text is kept for the formats whose reading costs more than loading an entry (PDF, HTML, DOCX; not plain
text or Markdown). Counts are kept for runs of consecutive documents (see ``govcompare.engines``): one
entry per run rather than per document, so a corpus of many small files is not thousands of files here.
The near-duplicates of a whole corpus are one entry, found again only when a document of it changes.

An entry's name is a BLAKE2 hash of what decides its content: the kind of entry, the content hash, the
settings that shape it (the passage sizes), and a fingerprint of govcompare's own code. Another version,
other settings or an edited file give another name, so a stale entry is never found, let alone trusted;
an entry that cannot be read back (truncated, written by another Python) is a miss and is rewritten.
Entries are written to a temporary file and renamed, so a run killed mid-write leaves no half entry.
The folder holds nothing else: deleting it (or part of it) at any time only costs the next run time.
Entries are pickles: point the cache only at a folder that you alone can write to.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import cache as memoize
from pathlib import Path
from typing import Any

import numpy as np

from govcompare.errors import CorpusError
from govcompare.features import KeyedCounts
from govcompare.passages import Segmenter
from govcompare.readers.base import ReadResult

__all__ = ["Cache", "default_cache_folder"]

_FORMAT = 5
# A run of documents: each one's passage spans and shingle set, and the counts of all their passages.
Counted = tuple[list["np.ndarray[Any, Any]"], list["np.ndarray[Any, Any]"], KeyedCounts | None]


def default_cache_folder() -> Path:
    """``$GOVCOMPARE_CACHE``, else ``$XDG_CACHE_HOME/govcompare``, else ``~/.cache/govcompare``."""
    if os.environ.get("GOVCOMPARE_CACHE"):
        return Path(os.environ["GOVCOMPARE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "govcompare"


@memoize
def _code_fingerprint() -> str:
    """A hash of govcompare's source files: a changed reader or tokenizer never meets old entries."""
    digest = hashlib.blake2b(str(_FORMAT).encode(), digest_size=16)
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Cache:
    """A folder of entries; see the module docstring."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.hits = 0
        self.misses = 0
        if self.folder.exists() and not self.folder.is_dir():
            raise CorpusError(f"{self.folder}: the cache folder is a file; name a folder (--cache DIR)")

    def _path(self, *parts: str) -> Path:
        name = hashlib.blake2b("\0".join((_code_fingerprint(), *parts)).encode(), digest_size=20).hexdigest()
        return self.folder / name[:2] / f"{name[2:]}.pkl"

    def _load(self, path: Path) -> Any:
        try:
            with path.open("rb") as handle:
                value = pickle.load(handle)
        except Exception:  # missing, truncated, or from another Python: a miss either way
            self.misses += 1
            return None
        self.hits += 1
        return value

    def _save(self, path: Path, value: object) -> None:
        temporary = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("wb", dir=path.parent, suffix=".tmp", delete=False) as handle:
                temporary = handle.name
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except OSError:  # a full disk or a read-only folder only costs the next run time
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)

    def load_text(self, digest: str, suffix: str) -> tuple[str, ReadResult] | None:
        value = self._load(self._path("text", suffix, digest))
        return value if isinstance(value, tuple) and len(value) == 2 else None

    def save_text(self, digest: str, suffix: str, value: tuple[str, ReadResult]) -> None:
        self._save(self._path("text", suffix, digest), value)

    def load_counts(self, text_digests: list[str], segmenter: Segmenter) -> Counted | None:
        """A run of documents' passage spans and shingle sets, and their passages' term counts."""
        value = self._load(self._path("counts", repr(segmenter), *text_digests))
        if not (isinstance(value, tuple) and len(value) == 3 and len(value[0]) == len(text_digests)):
            return None
        return value

    def save_counts(self, text_digests: list[str], segmenter: Segmenter, value: Counted) -> None:
        self._save(self._path("counts", repr(segmenter), *text_digests), value)

    def load_near_duplicates(self, key: list[str]) -> dict[str, str] | None:
        """The near-duplicates found among documents (``key``: the settings, each one's id and text
        hash), each duplicate's id mapped to the id of the one it repeats."""
        value = self._load(self._path("near-duplicates", *key))
        if not (
            isinstance(value, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        ):
            return None
        return value

    def save_near_duplicates(self, key: list[str], found: dict[str, str]) -> None:
        self._save(self._path("near-duplicates", *key), found)
