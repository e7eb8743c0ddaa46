"""Charts of the report: matplotlib (Agg) figures rendered to inline SVG strings.

Every function takes plain lists of labels and numbers (already computed by the figures layer)
and returns the ``<svg>…</svg>`` text to paste into the HTML. Scatter points are rasterized inside
the SVG (one embedded PNG data URI), so a plot of 45,000 films stays small while its axes and
labels stay vector text. The style, the label cutting and the SVG step are in
:mod:`movierec.report.chart_style`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator

from movierec.report import spanish
from movierec.report.chart_style import (
    ACCENT,
    MAIN,
    PALETTE,
    Fmt,
    column,
    figure,
    fmt_axis,
    fmt_log,
    short,
    styled,
    to_svg,
)


def _hbar_axis(
    ax: Axes,
    labels: Sequence[str],
    values: Sequence[float],
    fmt: Fmt,
    color: str | Sequence[str] = MAIN,
    title: str = "",
    xlabel: str = "",
    limit: float | None = None,
    ticks: bool = True,
    axis_fmt: Fmt | None = None,
) -> None:
    """Horizontal bars, first label on top, each bar annotated with its value. ``limit`` fixes the
    end of the axis (1.0 for shares); without ticks the annotations carry the numbers."""
    y = np.arange(len(labels))
    ax.barh(y, values, color=color, height=0.7)
    ax.set_yticks(y, short(labels))
    ax.invert_yaxis()
    ax.grid(False, axis="y")
    top = max([v for v in values if v is not None and np.isfinite(v)] or [0])
    ax.set_xlim(0, limit if limit else (top * (1.25 if ticks else 1.45) if top > 0 else 1))
    for yi, value in zip(y, values, strict=True):
        ax.text(value, float(yi), " " + fmt(value), va="center", ha="left", fontsize=7.5, color="#333333")
    if ticks:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: (axis_fmt or fmt)(v)))
        ax.xaxis.set_major_locator(MaxNLocator(5))
    else:
        ax.set_xticks([])
        ax.grid(False, axis="x")
        ax.spines["bottom"].set_visible(False)
    if title:
        ax.set_title(title, loc="left")
    if xlabel:
        ax.set_xlabel(xlabel)


@styled
def hbars(
    chart_id: str,
    label: str,
    labels: Sequence[str],
    values: Sequence[float],
    fmt: Fmt,
    xlabel: str = "",
    highlight: Sequence[int] = (),
    share: bool = False,
) -> str:
    """Horizontal bars; ``share`` draws values in [0, 1] on a 0–100 % axis."""
    fig, (ax,) = figure(height=max(2.2, 0.26 * len(labels) + 0.8))
    colors = [ACCENT if i in highlight else MAIN for i in range(len(labels))]
    _hbar_axis(
        ax,
        labels,
        values,
        fmt,
        colors,
        xlabel=xlabel,
        limit=1.0 if share else None,
        axis_fmt=(lambda v: spanish.percent(v, 0)) if share else None,
    )
    return to_svg(fig, chart_id, label)


@styled
def panels(
    chart_id: str,
    label: str,
    items: Sequence[tuple[str, Sequence[str], Sequence[float], Fmt]],
    height: float | None = None,
    stacked_rows: bool = False,
) -> str:
    """Bar panels, (title, labels, values, format) each: side by side, or one under another
    (``stacked_rows``) when the labels are long names."""
    rows = max(len(item[1]) for item in items)
    if stacked_rows:
        per = 0.22 * rows + 0.55
        fig, axes = column(len(items), per * len(items))
    else:
        fig, axes = figure(height=height or max(2.2, 0.26 * rows + 0.9), ncols=len(items))
    for ax, (title, labels, values, fmt), color in zip(axes, items, PALETTE, strict=False):
        _hbar_axis(ax, labels, values, fmt, color, title=title, ticks=False)
    fig.tight_layout(w_pad=2.0, h_pad=1.2)
    return to_svg(fig, chart_id, label)


@styled
def vbars(
    chart_id: str,
    label: str,
    labels: Sequence[str],
    values: Sequence[float],
    fmt: Fmt,
    ylabel: str = "",
    highlight: Sequence[int] = (),
    notes: Sequence[str] | None = None,
    reference: float | None = None,
) -> str:
    """Vertical bars with the value over each bar (and a note such as n under it)."""
    fig, (ax,) = figure(height=3.2)
    x = np.arange(len(labels))
    colors = [ACCENT if i in highlight else MAIN for i in range(len(labels))]
    ax.bar(x, values, color=colors, width=0.7)
    ax.set_xticks(
        x,
        short([f"{lab}\n{note}" for lab, note in zip(labels, notes, strict=True)] if notes else labels),
        fontsize=7.5 if notes else 8,
    )
    ax.grid(False, axis="x")
    for xi, value in zip(x, values, strict=True):
        ax.text(float(xi), value, fmt(value), ha="center", va="bottom", fontsize=7.5, color="#333333")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt(v)))
    top = max([v for v in values if np.isfinite(v)] or [0])
    ax.set_ylim(0, top * 1.15 if top > 0 else 1)
    if reference is not None:
        ax.axhline(reference, color="#555555", linewidth=0.8, linestyle="--")
    if ylabel:
        ax.set_ylabel(ylabel)
    return to_svg(fig, chart_id, label)


@styled
def stacked(
    chart_id: str,
    label: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    fmt: Fmt,
    horizontal: bool = False,
    axis_label: str = "",
) -> str:
    """Stacked bars, one segment per series, with a legend above the plot."""
    n = len(labels)
    fig, (ax,) = figure(height=max(2.4, 0.42 * n + 1.2) if horizontal else 3.4)
    pos = np.arange(n)
    base = np.zeros(n)
    for (name, values), color in zip(series.items(), PALETTE, strict=False):
        vals = np.asarray(values, dtype=float)
        if horizontal:
            ax.barh(pos, vals, left=base, color=color, height=0.6, label=short([name])[0])
        else:
            ax.bar(pos, vals, bottom=base, color=color, width=0.75, label=short([name])[0])
        base += vals
    if horizontal:
        ax.set_yticks(pos, short(labels))
        ax.invert_yaxis()
        ax.grid(False, axis="y")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt(v)))
        ax.set_xlabel(axis_label)
    else:
        ax.set_xticks(pos, short(labels), fontsize=8, rotation=45 if n > 12 else 0)
        ax.grid(False, axis="x")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt(v)))
        ax.set_ylabel(axis_label)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=min(len(series), 6), fontsize=8)
    return to_svg(fig, chart_id, label)


@styled
def lines(
    chart_id: str,
    label: str,
    x: Sequence[float],
    series: dict[str, Sequence[float | None]],
    fmt: Fmt,
    ylabel: str = "",
    xlabel: str = "",
    markers: bool = False,
) -> str:
    fig, (ax,) = figure(height=3.3)
    for (name, values), color in zip(series.items(), PALETTE, strict=False):
        vals = np.array([np.nan if v is None else v for v in values], dtype=float)
        ax.plot(
            x, vals, color=color, linewidth=1.6, label=short([name])[0], marker="o" if markers else None, markersize=3
        )
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt(v)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: str(int(v))))  # years: no thousands dot
    ax.set_ylim(bottom=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=min(len(series), 6), fontsize=8)
    return to_svg(fig, chart_id, label)


@styled
def scatter(
    chart_id: str,
    label: str,
    x: Sequence[float],
    y: Sequence[float],
    *,
    xlabel: str,
    ylabel: str,
    logx: bool = True,
    logy: bool = True,
    highlight: Sequence[bool] | None = None,
    highlight_label: str = "",
    overlays: Sequence[tuple[str, Sequence[float], Sequence[float], str]] = (),
    axis_fmt: tuple[Fmt, Fmt] | None = None,
) -> str:
    """Points rasterized into the SVG; ``overlays`` are (legend, xs, ys, linestyle) lines."""
    fig, (ax,) = figure(height=4.2)
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    mask = np.zeros(xs.size, dtype=bool) if highlight is None else np.asarray(highlight, dtype=bool)
    alpha = 0.5 if xs.size < 2000 else 0.25
    ax.scatter(xs[~mask], ys[~mask], s=6, color=MAIN, alpha=alpha, linewidths=0, rasterized=True)
    if mask.any():
        ax.scatter(
            xs[mask], ys[mask], s=16, color=ACCENT, alpha=0.9, linewidths=0, rasterized=True, label=highlight_label
        )
    for (name, lx, ly, style), color in zip(overlays, ("#333333", ACCENT, PALETTE[2]), strict=False):
        ax.plot(lx, ly, linestyle=style, color=color, linewidth=1.3, label=short([name])[0])
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    fx, fy = axis_fmt or (fmt_log if logx else spanish.number, fmt_log if logy else spanish.number)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fx(v)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fy(v)))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _p: ""))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _p: ""))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if overlays or mask.any():
        ax.legend(loc="upper left", fontsize=8)
    return to_svg(fig, chart_id, label)


@styled
def ranges(
    chart_id: str,
    label: str,
    labels: Sequence[str],
    median: Sequence[float],
    low: Sequence[float],
    high: Sequence[float],
    notes: Sequence[str],
    xlabel: str,
    fmt: Fmt,
    reference: float | None = None,
    logx: bool = False,
) -> str:
    """Median (dot) and interquartile range (line) per group, with a note (n) at the right."""
    fig, (ax,) = figure(height=max(2.4, 0.3 * len(labels) + 0.9))
    y = np.arange(len(labels))
    med, lo, hi = (np.asarray(v, dtype=float) for v in (median, low, high))
    ax.hlines(y, lo, hi, color=PALETTE[5], linewidth=3.2)
    ax.plot(med, y, "o", color=MAIN, markersize=5)
    ax.set_yticks(y, short([f"{lab} ({note})" for lab, note in zip(labels, notes, strict=True)]))
    ax.invert_yaxis()
    ax.grid(False, axis="y")
    if reference is not None:
        ax.axvline(reference, color=ACCENT, linewidth=0.9, linestyle="--")
    if logx:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _p: ""))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt(v)))
    ax.set_xlabel(xlabel)
    return to_svg(fig, chart_id, label)


@styled
def histogram(
    chart_id: str,
    label: str,
    values: Sequence[float],
    bins: Sequence[float],
    xlabel: str,
    ylabel: str = "películas",
    logy: bool = False,
    marker: float | None = None,
    marker_label: str = "",
) -> str:
    fig, (ax,) = figure(height=3.0)
    ax.hist(
        np.asarray(values, dtype=float),
        bins=np.asarray(bins, dtype=float).tolist(),
        color=MAIN,
        edgecolor="white",
        linewidth=0.5,
    )
    if logy:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(fmt_log))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _p: ""))
    else:
        ax.yaxis.set_major_formatter(fmt_axis())
    ax.xaxis.set_major_formatter(fmt_axis())
    if marker is not None:
        ax.axvline(marker, color=ACCENT, linewidth=1.2, linestyle="--", label=marker_label)
        ax.legend(loc="upper right")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return to_svg(fig, chart_id, label)


@styled
def grouped_hbars(
    chart_id: str, label: str, labels: Sequence[str], series: dict[str, Sequence[float]], fmt: Fmt, xlabel: str = ""
) -> str:
    """Two or three bars per label (e.g. share of titles and share of ratings)."""
    n, k = len(labels), len(series)
    fig, (ax,) = figure(height=max(2.4, 0.22 * n * k + 1.0))
    y = np.arange(n)
    width = 0.8 / k
    top = 0.0
    for i, ((name, values), color) in enumerate(zip(series.items(), PALETTE, strict=False)):
        vals = np.asarray(values, dtype=float)
        ax.barh(y + (i - (k - 1) / 2) * width, vals, height=width, color=color, label=short([name])[0])
        top = max(top, float(np.nanmax(vals)) if vals.size else 0.0)
    ax.set_yticks(y, short(labels))
    ax.invert_yaxis()
    ax.grid(False, axis="y")
    ax.set_xlim(0, top * 1.1 if top > 0 else 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt(v)))
    ax.set_xlabel(xlabel)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=k)
    return to_svg(fig, chart_id, label)
