"""The report's numbers about the catalogue, its calendar, money and votes: pure functions over
polars DataFrames (the release's tables) returning plain, JSON-ready dicts and lists.

Definitions shared by every section live here, stated once:

* return = revenue / budget, only over films with a budget of at least ``MIN_BUDGET`` (1 M US$)
  and a known revenue: smaller budgets are mostly unknown or mistyped and give absurd multiples;
* a budget or revenue of 0 means unknown (the ETL writes 0 for missing and implausible amounts);
* weighted rating (IMDB): WR = v/(v+m)·R + m/(v+m)·C, with v the film's votes, R its average,
  C the mean average of the films with votes and m the median vote count of those films;
* a group (genre, month, …) is shown only with at least ``MIN_GROUP`` films behind the number.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from movierec.report import spanish
from movierec.vocabulary import MONTHS, WEEKDAYS

MIN_BUDGET = 1_000_000
MIN_GROUP = 10
VOTES_QUANTILE = 0.5  # m of the weighted rating: the median vote count of the films with votes
GEM_QUANTILE = 0.9  # hidden gems: weighted rating in the top 10 % …
GEM_POPULARITY_QUANTILE = 0.5  # … and popularity below the catalogue's median
TOP_LANGUAGES = 5
TOP_GENRES = 6
GENRE_MIN_FILMS_PER_DECADE = 30


def finite(value: Any) -> float | None:
    """JSON has no NaN: NaN and infinities become None. ``value`` is what a polars aggregate returns
    (typed as any Python literal), a number or None here."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def whole(value: Any) -> int:
    """An integer polars aggregate (typed as any Python literal) as an ``int``."""
    return int(value)


def number(value: Any) -> float:
    """A numeric polars aggregate (typed as any Python literal) as a ``float``."""
    return float(value)


def money_films(movies: pl.DataFrame) -> pl.DataFrame:
    """Films whose return is meaningful: budget ≥ 1 M US$ and a known revenue."""
    return movies.filter((pl.col("budget") >= MIN_BUDGET) & (pl.col("revenue") > 0))


def spread(values: pl.Expr) -> list[pl.Expr]:
    """n, median and quartiles (linear interpolation, as pandas and numpy compute them)."""
    return [
        values.count().alias("n"),
        values.median().alias("mediana"),
        values.quantile(0.25, interpolation="linear").alias("q1"),
        values.quantile(0.75, interpolation="linear").alias("q3"),
    ]


# --------------------------------------------------------------------------------------------
# Weighted rating
# --------------------------------------------------------------------------------------------


def rating_constants(movies: pl.DataFrame) -> dict[str, float]:
    """C (mean vote average) and m (median vote count) over the films with at least one vote."""
    rated = movies.filter(pl.col("vote_count") > 0)
    return {
        "C": finite(rated["vote_average"].mean()) or 0.0,
        "m": max(float(rated["vote_count"].quantile(VOTES_QUANTILE, interpolation="linear") or 0.0), 1.0),
    }


def with_weighted_rating(movies: pl.DataFrame, constants: dict[str, float]) -> pl.DataFrame:
    """``movies`` plus a ``wr`` column (a film without votes gets C)."""
    v = pl.col("vote_count").cast(pl.Float64)
    r = pl.col("vote_average").fill_null(0.0)
    m, c = constants["m"], constants["C"]
    return movies.with_columns((v / (v + m) * r + m / (v + m) * c).alias("wr"))


# --------------------------------------------------------------------------------------------
# Catalogue over time
# --------------------------------------------------------------------------------------------


def catalogue(movies: pl.DataFrame) -> dict[str, Any]:
    years = movies["release_year"].drop_nulls()
    per_year = movies.drop_nulls("release_year").group_by("release_year").len().sort("release_year")
    peak = per_year.sort(["len", "release_year"], descending=[True, False]).row(0) if per_year.height else (None, 0)
    return {
        "peliculas": movies.height,
        "primer_anio": whole(years.min()) if years.len() else None,
        "ultimo_anio": whole(years.max()) if years.len() else None,
        "anio_con_mas_peliculas": peak[0],
        "peliculas_en_ese_anio": peak[1],
        "por_anio": {str(y): n for y, n in per_year.iter_rows()},
    }


def titles(movies: pl.DataFrame, spanish: pl.DataFrame) -> dict[str, Any]:
    """Films of the catalogue with a Spanish title (from TMDB), and with an original title other
    than the catalogue title (both are looked up by the API); 0 where the release has none."""
    with_spanish = spanish.filter(pl.col("title").str.strip_chars() != "")["movie_id"].unique()
    n_spanish = movies.filter(pl.col("id").is_in(with_spanish.implode())).height
    n_original = 0
    if "original_title" in movies.columns:
        original = pl.col("original_title").str.strip_chars()
        n_original = movies.filter(
            original.is_not_null() & (original != "") & (pl.col("original_title") != pl.col("title")).fill_null(True)
        ).height
    films = movies.height
    return {
        "con_titulo_es": n_spanish,
        "cuota_titulo_es": n_spanish / films if films else None,
        "con_titulo_original_distinto": n_original,
        "cuota_titulo_original": n_original / films if films else None,
    }


def decade(column: str = "release_year") -> pl.Expr:
    return (pl.col(column) // 10 * 10).alias("decada")


def by_decade_and_language(movies: pl.DataFrame, top: int = TOP_LANGUAGES) -> dict[str, Any]:
    """Films per decade, split into the ``top`` original languages and "otros"."""
    films = movies.drop_nulls("release_year")
    leaders = (
        films.group_by("original_language")
        .len()
        .sort(["len", "original_language"], descending=[True, False])
        .head(top)["original_language"]
        .to_list()
    )
    tagged = films.with_columns(
        decade(),
        pl.when(pl.col("original_language").is_in(leaders))
        .then(pl.col("original_language"))
        .otherwise(pl.lit("otros"))
        .alias("idioma"),
    )
    decades = sorted(tagged["decada"].unique().to_list())
    counts = {(d, lang): n for d, lang, n in tagged.group_by("decada", "idioma").len().iter_rows()}
    series = {spanish.language(lang): [counts.get((d, lang), 0) for d in decades] for lang in leaders}
    if any(counts.get((d, "otros"), 0) for d in decades):
        series["otros"] = [counts.get((d, "otros"), 0) for d in decades]
    shares = (
        {
            lang: n / films.height
            for lang, n in ((spanish.language(la), sum(counts.get((d, la), 0) for d in decades)) for la in leaders)
        }
        if films.height
        else {}
    )
    return {"decadas": decades, "peliculas": series, "cuota_por_idioma": shares}


def genres_by_decade(
    movies: pl.DataFrame, genres: pl.DataFrame, top: int = TOP_GENRES, min_films: int = GENRE_MIN_FILMS_PER_DECADE
) -> dict[str, Any]:
    """Share of each decade's films in the ``top`` genres; decades with fewer than ``min_films``
    films are left out (a share of 3 films says nothing)."""
    films = movies.drop_nulls("release_year").select("id", decade())
    per_decade = films.group_by("decada").len().rename({"len": "films"})
    kept = per_decade.filter(pl.col("films") >= min_films).sort("decada")
    leaders = (
        genres.group_by("genre").len().sort(["len", "genre"], descending=[True, False]).head(top)["genre"].to_list()
    )
    counts = (
        genres.filter(pl.col("genre").is_in(leaders))
        .join(films, left_on="movie_id", right_on="id", how="inner")
        .group_by("decada", "genre")
        .len()
    )
    lookup = {(d, g): n for d, g, n in counts.iter_rows()}
    decades = kept["decada"].to_list()
    totals = dict(kept.iter_rows())
    series = {spanish.genre(g): [lookup.get((d, g), 0) / totals[d] for d in decades] for g in leaders}
    skipped = per_decade.filter(pl.col("films") < min_films).sort("decada")
    return {
        "decadas": decades,
        "peliculas_por_decada": [totals[d] for d in decades],
        "cuota": series,
        "minimo_peliculas": min_films,
        "decadas_omitidas": {str(d): n for d, n in skipped.iter_rows()},
    }


# --------------------------------------------------------------------------------------------
# Calendar (the API's questions)
# --------------------------------------------------------------------------------------------


def releases_by_month(movies: pl.DataFrame) -> dict[str, int]:
    counts = dict(movies["release_date"].drop_nulls().dt.month().value_counts().iter_rows())
    return {name: int(counts.get(i, 0)) for i, name in enumerate(MONTHS, start=1)}


def releases_by_weekday(movies: pl.DataFrame) -> dict[str, int]:
    counts = dict(movies["release_date"].drop_nulls().dt.weekday().value_counts().iter_rows())
    return {name: int(counts.get(i, 0)) for i, name in enumerate(WEEKDAYS, start=1)}


def return_by_month(movies: pl.DataFrame, min_group: int = MIN_GROUP) -> dict[str, dict[str, Any]]:
    """Median return of the money films released in each month (None below ``min_group``)."""
    stats = (
        money_films(movies)
        .drop_nulls("release_date")
        .group_by(pl.col("release_date").dt.month().alias("mes"))
        .agg(spread(pl.col("return")))
    )
    rows = {r["mes"]: r for r in stats.iter_rows(named=True)}
    out = {}
    for i, name in enumerate(MONTHS, start=1):
        row = rows.get(i, {"n": 0, "mediana": None, "q1": None, "q3": None})
        shown = row["n"] >= min_group
        out[name] = {"n": int(row["n"]), **{k: finite(row[k]) if shown else None for k in ("mediana", "q1", "q3")}}
    return out


# --------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------


def budget_revenue(movies: pl.DataFrame) -> dict[str, Any]:
    """Pearson r of budget and revenue over films with both > 0, and the log–log fit."""
    both = movies.filter((pl.col("budget") > 0) & (pl.col("revenue") > 0))
    logs = both.select(pl.col("budget").log10().alias("x"), pl.col("revenue").log10().alias("y"))
    n = both.height
    profitable = both.filter(pl.col("revenue") > pl.col("budget")).height
    slope = intercept = r_log = r = None
    if n >= 3:
        r = finite(both.select(pl.corr("budget", "revenue")).item())
        r_log = finite(logs.select(pl.corr("x", "y")).item())
        var_x = logs["x"].var()
        if var_x:
            slope = finite(logs.select(pl.cov("x", "y")).item() / var_x)
            mean_x, mean_y = finite(logs["x"].mean()), finite(logs["y"].mean())
            if slope is not None and mean_x is not None and mean_y is not None:
                intercept = finite(mean_y - slope * mean_x)
    return {
        "n": n,
        "r": r,
        "r_log": r_log,
        "pendiente_log": slope,
        "ordenada_log": intercept,
        "rentables": profitable,
        "cuota_rentables": profitable / n if n else None,
        "presupuesto_mediano": finite(both["budget"].median()),
        "ingresos_medianos": finite(both["revenue"].median()),
    }


def return_by_genre(movies: pl.DataFrame, genres: pl.DataFrame, min_group: int = MIN_GROUP) -> dict[str, Any]:
    """Median and interquartile range of the return per genre (money films only)."""
    money = money_films(movies).select("id", "return")
    stats = (
        genres.join(money, left_on="movie_id", right_on="id", how="inner")
        .group_by("genre")
        .agg(spread(pl.col("return")))
    )
    shown = stats.filter(pl.col("n") >= min_group).sort(["mediana", "genre"], descending=[True, False])
    skipped = stats.filter(pl.col("n") < min_group).sort("genre")
    return {
        "minimo_peliculas": min_group,
        "presupuesto_minimo": MIN_BUDGET,
        "peliculas": money.height,
        "retorno_mediano": finite(money["return"].median()),
        "generos": {
            spanish.genre(r["genre"]): {
                "n": r["n"],
                "mediana": finite(r["mediana"]),
                "q1": finite(r["q1"]),
                "q3": finite(r["q3"]),
            }
            for r in shown.iter_rows(named=True)
        },
        "omitidos": {spanish.genre(g): n for g, n in skipped.select("genre", "n").iter_rows()},
    }


def franchise(movies: pl.DataFrame, constants: dict[str, float]) -> dict[str, Any]:
    """Films in a collection against single films: size, medians of money, mean weighted rating."""
    rated = with_weighted_rating(movies, constants)
    out: dict[str, Any] = {}
    for key, condition in (
        ("franquicia", pl.col("collection_id").is_not_null()),
        ("unica", pl.col("collection_id").is_null()),
    ):
        group = rated.filter(condition)
        money = money_films(group)
        out[key] = {
            "peliculas": group.height,
            "con_datos_economicos": money.height,
            "presupuesto_mediano": finite(money["budget"].median()),
            "ingresos_medianos": finite(money["revenue"].median()),
            "retorno_mediano": finite(money["return"].median()),
            "valoracion_ponderada_media": finite(group["wr"].mean()),
        }
    out["colecciones"] = int(movies["collection_id"].drop_nulls().n_unique())
    return out


# --------------------------------------------------------------------------------------------
# Votes and quality
# --------------------------------------------------------------------------------------------


def votes_revenue(movies: pl.DataFrame) -> dict[str, Any]:
    """Pearson r of log10(votes) and log10(revenue) over films with both > 0."""
    both = movies.filter((pl.col("vote_count") > 0) & (pl.col("revenue") > 0))
    r = (
        both.select(pl.corr(pl.col("vote_count").log10(), pl.col("revenue").log10())).item()
        if both.height >= 3
        else None
    )
    return {"n": both.height, "r_log": finite(r)}


def rating_by_genre(
    movies: pl.DataFrame, genres: pl.DataFrame, constants: dict[str, float], min_group: int = MIN_GROUP
) -> dict[str, Any]:
    """Mean, median and quartiles of the weighted rating per genre (groups of ≥ ``min_group``)."""
    rated = with_weighted_rating(movies, constants).select("id", "wr")
    stats = (
        genres.join(rated, left_on="movie_id", right_on="id", how="inner")
        .group_by("genre")
        .agg(*spread(pl.col("wr")), pl.col("wr").sort().mean().alias("media"))
    )
    shown = stats.filter(pl.col("n") >= min_group).sort(["mediana", "genre"], descending=[True, False])
    return {
        **constants,
        "minimo_peliculas": min_group,
        "generos": {
            spanish.genre(r["genre"]): {
                k: (r[k] if k == "n" else finite(r[k])) for k in ("n", "media", "mediana", "q1", "q3")
            }
            for r in shown.iter_rows(named=True)
        },
        "omitidos": {
            spanish.genre(g): n
            for g, n in stats.filter(pl.col("n") < min_group).sort("genre").select("genre", "n").iter_rows()
        },
    }


def hidden_gems(movies: pl.DataFrame, constants: dict[str, float], limit: int = 15) -> dict[str, Any]:
    """Films in the top 10 % by weighted rating whose popularity is below the median."""
    rated = with_weighted_rating(movies, constants)
    with_votes = rated.filter(pl.col("vote_count") > 0)
    threshold = finite(with_votes["wr"].quantile(GEM_QUANTILE, interpolation="linear"))
    popularity = finite(rated["popularity"].quantile(GEM_POPULARITY_QUANTILE, interpolation="linear"))
    if threshold is None or popularity is None:
        return {"n": 0, "umbral_valoracion": threshold, "umbral_popularidad": popularity, "peliculas": []}
    gems = with_votes.filter((pl.col("wr") >= threshold) & (pl.col("popularity") < popularity)).sort(
        ["wr", "id"], descending=[True, False]
    )
    return {
        "n": gems.height,
        "umbral_valoracion": threshold,
        "umbral_popularidad": popularity,
        "peliculas": [
            {
                "id": r["id"],
                "titulo": r["title"],
                "anio": r["release_year"],
                "votos": r["vote_count"],
                "media": r["vote_average"],
                "popularidad": finite(r["popularity"]),
                "valoracion_ponderada": finite(r["wr"]),
            }
            for r in gems.head(limit).iter_rows(named=True)
        ],
    }
