"""`movierec train`: tables (and RAW's ratings, when present) in, model/neighbours.parquet out.

:class:`~movierec.model.estimator.NeighbourRecommender` is the pure part: features, candidates, collaborative signal, weight tuning
and ranking. :func:`train` is the I/O edge around it: it reads the release's tables and the
training users' ratings, writes the artifact atomically and returns what the manifest records.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

from movierec.config import Settings
from movierec.evaluation.split import training_users
from movierec.model.estimator import NeighbourRecommender
from movierec.model.features import Catalogue
from movierec.model.personal import PersonalRecommender
from movierec.raw.ratings import liked_rows, ratings_inputs, read_ratings

log = logging.getLogger("movierec.train")

ARTIFACT = "neighbours.parquet"
PERSONAL_ARTIFACT = "personal.parquet"  # the personal recommender's EASE lists (model/ease.py)
TABLE_COLUMNS = {
    "movies": ["id", "title", "overview", "tagline", "original_language", "release_year",
               "vote_average", "vote_count", "collection_id"],
    "genres": ["movie_id", "genre_id"],
    "keywords": ["movie_id", "keyword_id"],
    "cast": ["movie_id", "person_id", "order"],
    "crew": ["movie_id", "person_id", "job"],
}


def read_catalogue(tables_dir: Path) -> Catalogue:
    """The columns of the release's tables that the model reads."""
    frames: dict[str, pl.DataFrame] = {}
    for name, columns in TABLE_COLUMNS.items():
        path = tables_dir / f"{name}.parquet"
        frames[name] = pl.read_parquet(path, columns=columns)
    return Catalogue(**frames)


def training_likes(raw_dir: Path | None, row_index: pl.DataFrame) -> tuple[pl.DataFrame | None, str | None]:
    """(user_id, row, timestamp) likes of the training users, and the ratings file's name; (None,
    None) when RAW has no ratings. Evaluation users' ratings are dropped while the file is read."""
    inputs = ratings_inputs(raw_dir) if raw_dir is not None and raw_dir.is_dir() else None
    if inputs is None:
        return None, None
    ratings = read_ratings(*inputs, users=training_users, with_timestamp=True)
    return liked_rows(ratings, row_index), inputs[0].name


def popularity_order(vote_count: np.ndarray) -> np.ndarray:
    """Rows by TMDB vote count, most voted first (ties: the lower row): what fills a personal list."""
    return np.argsort(-np.nan_to_num(vote_count.astype(np.float64), nan=0.0), kind="stable")


def train(tables_dir: Path, model_dir: Path, settings: Settings, raw_dir: Path | None = None) -> dict[str, object]:
    """Fit the recommender on the release's tables (and RAW's ratings) and write its artifact.

    ``raw_dir`` defaults to ``settings.resolved_raw_dir()``. Returns what the manifest records
    about the model (method, weights, vocabulary sizes, tuning metrics, seconds).
    """
    start = time.perf_counter()
    catalogue = read_catalogue(tables_dir)
    raw = raw_dir if raw_dir is not None else settings.resolved_raw_dir()
    likes, ratings_name = training_likes(raw, catalogue.row_index())
    read_seconds = round(time.perf_counter() - start, 3)
    # One BLAS thread: the products here are small or memory-bound, and on a busy 2-core machine
    # OpenBLAS's spinning threads made the text SVD 4–6 times slower than one thread.
    with threadpool_limits(limits=1, user_api="blas"):
        model = NeighbourRecommender(k=settings.neighbours_k, recommendations=settings.recommendations)
        model.fit(catalogue, likes)
        popular = popularity_order(catalogue.movies["vote_count"].to_numpy())
        tuning_top = model.tuning_top_ if model.tuning_top_ is not None else model.top_
        personal = PersonalRecommender().fit(likes, catalogue.movies.height, tuning_top, popular)
    neighbours = model.neighbours()
    model_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in ((ARTIFACT, neighbours), (PERSONAL_ARTIFACT, personal.lists_.frame(catalogue.ids))):
        tmp = model_dir / f".{name}.tmp"
        frame.write_parquet(tmp)
        tmp.replace(model_dir / name)
    seconds = round(time.perf_counter() - start, 3)
    log.info("neighbours: %d rows in %.1f s", neighbours.height, seconds)
    info = model.info_
    if ratings_name is not None:
        info["cf"] = {**info["cf"], "ratings": ratings_name}  # type: ignore[dict-item]
    info["steps"] = {"read": read_seconds, **info["steps"], "personal": personal.info_.get("seconds", 0.0)}  # type: ignore[dict-item]
    info["personal"] = personal.info_
    return {
        "method": "candidates (text+genres dense top-k, keywords/cast/director/collection sparse top-k, "
                  "item-item CF top-k, most popular) ranked by a blend tuned on validation users",
        "k": settings.neighbours_k,
        "films": catalogue.movies.height,
        "rows": neighbours.height,
        **info,
        "seconds": seconds,
    }
