"""Section 10: what the recommender reads (overviews, keywords, cast, directors), the model's
evaluation table from the release, and how much of the catalogue its recommendations reach."""

from __future__ import annotations

from typing import Any

import numpy as np

from movierec.report import charts, groups
from movierec.report import spanish as es
from movierec.report.blocks import Chart, Section, Table, missing_chart
from movierec.report.load import Release

METRICS = {
    "precision_at_k": "precisión@k",
    "coverage": "cobertura",
    "collection_recall": "recall de colección",
    "ndcg_at_k": "nDCG@k",
    "stratified_precision_at_k": "precisión estratificada@k",
    "generic_share": "cuota genérica",
    "adjacent_collection_recall": "recall de colección (contiguas)",
}
METHODS = {"model": "modelo", "random": "azar", "most popular": "más popular", "seed (tf-idf)": "semilla (tf-idf)"}


def evaluation_rows(evaluation: dict[str, Any] | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The evaluation's rows and the numeric metrics they hold (known ones first), tolerating
    any shape: a missing or malformed table gives no rows."""
    table = (evaluation or {}).get("table")
    if not isinstance(table, list):
        return [], []
    rows = [r for r in table if isinstance(r, dict) and "method" in r]
    found = {k for r in rows for k, v in r.items() if k != "method" and (isinstance(v, (int, float)) or v is None)}
    metrics = [m for m in METRICS if m in found] + sorted(found - set(METRICS))
    return rows, metrics


def recommender_section(release: Release) -> Section:
    movies = release.tables["movies"]
    length = groups.overview_length(movies)
    features = groups.feature_coverage(movies, release.tables["keywords"], release.tables["cast"], release.directors)
    section = Section(
        "recomendador",
        "Para el recomendador",
        "Las señales que lee el modelo, su evaluación contra usuarios reales de MovieLens y cuánto del "
        "catálogo llega a recomendarse.",
        figures={"sinopsis": length, "cobertura_rasgos": features},
    )

    words = groups.overview_words(movies).to_numpy()
    top = int(np.percentile(words, 99)) if words.size else 0
    section.charts.append(
        Chart(
            "longitud-sinopsis",
            "Longitud de la sinopsis",
            f"La sinopsis mediana tiene {es.number(length['mediana_palabras'], 0)} palabras; "
            f"{es.plural(length['sin_sinopsis'], 'película no tiene', 'películas no tienen')} sinopsis y "
            f"{es.integer(length['cortas'])} tienen menos de {length['umbral_corta']} palabras.",
            charts.histogram(
                "longitud-sinopsis",
                "Palabras por sinopsis",
                np.minimum(words, top + 1),
                np.linspace(0, top + 2, 31),
                "palabras de la sinopsis (la última barra agrupa el 1 % más largo)",
                marker=length["mediana_palabras"],
                marker_label="mediana",
            ),
            Table(
                ["cifra", "valor"],
                [
                    ["mediana de palabras", es.number(length["mediana_palabras"], 0)],
                    ["sin sinopsis", es.integer(length["sin_sinopsis"])],
                    [f"menos de {length['umbral_corta']} palabras", es.integer(length["cortas"])],
                ],
            ),
        )
    )

    # The collection is no gap (most films belong to none): the scarcest signal is among the rest.
    scarce = min(
        ((k, v) for k, v in features.items() if k != "colección"), key=lambda kv: (kv[1]["cuota"] or 0.0, kv[0])
    )
    section.charts.append(
        Chart(
            "cobertura-rasgos",
            "Películas con cada señal del modelo",
            "Tienen "
            + ", ".join(f"{k} el {es.percent(v['cuota'])}" for k, v in features.items() if k != "colección")
            + f" de las películas: la señal más escasa es «{scarce[0]}»; el {es.percent(features['colección']['cuota'])} "
            "pertenece a una colección.",
            charts.hbars(
                "cobertura-rasgos",
                "Cobertura de las señales",
                list(features),
                [v["cuota"] or 0.0 for v in features.values()],
                lambda v: es.percent(v),
                "cuota de películas",
                share=True,
            ),
            Table(
                ["señal", "películas", "cuota"],
                [[k, es.integer(v["n"]), es.percent(v["cuota"])] for k, v in features.items()],
            ),
            "La colección no es un dato que falte: la mayoría de las películas no pertenece a ninguna.",
        )
    )

    rows, metrics = evaluation_rows(release.evaluation)
    if rows:
        evaluation = release.evaluation or {}
        k = evaluation.get("k", "k")
        names = [METHODS.get(str(r["method"]), str(r["method"])) for r in rows]
        section.figures["evaluacion"] = {
            "k": evaluation.get("k"),
            "usuarios": evaluation.get("users"),
            "pares": evaluation.get("pairs"),
            "peliculas": evaluation.get("films"),
            "tabla": {n: {m: r.get(m) for m in metrics} for n, r in zip(names, rows, strict=True)},
        }
        model = next((r for r in rows if r["method"] == "model"), rows[0])
        others = [r for r in rows if r is not model and isinstance(r.get("precision_at_k"), (int, float))]
        if isinstance(model.get("precision_at_k"), (int, float)):
            rivals = [
                f"{es.number(r['precision_at_k'], 3)} de «{METHODS.get(r['method'], r['method'])}»" for r in others
            ]
            versus = (
                " frente a " + (", ".join(rivals[:-1]) + " y " + rivals[-1] if len(rivals) > 1 else rivals[0])
                if rivals
                else ""
            )
            coverage = model.get("coverage")
            finding = (
                f"El modelo logra una precisión@{k} de {es.number(model['precision_at_k'], 3)}{versus}"
                + (f", con una cobertura de {es.percent(coverage)}" if isinstance(coverage, (int, float)) else "")
                + "."
            )
        else:
            finding = f"La evaluación de la versión tiene {len(rows)} métodos."
        labels = {m: METRICS.get(m, m).replace("@k", f"@{k}") for m in metrics}
        section.charts.append(
            Chart(
                "evaluacion",
                f"Evaluación del modelo (k = {k})",
                finding,
                charts.grouped_hbars(
                    "evaluacion",
                    "Evaluación del modelo",
                    names,
                    {
                        labels[m]: [r.get(m) if isinstance(r.get(m), (int, float)) else 0.0 for r in rows]
                        for m in metrics
                    },
                    lambda v: es.percent(v, 0),
                    "valor (0–100 %)",
                ),
                Table(
                    ["método", *labels.values()],
                    [
                        [n, *(es.number(r.get(m), 3) if isinstance(r.get(m), (int, float)) else "n/d" for m in metrics)]
                        for n, r in zip(names, rows, strict=True)
                    ],
                ),
                f"{es.integer(evaluation.get('users'))} usuarios de evaluación y {es.integer(evaluation.get('pairs'))} pares "
                f"(usuario, película que le gustó) sobre {es.integer(evaluation.get('films'))} películas.",
            )
        )
    else:
        section.figures["evaluacion"] = None
        section.charts.append(
            missing_chart(
                "evaluacion", "Evaluación del modelo", "la versión no incluye evaluación (ejecute `movierec evaluate`)"
            )
        )

    if release.neighbours is not None:
        reach = groups.recommendation_coverage(movies, release.neighbours)
        section.figures["cobertura_recomendaciones"] = reach
        finding = (
            f"{es.integer(reach['peliculas_recomendadas'])} películas distintas ({es.percent(reach['cobertura'])} del "
            f"catálogo) aparecen en algún top {reach['k']}; el 1 % más recomendado ocupa "
            f"{es.percent(reach['cuota_del_1_por_ciento'])} de los huecos."
        )
        buckets = groups.recommended_buckets(groups.recommended_counts(movies, release.neighbours))
        reach["peliculas_por_apariciones"] = buckets
        section.charts.append(
            Chart(
                "cobertura-recomendaciones",
                f"Veces que cada película aparece en el top {reach['k']} de otra",
                finding,
                charts.vbars(
                    "cobertura-recomendaciones",
                    "Apariciones en recomendaciones",
                    list(buckets),
                    list(buckets.values()),
                    es.integer,
                    "películas",
                    highlight=[0],
                ),
                Table(
                    ["apariciones", "películas", "cuota"],
                    [
                        [b, es.integer(n), es.percent(n / movies.height if movies.height else None)]
                        for b, n in buckets.items()
                    ],
                ),
                f"Cobertura = películas distintas en algún top {reach['k']} / películas del catálogo. El máximo es "
                f"{es.integer(reach['max_apariciones'])} apariciones; en naranja, las películas que nunca se recomiendan.",
            )
        )
    else:
        section.figures["cobertura_recomendaciones"] = None
        section.charts.append(
            missing_chart(
                "cobertura-recomendaciones",
                "Cobertura de las recomendaciones",
                "la versión no tiene model/neighbours.parquet",
            )
        )
    return section
