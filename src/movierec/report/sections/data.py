"""Sections 2–4: data quality, the catalogue over time, and releases per month and weekday."""

from __future__ import annotations

from typing import Any

from movierec.report import charts, figures, quality
from movierec.report import spanish as es
from movierec.report.blocks import Chart, Section, Table
from movierec.report.load import Release


def quality_section(release: Release) -> Section:
    movies = release.tables["movies"]
    account = quality.accounting(release.etl)
    fixes = quality.amount_fixes(release.etl)
    unknown = quality.unknown_values(movies)
    demand = release.demand
    coverage = quality.join_coverage(
        movies,
        release.tables["cast"],
        release.crew_films,
        release.directors,
        release.tables["keywords"],
        demand.links if demand else None,
        demand.per_film["movie_id"] if demand else None,
    )
    section = Section(
        "calidad",
        "Calidad de los datos",
        "Qué hizo el ETL con cada fila de los archivos de Kaggle, qué valores faltan en el "
        "catálogo y cuántas películas encuentran su pareja en las demás tablas.",
        figures={
            "filas": account,
            "valores_desconocidos": unknown,
            "importes_corregidos": fixes,
            "cobertura_uniones": coverage,
        },
    )
    files = account["archivos"]
    section.tables.append(
        Table(
            ["archivo", "leídas", "conservadas", "reparadas", "en cuarentena", "descartadas", "cuadra"],
            [
                [
                    name,
                    *(es.integer(f[k]) for k in ("leidas", "conservadas", "reparadas", "en_cuarentena", "descartadas")),
                    "sí" if f["cuadra"] else "no",
                ]
                for name, f in files.items()
            ],
            "Contabilidad de filas del ETL: leídas = conservadas + reparadas + en cuarentena + descartadas.",
        )
    )
    reasons = [
        [name, motive, es.integer(n)] for name, f in files.items() for motive, n in f["motivos_cuarentena"].items()
    ]
    if reasons:
        section.tables.append(Table(["archivo", "motivo de cuarentena", "filas"], reasons))

    if files:
        shares: dict[str, list[float]] = {quality.OUTCOME_NAMES[o]: [] for o in quality.OUTCOMES}
        keys = {
            "kept": "conservadas",
            "repaired": "reparadas",
            "quarantined": "en_cuarentena",
            "dropped": "descartadas",
        }
        for f in files.values():
            for outcome, key in keys.items():
                shares[quality.OUTCOME_NAMES[outcome]].append(f[key] / f["leidas"] if f["leidas"] else 0.0)
        finding = _accounting_finding(files, account)
        section.charts.append(
            Chart(
                "filas-por-archivo",
                "Destino de las filas de cada archivo",
                finding,
                charts.stacked(
                    "filas-por-archivo",
                    "Destino de las filas por archivo",
                    list(files),
                    shares,
                    lambda v: es.percent(v, 0),
                    horizontal=True,
                    axis_label="cuota de las filas leídas",
                ),
                Table(
                    ["archivo", *shares],
                    [[name, *(es.percent(shares[k][i]) for k in shares)] for i, name in enumerate(files)],
                ),
            )
        )

    budget, revenue = unknown["presupuesto"], unknown["ingresos"]
    section.charts.append(
        Chart(
            "valores-desconocidos",
            "Valores desconocidos por columna",
            f"El presupuesto es desconocido en {es.percent(budget['cuota'])} de las películas y los ingresos en "
            f"{es.percent(revenue['cuota'])}; el ETL dio por desconocidos {es.integer(fixes['presupuestos'])} "
            f"presupuestos y {es.integer(fixes['ingresos'])} ingresos de 1 a 999 US$ (escritos en millones).",
            charts.hbars(
                "valores-desconocidos",
                "Valores desconocidos por columna",
                list(unknown),
                [u["cuota"] for u in unknown.values()],
                lambda v: es.percent(v),
                "cuota de películas",
                share=True,
            ),
            Table(
                ["columna", "películas", "cuota"],
                [[c, es.integer(u["n"]), es.percent(u["cuota"])] for c, u in unknown.items()],
            ),
            "Un presupuesto o unos ingresos de 0 cuentan como desconocidos; la nota media, cuando la película no tiene votos.",
        )
    )

    known = {k: v for k, v in coverage.items() if v is not None}
    lowest = min(known.items(), key=lambda item: (item[1]["cuota"], item[0]))
    missing_note = "" if demand else f" Sin MovieLens: {release.demand_note}."
    section.charts.append(
        Chart(
            "cobertura-uniones",
            "Películas del catálogo presentes en cada tabla",
            f"La unión más pobre es «{lowest[0]}»: {es.percent(lowest[1]['cuota'])} de las películas "
            f"({es.integer(lowest[1]['n'])} de {es.integer(movies.height)}).",
            charts.hbars(
                "cobertura-uniones",
                "Cobertura de las uniones",
                list(known),
                [v["cuota"] for v in known.values()],
                lambda v: es.percent(v),
                "cuota de películas",
                share=True,
            ),
            Table(
                ["tabla", "películas", "cuota"],
                [[k, es.integer(v["n"]), es.percent(v["cuota"])] if v else [k, "—", "—"] for k, v in coverage.items()],
            ),
            missing_note.strip(),
        )
    )
    return section


def _accounting_finding(files: dict[str, Any], account: dict[str, Any]) -> str:
    """Kept share of the movies file, then what was quarantined (and why, mostly) and dropped."""
    movie_file = files.get("movies_metadata.csv") or next(iter(files.values()))
    name = next((n for n, f in files.items() if f is movie_file), "")
    read = max(movie_file["leidas"], 1)
    text = (
        f"De las {es.integer(movie_file['leidas'])} filas de {name} se conservaron "
        f"{es.integer(movie_file['conservadas'])} ({es.percent(movie_file['conservadas'] / read)}), se repararon "
        f"{es.integer(movie_file['reparadas'])} y {es.integer(movie_file['en_cuarentena'])} quedaron en cuarentena"
    )
    reasons: dict[str, int] = {}
    for f in files.values():
        for motive, n in f["motivos_cuarentena"].items():
            reasons[motive] = reasons.get(motive, 0) + n
    text += f"; en los {len(files)} archivos, {es.integer(account['en_cuarentena_total'])} filas en cuarentena"
    if reasons:
        motive, n = max(reasons.items(), key=lambda kv: (kv[1], kv[0]))
        text += f" (sobre todo «{motive}»: {es.integer(n)})"
    if account["descartadas_total"]:
        text += f" y {es.integer(account['descartadas_total'])} descartadas por ser de películas fuera del catálogo"
    return text + "."


def catalogue_section(release: Release) -> Section:
    movies, genres = release.tables["movies"], release.tables["genres"]
    cat = figures.catalogue(movies)
    langs = figures.by_decade_and_language(movies)
    trend = figures.genres_by_decade(movies, genres)
    names = figures.titles(movies, release.tables["titles"])
    spanish = (
        f"{es.integer(names['con_titulo_es'])} {'tiene' if names['con_titulo_es'] == 1 else 'tienen'} un "
        f"título en español conocido ({es.percent(names['cuota_titulo_es'])})"
        if names["con_titulo_es"]
        else "ninguna tiene un título en español conocido (se obtienen de TMDB con `movierec tmdb-sync`)"
    )
    section = Section(
        "catalogo",
        "El catálogo en el tiempo",
        f"{es.plural(cat['peliculas'], 'película', 'películas')} estrenadas entre "
        f"{cat['primer_anio']} y {cat['ultimo_anio']}. De ellas, {spanish}, y "
        f"{es.integer(names['con_titulo_original_distinto'])} tienen un título original distinto del "
        f"título del catálogo ({es.percent(names['cuota_titulo_original'])}); la API y la página las "
        "encuentran por cualquiera de sus títulos.",
        figures={"catalogo": cat, "decadas_idiomas": langs, "generos_decadas": trend, "titulos": names},
    )
    # Every year of the span, so that a year without films draws as 0, not as a bridged line.
    years = list(range(cat["primer_anio"], cat["ultimo_anio"] + 1)) if cat["primer_anio"] is not None else []
    section.charts.append(
        Chart(
            "peliculas-por-anio",
            "Películas por año de estreno",
            f"El año con más estrenos en el catálogo es {cat['anio_con_mas_peliculas']} "
            f"({es.plural(cat['peliculas_en_ese_anio'], 'película', 'películas')}); el catálogo abarca de "
            f"{cat['primer_anio']} a {cat['ultimo_anio']}.",
            charts.lines(
                "peliculas-por-anio",
                "Películas por año",
                years,
                {"películas": [cat["por_anio"].get(str(y), 0) for y in years]},
                es.integer,
                "películas",
                "año de estreno",
            ),
            Table(
                ["década", "películas"],
                [
                    [f"{d}s", es.integer(sum(v[i] for v in langs["peliculas"].values()))]
                    for i, d in enumerate(langs["decadas"])
                ],
            ),
        )
    )
    lang_shares = sorted(langs["cuota_por_idioma"].items(), key=lambda kv: -kv[1])
    first = lang_shares[0] if lang_shares else ("—", 0.0)
    rest = ", ".join(f"el {name} ({es.percent(share)})" for name, share in lang_shares[1:3])
    section.charts.append(
        Chart(
            "decadas-por-idioma",
            "Películas por década e idioma original",
            f"El {first[0]} es el idioma original del {es.percent(first[1])} de las películas"
            + (f"; le siguen {rest}." if rest else "."),
            charts.stacked(
                "decadas-por-idioma",
                "Películas por década e idioma",
                [f"{d}s" for d in langs["decadas"]],
                langs["peliculas"],
                es.integer,
                axis_label="películas",
            ),
            Table(
                ["década", *langs["peliculas"]],
                [
                    [f"{d}s", *(es.integer(v[i]) for v in langs["peliculas"].values())]
                    for i, d in enumerate(langs["decadas"])
                ],
            ),
        )
    )
    if len(trend["decadas"]) >= 2:
        first_d, last_d = trend["decadas"][0], trend["decadas"][-1]
        change = {g: s[-1] - s[0] for g, s in trend["cuota"].items()}
        mover = max(change.items(), key=lambda kv: (abs(kv[1]), kv[0]))
        finding = (
            f"{mover[0]} pasa del {es.percent(trend['cuota'][mover[0]][0])} de las películas en los {first_d}s "
            f"al {es.percent(trend['cuota'][mover[0]][-1])} en los {last_d}s, el mayor cambio entre los "
            f"{len(change)} géneros más frecuentes."
        )
    else:
        finding = "Hay menos de dos décadas con películas suficientes para ver una tendencia."
    omitted = ", ".join(f"{d}s ({n})" for d, n in trend["decadas_omitidas"].items())
    section.charts.append(
        Chart(
            "generos-por-decada",
            "Cuota de las películas de cada década por género",
            finding,
            charts.lines(
                "generos-por-decada",
                "Géneros por década",
                trend["decadas"],
                trend["cuota"],
                lambda v: es.percent(v, 0),
                "cuota de las películas de la década",
                "década",
                markers=True,
            ),
            Table(
                ["década", "películas", *trend["cuota"]],
                [
                    [
                        f"{d}s",
                        es.integer(trend["peliculas_por_decada"][i]),
                        *(es.percent(s[i], 0) for s in trend["cuota"].values()),
                    ]
                    for i, d in enumerate(trend["decadas"])
                ],
            ),
            f"Una película cuenta en cada uno de sus géneros. Mínimo: {trend['minimo_peliculas']} películas por década; "
            f"omitidas: {omitted or 'ninguna'}.",
        )
    )
    return section


def calendar_section(release: Release) -> Section:
    movies = release.tables["movies"]
    months = figures.releases_by_month(movies)
    days = figures.releases_by_weekday(movies)
    returns = figures.return_by_month(movies)
    section = Section(
        "estrenos",
        "Estrenos por mes y día de la semana",
        "Las mismas cuentas que responden /cantidad_filmaciones_mes y /cantidad_filmaciones_dia "
        "de la API, y el retorno mediano según el mes de estreno.",
        figures={"por_mes": months, "por_dia": days, "retorno_por_mes": returns},
    )
    dated = sum(months.values())
    for key, title, counts in (("mes", "Estrenos por mes", months), ("dia", "Estrenos por día de la semana", days)):
        labels = list(counts)
        top = max(labels, key=lambda k: (counts[k], -labels.index(k)))
        low = min(labels, key=lambda k: (counts[k], labels.index(k)))
        finding = (
            f"{'El mes con más estrenos es' if key == 'mes' else 'El día con más estrenos es el'} {top} "
            f"({es.integer(counts[top])}, {es.percent(counts[top] / dated if dated else None)}); "
            f"{'el que menos,' if key == 'mes' else 'el que menos, el'} {low} ({es.integer(counts[low])})."
        )
        section.charts.append(
            Chart(
                f"estrenos-por-{key}",
                title,
                finding,
                charts.vbars(
                    f"estrenos-por-{key}",
                    title,
                    [lab[:3] for lab in labels],
                    list(counts.values()),
                    es.integer,
                    "películas",
                    highlight=[labels.index(top)],
                ),
                Table(
                    [key if key == "mes" else "día", "películas", "cuota"],
                    [[lab, es.integer(n), es.percent(n / dated if dated else None)] for lab, n in counts.items()],
                ),
            )
        )
    shown = {m: r for m, r in returns.items() if r["mediana"] is not None}
    if shown:
        best = max(shown, key=lambda m: (shown[m]["mediana"], m))
        worst = min(shown, key=lambda m: (shown[m]["mediana"], m))
        finding = (
            f"Las películas estrenadas en {best} tienen el mayor retorno mediano ({es.times(shown[best]['mediana'])}, "
            f"n = {es.integer(shown[best]['n'])}); las de {worst}, el menor ({es.times(shown[worst]['mediana'])})."
        )
        svg = charts.vbars(
            "retorno-por-mes",
            "Retorno mediano por mes",
            [m[:3] for m in returns],
            [r["mediana"] if r["mediana"] is not None else 0.0 for r in returns.values()],
            lambda v: es.times(v, 1),
            "retorno mediano (ingresos / presupuesto)",
            notes=[es.integer(r["n"]) for r in returns.values()],
            reference=1.0,
            highlight=[list(returns).index(best)],
        )
    else:
        finding, svg = "Ningún mes reúne películas suficientes con presupuesto e ingresos conocidos.", None
    section.charts.append(
        Chart(
            "retorno-por-mes",
            "Retorno mediano según el mes de estreno",
            finding,
            svg,
            Table(
                ["mes", "n", "mediana", "Q1", "Q3"],
                [
                    [m, es.integer(r["n"]), es.times(r["mediana"]), es.times(r["q1"]), es.times(r["q3"])]
                    for m, r in returns.items()
                ],
            ),
            f"Películas con presupuesto ≥ {es.money(figures.MIN_BUDGET, 0)} e ingresos conocidos (bajo cada mes, cuántas); "
            f"meses con menos de "
            f"{figures.MIN_GROUP} películas sin mediana. La línea discontinua marca 1× (recupera el presupuesto).",
        )
    )
    return section
