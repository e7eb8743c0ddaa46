"""The report's numbers by group: supply against MovieLens demand per genre, languages,
countries and companies, directors and actors, and what the recommender works with.

Pure functions over polars DataFrames returning JSON-ready dicts (definitions in
:mod:`movierec.report.figures`).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from movierec.report import spanish
from movierec.report.figures import MIN_GROUP, finite, money_films, whole, with_weighted_rating

MIN_PERSON_FILMS = 5
TOP_BILLED = 5  # an actor counts for the first five names of the cast, as the model reads them
TOP = 10
TOP_K = 5  # recommendations the API returns per film


def supply_demand(movies: pl.DataFrame, genres: pl.DataFrame, demand: pl.DataFrame) -> dict[str, Any]:
    """Per genre: share of catalogue titles and share of MovieLens ratings of catalogue films.

    A film counts in every genre it has, so neither column adds up to 100 %. ratio > 1: the genre
    draws more ratings than its weight in the catalogue.
    """
    ratings = movies.select("id").join(demand, left_on="id", right_on="movie_id", how="inner")
    total_ratings = int(ratings["ratings"].sum())
    n = movies.height
    stats = (
        genres.join(movies.select("id"), left_on="movie_id", right_on="id", how="semi")
        .join(ratings.select("id", "ratings"), left_on="movie_id", right_on="id", how="left")
        .group_by("genre")
        .agg(pl.col("movie_id").n_unique().alias("titulos"), pl.col("ratings").fill_null(0).sum().alias("valoraciones"))
    )
    rows = []
    for genre, titles, rated in stats.iter_rows():
        title_share = titles / n if n else 0.0
        rating_share = rated / total_ratings if total_ratings else 0.0
        rows.append(
            (
                spanish.genre(genre),
                titles,
                int(rated),
                title_share,
                rating_share,
                rating_share / title_share if title_share else None,
            )
        )
    rows.sort(key=lambda r: (-r[3], r[0]))
    return {
        "valoraciones": total_ratings,
        "peliculas_valoradas": ratings.height,
        "generos": {
            g: {"titulos": t, "valoraciones": v, "cuota_titulos": ts, "cuota_valoraciones": vs, "razon": finite(q)}
            for g, t, v, ts, vs, q in rows
        },
    }


def _named_groups(table: pl.DataFrame, name: pl.Expr) -> pl.DataFrame:
    """(movie_id, grupo): one row per film and group."""
    return table.select("movie_id", name.alias("grupo")).drop_nulls("grupo").unique()


def market(
    movies: pl.DataFrame, groups: pl.DataFrame, constants: dict[str, float], top: int = TOP, min_group: int = MIN_GROUP
) -> dict[str, Any]:
    """Top groups by number of films, by total revenue, and by mean weighted rating (groups with
    at least ``min_group`` films). ``groups`` is (movie_id, grupo)."""
    rated = with_weighted_rating(movies, constants).select("id", "revenue", "wr")
    stats = (
        groups.join(rated, left_on="movie_id", right_on="id", how="inner")
        .group_by("grupo")
        .agg(
            pl.len().alias("n"),
            pl.col("revenue").sum().alias("ingresos"),
            pl.col("wr").sort().mean().alias("valoracion"),
        )
    )
    by_count = stats.sort(["n", "grupo"], descending=[True, False]).head(top)
    by_revenue = stats.filter(pl.col("ingresos") > 0).sort(["ingresos", "grupo"], descending=[True, False]).head(top)
    by_rating = stats.filter(pl.col("n") >= min_group).sort(["valoracion", "grupo"], descending=[True, False]).head(top)
    return {
        "grupos": stats.height,
        "minimo_peliculas": min_group,
        "por_peliculas": [{"nombre": g, "n": n} for g, n in by_count.select("grupo", "n").iter_rows()],
        "por_ingresos": [
            {"nombre": g, "ingresos": int(v), "n": n}
            for g, v, n in by_revenue.select("grupo", "ingresos", "n").iter_rows()
        ],
        "por_valoracion": [
            {"nombre": g, "valoracion": finite(v), "n": n}
            for g, v, n in by_rating.select("grupo", "valoracion", "n").iter_rows()
        ],
    }


def language_groups(movies: pl.DataFrame) -> pl.DataFrame:
    return movies.select(
        pl.col("id").alias("movie_id"),
        pl.col("original_language")
        .replace_strict(spanish.LANGUAGES, default=pl.col("original_language"))
        .alias("grupo"),
    ).drop_nulls("grupo")


def country_groups(countries: pl.DataFrame) -> pl.DataFrame:
    names = pl.col("iso_3166_1").replace_strict(spanish.COUNTRIES, default=pl.col("country"))
    return _named_groups(countries, names)


def company_groups(companies: pl.DataFrame) -> pl.DataFrame:
    # Companies are grouped by id: two companies may share a name, one company never has two.
    first = companies.group_by("company_id").agg(pl.col("company").min().alias("name"))
    dup = first.filter(pl.col("name").is_duplicated())
    labelled = first.with_columns(
        pl.when(pl.col("company_id").is_in(dup["company_id"].implode()))
        .then(pl.format("{} ({})", "name", "company_id"))
        .otherwise("name")
        .alias("grupo")
    )
    return companies.join(labelled, on="company_id", how="inner").select("movie_id", "grupo").unique()


def people(
    movies: pl.DataFrame,
    credits: pl.DataFrame,
    constants: dict[str, float],
    top: int = TOP,
    min_films: int = MIN_PERSON_FILMS,
) -> dict[str, Any]:
    """People with at least ``min_films`` films: the best by median return (over at least
    ``min_films`` films with money data) and by mean weighted rating. ``credits`` is
    (movie_id, person_id, name)."""
    rated = with_weighted_rating(movies, constants).select("id", "wr")
    money = money_films(movies).select("id", "return")
    films = credits.select("movie_id", "person_id", "name").unique(["movie_id", "person_id"])
    names = films.group_by("person_id").agg(pl.col("name").min())
    rating = (
        films.join(rated, left_on="movie_id", right_on="id", how="inner")
        .group_by("person_id")
        .agg(pl.len().alias("n"), pl.col("wr").sort().mean().alias("valoracion"))
        .filter(pl.col("n") >= min_films)
        .join(names, on="person_id")
    )
    returns = (
        films.join(money, left_on="movie_id", right_on="id", how="inner")
        .group_by("person_id")
        .agg(pl.len().alias("n"), pl.col("return").median().alias("retorno"))
        .filter(pl.col("n") >= min_films)
        .join(names, on="person_id")
    )
    best_return = returns.sort(["retorno", "name", "person_id"], descending=[True, False, False]).head(top)
    best_rating = rating.sort(["valoracion", "name", "person_id"], descending=[True, False, False]).head(top)
    return {
        "minimo_peliculas": min_films,
        "personas": rating.height,
        "personas_con_retorno": returns.height,
        "por_retorno": [
            {"nombre": nm, "retorno_mediano": finite(v), "n": n}
            for nm, v, n in best_return.select("name", "retorno", "n").iter_rows()
        ],
        "por_valoracion": [
            {"nombre": nm, "valoracion": finite(v), "n": n}
            for nm, v, n in best_rating.select("name", "valoracion", "n").iter_rows()
        ],
    }


def top_billed(cast: pl.DataFrame, billed: int = TOP_BILLED) -> pl.DataFrame:
    return cast.filter(pl.col("order") < billed)


# --------------------------------------------------------------------------------------------
# For the recommender
# --------------------------------------------------------------------------------------------


def overview_words(movies: pl.DataFrame) -> pl.Series:
    """Words in each film's overview (0 when missing)."""
    return movies.select(
        pl.col("overview")
        .fill_null("")
        .str.strip_chars()
        .str.split(" ")
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.len()
        .alias("palabras")
    ).to_series()


def overview_length(movies: pl.DataFrame, short: int = 10) -> dict[str, Any]:
    words = overview_words(movies)
    return {
        "mediana_palabras": finite(words.median()),
        "sin_sinopsis": int((words == 0).sum()),
        "cortas": int(((words > 0) & (words < short)).sum()),
        "umbral_corta": short,
    }


def feature_coverage(
    movies: pl.DataFrame, keywords: pl.DataFrame, cast: pl.DataFrame, directors: pl.DataFrame
) -> dict[str, Any]:
    """Share of films with each input the model reads."""
    n = movies.height
    ids = movies["id"]
    words = overview_words(movies)

    def share(k: int) -> dict[str, Any]:
        return {"n": k, "cuota": k / n if n else None}

    return {
        "sinopsis": share(int((words > 0).sum())),
        "palabras clave": share(int(ids.is_in(keywords["movie_id"].unique().implode()).sum())),
        "reparto": share(int(ids.is_in(cast["movie_id"].unique().implode()).sum())),
        "director": share(int(ids.is_in(directors["movie_id"].unique().implode()).sum())),
        "colección": share(int(movies["collection_id"].is_not_null().sum())),
    }


def recommendation_coverage(movies: pl.DataFrame, neighbours: pl.DataFrame, k: int = TOP_K) -> dict[str, Any]:
    """Distinct films in any film's top ``k`` over the catalogue, and how concentrated the slots are."""
    shown = neighbours.filter(pl.col("rank") <= k).join(
        movies.select("id"), left_on="neighbour_id", right_on="id", how="semi"
    )
    counts = shown.group_by("neighbour_id").len().sort(["len", "neighbour_id"], descending=[True, False])
    n = movies.height
    slots = shown.height
    top_share = max(1, n // 100)
    return {
        "k": k,
        "peliculas_recomendadas": counts.height,
        "cobertura": counts.height / n if n else None,
        "huecos": slots,
        "cuota_del_1_por_ciento": int(counts["len"].head(top_share).sum()) / slots if slots else None,
        "max_apariciones": whole(counts["len"].max() or 0) if counts.height else 0,
    }


def recommended_counts(movies: pl.DataFrame, neighbours: pl.DataFrame, k: int = TOP_K) -> pl.Series:
    """Times each catalogue film appears in another film's top ``k`` (0 included)."""
    shown = neighbours.filter(pl.col("rank") <= k).group_by("neighbour_id").len()
    return movies.select("id").join(shown, left_on="id", right_on="neighbour_id", how="left")["len"].fill_null(0)


BUCKETS = ((0, 0), (1, 1), (2, 4), (5, 9), (10, 49), (50, 99), (100, None))


def recommended_buckets(counts: pl.Series) -> dict[str, int]:
    """Films by how often they appear in other films' top k: "0", "1", "2–4", … "≥ 100"."""
    out = {}
    for low, high in BUCKETS:
        label = f"≥ {low}" if high is None else (str(low) if low == high else f"{low}–{high}")
        inside = counts >= low if high is None else (counts >= low) & (counts <= high)
        out[label] = int(inside.sum())
    return out
