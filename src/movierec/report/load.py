"""The input edge of the report: reading a release folder, the MovieLens files beside its raw
input, and the previous release's report.json. Everything after this module is pure.

Only the columns the report uses are read; the ratings file is scanned lazily when it is plain
CSV (the full MovieLens ratings.csv has 26 million rows) and reduced at once to one row per film.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from movierec.raw.files import find_input, read_bytes
from movierec.release.layout import MODEL, NEIGHBOURS_FILE

RATINGS_NAMES = ("ratings_small.csv", "ratings.csv")  # the model's file first, as it trains on it
LINKS_NAMES = ("links.csv",)
REPORT_DIR = "report"
REPORT_JSON = "report.json"

COLUMNS = {
    "movies": [
        "id",
        "title",
        "original_language",
        "overview",
        "runtime",
        "release_date",
        "release_year",
        "budget",
        "revenue",
        "return",
        "popularity",
        "vote_average",
        "vote_count",
        "collection_id",
        "tagline",
        "status",
    ],
    "genres": ["movie_id", "genre"],
    "companies": ["movie_id", "company_id", "company"],
    "countries": ["movie_id", "iso_3166_1", "country"],
    "keywords": ["movie_id"],
    "cast": ["movie_id", "person_id", "name", "order"],
    "quarantine": ["source", "reason", "outcome"],
}


@dataclass(frozen=True)
class Demand:
    """MovieLens ratings reduced to TMDB films: (movie_id, ratings, mean_rating), plus counts."""

    per_film: pl.DataFrame
    links: pl.Series  # distinct TMDB ids that links.csv maps a MovieLens film to
    rows: int  # ratings read
    linked: int  # ratings whose MovieLens film has a TMDB id
    source: str  # file name of the ratings


@dataclass(frozen=True)
class Release:
    """What the report reads from one release folder (and its raw input)."""

    name: str
    manifest: dict[str, Any]
    etl: dict[str, Any]  # tables/report.json: the ETL's row accounting
    tables: dict[str, pl.DataFrame]
    directors: pl.DataFrame  # crew rows with job == "Director": movie_id, person_id, name
    crew_films: pl.Series  # distinct movie_id with any crew row
    neighbours: pl.DataFrame | None
    evaluation: dict[str, Any] | None
    demand: Demand | None
    demand_note: str  # why demand is None, in Spanish ("" when present)
    previous: dict[str, Any] | None
    previous_note: str


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_titles(folder: Path) -> pl.DataFrame:
    """The release's Spanish titles (movie_id, title); empty for a release published before
    titles.parquet existed or built without TMDB access."""
    path = folder / "titles.parquet"
    if not path.is_file():
        return pl.DataFrame(schema={"movie_id": pl.Int64, "title": pl.String})
    return (
        pl.read_parquet(path, columns=["movie_id", "iso_639_1", "title"])
        .filter(pl.col("iso_639_1").str.to_lowercase() == "es")
        .select(pl.col("movie_id").cast(pl.Int64), "title")
    )


def read_release(release: Path, raw_dir: Path | None = None, previous: Path | None = None) -> Release:
    """Read the tables, manifest, accounting, model and evaluation of ``release``.

    ``raw_dir`` defaults to the manifest's raw_dir when that folder still exists: the MovieLens
    files (ratings, links) are read from there.
    """
    folder = release / "tables"
    manifest = read_json(release / "manifest.json") or {}
    etl = read_json(folder / "report.json") or manifest.get("etl") or {}
    tables = {name: pl.read_parquet(folder / f"{name}.parquet", columns=cols) for name, cols in COLUMNS.items()}
    tables["titles"] = read_titles(folder)
    if "original_title" in pl.read_parquet_schema(folder / "movies.parquet"):  # releases since issue 20
        tables["movies"] = tables["movies"].with_columns(
            pl.read_parquet(folder / "movies.parquet", columns=["original_title"])["original_title"]
        )
    crew = pl.read_parquet(folder / "crew.parquet", columns=["movie_id", "person_id", "name", "job"])
    directors = crew.filter(pl.col("job") == "Director").drop("job")
    crew_films = crew["movie_id"].unique().sort()
    neighbours_path = release / MODEL / NEIGHBOURS_FILE
    neighbours = (
        pl.read_parquet(neighbours_path, columns=["movie_id", "rank", "neighbour_id"])
        if neighbours_path.is_file()
        else None
    )
    evaluation = read_json(release / "evaluation.json") or manifest.get("evaluation")
    if raw_dir is None and manifest.get("raw_dir") and Path(manifest["raw_dir"]).is_dir():
        raw_dir = Path(manifest["raw_dir"])
    demand, demand_note = read_demand(raw_dir)
    prior, prior_note = read_previous(previous)
    return Release(
        name=str(manifest.get("release") or release.name),
        manifest=manifest,
        etl=etl,
        tables=tables,
        directors=directors,
        crew_films=crew_films,
        neighbours=neighbours,
        evaluation=evaluation if isinstance(evaluation, dict) else None,
        demand=demand,
        demand_note=demand_note,
        previous=prior,
        previous_note=prior_note,
    )


def read_demand(raw_dir: Path | None) -> tuple[Demand | None, str]:
    """The MovieLens ratings per TMDB film, or None and the reason in Spanish."""
    if raw_dir is None:
        return None, "no se indicó la carpeta de datos brutos con las valoraciones de MovieLens"
    ratings_path = find_input(raw_dir, RATINGS_NAMES, required=False)
    links_path = find_input(raw_dir, LINKS_NAMES, required=False)
    if ratings_path is None or links_path is None:
        missing = " ni ".join(
            n for n, p in (("ratings_small.csv / ratings.csv", ratings_path), ("links.csv", links_path)) if p is None
        )
        return None, f"la carpeta de datos brutos no contiene {missing}"
    links = pl.read_csv(
        read_bytes(links_path),
        columns=["movieId", "tmdbId"],
        schema_overrides={"movieId": pl.Int64, "tmdbId": pl.Int64},
    ).drop_nulls("tmdbId")
    # Lazily, whatever the file's size or compression: two columns, reduced per MovieLens film as
    # the file streams (the full ratings.csv is far over the ETL's input cap).
    from movierec.raw.ratings import collect, plain_csv, scan

    with plain_csv(ratings_path) as path:
        ratings = scan(path, pl.Schema({"movieId": pl.Int64, "rating": pl.Float64}), ratings_path.name)
        per_movielens = collect(
            ratings.group_by("movieId").agg(pl.len().alias("ratings"), pl.col("rating").sum().alias("total")),
            ratings_path.name,
        )
    rows = int(per_movielens["ratings"].sum())
    # Two MovieLens films may share a TMDB id: their ratings add up.
    per_film = (
        per_movielens.join(links, on="movieId", how="inner")
        .group_by("tmdbId")
        .agg(pl.col("ratings").sum(), pl.col("total").sum())
        .select(
            pl.col("tmdbId").alias("movie_id"),
            pl.col("ratings").cast(pl.Int64),
            (pl.col("total") / pl.col("ratings")).alias("mean_rating"),
        )
        .sort("movie_id")
    )
    linked = int(per_film["ratings"].sum())
    return Demand(per_film, links["tmdbId"].unique().sort(), rows, linked, ratings_path.name), ""


def read_previous(previous: Path | None) -> tuple[dict[str, Any] | None, str]:
    """The previous release's report.json (``previous/report/report.json``, or the file itself)."""
    if previous is None:
        return None, ""
    path = previous if previous.is_file() else previous / REPORT_DIR / REPORT_JSON
    data = read_json(path)
    if data is None:
        return None, f"la versión anterior ({previous.name}) no tiene {REPORT_DIR}/{REPORT_JSON}"
    return data, ""
