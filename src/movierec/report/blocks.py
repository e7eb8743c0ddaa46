"""What a report is made of: sections holding charts, each chart with its one-line finding and
a small table of the numbers it shows. Plain data, rendered by the Jinja2 template."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

NUMBER = re.compile(r"^[−+-]?\d[\d.,]*(?: ?%|×| M US\$| pp)?$")


@dataclass
class Table:
    """A small table; the first column is a label, the others right-aligned numbers."""

    headers: list[str]
    rows: list[list[str]]
    caption: str = ""

    @property
    def numeric(self) -> list[bool]:
        """Per column: right-align it (every cell a number, a share, a multiple or "—")."""
        return [
            i > 0 and all(NUMBER.match(row[i]) or row[i] in ("—", "", "n/d") for row in self.rows)
            for i in range(len(self.headers))
        ]


@dataclass
class Chart:
    id: str
    title: str
    finding: str  # one line computed from the data
    svg: str | None  # None: not drawn, ``note`` says why
    table: Table | None = None
    note: str = ""  # sample sizes, minimums, definitions


@dataclass
class Section:
    id: str
    title: str
    intro: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)  # shown before the charts
    figures: dict[str, Any] = field(default_factory=dict)  # this section's part of report.json


def missing_chart(chart_id: str, title: str, why: str) -> Chart:
    """A chart slot whose data is absent: the page says so instead of drawing an empty plot."""
    return Chart(chart_id, title, f"Sin datos: {why}.", None, None, "")
