"""Every bad input has its documented outcome: a one-line error, a usage error or a recorded skip.

The catalogue is ``CASES``: each case arranges its inputs (files from ``tests/data/bad/``, written by
``make_fixtures.py``; the large ones generated once per session), names the commands it applies to,
and states the outcome: the exit code, a message on stderr, and for a corpus file the status and reason
it must be recorded with. One parametrised test per entry point (ingest, validate, report, evaluate)
runs every case that applies to it through typer's CliRunner, within bounded time and memory.

Further down: nothing lost (every file on disk is in the run record and the report's Inputs), nothing
half-written (a killed run, two runs at once, stale staging folders), safe output, and regressions for
what fuzzing (benchmarks/fuzz.py) found.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import html.parser
import importlib.util
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType

import pytest
from typer.testing import CliRunner, Result

from govcompare.cli import app
from govcompare.errors import CorpusError
from govcompare.readers.base import Limits
from govcompare.readers.pdf import read_pdf
from govcompare.report.render import md_cell
from govcompare.report.write import STAGING_PREFIX, write_report

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
BAD = DATA / "bad"
FRAMEWORK_FIXTURES = DATA / "frameworks"
SEED = "000_56e5f92a99458bca.txt"
GOLD_QUOTE = (
    "The international community should strengthen dialogue and exchanges, deepen pragmatic cooperation"
)
DEADLINE = 30.0  # seconds per case; the slowest (10 MB of HTML, a 250 MB bomb) take 2-3 s
MEMORY = 1500  # MB a case may add to the test process's peak


def _load_make_fixtures() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_fixtures", BAD / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fixtures = _load_make_fixtures()
runner = CliRunner()


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed bad files and the generated ones (once per session), in one folder."""
    folder = tmp_path_factory.mktemp("bad")
    for path in BAD.iterdir():
        if path.is_file() and path.suffix != ".py":
            shutil.copy(path, folder / path.name)
    fixtures.write_generated(folder)
    return folder


def test_committed_fixtures_are_the_generated_ones() -> None:
    committed = {p.name for p in BAD.iterdir() if p.suffix != ".py"}
    assert committed == set(fixtures.SMALL), "run python tests/data/bad/make_fixtures.py"


# --- the bounds -----------------------------------------------------------------------------------


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` in the code swallows it."""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


@contextlib.contextmanager
def bounded(seconds: float = DEADLINE, megabytes: float = MEMORY) -> Iterator[None]:
    """Fail a case that runs longer than ``seconds`` (interrupting it) or raises the peak memory by more."""

    def alarm(signum: int, frame: FrameType | None) -> None:
        raise CaseTimeout(f"over {seconds} s")

    before, started = _peak_mb(), time.perf_counter()
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.perf_counter() - started < seconds
    assert _peak_mb() - before < megabytes, f"peak memory grew by {_peak_mb() - before:.0f} MB"


# --- the catalogue --------------------------------------------------------------------------------

CORPUS_COMMANDS = frozenset({"ingest", "report", "evaluate"})


@dataclass
class Inputs:
    """What a case runs on; ``Case.arrange`` changes the defaults (a corpus of the two seeds)."""

    tmp: Path
    bad: Path
    monkeypatch: pytest.MonkeyPatch
    corpus: list[Path]
    frameworks: list[Path]
    gold: Path
    out: Path
    args: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.corpus[0]

    def command(self, name: str) -> list[str]:
        corpus = [a for p in self.corpus for a in ("--corpus", str(p))]
        frameworks = [a for p in self.frameworks for a in ("--frameworks", str(p))]
        if name == "ingest":
            return ["ingest", *map(str, self.corpus), *self.args]
        if name == "validate":
            return ["validate", *map(str, self.frameworks)]
        if name == "report":
            out = ["--out", str(self.out), "--format", "md,html"]
            return ["report", *corpus, *frameworks, *out, *self.args]
        return [
            "evaluate",
            "--gold",
            str(self.gold),
            *corpus,
            *frameworks,
            "--out",
            str(self.out),
            *self.args,
        ]


Arrange = Callable[[Inputs], None]


@dataclass(frozen=True)
class Case:
    id: str
    commands: frozenset[str]
    arrange: Arrange
    code: int = 0
    message: str | None = None  # a regex stderr must match (one line of it, for exit 1)
    record: tuple[str, str, str | None] | None = None  # file, status, reason regex
    text: str | None = None  # a file read: what its text holds (ingest: its title)
    absent: tuple[str, ...] = ()  # what the text must not hold
    title: str | None = None  # a file read: the title ingest shows
    verify: Callable[[Inputs, Result], None] | None = None


def _put(name: str, source: str | None = None) -> Arrange:
    def arrange(inputs: Inputs) -> None:
        shutil.copy(inputs.bad / (source or name), inputs.folder / name)

    return arrange


def _with_args(arrange: Arrange, *args: str) -> Arrange:
    def both(inputs: Inputs) -> None:
        arrange(inputs)
        inputs.args.extend(args)

    return both


def file_case(
    id: str,
    name: str,
    status: str,
    reason: str | None = None,
    *,
    args: tuple[str, ...] = (),
    arrange: Arrange | None = None,
    text: str | None = None,
    absent: tuple[str, ...] = (),
    title: str | None = None,
) -> Case:
    """A file added to a good corpus: the run goes on and records it with ``status`` and ``reason``."""
    return Case(
        id,
        CORPUS_COMMANDS,
        _with_args(arrange or _put(name), *args),
        record=(name, status, reason),
        text=text,
        absent=absent,
        title=title,
    )


def _symlink_loop(inputs: Inputs) -> None:
    (inputs.folder / "sub").mkdir()
    shutil.copy(inputs.bad / "latin1.txt", inputs.folder / "sub" / "latin1.txt")
    (inputs.folder / "sub" / "loop").symlink_to(inputs.folder, target_is_directory=True)
    (inputs.folder / "again").symlink_to(inputs.folder / "sub", target_is_directory=True)


def _each_file_once(inputs: Inputs, result: Result) -> None:
    """The links are not followed: each file is found once, under its real path."""
    expected = [SEED, "001_f72f5fa6bde90f24.txt", "sub/latin1.txt"]
    assert result.stderr == ""
    if "files:" in result.stdout:  # ingest
        assert sorted(set(re.findall(r"\b(\S+\.txt)\b", result.stdout))) == expected
        assert "3 files: 3 read" in result.stdout
    if (inputs.out / "run.json").exists():  # report
        record = json.loads((inputs.out / "run.json").read_text())
        assert (
            sorted(Path(i["path"]).relative_to(inputs.folder).as_posix() for i in record["inputs"])
            == expected
        )


def _broken_link(inputs: Inputs) -> None:
    (inputs.folder / "gone.txt").symlink_to(inputs.tmp / "never-there.txt")


def _unreadable(inputs: Inputs) -> None:
    shutil.copy(inputs.bad / "latin1.txt", inputs.folder / "locked.txt")
    if os.geteuid() != 0:
        (inputs.folder / "locked.txt").chmod(0)
        return
    real = Path.read_bytes  # root reads any file: simulate the permission error

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    inputs.monkeypatch.setattr(Path, "read_bytes", read_bytes)


def _unlistable_folder(inputs: Inputs) -> None:
    (inputs.folder / "private").mkdir()
    shutil.copy(inputs.bad / "latin1.txt", inputs.folder / "private" / "secret.txt")
    real = os.scandir

    def scandir(path: int | str | os.PathLike[str]) -> object:
        if not isinstance(path, int) and Path(path).name == "private":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    inputs.monkeypatch.setattr(os, "scandir", scandir)


def _fifo(inputs: Inputs) -> None:
    os.mkfifo(inputs.folder / "pipe.txt")


def _copy_of_seed(inputs: Inputs) -> None:
    shutil.copy(inputs.folder / SEED, inputs.folder / "copy.txt")


def _write(name: str, data: bytes | str) -> Arrange:
    def arrange(inputs: Inputs) -> None:
        content = data.encode() if isinstance(data, str) else data
        (inputs.folder / name).write_bytes(content)

    return arrange


FILE_CASES = [
    file_case("pdf-truncated", "truncated.pdf", "failed", r"^not a readable PDF .*damaged or truncated"),
    file_case("pdf-encrypted", "encrypted.pdf", "failed", r"^encrypted PDF: remove the password"),
    file_case("pdf-malformed", "malformed.pdf", "failed", r"^not a readable PDF \("),
    file_case("pdf-bad-page-tree", "bad-page-tree.pdf", "failed", r"^page 1 cannot be read .*damaged"),
    file_case("pdf-scanned", "scan.pdf", "failed", r"^no text layer \(scanned image\?\): run OCR first$"),
    file_case(
        "pdf-2001-pages",
        "many-pages.pdf",
        "failed",
        r"^PDF has 2,001 pages, over the 2,000-page limit \(--max-pages\)$",
    ),
    file_case(
        "pdf-page-limit-option",
        "three-pages.pdf",
        "failed",
        r"^PDF has 3 pages, over the 2-page limit \(--max-pages\)$",
        args=("--max-pages", "2"),
    ),
    file_case(
        "pdf-decompression-bomb",
        "bomb.pdf",
        "failed",
        r"^PDF streams unpack to more than the 200 MB limit \(--max-decompressed-mb\)$",
    ),
    file_case(
        "docx-zip-bomb",
        "bomb.docx",
        "failed",
        r"^docx unpacks to 250.\d MB, over the 200 MB limit \(--max-decompressed-mb\)$",
    ),
    file_case(
        "docx-decompressed-limit-option",
        "good.docx",
        "failed",
        r"^docx unpacks to [\d.]+ kB, over the 10 kB limit \(--max-decompressed-mb\)$",
        args=("--max-decompressed-mb", "0.01"),
    ),
    file_case("docx-not-a-zip", "not-a-zip.docx", "failed", r"^not a \.docx file \(not a zip archive\)"),
    file_case("docx-zip-not-word", "zip-not-word.docx", "failed", r"^not a Word document \(no word/document"),
    file_case("docx-damaged-part", "damaged-part.docx", "failed", r"^not a readable Word document \("),
    file_case("docx-damaged-deflate", "damaged-deflate.docx", "failed", r"^not a readable Word document \("),
    file_case(
        "docx-unsupported-zip-version",
        "unsupported-zip-version.docx",
        "failed",
        r"^not a readable \.docx file \(zip file version 14\.8\): open and re-save it in Word$",
    ),
    file_case("docx-good", "good.docx", "read", title="A Word document", text=fixtures.PARAGRAPH[:60]),
    file_case(
        "html-scripts-iframes",
        "scripts-iframes.html",
        "read",
        title="Scripts and frames",
        text=fixtures.PARAGRAPH[:60],
        absent=("SCRIPT-TEXT", "INLINE-SCRIPT", "IFRAME-TEXT", "NAV-TEXT", "STYLE-TEXT", "NOSCRIPT-TEXT"),
    ),
    file_case(
        "html-10mb-nested-tags",
        "nested-10mb.html",
        "read",
        title="Nested page",
        text=fixtures.PARAGRAPH[:60],
        absent=("SCRIPT-TEXT", "IFRAME-TEXT", "NAV-TEXT", "END-SCRIPT"),
    ),
    file_case(
        "html-nested-too-deep", "deep-nesting.html", "failed", r"^HTML elements are nested more than 256"
    ),
    file_case("html-stray-closing-tags", "stray-closing-tags.html", "read", text="Stray closing tags after"),
    file_case("binary-as-txt", "binary.txt", "failed", r"^binary file, not text$"),
    file_case("binary-as-md", "binary.md", "failed", r"^binary file, not text$"),
    file_case("binary-as-html", "binary.html", "failed", r"^binary file, not text$"),
    file_case("empty-txt", "empty.txt", "empty", r"^file is empty \(0 bytes\)$"),
    file_case("empty-pdf", "empty.pdf", "empty", r"^file is empty \(0 bytes\)$"),
    file_case("empty-docx", "empty.docx", "empty", r"^file is empty \(0 bytes\)$"),
    file_case("blank-md", "blank.md", "empty", r"^no text found in the file$"),
    file_case(
        "utf16-no-bom",
        "utf16.txt",
        "read",
        title="Principles in UTF-16",
        text="The Declaration's partners “commit” to one global",
    ),
    file_case(
        "utf16-chinese",
        "utf16-chinese.txt",
        "read",
        title="全球数据安全倡议",
        text="各国应以事实为依据全面客观看待数据安全问题",
    ),
    file_case(
        "gb18030",
        "gb18030.txt",
        "read",
        title="网络空间命运共同体",
        text="构建网络空间命运共同体，尊重网络主权",
    ),
    file_case(
        "latin1",
        "latin1.txt",
        "read",
        title="Open Internet Principles",
        text="The délégation présented a naïve café strategy.",
    ),
    file_case(
        "mixed-line-endings",
        "mixed-line-endings.txt",
        "read",
        title="Mixed Line Endings",
        text="First paragraph, CRLF.\nSame paragraph.\n\nSecond paragraph, CR.\nSame one.",
    ),
    file_case("5mb-single-line", "long-line.txt", "read", text="sovereignty multistakeholder governance"),
    file_case(
        "file-size-limit",
        "long-line.txt",
        "failed",
        r"^file is 5 MB, over the 1 MB limit \(--max-file-mb\)$",
        args=("--max-file-mb", "1"),
    ),
    file_case(
        "character-limit",
        "long-line.txt",
        "failed",
        r"^text has 4,999,9\d\d characters, over the 1,000,000 limit \(--max-chars\)$",
        args=("--max-chars", "1000000"),
    ),
    file_case(
        "front-matter-not-yaml",
        "front-matter-not-yaml.md",
        "failed",
        r"^front matter is not valid YAML \(line 4: ",
    ),
    file_case(
        "front-matter-python-tag",
        "front-matter-python-tag.md",
        "failed",
        r"^front matter, line 2: tag '.*python/object/apply:os.system' is not allowed",
    ),
    file_case("front-matter-alias-bomb", "front-matter-alias-bomb.md", "failed", r"an alias bomb\?"),
    file_case("front-matter-deep", "front-matter-deep.md", "failed", r"nested deeper than 40 levels"),
    file_case(
        "front-matter-duplicate-key", "front-matter-duplicate-key.md", "failed", r"duplicate key 'title'"
    ),
    file_case(
        "front-matter-bad-date", "front-matter-bad-date.md", "failed", r"cannot read '2022-13-45' as a date"
    ),
    file_case("broken-symlink", "gone.txt", "failed", r"^broken symbolic link", arrange=_broken_link),
    file_case("unreadable-file", "locked.txt", "failed", r"^permission denied", arrange=_unreadable),
    file_case(
        "unreadable-folder",
        "private",
        "failed",
        r"^cannot list the folder: Permission denied",
        arrange=_unlistable_folder,
    ),
    file_case("fifo", "pipe.txt", "failed", r"^not a regular file", arrange=_fifo),
    file_case("hidden-file", ".notes.txt", "unsupported", r"^hidden file", arrange=_write(".notes.txt", "x")),
    file_case(
        "unsupported-suffix",
        "slides.pptx",
        "unsupported",
        r"^no reader for \.pptx",
        arrange=_write("slides.pptx", b"PK"),
    ),
    file_case("duplicate", "copy.txt", "duplicate", rf"^duplicate of {SEED}$", arrange=_copy_of_seed),
    Case("symlink-loop", CORPUS_COMMANDS, _symlink_loop, verify=_each_file_once),
]


def _manifest(key: str) -> Arrange:
    def arrange(inputs: Inputs) -> None:
        name, text = fixtures.MANIFESTS[key]
        (inputs.folder / name).write_text(text, encoding="utf-8")

    return arrange


def corpus_error(id: str, arrange: Arrange, message: str) -> Case:
    """A corpus that cannot be used at all: ``Error: ...`` naming the place, exit 1."""
    return Case(id, CORPUS_COMMANDS, arrange, code=1, message=message)


def _no_corpus(inputs: Inputs) -> None:
    inputs.corpus = [inputs.tmp / "no-such-folder"]


def _empty_corpus(inputs: Inputs) -> None:
    shutil.rmtree(inputs.folder)
    (inputs.folder / ".git").mkdir(parents=True)
    (inputs.folder / ".git" / "HEAD.txt").write_text("ref")


def _cache_is_a_file(inputs: Inputs) -> None:
    (inputs.tmp / "cache-file").write_text("not a folder")
    inputs.args.extend(["--cache", str(inputs.tmp / "cache-file")])


CORPUS_ERRORS = [
    corpus_error("cache-folder-is-a-file", _cache_is_a_file, r"cache-file: the cache folder is a file"),
    corpus_error(
        "manifest-missing-file", _manifest("missing-file"), r"corpus\.yaml:2: 'missing\.txt' matches no file"
    ),
    corpus_error(
        "manifest-path-traversal",
        _manifest("traversal"),
        r"corpus\.yaml:1: '\.\./\.\./evil\.txt' matches no file",
    ),
    corpus_error(
        "manifest-python-tag",
        _manifest("python-tag"),
        r"corpus\.yaml:2: tag '.*python/object/apply:os\.system' is not allowed",
    ),
    corpus_error(
        "manifest-alias-bomb",
        _manifest("alias-bomb"),
        r"corpus\.yaml:\d+: more than 100,000 values \(an alias bomb\?\)",
    ),
    corpus_error("manifest-deep-nesting", _manifest("deep"), r"corpus\.yaml:2: nested deeper than 40 levels"),
    corpus_error(
        "manifest-duplicate-key", _manifest("duplicate-key"), r"corpus\.yaml:3: duplicate key 'title'"
    ),
    corpus_error(
        "manifest-bad-date", _manifest("bad-date"), r"corpus\.yaml:2: cannot read '2022-13-45' as a date"
    ),
    corpus_error(
        "manifest-huge-csv-field",
        _manifest("huge-csv-field"),
        r"corpus\.csv:\d+: not valid CSV \(field larger than",
    ),
    corpus_error("corpus-missing", _no_corpus, r"no-such-folder: no such file or folder$"),
    corpus_error(
        "corpus-without-files", _empty_corpus, r"no files found \(hidden folders are not searched\)$"
    ),
    corpus_error(
        "passage-limit",
        lambda inputs: inputs.args.extend(["--max-passages", "2"]),
        rf"{SEED}: \d+ passages, over the limit of 2 per document \(--max-passages\)$",
    ),
]


def _framework_fixture(name: str) -> Arrange:
    def arrange(inputs: Inputs) -> None:
        inputs.frameworks = [FRAMEWORK_FIXTURES / name]

    return arrange


def _framework_text(name: str) -> Arrange:
    def arrange(inputs: Inputs) -> None:
        folder = inputs.tmp / "frameworks"
        folder.mkdir()
        shutil.copy(FRAMEWORK_FIXTURES / "dimensions.yaml", folder / "dimensions.yaml")
        text = fixtures.FRAMEWORKS[name]
        (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        inputs.frameworks = [folder / name]

    return arrange


def framework_error(id: str, arrange: Arrange, message: str) -> Case:
    """A framework file with a mistake: ``Error: file:line:col: ...`` for each problem, exit 1."""
    return Case(id, frozenset({"validate", "report"}), arrange, code=1, message=message)


FRAMEWORK_ERRORS = [
    framework_error(
        "framework-alias-bomb",
        _framework_fixture("bad_alias_bomb.yaml"),
        r":1:35: more than 100,000 values \(an alias bomb\?\)",
    ),
    framework_error(
        "framework-python-tag",
        _framework_fixture("bad_python_tag.yaml"),
        r":3:7: tag '.*python/object/apply:os.system' is not allowed",
    ),
    framework_error(
        "framework-deep-nesting",
        _framework_fixture("bad_deep_nesting.yaml"),
        r":1:45: nested deeper than 40 levels",
    ),
    framework_error(
        "framework-duplicate-key",
        _framework_fixture("bad_duplicate_key.yaml"),
        r":7:1: duplicate key 'version'",
    ),
    framework_error(
        "framework-missing-dimension",
        _framework_fixture("bad_undefined_dimension.yaml"),
        r"'soverignty' is not defined in dimensions\.yaml",
    ),
    framework_error(
        "framework-missing-source",
        _framework_fixture("bad_unknown_source.yaml"),
        r"source 'doc-b' is not listed in sources",
    ),
    framework_error("framework-malformed", _framework_fixture("bad_malformed.yaml"), r":3:7: invalid YAML"),
    framework_error(
        "framework-bad-date", _framework_text("bad-date.yaml"), r":6:7: cannot read '2022-13-45' as a date$"
    ),
    framework_error(
        "framework-nul-character",
        _framework_text("nul.yaml"),
        r":2:8: invalid YAML: character U\+0000 is not allowed$",
    ),
    framework_error(
        "framework-binary",
        _framework_text("binary.yaml"),
        r":1:13: byte 0xfc is not UTF-8: save the file as UTF-8$",
    ),
]


def option_error(id: str, commands: set[str], args: list[str], message: str) -> Case:
    """An option value out of range: typer's usage error, exit 2, before any work."""
    return Case(id, frozenset(commands), lambda inputs: inputs.args.extend(args), code=2, message=message)


LIMIT_OPTIONS = [
    ("max-file-mb-zero", ["--max-file-mb", "0"], "--max-file-mb"),
    ("max-file-mb-infinite", ["--max-file-mb", "inf"], "--max-file-mb"),
    ("max-pages-zero", ["--max-pages", "0"], "--max-pages"),
    ("max-passages-zero", ["--max-passages", "0"], "--max-passages"),
    ("max-chars-zero", ["--max-chars", "0"], "--max-chars"),
    ("max-chars-not-a-number", ["--max-chars", "many"], "--max-chars"),
    ("max-decompressed-mb-negative", ["--max-decompressed-mb", "-1"], "--max-decompressed-mb"),
]
OPTION_ERRORS = [
    *(
        option_error(id, set(CORPUS_COMMANDS), args, f"Invalid value for '{opt}'")
        for id, args, opt in LIMIT_OPTIONS
    ),
    option_error("top-k-zero", {"report"}, ["--top-k", "0"], "Invalid value for '--top-k'"),
    option_error(
        "min-score-over-one", {"report", "evaluate"}, ["--min-score", "2"], "Invalid value for '--min-score'"
    ),
    option_error(
        "min-score-nan", {"report", "evaluate"}, ["--min-score", "nan"], "Invalid value for '--min-score'"
    ),
    option_error(
        "format-xml", {"report"}, ["--format", "xml"], r"Invalid value for --format: 'xml' not in md,html,pdf"
    ),
    option_error(
        "engine-unknown",
        set(CORPUS_COMMANDS),
        ["--engine", "spark"],
        r"Invalid value for --engine: 'spark' is not one of local, parallel, dask",
    ),
    option_error(
        "scheduler-without-dask",
        set(CORPUS_COMMANDS),
        ["--scheduler", "tcp://127.0.0.1:8786"],
        r"Invalid value for --scheduler: only applies to --engine dask",
    ),
    option_error(
        "cache-and-no-cache",
        set(CORPUS_COMMANDS),
        ["--cache", "somewhere", "--no-cache"],
        r"Invalid value for --cache: --cache and --no-cache contradict each other",
    ),
]


def output_error(id: str, arrange: Arrange, message: str) -> Case:
    """An --out that cannot take a report: ``Error: ...`` before any work, exit 1."""
    return Case(id, frozenset({"report"}), arrange, code=1, message=message)


def _out_is_a_file(inputs: Inputs) -> None:
    inputs.out.write_text("not a folder")


def _out_under_a_file(inputs: Inputs) -> None:
    (inputs.tmp / "file").write_text("x")
    inputs.out = inputs.tmp / "file" / "report"


def _out_not_writable(inputs: Inputs) -> None:
    real = os.access  # root may write anywhere: pretend the folder is read-only
    inputs.out.mkdir()
    out = inputs.out

    def access(path: str | os.PathLike[str], mode: int, **kwargs: object) -> bool:
        return False if Path(path) == out and mode & os.W_OK else real(path, mode)

    inputs.monkeypatch.setattr(os, "access", access)


def _out_in_corpus(inputs: Inputs) -> None:
    inputs.out = inputs.folder / "reports"


OUTPUT_ERRORS = [
    output_error("out-is-a-file", _out_is_a_file, r"out: is a file, not a folder: choose another --out$"),
    output_error(
        "out-under-a-file",
        _out_under_a_file,
        r"file/report: cannot create the folder \(.*\): choose another --out$",
    ),
    output_error(
        "out-not-writable", _out_not_writable, r"out: folder is not writable: choose another --out$"
    ),
    output_error(
        "out-inside-corpus",
        _out_in_corpus,
        r"reports: lies inside the corpus folder .*choose an --out outside it$",
    ),
]


def gold_error(id: str, content: bytes | None, message: str) -> Case:
    """A gold file that cannot be used: ``Error: ...``, exit 1."""

    def arrange(inputs: Inputs) -> None:
        if content is None:
            inputs.gold.unlink()
        else:
            inputs.gold.write_bytes(content)

    return Case(id, frozenset({"evaluate"}), arrange, code=1, message=message)


GOLD_ERRORS = [
    gold_error("gold-missing", None, r"gold.csv: cannot read the gold file \(.*No such file"),
    gold_error(
        "gold-not-utf8",
        "document,quote,side\ncafé".encode("latin-1"),
        r"cannot read the gold file .*give a UTF-8 CSV$",
    ),
    gold_error("gold-empty", b"", r"gold.csv:1: header must have document,quote,side"),
    gold_error(
        "gold-huge-field",
        b"document,quote,side\n" + b"x" * 200_000 + b",q,s\n",
        r"gold.csv: not a valid CSV file \(field larger",
    ),
]

CASES = FILE_CASES + CORPUS_ERRORS + FRAMEWORK_ERRORS + OPTION_ERRORS + OUTPUT_ERRORS + GOLD_ERRORS


def cases_for(command: str) -> list[pytest.ParameterSet]:
    return [pytest.param(case, id=case.id) for case in CASES if command in case.commands]


# --- running a case -------------------------------------------------------------------------------


@pytest.fixture
def inputs(tmp_path: Path, bad_files: Path, monkeypatch: pytest.MonkeyPatch) -> Inputs:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed in (ROOT / "seeds").glob("*.txt"):
        shutil.copy(seed, corpus / seed.name)
    gold = tmp_path / "gold.csv"
    gold.write_text(f'document,quote,side\n{SEED},"{GOLD_QUOTE}",cn-shared-future\n', encoding="utf-8")
    return Inputs(tmp_path, bad_files, monkeypatch, [corpus], [ROOT / "frameworks"], gold, tmp_path / "out")


def run_case(case: Case, inputs: Inputs, command: str) -> Result:
    case.arrange(inputs)
    with bounded():
        result = runner.invoke(app, inputs.command(command))
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr, result.stderr
    assert result.exit_code == case.code, (result.exit_code, result.stdout[-2000:], result.stderr)
    if case.code == 1:
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert lines and all(line.startswith("Error: ") for line in lines), lines
        assert case.message is not None
        assert any(re.search(case.message, line) for line in lines), (case.message, lines)
    elif case.code == 2:
        shown = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stderr).split())
        assert case.message is not None and re.search(case.message, shown), shown
    else:
        lines = result.stderr.splitlines()
        assert all(line.startswith(("skipped: ", "warning: ")) for line in lines), lines
        if case.record is not None:
            _check_skipped_line(case.record, inputs, lines)
    if case.verify is not None:
        case.verify(inputs, result)
    return result


def _check_skipped_line(record: tuple[str, str, str | None], inputs: Inputs, lines: list[str]) -> None:
    name, status, reason = record
    prefix = f"skipped: {inputs.folder / name}: {status}: "
    shown = [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]
    if status == "read":
        assert not shown, lines
    else:
        assert len(shown) == 1, (prefix, lines)
        assert reason is not None and re.search(reason, shown[0]), (reason, shown[0])


def _passage_text(out: Path, document: str) -> str:
    with open(out / "data" / "passages.csv", encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["document"] == document]
    return "\n\n".join(row["text"] for row in rows)


@pytest.fixture
def no_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Charts take seconds and are tested elsewhere: the bad-input runs of report skip them."""
    import govcompare.report.render as render

    monkeypatch.setattr(render, "build_charts", lambda result, label: [])


# --- one test per entry point ---------------------------------------------------------------------


@pytest.mark.parametrize("case", cases_for("ingest"))
def test_ingest(case: Case, inputs: Inputs) -> None:
    result = run_case(case, inputs, "ingest")
    if case.code == 0 and case.record is not None:
        name, status, _ = case.record
        rows = [line for line in result.stdout.splitlines() if f" {name} " in line]
        assert rows and f" {status} " in rows[0], result.stdout
        if case.title is not None:  # the table shows the title: its first line, decoded correctly
            assert case.title in rows[0], rows[0]
        assert re.search(r"\d+ files: \d+ read", result.stdout)


@pytest.mark.parametrize("case", cases_for("validate"))
def test_validate(case: Case, inputs: Inputs) -> None:
    run_case(case, inputs, "validate")


@pytest.mark.parametrize("case", cases_for("report"))
def test_report(case: Case, inputs: Inputs, no_charts: None) -> None:
    result = run_case(case, inputs, "report")
    if case.code != 0:
        assert not list(inputs.out.glob("report.*")) if inputs.out.is_dir() else True
        return
    assert result.stdout.startswith("wrote ")
    record = json.loads((inputs.out / "run.json").read_text(encoding="utf-8"))
    if case.record is None:
        return
    name, status, reason = case.record
    entries = [e for e in record["inputs"] if e["path"] == str(inputs.folder / name)]
    assert len(entries) == 1, record["inputs"]
    assert entries[0]["status"] == status
    if reason is not None:
        assert re.search(reason, entries[0]["reason"]), entries[0]["reason"]
    with open(inputs.out / "data" / "inputs.csv", encoding="utf-8", newline="") as handle:
        assert [row["status"] for row in csv.DictReader(handle) if row["path"].endswith(f"/{name}")] == [
            status
        ]
    if status == "read":
        text = _passage_text(inputs.out, name)
        if case.text is not None:
            assert case.text in text
        for word in case.absent:
            assert word not in text


@pytest.mark.parametrize("case", cases_for("evaluate"))
def test_evaluate(case: Case, inputs: Inputs) -> None:
    result = run_case(case, inputs, "evaluate")
    if case.code == 0:
        assert "side_macro_f1" in result.stdout
        assert (inputs.out / "evaluation.json").exists()


# --- nothing lost ---------------------------------------------------------------------------------


class _Cells(html.parser.HTMLParser):
    """The rows of the table that follows the ``<h2>Inputs</h2>`` heading, as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_inputs = self._in_cell = False
        self._heading: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h2":
            self._heading = []
        elif tag == "tr" and self._in_inputs:
            self.rows.append([])
        elif tag == "td" and self._in_inputs:
            self._in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_inputs = "".join(self._heading).strip() == "Inputs"
        elif tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        self._heading.append(data)
        if self._in_cell:
            self.rows[-1][-1] += data


def _files_on_disk(folder: Path) -> set[str]:
    """Every file under ``folder`` as discovery documents it: dot-folders not entered, links not followed."""
    found = set()
    for parent, folders, files in os.walk(folder):
        folders[:] = [
            f for f in folders if not f.startswith(".") and not os.path.islink(os.path.join(parent, f))
        ]
        found |= {os.path.relpath(os.path.join(parent, name), folder) for name in files}
    return found


def test_every_file_on_disk_is_in_the_run_record_and_the_report(
    tmp_path: Path, bad_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    # all but the two large files that are read (thousands of passages would only slow the test down)
    shutil.copytree(bad_files, corpus, ignore=shutil.ignore_patterns("long-line.txt", "nested-10mb.html"))
    for seed in (ROOT / "seeds").glob("*.txt"):
        shutil.copy(seed, corpus / seed.name)
    (corpus / "sub" / "deeper").mkdir(parents=True)
    (corpus / "sub" / "deeper" / "note.md").write_text("# A note\n\nA short note on cyber sovereignty.\n")
    (corpus / "sub" / "loop").symlink_to(corpus, target_is_directory=True)
    (corpus / "gone.txt").symlink_to(tmp_path / "missing.txt")
    (corpus / ".hidden.txt").write_text("hidden")
    (corpus / ".git").mkdir()
    (corpus / ".git" / "config").write_text("not searched")
    (corpus / "slides.pptx").write_bytes(b"PK")
    (corpus / "copy.txt").write_bytes((corpus / SEED).read_bytes())
    os.mkfifo(corpus / "pipe.txt")
    on_disk = _files_on_disk(corpus)
    assert len(on_disk) > 40 and ".git/config" not in on_disk

    out = tmp_path / "out"
    with bounded(120):
        result = runner.invoke(
            app, ["report", "--corpus", str(corpus), "--out", str(out), "--format", "md,html"]
        )
    assert result.exit_code == 0, result.stderr
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    recorded = {os.path.relpath(i["path"], corpus): i["status"] for i in record["inputs"]}
    assert set(recorded) == on_disk
    assert {"read", "duplicate", "empty", "unsupported", "failed"} == set(recorded.values())
    skipped = {line.split(": ")[1] for line in result.stderr.splitlines() if line.startswith("skipped: ")}
    assert {os.path.relpath(p, corpus) for p in skipped} == {k for k, v in recorded.items() if v != "read"}

    with open(out / "data" / "inputs.csv", encoding="utf-8", newline="") as handle:
        exported = {os.path.relpath(row["path"], corpus): row["status"] for row in csv.DictReader(handle)}
    assert exported == recorded
    cells = _Cells()
    cells.feed((out / "report.html").read_text(encoding="utf-8"))
    assert {os.path.relpath(row[0], corpus): row[1] for row in cells.rows if row} == recorded
    markdown = (out / "report.md").read_text(encoding="utf-8").split("## Inputs", 1)[1]
    for path, status in recorded.items():
        assert f"| {md_cell(str(corpus / path))} | {status} |" in markdown, path


# --- nothing half-written -------------------------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not p.relative_to(folder).as_posix().startswith(STAGING_PREFIX)
    }


def _report_command(out: Path, formats: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "govcompare",
        "report",
        "--corpus",
        "seeds",
        "--out",
        str(out),
        "--format",
        formats,
    ]


@pytest.fixture(scope="module")
def seeds_result():  # type: ignore[no-untyped-def]
    from govcompare.pipeline import run

    return run("frameworks", "seeds")


def test_a_killed_run_leaves_the_previous_report_intact(
    tmp_path: Path, seeds_result, no_charts: None
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    write_report(seeds_result, out, formats=["md", "html"], title="The previous report")
    before = _snapshot(out)
    process = subprocess.Popen(_report_command(out, "md,html,pdf"), cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    staging: list[Path] = []
    while time.monotonic() < deadline and process.poll() is None:
        staging = [p for p in out.glob(f"{STAGING_PREFIX}*") if any(p.rglob("*.png"))]
        if staging:  # it has started writing: the charts are in its staging folder
            break
        time.sleep(0.02)
    process.kill()
    process.communicate()
    assert staging and process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert _snapshot(out) == before  # byte for byte, and no file added or removed
    assert [p.name for p in out.glob(f"{STAGING_PREFIX}*")] == [staging[0].name]  # left behind

    write_report(seeds_result, out, formats=["md"], title="The next report")
    assert not list(out.glob(f"{STAGING_PREFIX}*")), "the next run removes what the killed one left"
    assert "The next report" in (out / "report.md").read_text(encoding="utf-8")


def test_two_runs_at_once_do_not_corrupt_the_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    processes = [
        subprocess.Popen(
            _report_command(out, "md"), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in processes]
    codes = sorted(code for code, _, _ in results)
    assert codes in ([0, 0], [0, 1]), results
    for code, _, err in results:
        if code == 1:  # the loser is told why, in one line
            assert err.splitlines()[-1].startswith("Error: ") and "another govcompare run is writing" in err
        assert "Traceback" not in err
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    for name, digest in record["outputs"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    assert not list(out.glob(f"{STAGING_PREFIX}*"))


def test_stale_staging_folders_are_removed_by_the_next_run(
    tmp_path: Path, seeds_result, no_charts: None
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    stale = out / f"{STAGING_PREFIX}killed"
    (stale / "charts").mkdir(parents=True)
    (stale / "charts" / "half.png").write_bytes(b"\x89PNG")
    write_report(seeds_result, out, formats=["md"])
    assert not stale.exists()
    assert (out / "report.md").exists()


# --- safe output ----------------------------------------------------------------------------------


def test_paths_from_metadata_never_leave_the_output_folder(tmp_path: Path, root: Path) -> None:
    corpus = tmp_path / "a" / "corpus"
    corpus.mkdir(parents=True)
    for seed in (root / "seeds").glob("*.txt"):
        shutil.copy(seed, corpus / seed.name)
    (corpus / "corpus.yaml").write_text(
        f"- file: {SEED}\n  title: ../../evil\n  kind: ../../../evil-kind\n  source_url: ../../evil-url\n"
    )
    (corpus / "front.md").write_text(
        "---\ntitle: ../../../evil-front\nid: ../../evil-id\n---\n\nA note on cyber sovereignty and the "
        "open internet, long enough to be a passage of its own in the report.\n"
    )
    out = tmp_path / "a" / "b" / "out"
    before = {p for p in tmp_path.rglob("*")}
    result = runner.invoke(
        app,
        [
            "report",
            "--corpus",
            str(corpus),
            "--out",
            str(out),
            "--format",
            "md,html",
            "--title",
            "../../evil-title",
        ],
    )
    assert result.exit_code == 0, result.stderr
    added = {p for p in tmp_path.rglob("*")} - before
    assert added and all(out in p.parents or p == out for p in added if p != out.parent), sorted(added)
    assert not [p for p in tmp_path.rglob("*evil*")]
    assert "../../evil" in (out / "report.md").read_text(encoding="utf-8")  # shown, not used as a path


def test_framework_and_corpus_text_is_escaped_in_html_and_pdf(tmp_path: Path, root: Path) -> None:
    frameworks = tmp_path / "frameworks"
    shutil.copytree(root / "frameworks", frameworks)
    path = frameworks / "us-multistakeholder.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "name: The US and partners' open, multistakeholder Internet",
        "name: \"The US <img src=x onerror=alert('name')> Internet\"",
    )
    text = text.replace(
        "    statement: >-\n", "    statement: >-\n      <script>alert('statement')</script>\n", 1
    )
    path.write_text(text, encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed in (root / "seeds").glob("*.txt"):
        shutil.copy(seed, corpus / seed.name)
    (corpus / "corpus.yaml").write_text(
        f"- file: {SEED}\n  title: \"<iframe src='https://evil'></iframe>\"\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["report", "-f", str(frameworks), "-c", str(corpus), "-o", str(out), "--format", "md,html,pdf"]
    )
    assert result.exit_code == 0, result.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    for raw in ("<script", "<img src=x", "<iframe"):
        assert raw not in page
    for escaped in ("&lt;script&gt;alert(", "&lt;img src=x onerror=", "&lt;iframe src="):
        assert escaped in page
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in markdown and "\\<script\\>alert(" in markdown
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: scripts/run installs it")
    printed = subprocess.run(
        [pdftotext, str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True
    )
    shown = " ".join(printed.stdout.split())
    assert "<script>alert('statement')</script>" in shown  # printed as text: it was escaped
    assert "onerror=alert('name')>" in shown


@pytest.mark.parametrize("where", ["framework", "manifest", "front matter"])
def test_yaml_never_builds_python_objects(tmp_path: Path, where: str) -> None:
    marker = tmp_path / "PWNED"
    payload = f"!!python/object/apply:os.system ['touch {marker}']"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(ROOT / "seeds" / SEED, corpus / SEED)
    args = ["ingest", str(corpus)]
    if where == "framework":
        (tmp_path / "dimensions.yaml").write_bytes((FRAMEWORK_FIXTURES / "dimensions.yaml").read_bytes())
        (tmp_path / "x.yaml").write_text(f"id: {payload}\n")
        args = ["validate", str(tmp_path / "x.yaml")]
    elif where == "manifest":
        (corpus / "corpus.yaml").write_text(f"- file: {SEED}\n  title: {payload}\n")
    else:
        (corpus / "doc.md").write_text(f"---\ntitle: {payload}\n---\n\nText.\n")
    result = runner.invoke(app, args)
    assert "is not allowed" in result.stderr
    assert not marker.exists()


# --- limits ---------------------------------------------------------------------------------------


def test_pdf_character_limit_is_checked_before_reading_the_characters() -> None:
    data = (BAD / "three-pages.pdf").read_bytes()
    with pytest.raises(CorpusError, match=r"^text has \d+ characters, over the 50 limit \(--max-chars\)$"):
        read_pdf(data, Limits(max_chars=50))


def test_every_limit_has_an_option_on_every_command_that_reads_a_corpus() -> None:
    import typer.main

    group = typer.main.get_command(app)
    limits = {
        "--max-file-mb",
        "--max-pages",
        "--max-passages",
        "--max-chars",
        "--max-decompressed-mb",
        "--strict",
        "--engine",
        "--scheduler",
        "--cache",
        "--no-cache",
    }
    for name in ("ingest", "evidence", "score", "evaluate", "report"):
        command = group.commands[name]  # type: ignore[attr-defined]
        options = {option for param in command.params for option in param.opts}
        assert limits <= options, (name, limits - options)


def test_explosive_inputs_stay_within_memory_in_a_fresh_process(tmp_path: Path, bad_files: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("bomb.pdf", "bomb.docx", "many-pages.pdf", "nested-10mb.html", "long-line.txt"):
        shutil.copy(bad_files / name, corpus / name)
    started = time.monotonic()
    with open(tmp_path / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "govcompare", "ingest", str(corpus)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        _, status, usage = os.wait4(process.pid, 0)  # the child's own peak memory, unlike getrusage
        process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    errors = (tmp_path / "stderr.txt").read_text()
    assert process.returncode == 0, errors
    assert len(errors.splitlines()) == 3 and "Traceback" not in errors  # the two bombs and the page count
    assert elapsed < 60, f"{elapsed:.0f} s"
    assert usage.ru_maxrss / 1024 < 1000, f"peak {usage.ru_maxrss / 1024:.0f} MB"


# --- what fuzzing found (benchmarks/fuzz.py) ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date: 2022-13-45\n", r"x.yaml:1:7: cannot read '2022-13-45' as a date"),
        ("id: 9" + "9" * 5000 + "\n", r"x.yaml:1:5: cannot read '9{40}\.\.\.' as a number"),
        ("a: \ud800\n", r"x.yaml:1:4: invalid YAML: character U\+D800 is not allowed"),
        ("a: b\x00c\n", r"x.yaml:1:5: invalid YAML: character U\+0000 is not allowed$"),
        ("? !!python/name:os.system\n: 1\n", r"x.yaml:1:3: tag '.*python/name:os.system' is not allowed"),
        ("<<: {a: 1}\n", r"x.yaml:1:1: merge keys \(<<\) are not supported"),
    ],
    ids=["invalid-date", "huge-integer", "lone-surrogate", "nul", "tagged-key", "merge-key"],
)
def test_framework_loader_turns_odd_scalars_into_located_problems(text: str, message: str) -> None:
    from govcompare.errors import FrameworkError
    from govcompare.frameworks import parse_framework

    with pytest.raises(FrameworkError, match=message) as raised:
        parse_framework(text, source="x.yaml")
    assert all("\n" not in str(p) for p in raised.value.problems)


@pytest.mark.parametrize(
    "line",
    [
        "A" * 40_000 + " B-",  # an enormous word, then a hyphen at the line end
        "." * 40_000 + "x",  # leader dots without a page number
        "a-" * 20_000,
    ],
    ids=["long-word-hyphen", "leader-dots", "many-hyphens"],
)
def test_pdf_line_patterns_take_linear_time(line: str) -> None:
    from govcompare.readers.pdf import _toc_entry, _trailing_hyphen

    started = time.perf_counter()
    _trailing_hyphen(line)
    _toc_entry(line)
    assert time.perf_counter() - started < 0.5
    assert _toc_entry("Introduction ........ 12") and not _toc_entry("Introduction ........ ")
    match = _trailing_hyphen("the critical infra-")
    assert match is not None and match.group(1) == "infra"
