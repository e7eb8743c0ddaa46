"""Assemble the report: read the release (edge), build the sections (pure), render the HTML with
Jinja2, and write report.html and report.json atomically (edge).

    html, figures = build_report(release)             # nothing written
    figures = write_report(release, out / "report.html")  # also writes out / "report.json"

Same release in, same bytes out: no clock is read (the only date shown is the release's own
created_at), charts carry fixed SVG ids, and every ranking breaks ties by name or id.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from movierec.report import spanish
from movierec.report.blocks import Section
from movierec.report.load import Release, read_release
from movierec.report.sections.audience import demand_section, markets_section, people_section
from movierec.report.sections.data import calendar_section, catalogue_section, quality_section
from movierec.report.sections.money import money_section, votes_section
from movierec.report.sections.recommender import recommender_section
from movierec.report.sections.summary import changes, findings, key_figures, summary_section

FORMAT_VERSION = 1
TEMPLATE = "template.html.j2"
BUILDERS = (
    ("calidad", quality_section),
    ("catalogo", catalogue_section),
    ("estrenos", calendar_section),
    ("dinero", money_section),
    ("votos", votes_section),
    ("demanda", demand_section),
    ("mercados", markets_section),
    ("personas", people_section),
    ("recomendador", recommender_section),
)


def assemble(release: Release) -> tuple[list[Section], dict[str, Any]]:
    """All sections (summary first) and the figures for report.json. Pure: no I/O."""
    sections = {key: build(release) for key, build in BUILDERS}
    resumen = key_figures(sections)
    figures: dict[str, Any] = {
        "formato": FORMAT_VERSION,
        "version": release.name,
        "creada": release.manifest.get("created_at"),
        "peliculas": resumen["peliculas"],
        "correlacion_presupuesto_ingresos": resumen["correlacion_presupuesto_ingresos"],
        "resumen": resumen,
        "hallazgos": findings(sections),
        "cambios": changes(resumen, release.previous),
    }
    summary = summary_section(sections, figures, release.previous_note)
    summary.figures = {}  # its numbers are the top-level keys above
    for key, section in sections.items():
        figures[key] = section.figures
    return [summary, *sections.values()], figures


def render(sections: list[Section], figures: dict[str, Any], release: Release) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    charts = sum(1 for s in sections for c in s.charts if c.svg)
    cards = [(label, value) for label, value in sections[0].tables[0].rows if value != "—"]
    return env.get_template(TEMPLATE).render(
        sections=sections,
        figures=figures,
        release=release,
        chart_count=charts,
        cards=cards,
        created=spanish.long_date(figures["creada"]),
        films=spanish.integer(figures["peliculas"]),
        Markup=markupsafe.Markup,
    )


def build_report(
    release: Path, raw_dir: Path | None = None, previous: Path | None = None
) -> tuple[str, dict[str, Any]]:
    """The report of a release folder: (HTML text, figures for report.json).

    ``raw_dir`` holds the MovieLens ratings and links (default: the manifest's raw_dir when it
    exists); ``previous`` is an older release folder whose report/report.json is compared.
    """
    data = read_release(Path(release), Path(raw_dir) if raw_dir else None, Path(previous) if previous else None)
    sections, figures = assemble(data)
    return render(sections, figures, data), tidy(figures)


def tidy(value: Any) -> Any:
    """Floats to 12 significant digits, recursively: the JSON stays readable, and the last bits
    of a float sum (which a parallel aggregation may order differently) never reach it."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: tidy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tidy(v) for v in value]
    return value


def figures_json(figures: dict[str, Any]) -> str:
    return json.dumps(figures, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def write_report(
    release: Path, out_html: Path, raw_dir: Path | None = None, previous: Path | None = None
) -> dict[str, Any]:
    """Write ``out_html`` and ``out_html.with_suffix('.json')``, each through a temporary file and
    a rename, so a reader (the API) sees the old file or the new one, never half of one."""
    html, figures = build_report(release, raw_dir, previous)
    out_html = Path(out_html)
    out_html.parent.mkdir(parents=True, exist_ok=True)
    for path, text in ((out_html.with_suffix(".json"), figures_json(figures)), (out_html, html)):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)
    return figures
