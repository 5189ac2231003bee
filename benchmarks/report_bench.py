"""Time `govcompare report` end to end on the seeds and on ../shared/corpus; print medians.

    .venv/bin/python benchmarks/report_bench.py [--repeat N] [--corpus PATH ...]

Each run is a fresh process (cold imports included, as a user experiences it), writing into a temporary
folder; a second table times the stages in one process (read + analyse, charts, Markdown + HTML, PDF).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPORA = [ROOT / "seeds", ROOT.parent / "shared" / "corpus"]


def end_to_end(corpus: Path, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "govcompare", "report", "--corpus", str(corpus), "--out", out],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
    return times


def stages(corpus: Path, repeat: int) -> dict[str, list[float]]:
    from govcompare.pipeline import run
    from govcompare.report.context import build_context
    from govcompare.report.render import build_charts, render_html, render_markdown, render_pdf

    out: dict[str, list[float]] = {k: [] for k in ("read + analyse", "charts", "markdown + html", "pdf")}
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = run(ROOT / "frameworks", corpus)
        result.tables()
        t1 = time.perf_counter()
        context = build_context(result, corpus_label=str(corpus))
        context.charts = build_charts(result, str(corpus))
        t2 = time.perf_counter()
        render_markdown(context)
        render_html(context)
        t3 = time.perf_counter()
        render_pdf(context)
        t4 = time.perf_counter()
        for key, value in zip(out, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            value_list = out[key]
            value_list.append(value)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", type=Path, nargs="*", default=DEFAULT_CORPORA)
    args = parser.parse_args()
    print(f"govcompare report, median of {args.repeat} runs (seconds)")
    print(
        f"{'corpus':<28} {'end to end':>10}  "
        + "  ".join(f"{k:>15}" for k in ("read + analyse", "charts", "markdown + html", "pdf"))
    )
    for corpus in args.corpus:
        if not corpus.exists():
            print(f"{corpus}: not found, skipped")
            continue
        total = statistics.median(end_to_end(corpus, args.repeat))
        parts = {k: statistics.median(v) for k, v in stages(corpus, args.repeat).items()}
        label = corpus.name if corpus.name != "corpus" else "../shared/corpus"
        print(f"{label:<28} {total:>10.2f}  " + "  ".join(f"{v:>15.2f}" for v in parts.values()))


if __name__ == "__main__":
    main()
