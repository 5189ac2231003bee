"""Fuzz the readers and the framework loader with random and mutated inputs.

    .venv/bin/python benchmarks/fuzz.py                       # every target, 60 s each
    .venv/bin/python benchmarks/fuzz.py --seconds 300 --targets pdf,docx --jobs 2

Each target runs in a worker process for ``--seconds``. Inputs are the project's own fixtures (tests/data,
frameworks/, seeds/, ../shared/corpus, and files generated here) mutated by bit flips, byte edits,
format tokens, truncation, chunk deletion and duplication and splicing, plus purely random bytes. A reader
target writes the input to a file and reads it with ``read_corpus`` as ``govcompare ingest`` does (with
``--passages`` it then cuts passages too); the framework target calls ``parse_framework`` and
``parse_dimensions``, the manifest target reads a corpus whose corpus.yaml or corpus.csv is the input.

Anything but the tool's own error (``CorpusError``, ``FrameworkError``) or a recorded failure with a
reason is a crash: another exception, a file recorded as "the .x reader failed", the worker process dying
(a segfault, the memory limit) or hanging. Inputs slower than ``--slow`` seconds are listed too. Each
finding is saved under ``--out`` (default /tmp/govcompare-fuzz) with its traceback, and a summary of inputs
tried and findings per target is printed at the end. The exit status is 1 when there was a crash.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # corpus_fixtures: hand-made PDFs and .docx files

READER_TARGETS = ("txt", "md", "html", "pdf", "docx", "manifest")
TARGETS = (*READER_TARGETS, "framework")
MAX_INPUT = 2_000_000  # bytes: mutations that grow an input stop here
MEMORY_LIMIT = 4 << 30  # address space of a worker: a blow-up fails as MemoryError, not the machine

TOKENS: dict[str, list[bytes]] = {
    "common": [b"\x00", b"\xff", b"\xfe\xff", b"\xef\xbb\xbf", b"\r", b"\r\n", b"\n\n", b"\t", b" " * 64],
    "pdf": [
        b"obj",
        b"endobj",
        b"stream\n",
        b"endstream",
        b"<<",
        b">>",
        b"/Length 999999999",
        b"/Count 99999999",
        b"/Count -1",
        b"/Kids [1 0 R]",
        b"/Filter /FlateDecode",
        b"/Encrypt 1 0 R",
        b"xref",
        b"trailer",
        b"startxref",
        b"0 0 R",
        b"(",
        b")",
        b"\\",
        b"Tj",
        b"TJ",
        b"Tf",
        b"Td",
        b"BT",
        b"ET",
        b"-1e308",
        b"99999999999",
        b"/Type /Page",
    ],
    "html": [
        b"<div>",
        b"</div>",
        b"<script>",
        b"</script>",
        b"<iframe src='x'>",
        b"<!--",
        b"-->",
        b"<![CDATA[",
        b"&#0;",
        b"&#x110000;",
        b"&lol;",
        b"<meta charset='utf-16'>",
        b"<meta charset='x-unknown'>",
        b"<?xml version='1.0' encoding='latin-1'?>",
        b"<table><tr><td>",
        b"<p>",
        b"<html lang='zz'>",
        b"<title>",
        b"<article>",
        b"<",
        b">",
    ],
    "md": [
        b"---\n",
        b"...\n",
        b"```",
        b"~~~",
        b"<script>",
        b"<!--",
        b"| a | b |\n|---|---|\n",
        b"[x](",
        b"![i](",
        b"# ",
        b"> ",
        b"- ",
        b"1. ",
        b"&a [1]",
        b"*a",
        b"!!python/object:os.system",
        b"date: 2022-13-45\n",
        b"title: [a, b]\n",
    ],
    "yaml": [
        b"&a ",
        b"*a",
        b"<<: *a\n",
        b"!!python/object/apply:os.system ['x']",
        b"!!binary aGk=",
        b"!custom ",
        b"? ",
        b"- ",
        b": ",
        b"{",
        b"}",
        b"[",
        b"]",
        b"%YAML 1.1\n",
        b"---\n",
        b"...\n",
        b"'",
        b'"',
        b"|\n",
        b">-\n",
        b"2022-13-45",
        b"9" * 5000,
        b"1e999",
        b".nan",
        b"~",
        b"null",
        b"yes",
        b"\t",
        b"#",
        b"\\u",
        b"\\x",
    ],
    "csv": [b",", b'"', b'""', b"\n", b"file,title,date\n", b"a.txt", b"x" * 200_000],
    "docx": [b"<w:p>", b"</w:p>", b"<w:t>", b"</w:t>", b"<w:tbl>", b"<!DOCTYPE x [<!ENTITY e 'x'>]>", b"&e;"],
}
TOKENS["txt"] = TOKENS["common"] + [b"\x85", "\u2028".encode(), "\u00e9".encode("latin-1")]
TOKENS["manifest"] = TOKENS["yaml"] + TOKENS["csv"]
TOKENS["framework"] = TOKENS["yaml"]


# --- seeds ----------------------------------------------------------------------------------------


def _files(folder: Path, *suffixes: str) -> list[bytes]:
    if not folder.is_dir():
        return []
    return [
        p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix.lower() in suffixes and p.stat().st_size <= MAX_INPUT
    ]


def seeds(target: str) -> list[bytes]:
    """Valid and invalid examples of the target's format to mutate."""
    from corpus_fixtures import blank_pdf, encrypted_pdf, make_docx, make_pdf, paragraph_lines

    data = ROOT / "tests" / "data"
    shared = ROOT.parent / "shared" / "corpus"
    found: list[bytes] = []
    if target == "txt":
        found = _files(data / "corpus", ".txt") + _files(shared, ".txt") + _files(ROOT / "seeds", ".txt")
        found += [
            "Governance of the internet. 网络主权。".encode(enc) for enc in ("utf-16", "gb18030", "utf-8")
        ]
        found.append("Café à la gare, naïve délégation.".encode("latin-1"))
    elif target == "md":
        found = _files(data / "corpus", ".md") + _files(shared, ".md") + _files(data / "bad", ".md")
    elif target == "html":
        found = _files(data / "corpus", ".html", ".htm") + _files(data / "bad", ".html")
    elif target == "pdf":
        lines = paragraph_lines(["The critical infra-", "structure of the network.", "Page text."], top=600)
        found = [make_pdf([lines, lines], title="A Title"), blank_pdf(), encrypted_pdf()]
        found += [p for p in _files(data / "bad", ".pdf") if len(p) < 300_000]
        found += [p for p in _files(shared, ".pdf") if len(p) < 200_000]
    elif target == "docx":
        found = [
            make_docx(["First paragraph.", "Second."], title="T", heading="H", table=[["a", "b"], ["c", "d"]])
        ]
        found += [p for p in _files(data / "bad", ".docx") if len(p) < 300_000]
    elif target == "manifest":
        found = _files(ROOT / "seeds", ".yaml", ".csv")
        found += [
            b"- file: a.txt\n  title: A\n  date: 2022-01-01\n- file: b.md\n  actor: US\n",
            b"a.txt:\n  title: A\nb.md:\n",
            b"file,title,date,actor\na.txt,A,2022-01-01,US\nb.md,,,\n",
        ]
    elif target == "framework":
        found = _files(data / "frameworks", ".yaml") + _files(ROOT / "frameworks", ".yaml")
    return found or [b""]


# --- mutations ------------------------------------------------------------------------------------


def mutate(data: bytes, rng: random.Random, tokens: list[bytes], others: list[bytes]) -> bytes:
    """One to four random edits of ``data``."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(9)
        at = rng.randint(0, len(out))
        if kind == 0 and out:  # flip bits
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(out))
                out[i] ^= 1 << rng.randrange(8)
        elif kind == 1 and out:  # set a byte to an edge value
            out[rng.randrange(len(out))] = rng.choice((0, 1, 0x7F, 0x80, 0xFF, 0x0A, 0x0D, 0x3C, 0x5B, 0x7B))
        elif kind == 2:  # insert a format token
            out[at:at] = rng.choice(tokens)
        elif kind == 3 and out:  # delete a chunk
            out[at : at + rng.randint(1, max(1, len(out) // 8))] = b""
        elif kind == 4 and out:  # repeat a chunk
            start = rng.randrange(len(out))
            chunk = bytes(out[start : start + rng.randint(1, 256)])
            out[at:at] = chunk * rng.choice((2, 10, 100, 1000))
        elif kind == 5:  # truncate
            del out[at:]
        elif kind == 6 and others:  # splice with another seed
            other = rng.choice(others)
            cut = rng.randint(0, len(other))
            out = out[:at] + bytearray(other[cut:])
        elif kind == 7:  # random bytes
            out[at:at] = rng.randbytes(rng.randint(1, 64))
        elif kind == 8:  # a number made huge, negative or zero
            digits = [i for i in range(len(out)) if 0x30 <= out[i] <= 0x39][:4096]
            if digits:
                i = rng.choice(digits)
                out[i : i + 1] = rng.choice((b"999999999", b"-1", b"0", b"4294967296", b"1e400"))
        if len(out) > MAX_INPUT:
            del out[MAX_INPUT:]
    return bytes(out)


def mutate_zip(data: bytes, rng: random.Random, tokens: list[bytes], others: list[bytes]) -> bytes:
    """Mutate one member of a zip (the XML inside a .docx), or the archive's bytes themselves."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            members = [(info.filename, source.read(info)) for info in source.infolist()]
    except Exception:
        return mutate(data, rng, tokens, others)
    if not members or rng.random() < 0.3:
        return mutate(data, rng, tokens, others)
    index = rng.randrange(len(members))
    xml = [i for i, (name, _) in enumerate(members) if name.endswith(".xml")]
    if xml and rng.random() < 0.7:
        index = rng.choice(xml)
    name, content = members[index]
    members[index] = (name, mutate(content, rng, tokens, []))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member_name, member in members:
            target.writestr(member_name, member)
    return out.getvalue()


# --- targets --------------------------------------------------------------------------------------

GOOD_TEXT = b"A good document about the open internet, cyber sovereignty and data governance. " * 4


STAGES: dict[str, float] = {}  # seconds spent in each stage of the last input


class Finding(Exception):
    """The input made the tool fail in a way other than its own error."""


def reader_target(suffix: str, passages: bool) -> Callable[[bytes], str]:
    """Read ``data`` as ``input<suffix>`` through the corpus (then cut passages, with ``passages``)."""
    from govcompare.corpus import read_corpus
    from govcompare.errors import CorpusError
    from govcompare.passages import Segmenter

    folder = Path(tempfile.mkdtemp(prefix="govcompare-fuzz-"))
    segmenter = Segmenter()

    def run(data: bytes) -> str:
        for old in folder.iterdir():
            old.unlink()
        path = folder / f"input{suffix}"
        path.write_bytes(data)
        started = time.monotonic()
        try:
            corpus = read_corpus(folder)
        except CorpusError:
            return "error"
        finally:
            STAGES["read"] = time.monotonic() - started
        record = corpus.records[0]
        if record.status == "failed" and (record.reason or "").startswith(f"the {suffix} reader failed"):
            raise Finding(record.reason)
        started = time.monotonic()
        for document in corpus.documents if passages else ():
            try:
                segmenter.split(document)
            except CorpusError:
                return "error"
            finally:
                STAGES["passages"] = time.monotonic() - started
        return record.status

    return run


def manifest_target() -> Callable[[bytes], str]:
    """Read a small corpus whose manifest is ``data`` (as corpus.yaml or corpus.csv, alternately)."""
    from govcompare.corpus import read_corpus
    from govcompare.errors import CorpusError

    folder = Path(tempfile.mkdtemp(prefix="govcompare-fuzz-"))
    (folder / "a.txt").write_bytes(GOOD_TEXT)
    (folder / "b.md").write_bytes(b"---\ntitle: B\n---\n\n" + GOOD_TEXT)
    calls = Counter[str]()

    def run(data: bytes) -> str:
        calls["n"] += 1
        for name in ("corpus.yaml", "corpus.csv"):
            (folder / name).unlink(missing_ok=True)
        name = "corpus.csv" if calls["n"] % 2 else "corpus.yaml"
        (folder / name).write_bytes(data)
        try:
            read_corpus(folder)
        except CorpusError:
            return "error"
        return "read"

    return run


def framework_target() -> Callable[[bytes], str]:
    """Parse ``data`` as a framework (checked against the bundled dimensions) and as dimensions."""
    from govcompare.errors import FrameworkError
    from govcompare.frameworks import parse_dimensions, parse_framework

    dimensions = parse_dimensions((ROOT / "frameworks" / "dimensions.yaml").read_bytes(), source="d")

    def run(data: bytes) -> str:
        outcome = []
        for parse in (
            lambda: parse_framework(data, source="fuzz.yaml", dimensions=dimensions),
            lambda: parse_dimensions(data, source="fuzz.yaml"),
        ):
            try:
                parse()
                outcome.append("ok")
            except FrameworkError:
                outcome.append("error")
        return "/".join(outcome)

    return run


def make_target(name: str, passages: bool) -> Callable[[bytes], str]:
    if name == "manifest":
        return manifest_target()
    if name == "framework":
        return framework_target()
    return reader_target(f".{name}", passages)


# --- worker ---------------------------------------------------------------------------------------


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Timeout


def worker(
    target: str, seconds: float, seed: int, out: Path, slow: float, timeout: float, passages: bool
) -> None:
    """Fuzz one target until time is up; print one JSON summary line on stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    import warnings

    warnings.simplefilter("ignore")  # libraries' warnings about odd input are not findings
    signal.signal(signal.SIGALRM, _alarm)
    rng = random.Random(seed)
    run = make_target(target, passages)
    corpus = seeds(target)
    tokens = TOKENS.get(target, []) + TOKENS["common"]
    shape = mutate_zip if target == "docx" else mutate
    current = out / f"{target}.current"
    stats: Counter[str] = Counter()
    findings: list[dict[str, str]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if rng.random() < 0.05:
            data = rng.randbytes(rng.randint(0, 4096))
        else:
            data = shape(rng.choice(corpus), rng, tokens, corpus)
        current.write_bytes(data)
        started = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            outcome = run(data)
        except Timeout:
            outcome = "timeout"
            findings.append(_save(out, target, "timeout", data, f"over {timeout} s"))
        except Exception as exc:
            outcome = "crash"
            findings.append(_save(out, target, "crash", data, traceback.format_exc(), exc))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        elapsed = time.monotonic() - started
        if outcome not in ("timeout", "crash") and elapsed > slow:
            stage = max(STAGES, key=lambda k: STAGES[k]) if STAGES else target
            finding = _save(out, target, "slow", data, f"{elapsed:.1f} s, {STAGES}")
            findings.append(finding | {"signature": f"slowest stage: {stage}"})
        STAGES.clear()
        stats[outcome] += 1
        if len(data) < 50_000 and outcome in ("read", "ok/ok", "ok/error", "error/ok") and rng.random() < 0.1:
            corpus.append(data)  # inputs that still parse are good material for more mutation
    current.unlink(missing_ok=True)
    print(json.dumps({"target": target, "stats": stats, "findings": findings}))


def _save(
    out: Path, target: str, kind: str, data: bytes, detail: str, exc: BaseException | None = None
) -> dict[str, str]:
    digest = hashlib.sha1(data).hexdigest()[:12]
    suffix = {"manifest": ".yaml", "framework": ".yaml"}.get(target, f".{target}")
    path = out / f"{target}-{kind}-{digest}{suffix}"
    path.write_bytes(data)
    path.with_suffix(path.suffix + ".txt").write_text(detail)
    signature = kind
    if exc is not None:
        frames = traceback.extract_tb(exc.__traceback__)
        last = frames[-1] if frames else None
        where = f"{Path(last.filename).name}:{last.lineno}" if last else "?"
        signature = f"{type(exc).__name__} at {where}: {str(exc)[:100]}"
    return {"kind": kind, "signature": signature, "reproducer": str(path)}


# --- driver ---------------------------------------------------------------------------------------


def drive(target: str, args: argparse.Namespace, out: Path) -> dict[str, object]:
    """Run workers for one target until its time is used, restarting any that die or hang."""
    stats: Counter[str] = Counter()
    findings: list[dict[str, str]] = []
    end = time.monotonic() + args.seconds
    round_ = 0
    while (left := end - time.monotonic()) > 1:
        command = [
            sys.executable,
            __file__,
            "--worker",
            target,
            "--seconds",
            f"{left:.1f}",
            "--seed",
            str(args.seed * 1000 + round_),
            "--out",
            str(out),
            "--slow",
            str(args.slow),
            "--timeout",
            str(args.timeout),
            *(["--passages"] if args.passages else []),
        ]
        round_ += 1
        worker_process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        current = out / f"{target}.current"
        try:
            stdout, _ = worker_process.communicate(timeout=left + args.timeout + 60)
        except subprocess.TimeoutExpired:
            worker_process.kill()
            stdout, _ = worker_process.communicate()
        if worker_process.returncode == 0 and stdout.strip():
            report = json.loads(stdout.strip().splitlines()[-1])
            stats.update(report["stats"])
            findings.extend(report["findings"])
            break
        data = current.read_bytes() if current.exists() else b""
        detail = f"worker exited with status {worker_process.returncode}"
        findings.append(_save(out, target, "process", data, detail) | {"signature": detail})
        stats["process"] += 1
    return {"target": target, "stats": stats, "findings": findings}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="time per target (default 60)")
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated: {','.join(TARGETS)}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, help="targets fuzzed at once")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "govcompare-fuzz")
    parser.add_argument("--slow", type=float, default=5.0, help="list inputs slower than this (s)")
    parser.add_argument("--timeout", type=float, default=30.0, help="an input slower than this hangs (s)")
    parser.add_argument("--passages", action="store_true", help="also cut the documents read into passages")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.worker:
        worker(args.worker, args.seconds, args.seed, args.out, args.slow, args.timeout, args.passages)
        return 0
    targets = [t for t in args.targets.split(",") if t]
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}: choose from {', '.join(TARGETS)}")
    from concurrent.futures import ThreadPoolExecutor

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        reports = list(pool.map(lambda t: drive(t, args, args.out), targets))
    crashes = 0
    print(f"fuzzed {len(targets)} target(s) for {time.monotonic() - started:.0f} s; findings in {args.out}")
    for report in reports:
        stats: Counter[str] = Counter(report["stats"])  # type: ignore[arg-type]
        findings: list[dict[str, str]] = report["findings"]  # type: ignore[assignment]
        outcomes = ", ".join(f"{n} {k}" for k, n in sorted(stats.items()))
        print(f"  {report['target']:<10} {sum(stats.values()):>7} inputs ({outcomes})")
        for signature, count in Counter(f"{f['kind']}: {f['signature']}" for f in findings).most_common():
            example = next(f["reproducer"] for f in findings if f"{f['kind']}: {f['signature']}" == signature)
            print(f"      {count:>4} x {signature}\n           e.g. {example}")
        crashes += sum(f["kind"] != "slow" for f in findings)
    return 1 if crashes else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
