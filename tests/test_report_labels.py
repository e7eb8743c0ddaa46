"""Report labels are data (issue 19, item 12): company, country and genre names holding matplotlib
mathtext (`$\\foo$ Pictures`), `$`, `\\`, `_`, `^`, `{}`, very long names and RTL or emoji text
draw as the text they are; a report that still fails is one line and exit code 2 from
`movierec report`."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from tests.helpers import copy_data
from typer.testing import CliRunner

from movierec.cli import app
from movierec.report import write_report
from movierec.report.chart_style import LABEL_CHARS

HOSTILE = [
    r"$\foo$ Pictures",
    "$$ Money $ Films",
    r"Back\slash \n Studios",
    "Under_score^Hat {Braces}",
    r"$\frac{1}{2}$ \mathrm{x} Films",
    "שלום Pictures",
    "Emoji 🎬🍿 Studios",
    "L" + "o" * 600 + "ng Films",
]


@pytest.fixture
def hostile_release(small_release: Path, tmp_path: Path) -> Path:
    """A copy of the small release whose companies, countries and genres are named ``HOSTILE``."""
    data = copy_data(small_release, tmp_path / "data")
    tables = (data / "current").resolve() / "tables"
    for name, column in (("companies", "company"), ("countries", "country"), ("genres", "genre")):
        frame = pl.read_parquet(tables / f"{name}.parquet")
        names = pl.Series([HOSTILE[i % len(HOSTILE)] for i in range(frame.height)])
        frame.with_columns(names.alias(column)).write_parquet(tables / f"{name}.parquet")
    return data


def test_math_markup_and_odd_labels_draw_as_text(hostile_release: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    figures = write_report((hostile_release / "current").resolve(), out)
    assert figures["peliculas"] == 200
    html = out.read_text(encoding="utf-8")
    assert "$\\foo$ Pictures" in html  # the name as written, not typeset
    assert "L" + "o" * (LABEL_CHARS - 2) + "…" in html  # a chart's label is cut, ending in "…"
    assert "<script" not in html.lower()


def test_a_failing_report_is_one_line_and_exit_code_2(
    hostile_release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise ValueError("Unknown symbol: \\foo, found '\\'  (at char 0), (line:1, col:1)\n" + "x" * 5000)

    monkeypatch.setattr("movierec.report.build.write_report", broken)
    result = CliRunner().invoke(app, ["report", "--data", str(hostile_release), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the report of release ")
    assert "ValueError: Unknown symbol" in lines[0] and len(lines[0]) < 300
