"""Section 1: the executive summary (key figures, the main findings) and what changed since the
previous release's report.json."""

from __future__ import annotations

from typing import Any

from movierec.report import spanish as es
from movierec.report.blocks import Section, Table

# The charts whose findings lead the summary, in order of interest to the client; the first
# MAX_FINDINGS whose chart could be drawn are shown.
FINDING_ORDER = (
    "presupuesto-ingresos",
    "retorno-por-genero",
    "franquicias",
    "joyas-ocultas",
    "oferta-demanda",
    "estrenos-por-mes",
    "evaluacion",
    "cobertura-recomendaciones",
    "valores-desconocidos",
    "idiomas",
    "directores",
    "estrenos-por-dia",
    "valoracion-por-genero",
)
MAX_FINDINGS = 7

# Key figures: (key in report.json's "resumen", label, how to write it, how to write a change).
KEY_FIGURES: tuple[tuple[str, str, Any, Any], ...] = (
    ("peliculas", "películas en el catálogo", es.integer, lambda d: es.signed(d)),
    ("peliculas_con_datos_economicos", "con presupuesto ≥ 1 M US$ e ingresos", es.integer, lambda d: es.signed(d)),
    (
        "correlacion_presupuesto_ingresos",
        "correlación presupuesto–ingresos (r)",
        lambda v: es.number(v, 3),
        lambda d: es.signed(d, 3),
    ),
    ("retorno_mediano", "retorno mediano", es.times, lambda d: es.signed(d, 2)),
    ("joyas_ocultas", "joyas ocultas", es.integer, lambda d: es.signed(d)),
    ("filas_en_cuarentena", "filas en cuarentena", es.integer, lambda d: es.signed(d)),
    ("valoraciones_movielens", "valoraciones de MovieLens del catálogo", es.integer, lambda d: es.signed(d)),
    ("precision_modelo", "precisión del modelo", lambda v: es.number(v, 3), lambda d: es.signed(d, 3)),
    ("cobertura_top5", "cobertura de las recomendaciones", es.percent, lambda d: f"{es.signed(100 * d, 1)} pp"),
)


def key_figures(sections: dict[str, Section]) -> dict[str, Any]:
    """The headline numbers, read from the sections' figures (None when a section lacks data)."""
    f = {key: s.figures for key, s in sections.items()}
    evaluation = f["recomendador"].get("evaluacion") or {}
    model = (evaluation.get("tabla") or {}).get("modelo") or {}
    reach = f["recomendador"].get("cobertura_recomendaciones") or {}
    demand = f["demanda"].get("oferta_demanda") or {}
    return {
        "peliculas": f["catalogo"]["catalogo"]["peliculas"],
        "primer_anio": f["catalogo"]["catalogo"]["primer_anio"],
        "ultimo_anio": f["catalogo"]["catalogo"]["ultimo_anio"],
        "peliculas_con_datos_economicos": f["dinero"]["retorno_por_genero"]["peliculas"],
        "correlacion_presupuesto_ingresos": f["dinero"]["presupuesto_ingresos"]["r"],
        "retorno_mediano": f["dinero"]["retorno_por_genero"]["retorno_mediano"],
        "joyas_ocultas": f["votos"]["joyas_ocultas"]["n"],
        "filas_en_cuarentena": f["calidad"]["filas"]["en_cuarentena_total"],
        "valoraciones_movielens": demand.get("valoraciones"),
        "precision_modelo": model.get("precision_at_k"),
        "cobertura_top5": reach.get("cobertura"),
    }


def changes(current: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any] | None:
    """Each key figure before and now, and the difference, when the previous report has it."""
    if previous is None:
        return None
    before = previous.get("resumen") or {}
    rows = {}
    for key, *_ in KEY_FIGURES:
        old, new = before.get(key), current.get(key)
        change = new - old if isinstance(old, (int, float)) and isinstance(new, (int, float)) else None
        rows[key] = {"anterior": old, "actual": new, "cambio": change}
    return {"version_anterior": previous.get("version"), "creada": previous.get("creada"), "cifras": rows}


def summary_section(sections: dict[str, Section], figures: dict[str, Any], previous_note: str) -> Section:
    section = Section(
        "resumen",
        "Resumen ejecutivo",
        f"Versión {figures['version']} del catálogo, publicada el {es.long_date(figures['creada'])}.",
    )
    current = figures["resumen"]
    section.tables.append(
        Table(
            ["cifra clave", "valor"],
            [
                [label, fmt(current.get(key)) if current.get(key) is not None else "—"]
                for key, label, fmt, _ in KEY_FIGURES
            ],
        )
    )
    diff = figures.get("cambios")
    if diff:
        section.tables.append(
            Table(
                ["cifra", "versión anterior", "esta versión", "cambio"],
                [
                    [
                        label,
                        fmt(diff["cifras"][key]["anterior"]) if diff["cifras"][key]["anterior"] is not None else "—",
                        fmt(diff["cifras"][key]["actual"]) if diff["cifras"][key]["actual"] is not None else "—",
                        delta(diff["cifras"][key]["cambio"]) if diff["cifras"][key]["cambio"] is not None else "—",
                    ]
                    for key, label, fmt, delta in KEY_FIGURES
                ],
                f"Qué cambió desde la versión anterior ({diff['version_anterior'] or '—'}, "
                f"{es.long_date(diff['creada'])}).",
            )
        )
    elif previous_note:
        section.intro += f" No se compara con la versión anterior: {previous_note}."
    return section


def findings(sections: dict[str, Section]) -> list[str]:
    """The 5–7 findings of the summary: the first drawn charts of FINDING_ORDER."""
    by_id = {c.id: c for s in sections.values() for c in s.charts}
    return [by_id[i].finding for i in FINDING_ORDER if i in by_id and by_id[i].svg is not None][:MAX_FINDINGS]
