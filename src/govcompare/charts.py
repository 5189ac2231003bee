"""Comparison tables -> matplotlib Figures, and Figures -> PNG or SVG bytes.

Every chart function takes the DataFrames of :mod:`govcompare.analysis` (or ``EvidenceMap.documents()``)
and returns a new :class:`~matplotlib.figure.Figure`; nothing here writes files or shows windows.
Figures are made with ``Figure`` directly, not through pyplot, so none is registered globally, and
the house style is applied with ``rc_context`` while a chart is built, so importing this module changes
no matplotlib settings.

    fig = dimension_coverage(table, ["cn-shared-future", "us-multistakeholder"], names, source="...")
    path.write_bytes(png_bytes(fig))      # 300 dpi, no timestamp
    path.write_bytes(svg_bytes(fig))      # text as paths; byte-identical for the same input

Each framework keeps one colour in every chart (:func:`framework_colors`, Okabe-Ito, safe for the
common forms of colour blindness); scores use the sequential ``cividis`` map with a fixed zero.

Figures come laid out: constrained layout runs once when a chart is built and is then switched off,
because re-running it on a laid-out figure moves things by fractions of a point and two saves would
differ. Building and saving hold a module lock, since ``rc_context`` swaps matplotlib's global
settings for the duration; charts may be made from several threads, one at a time.
"""

from __future__ import annotations

import io
import logging
import math
import re
import textwrap
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.patheffects import Normal, Stroke
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = [
    "CJK_FONTS",
    "NEUTRAL_COLOR",
    "OKABE_ITO",
    "CJKFontWarning",
    "cjk_font",
    "crosswalk_heatmap",
    "dimension_coverage",
    "document_leaning",
    "framework_colors",
    "keyness_bars",
    "png_bytes",
    "principle_heatmap",
    "shorten_document",
    "style",
    "svg_bytes",
]

OKABE_ITO = ("#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
NEUTRAL_COLOR = "#999999"
# Preferred first: sans faces that match DejaVu Sans, then serif (Ming) faces as a last resort.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Noto Sans CJK KR",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Source Han Sans",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
    "AR PL UMing TW",
    "AR PL UKai CN",
    "AR PL UMing",
)

WIDTH = 10.0  # inches: 16:9 at 10 x 5.6, the size of a slide
HEIGHT = 5.6
ROW = 0.2  # inches per heatmap row: enough for 10 pt labels
SVG_HASHSALT = "govcompare"
SCORE_CMAP = "cividis"
INK = "#222222"
MUTED = "#555555"
GRID = "#E3E3E3"
MAX_DOCUMENTS = 25
MAX_LEANING_DOCUMENTS = 40  # rows of the document leaning chart
_LOCK = threading.RLock()  # rc_context saves and restores global state: one chart at a time
_CJK = re.compile(
    "[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]"
)
_GLYPH_MISSING = r"Glyph .* missing from (current )?font"
_SUFFIX = re.compile(r"\.(txt|md|markdown|html?|pdf|docx?|rtf|json|ya?ml|csv|xml)$", re.IGNORECASE)


class CJKFontWarning(UserWarning):
    """Chart text contains Chinese, Japanese or Korean characters but no CJK font is installed."""


# --- style ------------------------------------------------------------------------------------------


def cjk_font() -> str | None:
    """The name of an installed font with Chinese glyphs, or ``None``."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def framework_colors(framework_ids: Sequence[str]) -> dict[str, str]:
    """One Okabe-Ito colour per framework, by position: the same framework order gives the same colours."""
    return {fid: OKABE_ITO[i % len(OKABE_ITO)] for i, fid in enumerate(framework_ids)}


def style() -> dict[RcKeyType, Any]:
    """The rc settings every chart is built with (use with ``matplotlib.rc_context``)."""
    cjk = cjk_font()
    return {
        "font.family": ["DejaVu Sans", *([cjk] if cjk else [])],
        "font.size": 11,
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.labelsize": 11,
        "axes.labelcolor": INK,
        "axes.edgecolor": "#666666",
        "axes.linewidth": 0.8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": False,
        "axes.axisbelow": True,
        "axes.unicode_minus": True,
        "xtick.labelsize": 10,
        "ytick.labelsize": 10,
        "xtick.color": "#666666",
        "ytick.color": "#666666",
        "xtick.labelcolor": INK,
        "ytick.labelcolor": INK,
        "legend.fontsize": 10,
        "legend.frameon": False,
        "figure.titlesize": 15,
        "figure.titleweight": "bold",
        "figure.facecolor": "white",
        "figure.dpi": 100,
        "text.color": INK,
        "savefig.facecolor": "white",
        "svg.fonttype": "path",
        "svg.hashsalt": SVG_HASHSALT,
        "path.simplify": True,
    }


@contextmanager
def _styled() -> Iterator[None]:
    with _LOCK, matplotlib.rc_context(style()), _quiet_weight_fallback():
        yield


class _WeightFallbackFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("findfont: Failed to find font weight")


@contextmanager
def _quiet_weight_fallback() -> Iterator[None]:
    """Silence matplotlib's log line when the CJK fallback font has no bold face.

    Few CJK fonts ship a bold weight; bold titles then draw Chinese glyphs in the regular weight,
    which is the right outcome and not worth a line on every run.
    """
    logger = logging.getLogger("matplotlib.font_manager")
    quiet = _WeightFallbackFilter()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


# --- serialisers ------------------------------------------------------------------------------------


def png_bytes(fig: Figure, dpi: int = 300) -> bytes:
    """The figure as PNG at ``dpi`` (recorded in the file), without software or time metadata."""
    return _save(fig, "png", dpi=dpi, metadata={"Software": None})


def svg_bytes(fig: Figure) -> bytes:
    """The figure as SVG, text drawn as paths, identical bytes for identical figures."""
    return _save(fig, "svg", metadata={"Date": None, "Creator": None})


def _save(fig: Figure, fmt: str, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    settings: dict[RcKeyType, Any] = {"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "path"}
    with _LOCK, matplotlib.rc_context(settings), _quiet_weight_fallback(), warnings.catch_warnings():
        if _needs_cjk(fig) and cjk_font() is None:
            # the chart already raised a CJKFontWarning that names the fix
            warnings.filterwarnings("ignore", message=_GLYPH_MISSING, category=UserWarning)
        fig.savefig(buffer, format=fmt, facecolor="white", **kwargs)
    return buffer.getvalue()


# --- labels -----------------------------------------------------------------------------------------


def shorten_document(name: str, width: int = 30) -> str:
    """A document id fit for an axis: file suffix dropped, long names cut in the middle.

    >>> shorten_document("cn-international-strategy-cyberspace-2017-excerpts.txt")
    'cn-internationa…-2017-excerpts'
    """
    return _middle(_SUFFIX.sub("", str(name)), width)


def _middle(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    head = (width - 1) // 2 + (width - 1) % 2
    return f"{text[:head]}…{text[len(text) - (width - 1 - head) :]}"


def _truncate(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1].rstrip(" -,;:") + "…"


def _wrap(text: str, width: int, lines: int = 2) -> str:
    return "\n".join(textwrap.wrap(str(text), width, max_lines=lines, placeholder="…")) or str(text)


# --- figure scaffolding -----------------------------------------------------------------------------


def _figure(source: str, height: float = HEIGHT, width: float = WIDTH) -> tuple[Figure, str]:
    """A white figure (16:9 by default) with constrained layout above a band kept free for the source line."""
    wrapped = _wrap(source, int(12.5 * width), lines=3) if source else ""
    lines = wrapped.count("\n") + 1 if wrapped else 0
    bottom = (0.1 + 0.18 * lines) / height
    engine = ConstrainedLayoutEngine(h_pad=0.08, w_pad=0.1, rect=(0.0, bottom, 1.0, 1.0 - bottom))
    return Figure(figsize=(width, height), layout=engine), wrapped


def _finish(fig: Figure, title: str, source: str) -> Figure:
    """Add title and source line, warn about missing CJK glyphs, then lay the figure out and fix it.

    Constrained layout starts from the current positions, so laying out an already laid-out figure
    lands a fraction of a point elsewhere: a figure saved twice would differ. Running it once here
    and switching the engine off makes every save of the figure byte-identical.
    """
    fig.suptitle(_wrap(title, int(7.2 * fig.get_figwidth())), x=0.012, ha="left")
    if source:
        fig.text(0.012, 0.1 / fig.get_figheight(), source, ha="left", va="bottom", fontsize=10, color=MUTED)
    missing = _needs_cjk(fig) and cjk_font() is None
    with warnings.catch_warnings():
        if missing:
            warnings.filterwarnings("ignore", message=_GLYPH_MISSING, category=UserWarning)
        fig.draw_without_rendering()
    fig.set_layout_engine("none")
    if missing:
        warnings.warn(
            "chart text contains Chinese, Japanese or Korean characters but no CJK font is installed, "
            "so they will show as empty boxes: install one (apt-get install fonts-wqy-microhei or "
            "fonts-noto-cjk) and clear matplotlib's font cache (~/.cache/matplotlib)",
            CJKFontWarning,
            stacklevel=3,
        )
    return fig


def _needs_cjk(fig: Figure) -> bool:
    return any(_CJK.search(t.get_text()) for t in fig.findobj(Text))


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=13, color=MUTED)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _band(
    ax: Axes,
    start: float,
    stop: float,
    color: str,
    axis: str = "y",
    width: float = 5.0,
    label: str = "",
) -> bool:
    """A colour band ``width`` pt wide just outside the left (``y``) or bottom (``x``) edge.

    It runs from data ``start`` to ``stop``; ``label`` is written along it in white when it fits.
    Returns whether the label was written.
    """
    shift = -(width / 2 + 1) / 72
    if axis == "y":
        move = ScaledTranslation(shift, 0, ax.figure.dpi_scale_trans)
        transform = blended_transform_factory(ax.transAxes + move, ax.transData)
        xs, ys = [0.0, 0.0], [start, stop]
    else:
        move = ScaledTranslation(0, shift, ax.figure.dpi_scale_trans)
        transform = blended_transform_factory(ax.transData, ax.transAxes + move)
        xs, ys = [start, stop], [0.0, 0.0]
    line = Line2D(
        xs, ys, transform=transform, color=color, linewidth=width, solid_capstyle="butt", clip_on=False
    )
    ax.add_line(line)
    room = int((abs(stop - start) * ROW - 0.15) / 0.085)  # characters of 10 pt bold that fit along it
    if not label or width < 12 or room < min(len(label), 8):
        return not label
    x, y, rotation = (xs[0], (start + stop) / 2, 90) if axis == "y" else ((start + stop) / 2, ys[0], 0)
    ax.text(
        x,
        y,
        _truncate(label, room),
        transform=transform,
        rotation=rotation,
        ha="center",
        va="center_baseline",
        color="white",
        fontsize=10,
        fontweight="bold",
        clip_on=False,
    )
    return True


def _outline(ax: Axes, x: float, y: float) -> None:
    """A box around cell (x, y) that shows on both dark and light cells: black edged in white."""
    box = Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor=INK, linewidth=1.6, zorder=3)
    box.set_path_effects([Stroke(linewidth=3.2, foreground="white"), Normal()])
    ax.add_patch(box)


def _score_mesh(ax: Axes, matrix: np.ndarray[Any, Any], vmax: float) -> Any:
    """A score heatmap on ``ax``: one cell per value, first row at the top, missing values blank."""
    mesh = ax.pcolormesh(
        np.ma.masked_invalid(matrix),
        cmap=SCORE_CMAP,
        vmin=0.0,
        vmax=vmax,
        edgecolors="white",
        linewidth=0.6,
    )
    ax.set_xlim(0, matrix.shape[1])
    ax.set_ylim(matrix.shape[0], 0)
    return mesh


def _vmax(values: np.ndarray[Any, Any], floor: float = 0.0) -> float:
    top = max(float(np.nanmax(values)) if values.size else 0.0, floor)
    return max(0.1, math.ceil(top * 10 - 1e-9) / 10)


def _text_on(value: float, vmax: float) -> str:
    """Dark or light text, whichever reads on ``value`` in the cividis map."""
    return INK if value / vmax > 0.55 else "white"


def _heatmap_size(row_labels: Sequence[str], col_labels: Sequence[str]) -> tuple[float, float, int]:
    """Figure width and height in inches, and the column label rotation, for a readable heatmap.

    Rows get ``ROW`` inches each (10 pt labels need that), so tall tables make tall figures; cells are
    kept from growing past about 0.9 x 0.45 in, so one or two columns do not make a banner. Column
    labels turn 45 degrees when the columns are wide enough for 10 pt text at that angle, else 60 or
    90. Sizes are estimated from label lengths at ~0.078 in a character.
    """
    left = 1.0 + 0.078 * max((len(label) for label in row_labels), default=0)
    width = min(WIDTH, max(7.0, left + 0.9 * len(col_labels) + 1.6))
    cell = (width - left - 1.6) / max(len(col_labels), 1)
    rotation = next((angle for angle in (45, 60) if cell * math.sin(math.radians(angle)) >= 0.16), 90)
    longest = max((len(label) for label in col_labels), default=0)
    drop = 0.3 + 0.078 * longest * math.sin(math.radians(rotation))
    base = 1.5 + drop  # title, legend row, x label, source line, and the column labels
    n = len(row_labels)
    height = min(max(HEIGHT, base + ROW * n), base + max(1.5, 0.45 * n))
    return width, height, rotation


def _rotate(ax: Axes, rotation: int) -> None:
    """Turn the x tick labels so their ends sit under their columns."""
    for label in ax.get_xticklabels():
        label.set(rotation=rotation, ha="right", va="center", rotation_mode="anchor")


def _ordered(values: pd.Series[Any], first: Sequence[str] = ()) -> list[str]:
    """``first`` (those present), then the other values in order of appearance."""
    seen = [str(v) for v in dict.fromkeys(values.astype(str).tolist())]
    return [v for v in first if v in seen] + [v for v in seen if v not in first]


def _fids(framework_ids: Sequence[str], frame: pd.DataFrame, column: str = "framework") -> list[str]:
    extra = _ordered(frame[column]) if column in frame.columns and len(frame) else []
    return list(framework_ids) + [f for f in extra if f not in framework_ids]


# --- 1. dimensions ----------------------------------------------------------------------------------


def dimension_coverage(
    dimensions: pd.DataFrame,
    framework_ids: Sequence[str],
    dimension_names: dict[str, str],
    source: str,
) -> Figure:
    """Passages attributed to each framework per dimension: diverging bars for two, grouped for more.

    ``dimensions`` is :func:`govcompare.analysis.dimension_summary`; rows follow ``dimension_names``.
    A dimension a framework is silent on is marked "silent" instead of a bar.
    """
    with _styled():
        fids = _fids(framework_ids, dimensions)
        colors = framework_colors(fids)
        title = "Passages attributed to each framework, by dimension"
        dims = _ordered(dimensions["dimension"], list(dimension_names)) if len(dimensions) else []
        if not dims or not fids:
            fig, wrapped = _figure(source)
            ax = fig.subplots()
            _empty(ax, "No passages to show")
            return _finish(fig, title, wrapped)

        counts: dict[tuple[str, str], int] = {}
        silent: set[tuple[str, str]] = set()
        for row in dimensions.to_dict("records"):
            key = (str(row["dimension"]), str(row["framework"]))
            counts[key] = counts.get(key, 0) + (int(row["passages"]) if pd.notna(row["passages"]) else 0)
            if isinstance(row.get("silent"), str) and row["silent"].strip():
                silent.add(key)

        height = max(HEIGHT, 1.7 + 0.38 * len(dims) * (1 if len(fids) <= 2 else 0.5 + 0.2 * len(fids)))
        fig, wrapped = _figure(source, height)
        ax = fig.subplots()
        labels = [_wrap(dimension_names.get(d, d), 26) for d in dims]
        y = np.arange(len(dims), dtype=float)
        peak = max([*counts.values(), 1])
        if len(fids) == 2:
            _diverging(ax, dims, fids, colors, counts, silent, peak)
        else:
            _grouped(ax, dims, fids, colors, counts, silent, peak)
        ax.set_yticks(y, labels)
        ax.set_ylim(len(dims) - 0.5, -0.5)
        ax.tick_params(axis="y", length=0)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):,.0f}"))
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        ax.set_ylabel("Dimension")
        ax.set_xlabel("Passages attributed to the framework (best-matching principle on this dimension)")
        return _finish(fig, title, wrapped)


def _diverging(
    ax: Axes,
    dims: list[str],
    fids: list[str],
    colors: dict[str, str],
    counts: dict[tuple[str, str], int],
    silent: set[tuple[str, str]],
    peak: int,
) -> None:
    left, right = fids
    pad = peak * 0.02
    for i, dim in enumerate(dims):
        for fid, sign in ((left, -1), (right, 1)):
            ha = "right" if sign < 0 else "left"
            if (dim, fid) in silent:
                ax.text(sign * pad, i, "silent", ha=ha, va="center", style="italic", color=MUTED, fontsize=10)
                continue
            n = counts.get((dim, fid), 0)
            ax.barh(i, sign * n, height=0.62, color=colors[fid])
            ax.text(sign * (n + pad), i, f"{n:,}", ha=ha, va="center_baseline", fontsize=10, color=INK)
    limit = peak * 1.18 + 1
    ax.set_xlim(-limit, limit)
    ax.axvline(0, color=INK, linewidth=0.9)
    ax.spines["left"].set_visible(False)
    for x, fid, ha in ((0.0, left, "left"), (1.0, right, "right")):
        arrow = f"← {fid}" if ha == "left" else f"{fid} →"
        ax.text(
            x,
            1.01,
            arrow,
            transform=ax.transAxes,
            ha=ha,
            va="bottom",
            color=colors[fid],
            fontsize=11,
            fontweight="bold",
        )


def _grouped(
    ax: Axes,
    dims: list[str],
    fids: list[str],
    colors: dict[str, str],
    counts: dict[tuple[str, str], int],
    silent: set[tuple[str, str]],
    peak: int,
) -> None:
    step = 0.8 / len(fids)
    for k, fid in enumerate(fids):
        offset = -0.4 + step * (k + 0.5)
        for i, dim in enumerate(dims):
            if (dim, fid) in silent:
                ax.text(
                    peak * 0.01, i + offset, "silent", va="center", style="italic", color=MUTED, fontsize=10
                )
                continue
            ax.barh(i + offset, counts.get((dim, fid), 0), height=step * 0.9, color=colors[fid])
    ax.set_xlim(0, peak * 1.08 + 1)
    handles = [Patch(color=colors[f], label=f) for f in fids]
    ax.legend(handles=handles, loc="lower right", ncols=1)


# --- 2. principles x documents ----------------------------------------------------------------------


def principle_heatmap(
    principle_document: pd.DataFrame,
    framework_ids: Sequence[str],
    threshold: float,
    source: str,
) -> Figure:
    """Best score of each principle in each document; cells at or above ``threshold`` boxed.

    Rows are principles grouped by framework (a colour band per group), columns documents. With more
    than 25 documents the 25 with the most evidence are shown, and the title says so.
    """
    with _styled():
        table = principle_document
        title = "Evidence for each principle in each document"
        if table.empty:
            fig, wrapped = _figure(source)
            ax = fig.subplots()
            _empty(ax, "No documents to show")
            return _finish(fig, title, wrapped)

        fids = _fids(framework_ids, table)
        colors = framework_colors(fids)
        documents = _ordered(table["document"])
        if len(documents) > MAX_DOCUMENTS:
            above = table["above_threshold"].astype(bool)
            weight = (
                table.assign(hits=above)
                .groupby("document", sort=False)
                .agg(hits=("hits", "sum"), total=("score", "sum"))
            )
            ranked = weight.sort_values(["hits", "total"], ascending=False, kind="stable").index
            keep = {str(d) for d in ranked[:MAX_DOCUMENTS]}
            title += f" (the {MAX_DOCUMENTS} of {len(documents):,} documents with most evidence)"
            documents = [d for d in documents if d in keep]
        rows: list[tuple[str, str]] = []
        for fid in fids:
            mine = table[table["framework"].astype(str) == fid]
            rows += [(fid, p) for p in _ordered(mine["principle"])] if len(mine) else []

        cells = table.assign(
            framework=table["framework"].astype(str),
            principle=table["principle"].astype(str),
            document=table["document"].astype(str),
            above=table["above_threshold"].astype(bool)
            if "above_threshold" in table.columns
            else table["score"] >= threshold,
        ).groupby(["framework", "principle", "document"], sort=False)
        index = pd.MultiIndex.from_tuples(rows, names=["framework", "principle"])
        grid = (
            cells["score"].max().unstack("document").reindex(index=index, columns=documents).to_numpy(float)
        )
        boxed = cells["above"].max().astype(float).unstack("document").reindex(index=index, columns=documents)
        boxed_grid = boxed.to_numpy(float) > 0.5
        vmax = _vmax(grid[~np.isnan(grid)], threshold)

        doc_labels = [shorten_document(d, 32) for d in documents]
        row_labels = [_truncate(p, 46) for _, p in rows]
        width, height, rotation = _heatmap_size(row_labels, doc_labels)
        fig, wrapped = _figure(source, height, width)
        ax = fig.subplots()
        mesh = _score_mesh(ax, grid, vmax)
        annotate = len(documents) <= 14
        for i in range(len(rows)):
            for j in range(len(documents)):
                value = grid[i, j]
                if not boxed_grid[i, j] or np.isnan(value):
                    continue
                _outline(ax, j + 0.5, i + 0.5)
                if annotate:
                    ax.text(
                        j + 0.5,
                        i + 0.5,
                        f"{value:.2f}",
                        ha="center",
                        va="center_baseline",
                        fontsize=10,
                        color=_text_on(value, vmax),
                    )
        ax.set_xticks(np.arange(len(documents)) + 0.5, doc_labels)
        _rotate(ax, rotation)
        ax.set_yticks(np.arange(len(rows)) + 0.5, row_labels)
        ax.tick_params(length=0)
        ax.tick_params(axis="y", pad=19)
        for spine in ax.spines.values():
            spine.set_visible(False)
        start, unlabelled = 0, []
        for fid in fids:
            size = sum(1 for f, _ in rows if f == fid)
            if not size:
                continue
            if not _band(ax, start, start + size, colors[fid], width=15, label=fid):
                unlabelled.append(fid)
            if start:
                ax.axhline(start, color="white", linewidth=3)
            start += size
        ax.set_xlabel("Document")
        ax.set_ylabel("Principle")
        bar = fig.colorbar(mesh, ax=ax, shrink=min(1.0, 4.0 / max(ROW * len(rows), 0.1)), aspect=25, pad=0.02)
        bar.set_label("Best passage score\n(TF-IDF cosine)", fontsize=10)
        bar.outline.set_visible(False)
        bar.ax.tick_params(labelsize=10)
        if 0 < threshold <= vmax:
            bar.ax.axhline(threshold, color="white", linewidth=3.2)
            bar.ax.axhline(threshold, color=INK, linewidth=1.6)
        ax.legend(
            handles=[Patch(color=colors[f], label=f) for f in unlabelled]
            + [
                Patch(
                    facecolor="none",
                    edgecolor=INK,
                    linewidth=1.6,
                    label=f"score ≥ threshold ({threshold:.2f})",
                )
            ],
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncols=3,
            borderaxespad=0.3,
            handlelength=1.2,
        )
        return _finish(fig, title, wrapped)


# --- 3. documents -----------------------------------------------------------------------------------


def document_leaning(documents: pd.DataFrame, framework_ids: Sequence[str], source: str) -> Figure:
    """Each document's leaning index in [-1, 1] with its 95% bootstrap interval, sorted by index.

    ``documents`` is ``EvidenceMap.documents()`` (optionally with ``title``); -1 leans wholly to the
    first framework, +1 to the second, and points are coloured by the decided leaning. With more than
    40 documents the 40 with the most passages are shown, and the title says so.
    """
    with _styled():
        fids = list(framework_ids)
        leanings = _ordered(documents["leaning"]) if "leaning" in documents.columns and len(documents) else []
        colors = framework_colors(fids + [f for f in leanings if f not in fids and f != "mixed"])
        title = "Which way each document leans"
        first, second = [*fids, "first framework", "second framework"][:2]
        xlabel = "Leaning index with 95% bootstrap interval (grey: mixed, the interval includes 0)"
        if documents.empty:
            fig, wrapped = _figure(source)
            ax = fig.subplots()
            _empty(ax, "No documents to show")
            return _finish(fig, title, wrapped)

        if len(documents) > MAX_LEANING_DOCUMENTS:  # one row each would make a poster, not a chart
            title += f" (the {MAX_LEANING_DOCUMENTS} of {len(documents):,} documents with most passages)"
            documents = documents.sort_values(
                ["passages", "document"], ascending=[False, True], kind="stable"
            )
            documents = documents.head(MAX_LEANING_DOCUMENTS)
        table = documents.sort_values(["leaning_index", "document"], kind="stable").reset_index(drop=True)
        height = max(HEIGHT, 2.0 + 0.34 * len(table))
        fig, wrapped = _figure(source, height)
        ax = fig.subplots()
        y = np.arange(len(table), dtype=float)
        labels = []
        for i, row in enumerate(table.to_dict("records")):
            labels.append(_document_label(str(row["document"]), row.get("title")))
            color = colors.get(str(row.get("leaning", "mixed")), NEUTRAL_COLOR)
            x, low, high = float(row["leaning_index"]), float(row["ci_low"]), float(row["ci_high"])
            ax.plot([low, high], [i, i], color=color, linewidth=2.2, solid_capstyle="round", alpha=0.75)
            ax.plot(
                [x], [i], marker="o", markersize=8, color=color, markeredgecolor="white", linestyle="none"
            )
        ax.axvline(0, color=INK, linewidth=0.9)
        ax.set_xlim(-1.05, 1.05)
        ax.set_ylim(len(table) - 0.5, -0.7)
        ax.set_xticks([-1, -0.5, 0, 0.5, 1], ["−1", "−0.5", "0", "+0.5", "+1"])
        ax.set_yticks(y, labels)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Document")
        for x, fid, ha, text in ((0.0, first, "left", f"← {first}"), (1.0, second, "right", f"{second} →")):
            ax.text(
                x,
                1.005,
                text,
                transform=ax.transAxes,
                ha=ha,
                va="bottom",
                fontsize=11,
                fontweight="bold",
                color=colors.get(fid, INK),
            )
        counts = ax.secondary_yaxis("right")
        counts.set_yticks(y, [f"{int(n):,}" for n in table["passages"]])
        counts.tick_params(length=0, labelsize=10, labelcolor=MUTED)
        counts.spines["right"].set_visible(False)
        counts.set_ylabel("Passages", color=MUTED)
        return _finish(fig, title, wrapped)


def _document_label(document: str, title: Any) -> str:
    """The title on one line, or two when long; the shortened file name when there is no title."""
    if not isinstance(title, str) or not title.strip():
        return shorten_document(document, 40)
    title = " ".join(title.split())
    if " " not in title:  # a file name or an id: cut in the middle, wrapping would split it badly
        return _middle(title, 40)
    return title if len(title) <= 46 else _wrap(title, 42)


# --- 4. keyness -------------------------------------------------------------------------------------


def keyness_bars(keyness: pd.DataFrame, framework_ids: Sequence[str], source: str, top: int = 15) -> Figure:
    """The ``top`` terms that most distinguish each framework's passages, by log-likelihood G²."""
    with _styled():
        fids = _fids(framework_ids, keyness)
        colors = framework_colors(fids)
        title = f"Terms that set each framework's passages apart (top {top} by G², p < 0.05)"
        xlabel = "log-likelihood G²"
        if keyness.empty or not fids:
            fig, wrapped = _figure(source)
            ax = fig.subplots()
            _empty(ax, "No significant terms")
            return _finish(fig, "Distinctive terms of each framework", wrapped)

        tables = {
            fid: keyness[keyness["framework"].astype(str) == fid]
            .sort_values(["g2", "term"], ascending=[False, True], kind="stable")
            .head(top)
            for fid in fids
        }
        longest = max(len(t) for t in tables.values())
        fig, wrapped = _figure(source, max(HEIGHT, 1.8 + 0.27 * longest))
        axes = fig.subplots(1, len(fids), sharex=True, squeeze=False)[0]
        peak = float(keyness["g2"].max()) if len(keyness) else 1.0
        for k, (ax, fid) in enumerate(zip(axes, fids, strict=True)):
            mine = tables[fid]
            ax.set_title(fid, color=colors[fid])
            ax.set_xlabel(xlabel)
            if k == 0:
                ax.set_ylabel("Term")
            if mine.empty:
                ax.text(
                    0.5,
                    0.5,
                    "No significant terms",
                    transform=ax.transAxes,
                    ha="center",
                    va="center",
                    color=MUTED,
                    fontsize=11,
                )
                ax.set_yticks([])
                ax.spines["left"].set_visible(False)
                continue
            y = np.arange(len(mine), dtype=float)
            g2 = mine["g2"].astype(float).to_numpy()
            ax.barh(y, g2, height=0.68, color=colors[fid])
            for i, value in enumerate(g2):
                ax.text(
                    value + peak * 0.015, i, f"{value:,.1f}", va="center_baseline", fontsize=10, color=MUTED
                )
            ax.set_yticks(y, [_truncate(t, 26) for t in mine["term"]])
            ax.set_ylim(max(longest, min(top, 8)) - 0.5, -0.5)  # same bar thickness in every panel
            ax.tick_params(axis="y", length=0)
            ax.spines["left"].set_visible(False)
            ax.grid(axis="x", color=GRID, linewidth=0.8)
        axes[0].set_xlim(0, peak * 1.16)
        return _finish(fig, title, wrapped)


# --- 5. crosswalk -----------------------------------------------------------------------------------


def crosswalk_heatmap(crosswalk: pd.DataFrame, framework_ids: Sequence[str], source: str) -> Figure:
    """Similarity of every principle of the first framework with every principle of the second.

    The most similar counterpart of each row is boxed.
    """
    with _styled():
        fids = list(framework_ids)
        colors = framework_colors(_fids(fids, crosswalk))
        first, second = [*fids, "", ""][:2]
        title = "How the principles of the two frameworks relate"
        pairs = (
            crosswalk[
                (crosswalk["framework"].astype(str) == first)
                & (crosswalk["other_framework"].astype(str) == second)
            ]
            if len(crosswalk) and first and second
            else crosswalk.iloc[0:0]
        )
        if pairs.empty:
            fig, wrapped = _figure(source)
            ax = fig.subplots()
            _empty(ax, "No pairs of principles to compare")
            return _finish(fig, title, wrapped)

        rows = _ordered(pairs["principle"])
        cols = _ordered(pairs["other_principle"])
        matrix = (
            pairs.assign(
                principle=pairs["principle"].astype(str), other_principle=pairs["other_principle"].astype(str)
            )
            .pivot_table(index="principle", columns="other_principle", values="similarity", aggfunc="max")
            .reindex(index=rows, columns=cols)
            .to_numpy(dtype=float)
        )
        vmax = _vmax(matrix[~np.isnan(matrix)])
        col_labels = [_truncate(c, 46) for c in cols]
        row_labels = [_truncate(r, 46) for r in rows]
        width, height, rotation = _heatmap_size(row_labels, col_labels)
        fig, wrapped = _figure(source, height, width)
        ax = fig.subplots()
        mesh = _score_mesh(ax, matrix, vmax)
        for i in range(len(rows)):
            line = matrix[i]
            if np.all(np.isnan(line)):
                continue
            _outline(ax, int(np.nanargmax(line)) + 0.5, i + 0.5)
        ax.set_xticks(np.arange(len(cols)) + 0.5, col_labels)
        _rotate(ax, rotation)
        ax.set_yticks(np.arange(len(rows)) + 0.5, row_labels)
        ax.tick_params(length=0)
        ax.tick_params(axis="y", pad=10)
        ax.tick_params(axis="x", pad=10)
        for spine in ax.spines.values():
            spine.set_visible(False)
        _band(ax, 0, len(rows), colors[first], axis="y")
        _band(ax, 0, len(cols), colors[second], axis="x")
        ax.set_ylabel(f"{first} principle", color=colors[first], fontweight="bold")
        ax.set_xlabel(f"{second} principle", color=colors[second], fontweight="bold")
        bar = fig.colorbar(mesh, ax=ax, shrink=min(1.0, 4.0 / max(ROW * len(rows), 0.1)), aspect=25, pad=0.02)
        bar.set_label("Cosine similarity of\nthe principles' queries", fontsize=10)
        bar.outline.set_visible(False)
        bar.ax.tick_params(labelsize=10)
        ax.legend(
            handles=[
                Patch(facecolor="none", edgecolor=INK, linewidth=1.6, label="closest counterpart of the row")
            ],
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            borderaxespad=0.3,
            handlelength=1.2,
        )
        return _finish(fig, title, wrapped)
