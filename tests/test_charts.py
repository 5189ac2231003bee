from __future__ import annotations

import struct
import threading
import warnings
import zlib
from collections.abc import Callable

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text

from govcompare import charts
from govcompare.charts import (
    NEUTRAL_COLOR,
    CJKFontWarning,
    cjk_font,
    crosswalk_heatmap,
    dimension_coverage,
    document_leaning,
    framework_colors,
    keyness_bars,
    png_bytes,
    principle_heatmap,
    shorten_document,
    svg_bytes,
)

CN, US = "cn-shared-future", "us-multistakeholder"
FRAMEWORKS = [CN, US]
SOURCE = "Source: govcompare 0.1.0; corpus: tests (3 documents); TF-IDF cosine similarity"
DOC_CN = "cn-international-strategy-cyberspace-2017-excerpts.txt"
DOC_US = "us-dfi-2022-excerpts.txt"
DOC_SEED = "000_56e5f92a99458bca.txt"

DIMENSION_NAMES = {"sovereignty": "Sovereignty", "governance-model": "Governance model", "data": "Data"}
DIMENSIONS = pd.DataFrame(
    [
        ("sovereignty", CN, 1, 1, 12, 0.31, ""),
        ("sovereignty", US, 0, 0, 0, 0.0, "US texts do not frame governance as sovereignty"),
        ("governance-model", CN, 1, 1, 7, 0.22, ""),
        ("governance-model", US, 1, 1, 15, 0.35, ""),
        ("data", CN, 1, 0, 0, 0.05, ""),
        ("data", US, 1, 1, 4, 0.18, ""),
    ],
    columns=["dimension", "framework", "principles", "covered", "passages", "best_score", "silent"],
)

PRINCIPLES = [
    (CN, "cn-cyber-sovereignty", "sovereignty"),
    (CN, "cn-multilateral-un-centred-governance", "governance-model"),
    (US, "us-multistakeholder-governance", "governance-model"),
    (US, "us-rights-respecting-response-to-online-harms", "data"),
]
PRINCIPLE_DOCUMENT = pd.DataFrame(
    [
        (fw, principle, dim, doc, score, score >= 0.12)
        for doc, base in ((DOC_CN, 0.0), (DOC_US, 0.1), (DOC_SEED, 0.05))
        for (fw, principle, dim), score in zip(PRINCIPLES, (0.30, 0.18, 0.05, 0.02), strict=True)
        for score in [round(abs(score - base), 4)]
    ],
    columns=["framework", "principle", "dimension", "document", "score", "above_threshold"],
)

DOCUMENTS = pd.DataFrame(
    [
        (DOC_CN, "网络主权 (2017)", "2017-03-01", "PRC", 40, 0.25, 0.02, CN, -0.85, -0.95, -0.7),
        (DOC_US, "Declaration for the Future of the Internet", "2022-04-28", "US", 25, 0.03, 0.21, US, 0.8, 0.6, 0.95),
        (DOC_SEED, "", "", "", 9, 0.1, 0.12, "mixed", 0.1, -0.3, 0.45),
    ],
    columns=[
        "document", "title", "date", "actor", "passages", f"score:{CN}", f"score:{US}",
        "leaning", "leaning_index", "ci_low", "ci_high",
    ],
).assign(top_principle="cn-cyber-sovereignty", top_dimension="sovereignty")  # fmt: skip

KEYNESS = pd.DataFrame(
    [
        (CN, "sovereignty", 40, 2, 31.5, 1.2, 4.7, 52.1, 1e-12),
        (CN, "community shared future", 22, 0, 17.3, 0.0, 5.5, 30.4, 3e-8),
        (US, "multistakeholder", 30, 1, 25.0, 0.6, 5.2, 41.0, 1e-10),
        (US, "human rights", 18, 2, 15.0, 1.2, 3.6, 19.9, 8e-6),
    ],
    columns=[
        "framework", "term", "count", "count_other", "per_10k", "per_10k_other", "log_ratio", "g2", "p_value",
    ],
)  # fmt: skip

CROSSWALK = pd.DataFrame(
    [
        (fa, pa, da, fb, pb, db, sim, False)
        for fa, pa, da in PRINCIPLES
        for fb, pb, db in PRINCIPLES
        if fa != fb
        for sim in [0.4 if da == db else 0.05]
    ],
    columns=[
        "framework", "principle", "dimension", "other_framework", "other_principle", "other_dimension",
        "similarity", "strongest",
    ],
)  # fmt: skip

CHARTS: dict[str, Callable[[], Figure]] = {
    "dimension_coverage": lambda: dimension_coverage(DIMENSIONS, FRAMEWORKS, DIMENSION_NAMES, SOURCE),
    "principle_heatmap": lambda: principle_heatmap(PRINCIPLE_DOCUMENT, FRAMEWORKS, 0.12, SOURCE),
    "document_leaning": lambda: document_leaning(DOCUMENTS, FRAMEWORKS, SOURCE),
    "keyness_bars": lambda: keyness_bars(KEYNESS, FRAMEWORKS, SOURCE),
    "crosswalk_heatmap": lambda: crosswalk_heatmap(CROSSWALK, FRAMEWORKS, SOURCE),
}

EMPTY: dict[str, Callable[[pd.DataFrame], Figure]] = {
    "dimension_coverage": lambda df: dimension_coverage(df, FRAMEWORKS, DIMENSION_NAMES, SOURCE),
    "principle_heatmap": lambda df: principle_heatmap(df, FRAMEWORKS, 0.12, SOURCE),
    "document_leaning": lambda df: document_leaning(df, FRAMEWORKS, SOURCE),
    "keyness_bars": lambda df: keyness_bars(df, FRAMEWORKS, SOURCE),
    "crosswalk_heatmap": lambda df: crosswalk_heatmap(df, FRAMEWORKS, SOURCE),
}
TABLES = {
    "dimension_coverage": DIMENSIONS,
    "principle_heatmap": PRINCIPLE_DOCUMENT,
    "document_leaning": DOCUMENTS,
    "keyness_bars": KEYNESS,
    "crosswalk_heatmap": CROSSWALK,
}

needs_cjk_font = pytest.mark.skipif(cjk_font() is None, reason="no CJK font installed (fonts-wqy-microhei)")


def _hex(color: object) -> str:
    return to_hex(color).upper()  # type: ignore[arg-type]  # colours come back as tuples or strings


def _colors(fig: Figure) -> set[str]:
    """Every colour an artist of the figure paints with: patch faces, lines, texts."""
    found = {_hex(p.get_facecolor()) for p in fig.findobj(Patch)}
    found |= {_hex(line.get_color()) for line in fig.findobj(Line2D)}
    found |= {_hex(t.get_color()) for t in fig.findobj(Text)}
    return found


def _png_chunks(data: bytes) -> dict[bytes, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, i = {}, 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind, body = data[i + 4 : i + 8], data[i + 8 : i + 8 + length]
        assert struct.unpack(">I", data[i + 8 + length : i + 12 + length])[0] == zlib.crc32(kind + body)
        chunks[kind] = body
        i += 12 + length
    return chunks


@pytest.mark.parametrize("name", CHARTS)
def test_chart_has_title_axis_labels_source_and_framework_colours(name: str) -> None:
    fig = CHARTS[name]()
    assert isinstance(fig, Figure)
    assert fig.get_suptitle().strip()
    ax = fig.axes[0]
    assert ax.get_xlabel().strip()
    assert ax.get_ylabel().strip()
    assert SOURCE in [t.get_text() for t in fig.texts]
    colours = framework_colors(FRAMEWORKS)
    assert {colours[CN], colours[US]} <= _colors(fig)


def test_framework_colours_are_okabe_ito_in_order() -> None:
    assert framework_colors([CN, US, "eu"]) == {CN: "#D55E00", US: "#0072B2", "eu": "#009E73"}
    assert NEUTRAL_COLOR == "#999999"


def test_dimension_coverage_marks_silence_and_diverges() -> None:
    fig = dimension_coverage(DIMENSIONS, FRAMEWORKS, DIMENSION_NAMES, SOURCE)
    ax = fig.axes[0]
    assert "silent" in [t.get_text() for t in ax.texts]
    widths = {(_hex(p.get_facecolor()), p.get_width()) for p in ax.patches if isinstance(p, Rectangle)}
    assert ("#D55E00", -12.0) in widths  # the first framework grows to the left
    assert ("#0072B2", 15.0) in widths
    assert [t.get_text() for t in ax.get_yticklabels()] == list(DIMENSION_NAMES.values())


def test_dimension_coverage_groups_bars_for_three_frameworks() -> None:
    third = DIMENSIONS[DIMENSIONS.framework == CN].assign(framework="eu-digital-sovereignty")
    fig = dimension_coverage(
        pd.concat([DIMENSIONS, third]), [*FRAMEWORKS, "eu-digital-sovereignty"], DIMENSION_NAMES, SOURCE
    )
    bars = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert bars
    assert all(p.get_width() >= 0 for p in bars)
    assert "#009E73" in _colors(fig)


def test_document_leaning_greys_mixed_documents_and_sorts_by_index() -> None:
    fig = document_leaning(DOCUMENTS, FRAMEWORKS, SOURCE)
    assert NEUTRAL_COLOR in _colors(fig)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["网络主权 (2017)", "000_56e5f92a99458bca", "Declaration for the Future of the Internet"]


def test_document_leaning_shows_the_40_documents_with_most_passages_and_says_so() -> None:
    rows = DOCUMENTS.iloc[[0]].loc[[DOCUMENTS.index[0]] * 50].reset_index(drop=True)
    many = rows.assign(
        document=[f"doc-{i:02d}.txt" for i in range(50)],
        title=[f"Document {i}" for i in range(50)],
        passages=list(range(1, 51)),
        leaning_index=np.linspace(-1, 1, 50),
    )
    fig = document_leaning(many, FRAMEWORKS, SOURCE)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 40 and "Document 0" not in labels and "Document 49" in labels
    assert "40 of 50 documents with most passages" in fig.get_suptitle().replace("\n", " ")


def test_principle_heatmap_shows_at_most_25_documents_and_says_so() -> None:
    many = pd.concat([PRINCIPLE_DOCUMENT.assign(document=f"doc-{i:02d}.txt") for i in range(30)])
    fig = principle_heatmap(many, FRAMEWORKS, 0.12, SOURCE)
    assert len(fig.axes[0].get_xticklabels()) == 25
    assert "25 of 30 documents" in fig.get_suptitle()


def test_keyness_bars_one_panel_per_framework() -> None:
    fig = keyness_bars(KEYNESS, FRAMEWORKS, SOURCE)
    panels = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in panels] == FRAMEWORKS
    assert all(ax.get_xlabel() == "log-likelihood G²" for ax in panels)


def test_keyness_bars_without_terms_says_so() -> None:
    fig = keyness_bars(KEYNESS.iloc[0:0], FRAMEWORKS, SOURCE)
    assert "No significant terms" in [t.get_text() for t in fig.findobj(Text)]


def test_shorten_document_drops_suffix_and_cuts_the_middle() -> None:
    short = shorten_document(DOC_CN, 30)
    assert short == "cn-internationa…-2017-excerpts"
    assert len(short) == 30
    assert shorten_document("us-dfi-2022-excerpts.txt") == "us-dfi-2022-excerpts"


@pytest.mark.parametrize("name", CHARTS)
def test_svg_is_byte_identical_and_free_of_dates_and_fonts(name: str) -> None:
    fig = CHARTS[name]()
    first = svg_bytes(fig)
    assert first == svg_bytes(fig)
    assert first == svg_bytes(CHARTS[name]())
    assert b"<dc:date>" not in first
    assert b"Matplotlib v" not in first
    assert b"<text" not in first  # text is drawn as paths: no fonts needed to read it


def test_png_is_300_dpi_without_time_or_software() -> None:
    data = png_bytes(CHARTS["dimension_coverage"]())
    chunks = _png_chunks(data)
    x, y, unit = struct.unpack(">IIB", chunks[b"pHYs"])
    assert unit == 1  # pixels per metre
    assert round(x * 0.0254) == round(y * 0.0254) == 300
    assert b"tIME" not in chunks
    assert b"Software" not in chunks.get(b"tEXt", b"")
    assert png_bytes(CHARTS["dimension_coverage"](), dpi=100) != data


@needs_cjk_font
def test_chinese_labels_render_without_warnings_when_a_cjk_font_is_installed() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = document_leaning(DOCUMENTS, FRAMEWORKS, SOURCE)
        png_bytes(fig, dpi=72)
        svg_bytes(fig)


def test_chinese_labels_without_a_cjk_font_warn_once_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    with pytest.warns(CJKFontWarning, match="apt-get install fonts-wqy-microhei or fonts-noto-cjk"):
        fig = document_leaning(DOCUMENTS, FRAMEWORKS, SOURCE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's own "Glyph missing" warnings are held back
        png_bytes(fig, dpi=72)
        svg_bytes(fig)


def test_latin_labels_without_a_cjk_font_do_not_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        document_leaning(DOCUMENTS.assign(title="Declaration"), FRAMEWORKS, SOURCE)


@pytest.mark.parametrize("name", EMPTY)
@pytest.mark.parametrize("kind", ["no rows", "no columns"])
def test_empty_input_gives_a_figure(name: str, kind: str) -> None:
    table = TABLES[name].iloc[0:0] if kind == "no rows" else pd.DataFrame()
    fig = EMPTY[name](table)
    assert fig.get_suptitle()
    assert SOURCE in [t.get_text() for t in fig.texts]
    assert svg_bytes(fig).startswith(b"<?xml")


@pytest.mark.parametrize("name", EMPTY)
def test_single_row_input_gives_a_figure(name: str) -> None:
    fig = EMPTY[name](TABLES[name].iloc[:1])
    assert svg_bytes(fig).startswith(b"<?xml")


def test_charts_leave_global_matplotlib_state_alone() -> None:
    before = dict(matplotlib.rcParams)
    figures = [build() for build in CHARTS.values()]
    svg_bytes(figures[0])
    assert dict(matplotlib.rcParams) == before
    assert plt.get_fignums() == []  # nothing registered with pyplot


def test_charts_can_be_built_from_threads() -> None:
    before = dict(matplotlib.rcParams)
    expected = svg_bytes(CHARTS["keyness_bars"]())
    results: list[bytes] = []

    def work() -> None:
        results.append(svg_bytes(CHARTS["keyness_bars"]()))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4
    assert dict(matplotlib.rcParams) == before
