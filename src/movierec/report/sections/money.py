"""Sections 5–6: money (budget, revenue, return, franchises) and votes and quality."""

from __future__ import annotations

import numpy as np
import polars as pl

from movierec.report import chart_style, charts, figures
from movierec.report import spanish as es
from movierec.report.blocks import Chart, Section, Table
from movierec.report.load import Release


def _money_axis(value: float) -> str:
    """Log-axis ticks of US$ amounts in millions: 0,01 … 1 … 1.000 (M US$)."""
    return chart_style.fmt_log(value / 1e6)


def _gem_thresholds(rated: pl.DataFrame, gems: dict) -> list[tuple[str, list[float], list[float], str]]:
    """The two cut-offs of a hidden gem as dashed lines across the popularity–rating plot."""
    wr, pop = gems["umbral_valoracion"], gems["umbral_popularidad"]
    if wr is None or pop is None or not rated.height:
        return []
    x0, x1 = figures.number(rated["popularity"].min()), figures.number(rated["popularity"].max())
    y0, y1 = figures.number(rated["wr"].min()), figures.number(rated["wr"].max())
    return [
        (f"10 % mejor valorado (WR ≥ {es.number(wr, 2)})", [x0, x1], [wr, wr], "--"),
        (f"popularidad mediana ({es.number(pop, 2)})", [pop, pop], [y0, y1], ":"),
    ]


def money_section(release: Release) -> Section:
    movies, genres = release.tables["movies"], release.tables["genres"]
    constants = figures.rating_constants(movies)
    fit = figures.budget_revenue(movies)
    by_genre = figures.return_by_genre(movies, genres)
    split = figures.franchise(movies, constants)
    section = Section(
        "dinero",
        "Dinero: presupuesto, ingresos y retorno",
        f"Retorno = ingresos / presupuesto, solo con presupuesto ≥ {es.money(figures.MIN_BUDGET, 0)} "
        f"e ingresos conocidos ({es.plural(by_genre['peliculas'], 'película', 'películas')}); la "
        "correlación usa todas las películas con presupuesto e ingresos mayores que 0.",
        figures={"presupuesto_ingresos": fit, "retorno_por_genero": by_genre, "franquicias": split},
    )

    both = movies.filter((pl.col("budget") > 0) & (pl.col("revenue") > 0)).sort("id")
    if fit["n"] >= 3 and fit["pendiente_log"] is not None:
        budget, revenue = both["budget"].to_numpy(), both["revenue"].to_numpy()
        line_x = np.array([budget.min(), budget.max()], dtype=float)
        fitted = 10 ** (fit["ordenada_log"] + fit["pendiente_log"] * np.log10(line_x))
        finding = (
            f"Presupuesto e ingresos se correlacionan con r = {es.number(fit['r'], 2)} (Pearson, "
            f"n = {es.integer(fit['n'])}); en escala log–log r = {es.number(fit['r_log'], 2)} y los ingresos crecen "
            f"como el presupuesto elevado a {es.number(fit['pendiente_log'], 2)}; el {es.percent(fit['cuota_rentables'])} "
            "ingresa más de lo que costó."
        )
        svg = charts.scatter(
            "presupuesto-ingresos",
            "Presupuesto frente a ingresos",
            budget,
            revenue,
            xlabel="presupuesto (M US$, escala log)",
            ylabel="ingresos (M US$, escala log)",
            overlays=[
                ("ingresos = presupuesto (punto de equilibrio)", line_x, line_x, "--"),
                (f"ajuste log–log (r = {es.number(fit['r_log'], 2)})", line_x, fitted, "-"),
            ],
            axis_fmt=(_money_axis, _money_axis),
        )
    else:
        finding, svg = "Hay menos de 3 películas con presupuesto e ingresos conocidos.", None
    section.charts.append(
        Chart(
            "presupuesto-ingresos",
            "Presupuesto frente a ingresos (log–log)",
            finding,
            svg,
            Table(
                ["cifra", "valor"],
                [
                    ["películas con presupuesto e ingresos > 0", es.integer(fit["n"])],
                    ["r de Pearson (valores)", es.number(fit["r"], 3)],
                    ["r de Pearson (log10)", es.number(fit["r_log"], 3)],
                    ["pendiente log–log", es.number(fit["pendiente_log"], 3)],
                    ["ingresan más de lo que costaron", es.integer(fit["rentables"])],
                    ["cuota que ingresa más de lo que costó", es.percent(fit["cuota_rentables"])],
                    ["presupuesto mediano", es.money(fit["presupuesto_mediano"])],
                    ["ingresos medianos", es.money(fit["ingresos_medianos"])],
                ],
            ),
        )
    )

    shown = by_genre["generos"]
    omitted = ", ".join(f"{g} ({n})" for g, n in by_genre["omitidos"].items())
    note = (
        f"Mediana (punto) y rango intercuartílico (barra); n entre paréntesis. Mínimo: "
        f"{by_genre['minimo_peliculas']} películas con datos económicos por género; omitidos: {omitted or 'ninguno'}."
    )
    if shown:
        names = list(shown)
        finding = (
            f"{names[0]} tiene el mayor retorno mediano ({es.times(shown[names[0]]['mediana'])}, "
            f"n = {es.integer(shown[names[0]]['n'])}) y {names[-1]} el menor ({es.times(shown[names[-1]]['mediana'])}, "
            f"n = {es.integer(shown[names[-1]]['n'])}); el retorno mediano de todo el catálogo es "
            f"{es.times(by_genre['retorno_mediano'])}."
        )
        svg = charts.ranges(
            "retorno-por-genero",
            "Retorno por género",
            names,
            [g["mediana"] for g in shown.values()],
            [g["q1"] for g in shown.values()],
            [g["q3"] for g in shown.values()],
            [f"n={es.integer(g['n'])}" for g in shown.values()],
            "retorno (ingresos / presupuesto, escala log)",
            lambda v: es.times(v, 1) if v < 10 else es.times(v, 0),
            reference=1.0,
            logx=True,
        )
    else:
        finding, svg = "Ningún género reúne películas suficientes con datos económicos.", None
    section.charts.append(
        Chart(
            "retorno-por-genero",
            "Retorno por género (mediana y rango intercuartílico)",
            finding,
            svg,
            Table(
                ["género", "n", "mediana", "Q1", "Q3"],
                [
                    [g, es.integer(v["n"]), es.times(v["mediana"]), es.times(v["q1"]), es.times(v["q3"])]
                    for g, v in shown.items()
                ],
            ),
            note,
        )
    )

    fr, single = split["franquicia"], split["unica"]
    rows = [
        ("presupuesto mediano", "presupuesto_mediano", es.money),
        ("ingresos medianos", "ingresos_medianos", es.money),
        ("retorno mediano", "retorno_mediano", es.times),
        ("valoración ponderada media", "valoracion_ponderada_media", lambda v: es.number(v, 2)),
    ]
    labels = ["colección", "única"]
    finding = (
        f"Las películas de una colección ingresan una mediana de {es.money(fr['ingresos_medianos'])} frente a "
        f"{es.money(single['ingresos_medianos'])} las únicas, con retorno mediano de {es.times(fr['retorno_mediano'])} "
        f"frente a {es.times(single['retorno_mediano'])}."
    )
    section.charts.append(
        Chart(
            "franquicias",
            "Películas de una colección (franquicia) frente a películas únicas",
            finding,
            charts.panels(
                "franquicias",
                "Franquicias frente a películas únicas",
                [(title, labels, [fr[key] or 0.0, single[key] or 0.0], fmt) for title, key, fmt in rows],
                height=2.2,
            ),
            Table(
                ["cifra", "colección", "única"],
                [
                    ["películas", es.integer(fr["peliculas"]), es.integer(single["peliculas"])],
                    [
                        "con datos económicos",
                        es.integer(fr["con_datos_economicos"]),
                        es.integer(single["con_datos_economicos"]),
                    ],
                    *([title, fmt(fr[key]), fmt(single[key])] for title, key, fmt in rows),
                ],
            ),
            f"{es.plural(split['colecciones'], 'colección', 'colecciones')} en el catálogo. Dinero: solo películas con datos "
            "económicos; la valoración ponderada, sobre todas.",
        )
    )
    return section


def votes_section(release: Release) -> Section:
    movies, genres = release.tables["movies"], release.tables["genres"]
    constants = figures.rating_constants(movies)
    votes = figures.votes_revenue(movies)
    by_genre = figures.rating_by_genre(movies, genres, constants)
    gems = figures.hidden_gems(movies, constants)
    m, c = constants["m"], constants["C"]
    section = Section(
        "votos",
        "Votos y calidad",
        f"Valoración ponderada (fórmula de IMDB): WR = v/(v+m)·R + m/(v+m)·C, con un mínimo de votos "
        f"m = {es.number(m, 0)} (la mediana de votos de las películas votadas) y C = {es.number(c, 2)} "
        "(su nota media): una película con pocos votos se acerca a la media.",
        figures={"votos_ingresos": votes, "valoracion_por_genero": by_genre, "joyas_ocultas": gems},
    )

    both = movies.filter((pl.col("vote_count") > 0) & (pl.col("revenue") > 0)).sort("id")
    if votes["n"] >= 3:
        finding = (
            f"Votos e ingresos se correlacionan con r = {es.number(votes['r_log'], 2)} en escala log–log "
            f"(n = {es.integer(votes['n'])}): los votos sirven de indicador de taquilla donde faltan los ingresos."
        )
        svg = charts.scatter(
            "votos-ingresos",
            "Votos frente a ingresos",
            both["vote_count"].to_numpy(),
            both["revenue"].to_numpy(),
            xlabel="votos en TMDB (escala log)",
            ylabel="ingresos (M US$, escala log)",
            axis_fmt=(chart_style.fmt_log, _money_axis),
        )
    else:
        finding, svg = "Hay menos de 3 películas con votos e ingresos.", None
    section.charts.append(
        Chart(
            "votos-ingresos",
            "Votos frente a ingresos (log–log)",
            finding,
            svg,
            Table(
                ["cifra", "valor"],
                [
                    ["películas con votos e ingresos > 0", es.integer(votes["n"])],
                    ["r de Pearson (log10)", es.number(votes["r_log"], 3)],
                ],
            ),
        )
    )

    shown = by_genre["generos"]
    if shown:
        names = list(shown)
        finding = (
            f"{names[0]} tiene la mayor valoración ponderada mediana ({es.number(shown[names[0]]['mediana'], 2)}, "
            f"n = {es.integer(shown[names[0]]['n'])}) y {names[-1]} la menor ({es.number(shown[names[-1]]['mediana'], 2)})."
        )
        svg = charts.ranges(
            "valoracion-por-genero",
            "Valoración ponderada por género",
            names,
            [g["mediana"] for g in shown.values()],
            [g["q1"] for g in shown.values()],
            [g["q3"] for g in shown.values()],
            [f"n={es.integer(g['n'])}" for g in shown.values()],
            "valoración ponderada (0–10)",
            lambda v: es.number(v, 1),
            reference=c,
        )
    else:
        finding, svg = "Ningún género reúne películas suficientes.", None
    section.charts.append(
        Chart(
            "valoracion-por-genero",
            "Valoración ponderada por género",
            finding,
            svg,
            Table(
                ["género", "n", "media", "mediana", "Q1", "Q3"],
                [
                    [g, es.integer(v["n"]), *(es.number(v[k], 2) for k in ("media", "mediana", "q1", "q3"))]
                    for g, v in shown.items()
                ],
            ),
            f"La línea discontinua marca C = {es.number(c, 2)}. Mínimo: {by_genre['minimo_peliculas']} películas por género; "
            f"omitidos: {', '.join(f'{g} ({n})' for g, n in by_genre['omitidos'].items()) or 'ninguno'}.",
        )
    )

    rated = (
        figures.with_weighted_rating(movies, constants)
        .filter((pl.col("vote_count") > 0) & (pl.col("popularity") > 0))
        .sort("id")
    )
    gem_ids = {g["id"] for g in gems["peliculas"]}
    highlight = (rated["wr"] >= (gems["umbral_valoracion"] or np.inf)) & (
        rated["popularity"] < (gems["umbral_popularidad"] or 0)
    )
    if gems["peliculas"]:
        first = gems["peliculas"][0]
        finding = (
            f"{es.plural(gems['n'], 'película está', 'películas están')} en el 10 % mejor valorado "
            f"(WR ≥ {es.number(gems['umbral_valoracion'], 2)}) con una popularidad por debajo de la mediana "
            f"({es.number(gems['umbral_popularidad'], 2)}); la mejor es «{first['titulo']}» ({first['anio']})."
        )
    else:
        finding = "Ninguna película combina una valoración del 10 % superior con una popularidad bajo la mediana."
    section.charts.append(
        Chart(
            "joyas-ocultas",
            "Joyas ocultas: muy bien valoradas y poco populares",
            finding,
            charts.scatter(
                "joyas-ocultas",
                "Popularidad frente a valoración ponderada",
                rated["popularity"].to_numpy(),
                rated["wr"].to_numpy(),
                xlabel="popularidad en TMDB (escala log)",
                ylabel="valoración ponderada",
                logy=False,
                highlight=highlight.to_numpy(),
                highlight_label=f"joyas ocultas ({gems['n']})",
                overlays=_gem_thresholds(rated, gems),
                axis_fmt=(chart_style.fmt_log, lambda v: es.number(v, 1)),
            )
            if rated.height
            else None,
            Table(
                ["película", "año", "votos", "nota", "popularidad", "WR"],
                [
                    [
                        g["titulo"],
                        str(g["anio"] or "—"),
                        es.integer(g["votos"]),
                        es.number(g["media"], 1),
                        es.number(g["popularidad"], 2),
                        es.number(g["valoracion_ponderada"], 2),
                    ]
                    for g in gems["peliculas"]
                ],
                f"Las {len(gem_ids)} primeras por valoración ponderada." if gems["n"] > len(gem_ids) else "",
            ),
        )
    )
    return section
