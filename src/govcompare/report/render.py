"""Renderers: report context -> Markdown text, HTML text, PDF bytes; charts -> PNG and SVG bytes.

Markdown and HTML come from Jinja2 templates; the PDF is WeasyPrint rendering the HTML template. Corpus and
framework text is escaped in every format: HTML autoescaping, and Markdown escaping of the characters that
would otherwise become markup.
"""

from __future__ import annotations

import base64
import re
import warnings
from collections.abc import Callable
from dataclasses import asdict
from functools import cache
from typing import Any

import jinja2

from govcompare import __version__
from govcompare.parallel import cores, fork_map
from govcompare.pipeline import Analysis
from govcompare.report.context import ReportContext

__all__ = ["build_charts", "render_html", "render_markdown", "render_pdf"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~!])")


def md_escape(text: Any) -> str:
    """Text that Markdown shows as it is (no emphasis, links, HTML or table breaks)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def md_cell(text: Any) -> str:
    """Escaped text on one line, for a Markdown table cell."""
    return re.sub(r"\s*\n\s*", " ", md_escape(text))


def _segments_md(segments: list[tuple[str, bool]]) -> str:
    out = []
    for text, hit in segments:
        escaped = md_escape(text)
        out.append(f"**{escaped.strip()}**" if hit and escaped.strip() else escaped)
    return re.sub(r"\n+", "\n>\n> ", "".join(out))


def _segments_cell(segments: list[tuple[str, bool]]) -> str:
    return re.sub(r"\s*\n\s*", " ", _segments_md(segments).replace("\n>\n> ", " "))


@cache
def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("govcompare.report", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=md_escape,
        cell=md_cell,
        segments_md=_segments_md,
        segments_cell=_segments_cell,
        count=lambda n: f"{n:,}",  # 8,811 documents
    )
    return env


def render_markdown(context: ReportContext) -> str:
    """The report as GitHub-flavoured Markdown, charts linked relatively."""
    text = _environment(False).get_template("report.md.j2").render(c=context, version=__version__)
    return re.sub(r"\n{3,}", "\n\n", text)


def render_html(context: ReportContext, *, pdf: bool = False) -> str:
    """The report as one self-contained HTML file (``pdf=True``: the variant WeasyPrint prints)."""
    from govcompare.charts import framework_colors

    ids = [f["id"] for f in context.frameworks]
    return (
        _environment(True)
        .get_template("report.html.j2")
        .render(
            c=context,
            version=__version__,
            colors=framework_colors(ids),
            frameworks_index={fid: i for i, fid in enumerate(ids)},
            pdf=pdf,
        )
    )


def render_pdf(context: ReportContext) -> bytes:
    """The report as PDF: WeasyPrint over the same HTML template."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    document = HTML(string=render_html(context, pdf=True), base_url=".")
    pdf: bytes = document.write_pdf(metadata={"title": context.title}, uncompressed_pdf=False)
    return pdf


CHARTS = {
    "dimension_coverage": (
        "Passages attributed per dimension",
        "Passages attributed to each framework, by the dimension of their best principle.",
    ),
    "document_leaning": (
        "Document leaning",
        "Leaning index per document with its 95% bootstrap interval over passages.",
    ),
    "principle_heatmap": (
        "Principle evidence by document",
        "Best score of each principle in each document; outlined cells are above the evidence threshold.",
    ),
    "keyness": (
        "Distinctive terms",
        "Terms over-used in each framework's attributed passages (log-likelihood G²).",
    ),
    "crosswalk": (
        "Crosswalk of principles",
        "Similarity of each principle to the other framework's principles; marks show the closest.",
    ),
}


def build_charts(result: Analysis, corpus_label: str) -> list[dict[str, Any]]:
    """Every chart of the report as PNG (300 dpi) and SVG bytes, with title and caption.

    Drawn in two processes (forked; one on platforms without fork): the tables they show are made here
    first, once, since the report needs them too.
    """
    from govcompare import charts

    ids = result.frameworks.ids
    source = (
        f"Source: govcompare {__version__}; corpus: {corpus_label} "
        f"({len(result.corpus.documents):,} documents); TF-IDF cosine similarity"
    )
    names = {d.id: d.name for d in result.frameworks.dimensions.dimensions}
    for table in ("dimensions", "documents", "principle_document", "keyness", "crosswalk"):
        getattr(result, table)  # made (and kept by ``result``) here, not once in each process
    figures: dict[str, Callable[[], Any]] = {
        "dimension_coverage": lambda: charts.dimension_coverage(result.dimensions, ids, names, source),
        "document_leaning": lambda: charts.document_leaning(result.documents, ids, source),
        "principle_heatmap": lambda: charts.principle_heatmap(
            result.principle_document, ids, result.emap.threshold, source
        ),
        "keyness": lambda: charts.keyness_bars(result.keyness, ids, source),
        "crosswalk": lambda: charts.crosswalk_heatmap(result.crosswalk, ids, source),
    }
    makers = list(figures.values())

    def draw(start: int, stop: int) -> tuple[list[tuple[bytes, bytes]], list[tuple[str, type[Warning]]]]:
        drawn = []
        with warnings.catch_warnings(record=True) as caught:  # (a forked process's are not seen here)
            warnings.simplefilter("always")
            for make in makers[start:stop]:
                figure = make()
                drawn.append((charts.png_bytes(figure), charts.svg_bytes(figure)))
        return drawn, [(str(w.message), w.category) for w in caught]

    # The first three take about as long as the last two (the two heatmaps are the slowest).
    bounds = [(0, 3), (3, len(makers))] if cores() > 1 else [(0, len(makers))]
    parts = fork_map(draw, bounds)
    for message, category in dict.fromkeys(found for _, said in parts for found in said):
        warnings.warn(message, category, stacklevel=2)  # each chart's warnings, wherever it was drawn
    rendered = [pair for drawn, _ in parts for pair in drawn]
    out = []
    for name, (png, svg) in zip(figures, rendered, strict=True):
        title, caption = CHARTS[name]
        out.append(
            {
                "name": name,
                "title": title,
                "caption": caption,
                "png": png,
                "svg": svg,
                "png_base64": base64.b64encode(png).decode("ascii"),
                "svg_inline": _inline_svg(svg),
            }
        )
    return out


def _inline_svg(svg: bytes) -> str:
    text = svg.decode("utf-8")
    text = re.sub(r"^<\?xml[^>]*>\s*", "", text)
    text = re.sub(r"^<!DOCTYPE[^>]*>\s*", "", text)
    return text


def context_dict(context: ReportContext) -> dict[str, Any]:
    """The context as plain data (for debugging and tests)."""
    return asdict(context)
