"""`movierec report`: one self-contained HTML report per release, in Spanish, plus report.json.

    from movierec.report import build_report, write_report
    html, figures = build_report(release_dir, raw_dir=None, previous=None)
    figures = write_report(release_dir, release_dir / "report" / "report.html")

Layers: :mod:`~movierec.report.load` reads the release (the only input edge);
:mod:`~movierec.report.figures`, :mod:`~movierec.report.quality` and :mod:`~movierec.report.groups`
compute the numbers (pure functions over polars DataFrames); :mod:`~movierec.report.charts` draws
them (matplotlib, SVG); :mod:`~movierec.report.sections` words them into findings;
:mod:`~movierec.report.build` renders the Jinja2 template and writes the files (the output edge).
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_report", "write_report"]


def __getattr__(name: str) -> Any:
    # Lazily: importing the package (or its light load/spanish modules) must not pull in
    # matplotlib and Jinja2, e.g. in the API process before a report is asked for.
    if name in __all__:
        from movierec.report import build

        return getattr(build, name)
    raise AttributeError(f"module 'movierec.report' has no attribute {name!r}")
