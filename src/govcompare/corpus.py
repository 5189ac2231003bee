"""Discover, read and describe a corpus; every file found ends up in the record, read or not.

    corpus = read_corpus("corpus/")            # a folder (searched recursively) or a list of files
    corpus.documents                            # Document(id="sub/a.txt", text=..., title=..., ...)
    corpus.records                              # InputRecord(path, status, sha256, bytes, reason)
    corpus.skipped()                            # what was not read, and why

A document's id is its path relative to the corpus root, in POSIX form with its suffix. Metadata comes
from, in order of precedence: the sidecar manifest (``corpus.yaml`` or ``corpus.csv`` in the root),
the file itself (front matter, HTML/PDF/DOCX properties), and what can be derived (first heading,
first short line, file name). Exact and near-exact duplicates (5-word shingles, Jaccard >= 0.9) are
recorded as ``duplicate`` of the first one in id order, which is kept.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import numpy as np
import pandas as pd

from govcompare.errors import CorpusError
from govcompare.hashing import mix64, sorted_unique
from govcompare.heap import release_free_memory
from govcompare.models import Document, InputRecord, InputStatus
from govcompare.readers import READERS, unsupported_reason
from govcompare.readers.base import FIELDS, Limits, ReadResult, megabytes, parse_date
from govcompare.textnorm import decode, guess_language, normalise
from govcompare.tokens import WordStream, word_stream
from govcompare.yamlsafe import YamlLimits, parse_yaml

__all__ = [
    "MANIFEST_NAMES",
    "Corpus",
    "CorpusPlan",
    "Limits",
    "TextCache",
    "near_duplicate_sets",
    "near_duplicates",
    "plan_corpus",
    "read_corpus",
    "read_file",
    "shingle_sets",
    "shingles_of",
]

MANIFEST_NAMES = ("corpus.yaml", "corpus.yml", "corpus.csv")
STATUSES: tuple[InputStatus, ...] = ("read", "duplicate", "empty", "unsupported", "failed")
NEAR_DUPLICATE_JACCARD = 0.9
SHINGLE_WORDS = 5
_QUICK_TO_READ = frozenset({".txt", ".md", ".markdown"})  # text not cached
_MAX_CANDIDATE_PAIRS = 5_000_000
_PAIRS_AT_A_TIME = 4_000_000  # candidate pairs made at a time, before the size filter
_PREFIX_CHUNK = 4_000_000  # shingles ranked at a time when choosing prefixes
_BUCKET_TEXTS = 20_000  # texts whose shingles are counted at a time

# ``discusses``: the positions a document discusses (an analyst's note, kept in Document.extra).
_MANIFEST_EXTRA = ("discusses",)
_MANIFEST_KEYS = frozenset({"file", "path", *FIELDS, *_MANIFEST_EXTRA})
_TITLE_MAX = 150
_TITLE_LOOKAHEAD = 15


@dataclass(frozen=True, slots=True)
class Corpus:
    """The documents read from a corpus and the record of every file found."""

    root: Path
    documents: tuple[Document, ...]
    records: tuple[InputRecord, ...]

    def document(self, document_id: str) -> Document:
        """The document with this id; ``CorpusError`` if there is none."""
        for document in self.documents:
            if document.id == document_id:
                return document
        raise CorpusError(f"no document {document_id!r} in the corpus at {self.root}")

    def documents_frame(self) -> pd.DataFrame:
        """One row per document: id, path, metadata, size in characters and words, text hash."""
        columns = ["id", "path", "title", "date", "actor", "source_url", "language", "kind"]
        rows = [
            {
                **{name: getattr(doc, name) for name in columns},
                "chars": len(doc.text),
                "words": len(doc.text.split()),
                "sha256": doc.sha256,
            }
            for doc in self.documents
        ]
        return pd.DataFrame(rows, columns=[*columns, "chars", "words", "sha256"])

    def records_frame(self) -> pd.DataFrame:
        """One row per file found: path, status, file hash, size, document id, reason."""
        columns = ["path", "status", "sha256", "bytes", "document", "reason"]
        rows = [{name: getattr(record, name) for name in columns} for record in self.records]
        return pd.DataFrame(rows, columns=columns)

    def skipped(self) -> list[InputRecord]:
        """The files that did not become documents, with the reason for each."""
        return [record for record in self.records if record.status != "read"]

    def summary(self) -> dict[str, int]:
        """How many files ended in each status (every status is present, zeros included)."""
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for record in self.records:
            counts[record.status] += 1
        return counts


@dataclass(frozen=True, slots=True)
class _Found:
    """A file found by discovery: where it is, its id, and a problem found before reading."""

    path: Path
    id: str
    problem: str | None = None
    status: InputStatus = "failed"


@dataclass(frozen=True, slots=True)
class _Entry:
    line: int
    fields: dict[str, str] = field(default_factory=dict)


def read_corpus(
    paths: str | Path | Sequence[str | Path],
    *,
    strict: bool = False,
    limits: Limits | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Corpus:
    """Read a folder (recursively) or a list of files and folders into a ``Corpus``.

    Parameters
    ----------
    strict
        Raise ``CorpusError`` listing every file that could not be used, instead of skipping it.
    limits
        Size limits; a file over one is recorded as failed.
    progress
        Called as ``progress(done, total)`` after each file.
    """
    limits = limits or Limits()
    plan = plan_corpus(paths, limits)
    reads = []
    for done, item in enumerate(plan.files, start=1):
        reads.append(read_file(item, limits, plan.fields(item)))
        if progress is not None:
            progress(done, len(plan.files))
    return plan.assemble(reads, strict=strict)


@dataclass(frozen=True)
class CorpusPlan:
    """What a corpus holds before any file is read: the files found, and the manifests' metadata.

    ``read_corpus`` is ``plan.assemble([read_file(f, limits, plan.fields(f)) for f in plan.files])``;
    the engines run the middle step in other processes or on other machines.
    """

    root: Path
    found: tuple[_Found, ...]
    manifests: dict[str, tuple[bytes, int]]
    entries: dict[str, _Entry]

    @property
    def files(self) -> list[_Found]:
        """The files to read, in id order (manifests are read already)."""
        return [item for item in self.found if item.id not in self.manifests]

    def fields(self, item: _Found) -> dict[str, str]:
        """The manifest metadata of one file."""
        entry = self.entries.get(item.id)
        return entry.fields if entry else {}

    def assemble(
        self,
        reads: Iterable[tuple[InputRecord, Document | None]],
        *,
        strict: bool = False,
        shingles: dict[str, np.ndarray[Any, Any]] | None = None,
        cache: DuplicateCache | None = None,
        shingled_by: str = "",
    ) -> Corpus:
        """The corpus from the result of reading every file: duplicates found, skipped files listed.

        ``shingles`` are the documents' shingle sets by id when the engine has them already (made from
        passages cut by ``shingled_by``, which can split an overlong word); with a ``cache``, the
        near-duplicates of the same documents (ids and texts) are looked up there first.
        """
        records: dict[str, InputRecord] = {}
        for item_id, (data, count) in self.manifests.items():
            path = next(f.path for f in self.found if f.id == item_id)
            reason = f"manifest: metadata for {count} file(s)"
            records[item_id] = InputRecord(
                str(path), "read", hashlib.sha256(data).hexdigest(), len(data), reason=reason
            )
        read: dict[str, Document] = {}
        for item, (record, document) in zip(self.files, reads, strict=True):
            records[item.id] = record
            if document is not None:
                read[item.id] = document
        for doc_id, original in _duplicates(read, shingles, cache, shingled_by).items():
            record = records[doc_id]
            records[doc_id] = InputRecord(
                record.path, "duplicate", record.sha256, record.bytes, None, f"duplicate of {original}"
            )
        documents = tuple(read[f.id] for f in self.found if f.id in read and records[f.id].status == "read")
        corpus = Corpus(self.root, documents, tuple(records[f.id] for f in self.found))
        if strict and corpus.skipped():
            lines = [f"  {r.path}: {r.status}: {r.reason}" for r in corpus.skipped()]
            raise CorpusError(
                f"{len(lines)} file(s) could not be used (strict mode; run without --strict to skip "
                "them):\n" + "\n".join(lines)
            )
        return corpus


def plan_corpus(paths: str | Path | Sequence[str | Path], limits: Limits | None = None) -> CorpusPlan:
    """Find the files of a corpus and read its manifests (an error in a manifest stops here)."""
    limits = limits or Limits()
    inputs = [Path(p) for p in ([paths] if isinstance(paths, str | Path) else paths)]
    if not inputs:
        raise CorpusError("no corpus given: name a folder or files to read")
    for path in inputs:
        if not path.exists() and not path.is_symlink():
            raise CorpusError(f"{path}: no such file or folder")
    root = _root(inputs)
    found = _discover(inputs, root)
    if not found:
        where = ", ".join(str(p) for p in inputs)
        raise CorpusError(f"{where}: no files found (hidden folders are not searched)")
    folders = {""} | {_relative_id(p, root) for p in inputs if p.is_dir()}
    manifests, entries = _find_manifests(found, folders, limits)
    return CorpusPlan(root, tuple(found), manifests, entries)


def read_file(
    item: _Found, limits: Limits, fields: dict[str, str], cache: TextCache | None = None
) -> tuple[InputRecord, Document | None]:
    """Read one file of a plan: its record, and its document if it has text."""
    record, read = _read(item, limits, cache)
    return record, None if read is None else _document(item, *read, fields)


class DuplicateCache(Protocol):
    """Where the near-duplicates among some documents are kept, by their ids and text hashes (see
    govcompare.cache): a corpus read again unchanged (its frameworks edited, say) skips the check."""

    def load_near_duplicates(self, key: list[str]) -> dict[str, str] | None: ...

    def save_near_duplicates(self, key: list[str], found: dict[str, str]) -> None: ...


class TextCache(Protocol):
    """Where ``read_file`` keeps the text of a file, by the SHA-256 of its bytes (see govcompare.cache)."""

    def load_text(self, digest: str, suffix: str) -> tuple[str, ReadResult] | None: ...

    def save_text(self, digest: str, suffix: str, value: tuple[str, ReadResult]) -> None: ...


def _absolute(path: Path) -> Path:
    """Absolute and without ``..`` (symlinks are kept: ids follow the path the user gave)."""
    return Path(os.path.normpath(path.absolute()))


def _relative_id(folder: Path, root: Path) -> str:
    relative = Path(os.path.relpath(_absolute(folder), root)).as_posix()
    return "" if relative == "." else relative


def _root(inputs: list[Path]) -> Path:
    """The folder ids are relative to: the folder given, or the common parent of the inputs."""
    absolute = [_absolute(p) for p in inputs]
    if len(inputs) == 1 and inputs[0].is_dir():
        return absolute[0]
    folders = [p if p.is_dir() else p.parent for p in absolute]
    try:
        return Path(os.path.commonpath(folders))
    except ValueError:
        raise CorpusError("the corpus files have no common folder (different drives?)") from None


def _discover(inputs: list[Path], root: Path) -> list[_Found]:
    """Every file under the inputs, sorted by id; dot-folders are not entered, loops not followed."""
    found: dict[str, _Found] = {}
    visited: set[str] = set()

    def id_of(path: Path) -> str:
        return PurePosixPath(*Path(os.path.relpath(_absolute(path), root)).parts).as_posix()

    def add(path: Path, problem: str | None = None, status: InputStatus = "failed", doc_id: str = "") -> None:
        doc_id = doc_id or id_of(path)
        found.setdefault(doc_id, _Found(path, doc_id, problem, status))

    def walk(start: Path, linked: list[Path]) -> None:
        stack = [start]
        while stack:
            folder = stack.pop()
            real = os.path.realpath(folder)
            if real in visited:
                continue  # a symlink loop, or a folder reached twice
            visited.add(real)
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                add(folder, f"cannot list the folder: {exc.strerror or exc}")
                continue
            subfolders: list[Path] = []
            prefix = id_of(folder)
            prefix = "" if prefix == "." else prefix + "/"
            for entry in entries:
                path = Path(entry.path)
                if entry.is_file() and not entry.name.startswith("."):  # a regular file, or a link to one
                    add(path, doc_id=prefix + entry.name)  # (no stat: the folder listing tells)
                elif not entry.is_dir():
                    add(path, *_problem(path), doc_id=prefix + entry.name)
                elif not entry.name.startswith("."):
                    (linked if entry.is_symlink() else subfolders).append(path)
            stack.extend(reversed(subfolders))

    for start in inputs:
        if not start.is_dir():
            add(start, *_problem(start))
            continue
        # Real folders first, so that a folder also reachable through a link keeps its real path.
        linked: list[Path] = []
        walk(start, linked)
        while linked:
            later: list[Path] = []
            for folder in linked:
                walk(folder, later)
            linked = later
    return sorted(found.values(), key=lambda f: f.id)


def _problem(path: Path) -> tuple[str | None, InputStatus]:
    """A reason not to read ``path`` that is known before opening it, and the status it gives."""
    if path.name.startswith("."):
        return "hidden file (name starts with a dot): not read", "unsupported"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "broken symbolic link: its target does not exist", "failed"
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}", "failed"
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe, socket or device): not read", "failed"
    return None, "failed"


def _read(
    item: _Found, limits: Limits, cache: TextCache | None = None
) -> tuple[InputRecord, tuple[str, ReadResult] | None]:
    """Read one file: its record, and its normalised text and reader result if it has text."""
    shown = str(item.path)
    if item.problem is not None:
        return InputRecord(shown, item.status, reason=item.problem), None
    suffix = item.path.suffix.lower()
    reader = READERS.get(suffix)
    try:
        size = item.path.stat().st_size
    except OSError as exc:
        return InputRecord(shown, "failed", reason=_os_reason(exc)), None
    if reader is None:
        return InputRecord(shown, "unsupported", bytes=size, reason=unsupported_reason(item.path)), None
    if size > limits.max_file_bytes:
        reason = (
            f"file is {megabytes(size)}, over the {megabytes(limits.max_file_bytes)} limit (--max-file-mb)"
        )
        return InputRecord(shown, "failed", bytes=size, reason=reason), None
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        return InputRecord(shown, "failed", bytes=size, reason=_os_reason(exc)), None
    digest = hashlib.sha256(data).hexdigest()

    def record(status: InputStatus, reason: str | None = None) -> InputRecord:
        document = item.id if status == "read" else None
        return InputRecord(shown, status, digest, len(data), document, reason)

    if not data:
        return record("empty", "file is empty (0 bytes)"), None
    if suffix in _QUICK_TO_READ:
        cache = None  # reading again costs less than loading an entry
    cached = cache.load_text(digest, suffix) if cache is not None else None
    if cached is not None:
        return record("read"), cached
    try:
        result = reader(data, limits)
    except CorpusError as exc:
        return record("failed", str(exc)), None
    except Exception as exc:  # a parser library choking on a malformed file must not stop the run
        reason = f"the {suffix} reader failed ({type(exc).__name__}: {exc}); please report this file"
        return record("failed", reason), None
    text = normalise(result.text)
    if len(text) > limits.max_chars:
        reason = f"text has {len(text):,} characters, over the {limits.max_chars:,} limit (--max-chars)"
        return record("failed", reason), None
    if not text:
        return record("empty", "no text found in the file"), None
    if cache is not None:
        cache.save_text(digest, suffix, (text, result))
    return record("read"), (text, result)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied: cannot read the file (check its permissions)"
    return f"cannot read the file: {exc.strerror or exc}"


def _document(item: _Found, text: str, result: ReadResult, manifest: dict[str, str]) -> Document:
    meta = {**result.metadata, **manifest}
    title = meta.get("title") or result.heading or _first_short_line(text) or _readable(item.path)
    return Document(
        id=item.id,
        path=str(item.path),
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        title=title,
        date=meta.get("date"),
        actor=meta.get("actor"),
        source_url=meta.get("source_url"),
        language=meta.get("language") or guess_language(text),
        kind=meta.get("kind"),
        extra={**result.extra, **{k: manifest[k] for k in _MANIFEST_EXTRA if k in manifest}},
    )


def _first_short_line(text: str) -> str | None:
    for line in text.split("\n")[:_TITLE_LOOKAHEAD]:
        line = line.strip()
        if (
            3 <= len(line) <= _TITLE_MAX
            and any(ch.isalpha() for ch in line)
            and not line.endswith((".", ",", ";", ":"))
        ):
            return line
    return None


def _readable(path: Path) -> str:
    name = " ".join(re.split(r"[-_.\s]+", path.stem)).strip() or path.name
    return name[:1].upper() + name[1:]


# --- manifest -------------------------------------------------------------------------------------


def _find_manifests(
    found: list[_Found], folders: set[str], limits: Limits
) -> tuple[dict[str, tuple[bytes, int]], dict[str, _Entry]]:
    """Manifests in the corpus root or in a folder given as input: their bytes and entry counts by id,
    and the entries of all of them by document id (a manifest names files relative to its folder)."""
    by_folder: dict[str, list[_Found]] = {}
    for f in found:
        folder, _, name = f.id.rpartition("/")
        if name.lower() in MANIFEST_NAMES and folder in folders:
            by_folder.setdefault(folder, []).append(f)
    manifests: dict[str, tuple[bytes, int]] = {}
    entries: dict[str, _Entry] = {}
    ids = {f.id for f in found}
    for folder, items in sorted(by_folder.items()):
        if len(items) > 1:
            names = " and ".join(str(m.path) for m in items)
            raise CorpusError(f"{names}: two manifests in one corpus folder; keep one of them")
        manifest = items[0]
        data = _read_manifest(manifest, limits)
        prefix = f"{folder}/" if folder else ""
        local = {i.removeprefix(prefix) for i in ids if i.startswith(prefix)}
        loaded = _load_manifest(data, str(manifest.path), manifest.path.suffix, local)
        entries.update({prefix + key: entry for key, entry in loaded.items()})
        manifests[manifest.id] = (data, len(loaded))
    return manifests, entries


def _read_manifest(item: _Found, limits: Limits) -> bytes:
    if item.problem is not None:
        raise CorpusError(f"{item.path}: {item.problem}")
    try:
        size = item.path.stat().st_size
        if size > limits.max_file_bytes:
            raise CorpusError(
                f"{item.path}: manifest is {megabytes(size)}, over the {megabytes(limits.max_file_bytes)} "
                "limit (--max-file-mb)"
            )
        return item.path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{item.path}: {_os_reason(exc)}") from None


def _load_manifest(data: bytes, name: str, suffix: str, ids: set[str]) -> dict[str, _Entry]:
    """Parse ``corpus.yaml``/``corpus.csv``: metadata per document id, validated against ``ids``."""
    try:
        text = decode(data)
    except CorpusError as exc:
        raise CorpusError(f"{name}: {exc}") from None
    parse = _manifest_csv if suffix.lower() == ".csv" else _manifest_yaml
    entries: dict[str, _Entry] = {}
    for file, entry in parse(text, name):
        key = PurePosixPath(file.replace("\\", "/")).as_posix().removeprefix("./")
        if key in entries:
            raise CorpusError(
                f"{name}:{entry.line}: {file!r} is listed twice (first on line {entries[key].line})"
            )
        if key not in ids:
            raise CorpusError(
                f"{name}:{entry.line}: {file!r} matches no file in the corpus "
                "(give the path relative to the manifest's folder)"
            )
        entries[key] = entry
    return entries


def _manifest_fields(raw: Iterable[tuple[str, object, int]], name: str) -> dict[str, str]:
    """Check and convert one entry's ``(field, value, line)`` triples (``file`` excluded)."""
    fields: dict[str, str] = {}
    for key, value, line in raw:
        if key not in FIELDS and key not in _MANIFEST_EXTRA:
            allowed = ", ".join(sorted(_MANIFEST_KEYS))
            raise CorpusError(f"{name}:{line}: unknown field {key!r} (allowed: {allowed})")
        if value is None or value == "":
            continue
        if key == "date":
            iso = parse_date(value)
            if iso is None:
                raise CorpusError(f"{name}:{line}: date: cannot read {value!r} as a date (use YYYY-MM-DD)")
            fields[key] = iso
        else:
            fields[key] = " ".join(str(value).split())
    return fields


def _manifest_yaml(text: str, name: str) -> Iterable[tuple[str, _Entry]]:
    if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        return  # an empty manifest names no files
    # Values are bounded by what the file could hold written out, so aliases cannot multiply them.
    limits = YamlLimits(
        max_bytes=len(text.encode("utf-8", "surrogatepass")) + 1, max_nodes=max(100_000, len(text))
    )
    try:
        located = parse_yaml(text, source=name, limits=limits)
    except ValueError as exc:
        problem = exc.args[0]
        message = problem.message
        if message.startswith("invalid YAML: "):
            message = f"not valid YAML ({message.removeprefix('invalid YAML: ')})"
        raise CorpusError(f"{name}:{problem.line}: {message}") from None

    def line(path: tuple[str | int, ...]) -> int:
        return located.position(path)[0]

    def pairs(mapping: dict[object, object], path: tuple[str | int, ...]) -> list[tuple[str, object, int]]:
        out = []
        for raw_key, value in mapping.items():
            key = str(raw_key).strip().lower()
            where = (*path, str(raw_key))
            if isinstance(value, list | dict):
                raise CorpusError(f"{name}:{line(where)}: {key}: expected a single value")
            out.append((key, value, (located.key_positions.get(where) or located.position(where))[0]))
        return out

    root = located.value
    if isinstance(root, list):
        for i, item in enumerate(root):
            if not isinstance(item, dict):
                raise CorpusError(f"{name}:{line((i,))}: each entry must be a mapping with a 'file' field")
            items = pairs(item, (i,))
            files = [str(v) for k, v, _ in items if k in ("file", "path") and v is not None and v != ""]
            if len(files) != 1:
                raise CorpusError(f"{name}:{line((i,))}: each entry needs exactly one 'file' (or 'path')")
            rest = [(k, v, n) for k, v, n in items if k not in ("file", "path")]
            yield files[0], _Entry(line((i,)), _manifest_fields(rest, name))
    elif isinstance(root, dict):
        for raw_file, value in root.items():
            where = (str(raw_file),)
            entry_line = (located.key_positions.get(where) or located.position(where))[0]
            if value is None or value == "":
                yield str(raw_file), _Entry(entry_line)
                continue
            if not isinstance(value, dict):
                raise CorpusError(f"{name}:{entry_line}: {raw_file}: expected a mapping of fields")
            yield str(raw_file), _Entry(entry_line, _manifest_fields(pairs(value, where), name))
    else:
        raise CorpusError(f"{name}:1: expected a list of entries or a mapping keyed by file")


def _manifest_csv(text: str, name: str) -> Iterable[tuple[str, _Entry]]:
    reader = csv.reader(io.StringIO(text))
    try:
        yield from _manifest_rows(reader, name)
    except csv.Error as exc:  # a field over the csv module's size limit, an unclosed quote...
        raise CorpusError(f"{name}:{reader.line_num}: not valid CSV ({exc})") from None


def _manifest_rows(reader: Any, name: str) -> Iterable[tuple[str, _Entry]]:
    header = [column.strip().lower() for column in next(reader, [])]
    if not header or not {"file", "path"} & set(header):
        raise CorpusError(f"{name}:1: the header needs a 'file' column")
    for column in header:
        if column not in _MANIFEST_KEYS:
            allowed = ", ".join(sorted(_MANIFEST_KEYS))
            raise CorpusError(f"{name}:1: unknown column {column!r} (allowed: {allowed})")
    key_column = header.index("file") if "file" in header else header.index("path")
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise CorpusError(f"{name}:{line}: {len(row)} cells but {len(header)} columns")
        file = row[key_column].strip() if key_column < len(row) else ""
        if not file:
            raise CorpusError(f"{name}:{line}: the 'file' cell is empty")
        cells = [
            (column, cell.strip(), line)
            for column, cell in zip(header, row, strict=False)
            if column not in ("file", "path")
        ]
        yield file, _Entry(line, _manifest_fields(cells, name))


# --- duplicates -----------------------------------------------------------------------------------


def _duplicates(
    documents: dict[str, Document],
    shingles: dict[str, np.ndarray[Any, Any]] | None = None,
    cache: DuplicateCache | None = None,
    shingled_by: str = "",
) -> dict[str, str]:
    """Map each duplicate's id to the id of the document it repeats (exact first, then near-exact)."""
    duplicates: dict[str, str] = {}
    first: dict[str, str] = {}
    for doc_id in sorted(documents):
        digest = documents[doc_id].sha256
        if digest in first:
            duplicates[doc_id] = first[digest]
        else:
            first[digest] = doc_id
    unique = sorted(first.values())
    # What decides the answer: the settings and each document's id (earlier ids are kept) and text.
    key = [f"jaccard {NEAR_DUPLICATE_JACCARD}", f"shingle words {SHINGLE_WORDS}", f"by {shingled_by}"]
    key += [f"{doc_id}\0{documents[doc_id].sha256}" for doc_id in unique]
    near = cache.load_near_duplicates(key) if cache is not None else None
    ids = set(unique)
    if near is None or not all(j in ids and i in ids for j, i in near.items()):  # (a damaged entry)
        shingles = shingles or {}
        missing = [doc_id for doc_id in unique if doc_id not in shingles]
        shingles = {
            **shingles,
            **dict(zip(missing, shingle_sets([documents[i].text for i in missing]), strict=True)),
        }
        release_free_memory()  # the near-duplicate check's arrays come on top of what the process holds
        found = near_duplicate_sets([shingles[doc_id] for doc_id in unique])
        near = {unique[j]: unique[i] for j, i in found.items()}
        if cache is not None:
            cache.save_near_duplicates(key, near)
    duplicates.update(near)
    return duplicates


def shingle_sets(texts: Sequence[str], size: int = SHINGLE_WORDS) -> list[np.ndarray[Any, Any]]:
    """Sorted unique 32-bit hashes of each text's ``size``-word shingles (CJK: per character).

    Words are hashed by their text (BLAKE2), so sets computed in different processes can be compared.
    """
    return shingles_of(word_stream(texts), size)


def shingles_of(stream: WordStream, size: int = SHINGLE_WORDS) -> list[np.ndarray[Any, Any]]:
    """:func:`shingle_sets` of texts given by their words (a text shorter than ``size``: one shingle)."""
    lengths = stream.lengths
    ends = np.cumsum(lengths)
    starts = ends - lengths
    mixed = mix64(stream.keys)
    # Every window of ``size`` words inside one text, all texts at once; a short text is one window.
    widths = np.maximum(lengths - size + 1, np.minimum(lengths, 1))
    first = np.repeat(starts - (np.cumsum(widths) - widths), widths) + np.arange(int(widths.sum()))
    stop = np.repeat(ends, widths)
    hashes = np.zeros(len(first), dtype=np.uint64)
    for offset in range(size):
        inside = first + offset < stop
        if inside.all():
            hashes = mix64(hashes ^ mixed[first + offset])
        else:
            hashes[inside] = mix64(hashes[inside] ^ mixed[first[inside] + offset])
    # The top 32 bits of each hash, sorted and made unique text by text: thousands of short sorts cost
    # a fifth of one sort of them all. 32-bit shingles halve the memory; two different shingles of
    # texts being compared share a value with odds of 2**-32 each, which moves a Jaccard similarity by
    # ~1e-6.
    top = (hashes >> np.uint64(32)).astype(np.uint32)
    del hashes
    sets = []
    for part in np.split(top, np.cumsum(widths)[:-1]) if len(lengths) else []:
        part.sort()
        keep = np.empty(len(part), dtype=bool)
        keep[:1] = True
        np.not_equal(part[1:], part[:-1], out=keep[1:])
        sets.append(part[keep])
    return sets


def near_duplicates(
    texts: Sequence[str], threshold: float = NEAR_DUPLICATE_JACCARD, size: int = SHINGLE_WORDS
) -> dict[int, int]:
    """Indices of near-duplicate texts, each mapped to the earlier text it repeats.

    Two texts are near-duplicates when the Jaccard similarity of their ``size``-word shingle sets is
    at least ``threshold``. A text is compared only with earlier texts that were kept. Candidates come
    from prefix filtering (rarest shingles first: two sets this similar must share one of their first
    ``n - ceil(threshold * n) + 1`` shingles), so the cost grows with the corpus, not its square.
    """
    return near_duplicate_sets(shingle_sets(texts, size), threshold)


def near_duplicate_sets(
    sets: Sequence[np.ndarray[Any, Any]],
    threshold: float = NEAR_DUPLICATE_JACCARD,
    max_pairs: int = _MAX_CANDIDATE_PAIRS,
) -> dict[int, int]:
    """:func:`near_duplicates` of texts given by their shingle sets (sorted, from :func:`shingle_sets`).

    Candidate pairs (texts whose prefixes share a shingle and whose sizes allow the threshold) are
    found with array operations; when there would be over ``max_pairs`` of them (thousands of texts
    sharing their rarest shingles), texts are instead looked up one by one in an index of prefixes.
    """
    sizes = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
    if np.count_nonzero(sizes) < 2:
        return {}
    frequency, shift = _bucket_counts(sets, int(sizes.sum()))
    prefix_sizes = sizes - np.ceil(threshold * sizes - 1e-9).astype(np.int64) + 1
    # Each text's prefix: its shingles ordered rarest first (ties by value), the first few kept; a
    # chunk of texts at a time, so no array as long as all shingles is made.
    values, owners = [], []
    ends = np.cumsum(sizes)
    top = int(frequency.max()) + 1
    first_text = 0
    while first_text < len(sets):
        start = int(ends[first_text] - sizes[first_text])
        last_text = max(first_text + 1, int(np.searchsorted(ends, start + _PREFIX_CHUNK, side="right")))
        chunk = np.concatenate(sets[first_text:last_text])
        n = sizes[first_text:last_text]
        text = np.repeat(np.arange(first_text, last_text, dtype=_index_type(len(sets))), n)
        rarity = frequency[_bucket(chunk, shift)]
        # Each set is sorted, so a stable sort by (text, rarity) leaves ties in value order. The key in
        # 64 bits: texts x the largest bucket count can pass 2**31 (thousands sharing one shingle).
        order = np.argsort((text - first_text).astype(np.int64) * top + rarity, kind="stable")
        rank = np.arange(len(order)) - np.repeat(np.cumsum(n) - n, n)
        chosen = order[rank < np.repeat(prefix_sizes[first_text:last_text], n)]
        values.append(chunk[chosen])
        owners.append(text[chosen])
        first_text = last_text
    prefix_values, prefix_owners = np.concatenate(values), np.concatenate(owners)
    del frequency
    pairs = _candidate_pairs(prefix_values, prefix_owners, sizes, threshold, max_pairs)
    if pairs is None:
        prefixes = np.split(prefix_values, np.cumsum(np.minimum(prefix_sizes, sizes))[:-1])
        return _near_duplicates_by_index(sets, sizes, prefixes, threshold)
    found: dict[int, int] = {}
    for j, i in pairs:  # by text, earlier texts first: the first match is the one kept
        if j in found or i in found:  # j matched already; i is a duplicate itself, so not kept
            continue
        if _similar(sets[i], sets[j], threshold):
            found[j] = i
    return found


def _bucket_counts(sets: Sequence[np.ndarray[Any, Any]], total: int) -> tuple[np.ndarray[Any, Any], int]:
    """How many shingles fall in each bucket of shingle values (its top bits: ``value >> shift``).

    A prefix filter finds every pair over the threshold whatever the order its prefixes are taken in,
    as long as all texts use the same one; ordering shingles by how common their bucket is (then by
    value) puts rare ones first nearly as well as exact counts would, without sorting every shingle of
    the corpus (on a million passages that sort and its copies took over a gigabyte). There are about
    as many buckets as shingles, at most 2**23 (a 32 MB table).
    """
    bits = int(np.clip(int(total - 1).bit_length(), 10, 23))
    shift = 32 - bits
    frequency = np.zeros(1 << bits, dtype=np.int32)
    for first in range(0, len(sets), _BUCKET_TEXTS):
        chunk = np.concatenate([np.zeros(0, dtype=np.uint32), *sets[first : first + _BUCKET_TEXTS]])
        frequency += np.bincount(_bucket(chunk, shift), minlength=1 << bits).astype(np.int32)
    return frequency, shift


def _bucket(values: np.ndarray[Any, Any], shift: int) -> np.ndarray[Any, Any]:
    """The bucket of each shingle: the top bits of its (32-bit) value."""
    if values.dtype == np.uint32:
        return values >> np.uint32(shift)
    return (values.astype(np.uint64) & 0xFFFFFFFF) >> np.uint64(shift)


def _candidate_pairs(
    values: np.ndarray[Any, Any],
    owners: np.ndarray[Any, Any],
    sizes: np.ndarray[Any, Any],
    threshold: float,
    max_pairs: int,
) -> list[tuple[int, int]] | None:
    """Pairs (later text, earlier text) that share a prefix shingle and whose sizes allow the threshold,
    sorted; None if over ``max_pairs``.

    Pairs are made a few million at a time and those of incompatible sizes dropped at once, so texts that
    share many prefix shingles (boilerplate, reprinted paragraphs) do not make an array of every pair.
    """
    # Positions are 32-bit where they fit: on a million passages each array here is ~10M long.
    index = _index_type(len(values))
    by_value = np.argsort(values, kind="stable")  # owners stay in text order within a value
    values, owners = values[by_value], owners[by_value]
    del by_value
    position = np.arange(len(values), dtype=index)
    group_start = np.maximum.accumulate(np.where(np.r_[True, values[1:] != values[:-1]], position, 0))
    del values
    earlier = position - group_start  # members of the same group before this one
    del position
    before = np.cumsum(earlier, dtype=np.int64) - earlier  # pairs made by the entries before this one
    found: list[np.ndarray[Any, Any]] = []
    kept = 0
    at = 0
    while at < len(owners):
        stop = max(at + 1, int(np.searchsorted(before, before[at] + _PAIRS_AT_A_TIME, side="right")))
        n_pairs = earlier[at:stop]
        offsets = np.arange(int(n_pairs.sum())) - np.repeat(before[at:stop] - before[at], n_pairs)
        later = np.repeat(owners[at:stop], n_pairs).astype(np.int64)
        first = owners[np.repeat(group_start[at:stop], n_pairs) + offsets].astype(np.int64)
        m, n = sizes[first], sizes[later]
        possible = np.minimum(m, n) >= threshold * np.maximum(m, n) - 1e-9
        keys = sorted_unique(later[possible] * len(sizes) + first[possible])
        kept += len(keys)
        if kept > 2 * max_pairs:  # a pair can recur in later chunks: allow for that before giving up
            return None
        found.append(keys)
        at = stop
    keys = sorted_unique(np.concatenate([np.zeros(0, dtype=np.int64), *found]))
    if len(keys) > max_pairs:
        return None
    j, i = np.divmod(keys, len(sizes))
    return list(zip(j.tolist(), i.tolist(), strict=True))


def _index_type(length: int) -> type[np.signedinteger[Any]]:
    """The narrowest of int32 and int64 that numbers ``length`` things."""
    return np.int32 if length < 2**31 else np.int64


def _similar(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any], threshold: float) -> bool:
    """Whether two sorted sets of unique shingles reach the Jaccard ``threshold``."""
    if a.size > b.size:
        a, b = b, a
    common = 0
    if a.size:
        at = np.searchsorted(b, a)  # each of the smaller set's shingles looked up in the larger
        at[at == b.size] = 0
        common = int(np.count_nonzero(b.take(at) == a))
    return bool(common >= threshold * (a.size + b.size - common) - 1e-9)


def _near_duplicates_by_index(
    sets: Sequence[np.ndarray[Any, Any]],
    sizes: np.ndarray[Any, Any],
    prefixes: Sequence[np.ndarray[Any, Any]],
    threshold: float,
) -> dict[int, int]:
    """The same answer, text by text: each kept text's prefix goes into an index of shingles."""
    index: dict[int, list[int]] = {}
    found: dict[int, int] = {}
    for j, prefix_array in enumerate(prefixes):
        n = int(sizes[j])
        if n == 0:
            continue
        prefix = prefix_array.tolist()
        for i in sorted({i for h in prefix for i in index.get(h, ())}):
            m = int(sizes[i])
            if min(m, n) >= threshold * max(m, n) - 1e-9 and _similar(sets[i], sets[j], threshold):
                found[j] = i
                break
        else:
            for h in prefix:
                index.setdefault(h, []).append(j)
    return found
