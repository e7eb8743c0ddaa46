"""Sections 7–9: supply against MovieLens demand; languages, countries and companies; people."""

from __future__ import annotations

from typing import Any

from movierec.report import charts, figures, groups
from movierec.report import spanish as es
from movierec.report.blocks import Chart, Section, Table, missing_chart
from movierec.report.load import Release


def demand_section(release: Release) -> Section:
    section = Section(
        "demanda",
        "Oferta frente a demanda",
        "Cuota de los títulos del catálogo frente a cuota de las valoraciones de MovieLens por género: "
        "un género con más valoraciones que títulos (razón > 1) es candidato a licenciar más.",
    )
    if release.demand is None:
        section.figures = {"oferta_demanda": None, "motivo": release.demand_note}
        section.charts.append(
            missing_chart("oferta-demanda", "Cuota de títulos y de valoraciones por género", release.demand_note)
        )
        return section
    movies = release.tables["movies"]
    stats = groups.supply_demand(movies, release.tables["genres"], release.demand.per_film)
    section.figures = {
        "oferta_demanda": stats,
        "fuente": release.demand.source,
        "valoraciones_leidas": release.demand.rows,
        "valoraciones_enlazadas": release.demand.linked,
    }
    table = stats["generos"]
    ranked = [(g, v) for g, v in table.items() if v["razon"] is not None and v["titulos"] >= figures.MIN_GROUP]
    if ranked:
        high = max(ranked, key=lambda kv: (kv[1]["razon"], kv[0]))
        low = min(ranked, key=lambda kv: (kv[1]["razon"], kv[0]))
        finding = (
            f"{high[0]} reúne el {es.percent(high[1]['cuota_valoraciones'])} de las valoraciones con el "
            f"{es.percent(high[1]['cuota_titulos'])} de los títulos (razón {es.number(high[1]['razon'], 2)}), la mayor "
            f"demanda relativa; {low[0]}, la menor (razón {es.number(low[1]['razon'], 2)})."
        )
    else:
        finding = "Ninguna película del catálogo tiene valoraciones de MovieLens."
    names = list(table)
    section.charts.append(
        Chart(
            "oferta-demanda",
            "Cuota de títulos y de valoraciones por género",
            finding,
            charts.grouped_hbars(
                "oferta-demanda",
                "Oferta frente a demanda por género",
                names,
                {
                    "títulos del catálogo": [v["cuota_titulos"] for v in table.values()],
                    "valoraciones de MovieLens": [v["cuota_valoraciones"] for v in table.values()],
                },
                lambda v: es.percent(v, 0),
                "cuota",
            ),
            Table(
                ["género", "títulos", "cuota de títulos", "valoraciones", "cuota de valoraciones", "razón"],
                [
                    [
                        g,
                        es.integer(v["titulos"]),
                        es.percent(v["cuota_titulos"]),
                        es.integer(v["valoraciones"]),
                        es.percent(v["cuota_valoraciones"]),
                        es.number(v["razon"], 2),
                    ]
                    for g, v in table.items()
                ],
            ),
            f"{es.integer(stats['valoraciones'])} valoraciones de {es.integer(stats['peliculas_valoradas'])} películas del "
            f"catálogo ({release.demand.source}, {es.integer(release.demand.rows)} leídas). Una película cuenta en cada uno "
            f"de sus géneros. La razón solo se compara entre géneros con al menos {figures.MIN_GROUP} títulos.",
        )
    )
    return section


def _market_chart(chart_id: str, title: str, noun: str, stats: dict[str, Any]) -> Chart:
    count, revenue, rating = stats["por_peliculas"], stats["por_ingresos"], stats["por_valoracion"]
    parts = []
    if count:
        parts.append(f"{count[0]['nombre']} encabeza en películas ({es.integer(count[0]['n'])})")
    if revenue:
        parts.append(f"{revenue[0]['nombre']} en ingresos ({es.money(revenue[0]['ingresos'], 0)})")
    if rating:
        parts.append(
            f"{rating[0]['nombre']} en valoración ponderada media ({es.number(rating[0]['valoracion'], 2)}, "
            f"entre {noun} con ≥ {stats['minimo_peliculas']} películas)"
        )
    finding = ("; ".join(parts) + ".") if parts else f"Sin {noun} en el catálogo."
    finding = finding[0].upper() + finding[1:]

    def short(text: str) -> str:
        return text if len(text) <= 40 else text[:39] + "…"

    svg = (
        charts.panels(
            chart_id,
            title,
            [
                ("películas", [short(r["nombre"]) for r in count], [r["n"] for r in count], es.integer),
                (
                    "ingresos (M US$)",
                    [short(r["nombre"]) for r in revenue],
                    [r["ingresos"] / 1e6 for r in revenue],
                    lambda v: es.number(v, 0),
                ),
                (
                    "valoración ponderada media",
                    [short(r["nombre"]) for r in rating],
                    [r["valoracion"] for r in rating],
                    lambda v: es.number(v, 2),
                ),
            ],
            stacked_rows=True,
        )
        if count
        else None
    )
    rows = [
        [
            str(i + 1),
            *(f"{c['nombre']} ({es.integer(c['n'])})" if c else "" for c in [count[i] if i < len(count) else None]),
            *(
                f"{r['nombre']} ({es.money(r['ingresos'], 0)})" if r else ""
                for r in [revenue[i] if i < len(revenue) else None]
            ),
            *(
                f"{v['nombre']} ({es.number(v['valoracion'], 2)}; n={es.integer(v['n'])})" if v else ""
                for v in [rating[i] if i < len(rating) else None]
            ),
        ]
        for i in range(max(len(count), len(revenue), len(rating)))
    ]
    return Chart(
        chart_id,
        title,
        finding,
        svg,
        Table(["#", "por películas", "por ingresos", "por valoración"], rows),
        f"{es.integer(stats['grupos'])} {noun} en total. La valoración solo entre {noun} con al menos "
        f"{stats['minimo_peliculas']} películas.",
    )


def markets_section(release: Release) -> Section:
    movies = release.tables["movies"]
    constants = figures.rating_constants(movies)
    stats = {
        "idiomas": groups.market(movies, groups.language_groups(movies), constants),
        "paises": groups.market(movies, groups.country_groups(release.tables["countries"]), constants),
        "companias": groups.market(movies, groups.company_groups(release.tables["companies"]), constants),
    }
    section = Section(
        "mercados",
        "Idiomas, países y compañías",
        "Los diez primeros por número de películas, por ingresos totales (suma de los ingresos conocidos) "
        "y por valoración ponderada media.",
        figures=stats,
    )
    for key, chart_id, title, noun in (
        ("idiomas", "idiomas", "Idiomas originales", "idiomas"),
        ("paises", "paises", "Países de producción", "países"),
        ("companias", "companias", "Compañías productoras", "compañías"),
    ):
        section.charts.append(_market_chart(chart_id, title, noun, stats[key]))
    return section


def people_section(release: Release) -> Section:
    movies = release.tables["movies"]
    constants = figures.rating_constants(movies)
    stats = {
        "directores": groups.people(movies, release.directors, constants),
        "actores": groups.people(movies, groups.top_billed(release.tables["cast"]), constants),
    }
    section = Section(
        "personas",
        "Personas: dirección y reparto",
        f"Directores y actores con al menos {groups.MIN_PERSON_FILMS} películas en el catálogo; un actor "
        f"cuenta en las películas donde figura entre los {groups.TOP_BILLED} primeros del reparto. El retorno "
        f"mediano pide {groups.MIN_PERSON_FILMS} películas con datos económicos.",
        figures=stats,
    )
    for key, chart_id, title, noun in (
        ("directores", "directores", "Directores", "directores"),
        ("actores", "actores", "Actores y actrices", "actores"),
    ):
        s = stats[key]
        best_return, best_rating = s["por_retorno"], s["por_valoracion"]
        parts = []
        if best_return:
            parts.append(
                f"entre {es.integer(s['personas_con_retorno'])} {noun} con datos, {best_return[0]['nombre']} tiene el "
                f"mayor retorno mediano ({es.times(best_return[0]['retorno_mediano'])}, {best_return[0]['n']} películas)"
            )
        if best_rating:
            parts.append(
                f"{best_rating[0]['nombre']} la mejor valoración ponderada media "
                f"({es.number(best_rating[0]['valoracion'], 2)}, {best_rating[0]['n']} películas)"
            )
        finding = "; ".join(parts) + "." if parts else f"Nadie llega a {s['minimo_peliculas']} películas."
        finding = finding[0].upper() + finding[1:]
        svg = (
            charts.panels(
                chart_id,
                title,
                [
                    (
                        "retorno mediano",
                        [r["nombre"] for r in best_return],
                        [r["retorno_mediano"] for r in best_return],
                        lambda v: es.times(v, 1),
                    ),
                    (
                        "valoración ponderada media",
                        [r["nombre"] for r in best_rating],
                        [r["valoracion"] for r in best_rating],
                        lambda v: es.number(v, 2),
                    ),
                ],
            )
            if best_return or best_rating
            else None
        )
        rows = [
            [
                str(i + 1),
                f"{best_return[i]['nombre']} ({es.times(best_return[i]['retorno_mediano'])}; n={es.integer(best_return[i]['n'])})"
                if i < len(best_return)
                else "",
                f"{best_rating[i]['nombre']} ({es.number(best_rating[i]['valoracion'], 2)}; n={es.integer(best_rating[i]['n'])})"
                if i < len(best_rating)
                else "",
            ]
            for i in range(max(len(best_return), len(best_rating)))
        ]
        section.charts.append(
            Chart(
                chart_id,
                f"{title}: retorno mediano y valoración",
                finding,
                svg,
                Table(["#", "por retorno mediano", "por valoración"], rows),
                f"{es.integer(s['personas'])} {noun} con al menos {s['minimo_peliculas']} películas.",
            )
        )
    return section
