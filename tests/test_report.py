from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from govcompare.errors import ReportError
from govcompare.pipeline import Settings, run
from govcompare.report.write import LOCK_FILE, write_report

GOLDEN = Path(__file__).parent / "data" / "golden"
EPOCH = "1700000000"  # 2023-11-14: the run date printed in reports built by these tests


@pytest.fixture(scope="module")
def seeds_result():  # type: ignore[no-untyped-def]
    return run("frameworks", "seeds")


@pytest.fixture(scope="module")
def two_reports(tmp_path_factory: pytest.TempPathFactory, seeds_result):  # type: ignore[no-untyped-def]
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
    first = tmp_path_factory.mktemp("first")
    second = tmp_path_factory.mktemp("second")
    write_report(seeds_result, first, corpus_label="seeds")
    write_report(run("frameworks", "seeds"), second, corpus_label="seeds")
    mp.undo()
    return first, second


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} (poppler-utils) is not installed: scripts/run installs it")
    return path


def test_report_writes_every_output(two_reports: tuple[Path, Path]) -> None:
    out, _ = two_reports
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"report.md", "report.html", "report.pdf", "run.json", LOCK_FILE} <= names
    for chart in ("dimension_coverage", "document_leaning", "principle_heatmap", "keyness", "crosswalk"):
        assert f"charts/{chart}.png" in names and f"charts/{chart}.svg" in names
    for table in (
        "documents",
        "passages",
        "evidence",
        "coverage",
        "contrast",
        "keyness",
        "crosswalk",
        "inputs",
    ):
        assert f"data/{table}.csv" in names
    assert not [n for n in names if ".govcompare-build-" in n]


def test_markdown_report_matches_golden(
    two_reports: tuple[Path, Path], request: pytest.FixtureRequest
) -> None:
    out, _ = two_reports
    text = (out / "report.md").read_text(encoding="utf-8")
    golden = GOLDEN / "seeds-report.md"
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        "report.md changed: review it, then pytest --update-golden"
    )


def test_same_inputs_give_identical_outputs(two_reports: tuple[Path, Path]) -> None:
    first, second = two_reports
    compared = [
        "report.md",
        "report.html",
        *(p.relative_to(first).as_posix() for p in first.glob("data/*.csv")),
    ]
    compared += [p.relative_to(first).as_posix() for p in first.glob("charts/*.svg")]
    for name in compared:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    pdftotext = _tool("pdftotext")
    texts = [
        subprocess.run(
            [pdftotext, str(d / "report.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        for d in (first, second)
    ]
    assert texts[0] == texts[1]
    record = json.loads((first / "run.json").read_text())
    other = json.loads((second / "run.json").read_text())
    assert record.pop("created") and other.pop("created")
    assert record == other


def test_run_record_lists_inputs_parameters_and_versions(two_reports: tuple[Path, Path]) -> None:
    record = json.loads((two_reports[0] / "run.json").read_text())
    paths = {Path(i["path"]).name: i for i in record["inputs"]}
    assert paths["000_56e5f92a99458bca.txt"]["status"] == "read"
    assert len(paths["000_56e5f92a99458bca.txt"]["sha256"]) == 64
    assert {f["id"] for f in record["frameworks"]} == {"cn-shared-future", "us-multistakeholder"}
    assert all(len(f["sha256"]) == 64 for f in record["frameworks"])
    assert record["parameters"]["top_k"] == 5 and "threshold" in record["parameters"]
    assert {"python", "scikit-learn", "pandas"} <= set(record["versions"])
    assert "report.md" in record["outputs"]


def test_pdf_has_pages_and_embedded_fonts(two_reports: tuple[Path, Path]) -> None:
    pdf = two_reports[0] / "report.pdf"
    info = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 8
    fonts = subprocess.run([_tool("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows), fonts


def test_cjk_text_uses_a_cjk_font_in_the_pdf(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zh.md").write_text(
        "---\ntitle: 网络主权与全球互联网治理\n---\n\n"
        + "China upholds cyber sovereignty and opposes cyber hegemony in global internet governance. " * 4
        + "\n\n各国有权自主选择网络发展道路、网络管理模式、互联网公共政策。\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    write_report(run("frameworks", corpus), out, formats=["pdf"])
    fonts = subprocess.run(
        [_tool("pdffonts"), str(out / "report.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert any(name in fonts for name in ("WenQuanYi", "NotoSansCJK", "Noto-Sans-CJK", "SourceHanSans")), (
        fonts
    )


def test_corpus_text_is_escaped(tmp_path: Path, root: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed in (root / "seeds").glob("*.txt"):
        shutil.copy(seed, corpus / seed.name)
    (corpus / "corpus.yaml").write_text("- file: evil.txt\n  title: \"<script>alert('title')</script>\"\n")
    (corpus / "evil.txt").write_text(
        "Cyber sovereignty and non-interference in internal affairs matter. <script>alert('x')</script> "
        "*not emphasis* [a link](http://example.org) | pipe\n\n" * 3
    )
    out = tmp_path / "out"
    result = run("frameworks", corpus, Settings(min_score=0.01))
    assert "<script>alert('x')</script>" in result.evidence.text.str.cat()
    write_report(result, out, formats=["md", "html"])
    html = (out / "report.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(" in html
    md = (out / "report.md").read_text()
    assert "<script>" not in md and "\\<script\\>" in md
    assert "\\[a link\\]" in md


def test_a_failed_run_leaves_the_previous_report_intact(tmp_path: Path, seeds_result) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    write_report(seeds_result, out, formats=["md"])
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(RuntimeError, match="injected failure after data/documents.csv"):
        write_report(seeds_result, out, formats=["md"], title="Changed", fail_after="data/documents.csv")
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_a_second_writer_is_refused_while_the_lock_is_held(tmp_path: Path, seeds_result) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    out.mkdir()
    with open(out / LOCK_FILE, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(ReportError, match="another govcompare run is writing a report here"):
            write_report(seeds_result, out, formats=["md"])
    write_report(seeds_result, out, formats=["md"])
    assert (out / "report.md").exists()


def test_bad_output_locations(tmp_path: Path, seeds_result, root: Path) -> None:  # type: ignore[no-untyped-def]
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ReportError, match="is a file, not a folder"):
        write_report(seeds_result, a_file)
    with pytest.raises(ReportError, match="lies inside the corpus folder"):
        write_report(seeds_result, root / "seeds" / "out", corpus_paths=[root / "seeds"])
    with pytest.raises(ReportError, match="unknown format docx"):
        write_report(seeds_result, tmp_path / "x", formats=["docx"])


def test_warns_when_cjk_text_has_no_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from govcompare import charts

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zh.txt").write_text(
        "各国有权自主选择网络发展道路。 Cyber sovereignty matters to every state. " * 5
    )
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    with pytest.warns(charts.CJKFontWarning, match="no CJK font is installed"):
        write_report(run("frameworks", corpus), tmp_path / "out", formats=["md", "pdf"])


def test_a_large_corpus_lists_the_documents_with_most_passages_and_the_files_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the report's limits, the tables keep what a brief needs and say where the rest is."""
    from govcompare.report import context
    from govcompare.report.render import render_html, render_markdown

    seed = Path("seeds/001_f72f5fa6bde90f24.txt").read_text(encoding="utf-8")
    paragraphs = [p for p in seed.split("\n\n") if len(p) > 200]
    for n in range(1, 6):  # doc-n holds n paragraphs, so n passages or about
        (tmp_path / f"doc-{n}.txt").write_text("\n\n".join(paragraphs[:n]), encoding="utf-8")
    for name in ("figure-a.png", "figure-b.png", "figure-c.png"):
        (tmp_path / name).write_bytes(b"\x89PNG\r\n\x1a\n")
    monkeypatch.setattr(context, "REPORT_DOCUMENTS", 2)
    monkeypatch.setattr(context, "REPORT_INPUTS", 2)
    result = run("frameworks", tmp_path)
    most = result.documents.sort_values(["passages", "document"], ascending=[False, True]).document[:2]
    ctx = context.build_context(result, corpus_label="test")
    assert [d["document"] for d in ctx.documents] == sorted(most)
    assert [i["path"] for i in ctx.inputs] == [str(tmp_path / "figure-a.png"), str(tmp_path / "figure-b.png")]
    markdown = render_markdown(ctx)
    assert (
        "The 2 of 5 documents with the most passages; every document is in `data/documents.csv`." in markdown
    )
    inputs = markdown.split("## Inputs")[1]
    assert (
        "The first 2 of 3 files not read, with the reason; all 8 files are listed with their status and "
        "SHA-256 in `data/inputs.csv` and `run.json`." in inputs
    )
    assert "doc-1.txt" not in inputs and "figure-c.png" not in inputs
    assert "The 2 of 5 documents with the most passages" in render_html(ctx)
    monkeypatch.setattr(context, "REPORT_INPUTS", 7)  # over the limit, but every file not read fits
    inputs = render_markdown(context.build_context(result, corpus_label="test")).split("## Inputs")[1]
    assert "Every file not read, with the reason (3); all 8 files are listed with their status" in inputs
    assert "figure-c.png" in inputs and "doc-1.txt" not in inputs


def test_warnings_of_charts_drawn_in_another_process_reach_the_caller(
    seeds_result, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from govcompare import charts
    from govcompare.report.render import build_charts

    real = charts.crosswalk_heatmap  # the last chart: drawn in the second (forked) process

    def warning_crosswalk(*args, **kwargs):  # type: ignore[no-untyped-def]
        warnings.warn("a warning from the crosswalk chart", charts.CJKFontWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(charts, "crosswalk_heatmap", warning_crosswalk)
    with pytest.warns(charts.CJKFontWarning, match="a warning from the crosswalk chart"):
        drawn = build_charts(seeds_result, "seeds")
    assert [c["name"] for c in drawn][-1] == "crosswalk" and drawn[-1]["png"].startswith(b"\x89PNG")
