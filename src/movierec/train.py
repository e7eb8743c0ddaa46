"""`movierec train`: tables in, model/neighbours.parquet out (the I/O edge of :mod:`movierec.model`)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import polars as pl

from movierec.model import tfidf_features, top_k_neighbours
from movierec.settings import Settings

log = logging.getLogger("movierec.train")


def train(tables_dir: Path, model_dir: Path, settings: Settings) -> dict[str, object]:
    """Fit the recommender on the release's tables and write its neighbours artifact.

    Returns what the manifest records about the model (method, sizes, seconds).
    """
    start = time.perf_counter()
    movies = pl.read_parquet(tables_dir / "movies.parquet", columns=["id", "title", "overview"])
    genres = pl.read_parquet(tables_dir / "genres.parquet", columns=["movie_id", "genre"])
    features = tfidf_features(movies, genres)
    log.info("features: %d films × %d terms", *features.shape)
    neighbours = top_k_neighbours(features, movies["id"], settings.neighbours_k)
    model_dir.mkdir(parents=True, exist_ok=True)
    neighbours.write_parquet(model_dir / "neighbours.parquet")
    seconds = round(time.perf_counter() - start, 3)
    log.info("neighbours: %d rows in %.1f s", neighbours.height, seconds)
    return {
        "method": "tfidf(title, genres, overview) cosine",
        "k": settings.neighbours_k,
        "films": movies.height,
        "vocabulary": features.shape[1],
        "rows": neighbours.height,
        "seconds": seconds,
    }
