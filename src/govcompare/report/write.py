"""Writing outputs: every file atomically, a report folder all at once.

A report is built in a private staging folder inside the output folder and moved into place only when
every file is complete, so an interrupted or failed run leaves the previous report as it was. A lock file
stops two runs from writing to the same folder at once; the run holding it first deletes staging folders
left by runs that were killed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from govcompare.errors import ReportError
from govcompare.io import write_text_atomic

__all__ = ["FORMATS", "write_evaluation", "write_report"]

FORMATS = ("md", "html", "pdf")
LOCK_FILE = ".govcompare.lock"
STAGING_PREFIX = ".govcompare-build-"


def write_evaluation(out_dir: Path, evaluation: Any) -> Path:
    """Write evaluation.json and its tables as CSV into ``out_dir``; return the JSON path."""
    out_dir = Path(out_dir)
    summary = {**evaluation.summary, "notes": evaluation.notes}
    write_text_atomic(out_dir / "evaluation.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    write_text_atomic(
        out_dir / "per_class.csv", evaluation.per_class.to_csv(index=False, lineterminator="\n")
    )
    write_text_atomic(out_dir / "confusion.csv", evaluation.confusion.to_csv(lineterminator="\n"))
    write_text_atomic(out_dir / "items.csv", evaluation.items.to_csv(index=False, lineterminator="\n"))
    return out_dir / "evaluation.json"


def check_output_folder(out_dir: Path, corpus_paths: Sequence[Path] = ()) -> Path:
    """Refuse an output folder that is a file, cannot be created, or lies inside the corpus."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"{out_dir}: is a file, not a folder: choose another --out")
    resolved = out_dir.resolve()
    for corpus in corpus_paths:
        root = Path(corpus).resolve()
        if root.is_dir() and (resolved == root or root in resolved.parents):
            raise ReportError(
                f"{out_dir}: lies inside the corpus folder {corpus}, so the next run would read the report "
                "as a document: choose an --out outside it"
            )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(
            f"{out_dir}: cannot create the folder ({exc.strerror or exc}): choose another --out"
        ) from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ReportError(f"{out_dir}: folder is not writable: choose another --out")
    return out_dir


@contextlib.contextmanager
def locked(out_dir: Path) -> Iterator[None]:
    """Hold the output folder's lock; a second run gets a clear error instead of waiting."""
    path = out_dir / LOCK_FILE
    try:
        handle = open(path, "a+")  # noqa: SIM115 - held for the duration of the context
    except OSError as exc:
        raise ReportError(f"{path}: cannot create the lock file ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReportError(
                f"{out_dir}: another govcompare run is writing a report here: wait for it or choose another --out"
            ) from None
        yield
    finally:
        handle.close()


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")


def _warn_without_cjk_font(result: Any) -> None:
    """Chinese text with no CJK font installed prints as empty boxes in the PDF: say so."""
    from govcompare.charts import CJKFontWarning, cjk_font

    if cjk_font() is None and any(
        _CJK.search(d.text) or _CJK.search(d.title) for d in result.corpus.documents
    ):
        warnings.warn(
            "the corpus has Chinese, Japanese or Korean text but no CJK font is installed, so the PDF "
            "shows it as empty boxes: apt-get install fonts-wqy-microhei (or fonts-noto-cjk)",
            CJKFontWarning,
            stacklevel=2,
        )


def _remove_stale_builds(out_dir: Path) -> None:
    """Delete staging folders left by runs that were killed; only called while holding the lock."""
    for stale in out_dir.glob(f"{STAGING_PREFIX}*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)


def _publish(staging: Path, out_dir: Path) -> None:
    """Move every entry of ``staging`` into ``out_dir``, replacing what is there."""
    trash = staging / ".replaced"
    trash.mkdir()
    for entry in sorted(staging.iterdir()):
        if entry == trash:
            continue
        target = out_dir / entry.name
        if target.is_dir() and not target.is_symlink():
            os.replace(target, trash / entry.name)
        os.replace(entry, target)


def write_report(
    result: Any,
    out_dir: Path,
    *,
    formats: Sequence[str] = FORMATS,
    title: str | None = None,
    corpus_label: str = "",
    evaluation: Any | None = None,
    corpus_paths: Sequence[Path] = (),
    fail_after: str | None = None,
) -> list[Path]:
    """Write the report, charts, data exports and run record into ``out_dir``; return the paths.

    ``fail_after`` names a file after which to raise (a test hook that simulates a crash mid-run).
    """
    from govcompare.report.context import build_context
    from govcompare.report.render import build_charts, render_html, render_markdown, render_pdf

    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ReportError(f"unknown format {', '.join(unknown) or '(none)'}: choose from {','.join(FORMATS)}")
    out_dir = check_output_folder(out_dir, corpus_paths)
    with locked(out_dir):
        _remove_stale_builds(out_dir)
        try:
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
        except OSError as exc:
            raise ReportError(
                f"{out_dir}: cannot write here ({exc.strerror or exc}): choose another --out"
            ) from None
        try:
            written: dict[str, bytes] = {}

            def put(name: str, data: bytes) -> None:
                path = staging / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                written[name] = data
                if fail_after == name:
                    raise RuntimeError(f"injected failure after {name}")

            if "pdf" in formats:
                _warn_without_cjk_font(result)
            context = build_context(result, title=title, corpus_label=corpus_label, evaluation=evaluation)
            context.charts = build_charts(result, context.corpus["label"])
            for chart in context.charts:
                put(f"charts/{chart['name']}.png", chart["png"])
                put(f"charts/{chart['name']}.svg", chart["svg"])
            for name, table in result.tables().items():
                put(f"data/{name}.csv", table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
            if "md" in formats:
                put("report.md", render_markdown(context).encode("utf-8"))
            if "html" in formats:
                put("report.html", render_html(context).encode("utf-8"))
            if "pdf" in formats:
                put("report.pdf", render_pdf(context))
            record = result.record()
            record["title"] = context.title
            record["outputs"] = {
                name: hashlib.sha256(data).hexdigest() for name, data in sorted(written.items())
            }
            record["created"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            put(
                "run.json", (json.dumps(record, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")
            )
            _publish(staging, out_dir)
        except OSError as exc:  # a full disk, a quota: the previous report is still whole
            raise ReportError(
                f"{out_dir}: cannot write the report ({exc.strerror or exc}); the previous report is unchanged"
            ) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / name for name in sorted(written)]
