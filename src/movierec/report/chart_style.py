"""The report's chart style: palette, matplotlib rc settings, label cutting, Spanish number
formatters, and the figure → inline SVG step every chart of :mod:`movierec.report.charts` ends with.

Determinism: every chart is saved with its own ``svg.hashsalt`` (its id), so the element ids
inside one SVG are stable from run to run and never collide with another chart's on the page;
the SVG metadata (date, creator URL) is stripped.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from movierec.raw.caps import clip
from movierec.report import spanish

Fmt = Callable[[float], str]

# Okabe–Ito: distinguishable by readers with colour-vision deficiencies, and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999")
MAIN, ACCENT, MUTED = PALETTE[0], PALETTE[3], "#B8B8B8"
WIDTH = 7.6  # inches; the page shows charts at most ~860 px wide

STYLE: dict[Any, Any] = {  # matplotlib types its keys as a Literal of every rc name
    # Measured with DejaVu Sans (shipped with matplotlib); a browser without it falls back to a
    # narrower sans-serif, never to its default serif font.
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "svg.fonttype": "none",  # text stays text: smaller, selectable, searchable
    "axes.formatter.useoffset": False,
    # Labels are data (company, genre, person names from TMDB): "$\\foo$ Pictures" is a name,
    # not mathtext to typeset; parsed, it made the whole report fail.
    "text.parse_math": False,
}

LABEL_CHARS = 60  # a tick label longer than this is cut: a 500-character name must not stretch the chart


def short(labels: Sequence[str]) -> list[str]:
    """Tick labels cut to ``LABEL_CHARS`` (ending in "…"), each line apart.

    >>> short(["Heat", "x" * 70])[1][-3:], len(short(["x" * 70])[0])
    ('xx…', 60)
    """
    return ["\n".join(clip(line, LABEL_CHARS) for line in str(label).split("\n")) for label in labels]


def fmt_axis(decimals: int = 0) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: spanish.number(v, decimals))


def fmt_log(value: float, _pos: object = None) -> str:
    """1, 10, 100, 1.000 … and 0,1 on a log axis, in Spanish style."""
    if value <= 0:
        return ""
    decimals = max(0, -int(np.floor(np.log10(value) + 1e-9)))
    return spanish.number(value, decimals)


def styled(function: Callable[..., str]) -> Callable[..., str]:
    """Run a chart function under the report's style: every artist is created inside it."""

    @functools.wraps(function)
    def wrapper(*args: object, **kwargs: object) -> str:
        with plt.rc_context(STYLE):
            return function(*args, **kwargs)

    return wrapper


def figure(
    height: float = 3.4, ncols: int = 1, width: float = WIDTH, sharey: bool = False
) -> tuple[Figure, list[Axes]]:
    fig, axes = plt.subplots(1, ncols, figsize=(width, height), sharey=sharey, squeeze=False)
    return fig, list(axes[0])


def column(rows: int, height: float) -> tuple[Figure, list[Axes]]:
    """``rows`` charts stacked in one column of the page's width."""
    fig, grid = plt.subplots(rows, 1, figsize=(WIDTH, height), squeeze=False)
    return fig, [row[0] for row in grid]


def to_svg(fig: Figure, chart_id: str, label: str) -> str:
    """The figure as inline SVG text (no XML prolog, no metadata), then closed."""
    buffer = io.StringIO()
    with plt.rc_context({"svg.hashsalt": f"movierec-{chart_id}"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", dpi=110, metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    # Namespace declarations are not fetched, but an HTML page needs none: drop every URL.
    text = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text)
    # matplotlib labels every group (id="line2d_12"): unreferenced, and repeated in every chart of
    # the page; only the salted ids (clip paths, markers) are referenced and they stay.
    text = re.sub(r' id="[A-Za-z.]+_\d+"', "", text)
    safe = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return text.replace("<svg", f'<svg role="img" aria-label="{safe}"', 1).strip()
