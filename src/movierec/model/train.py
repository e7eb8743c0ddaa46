"""`movierec train`: tables (and RAW's ratings, when present) in, model/neighbours.parquet out.

:class:`~movierec.model.estimator.NeighbourRecommender` is the pure part: features, candidates, collaborative signal, weight tuning
and ranking. :func:`train` is the I/O edge around it: it reads the release's tables, runs the
collaborative stage on the training users' ratings (:mod:`movierec.model.collaborative`; on this
machine, or on Spark with ``engine="spark"``), writes the artifacts atomically and returns what
the manifest records, with each step's seconds and peak memory.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # scikit-learn's dependency, untyped

from movierec.config import Settings
from movierec.model.artifact import LIKES, likes_frame
from movierec.model.clock import StepClock
from movierec.model.collaborative import CollaborativeStage, fit_collaborative, read_stage
from movierec.model.ease import lists_frame
from movierec.model.estimator import NeighbourRecommender
from movierec.model.features import FilmTables
from movierec.model.personal import PersonalRecommender
from movierec.protocol.split import training_users
from movierec.raw.ratings import Likes, ratings_inputs, read_split_likes
from movierec.release.layout import COLIKES_FILE, NEIGHBOURS_FILE, PERSONAL_FILE

log = logging.getLogger("movierec.train")

ENGINES = ("local", "spark")
TABLE_COLUMNS = {
    "movies": [
        "id",
        "title",
        "overview",
        "tagline",
        "original_language",
        "release_year",
        "release_date",
        "vote_average",
        "vote_count",
        "collection_id",
    ],
    "genres": ["movie_id", "genre_id"],
    "keywords": ["movie_id", "keyword_id"],
    "cast": ["movie_id", "person_id", "order"],
    "crew": ["movie_id", "person_id", "job"],
}


class CatalogueTooSmall(ValueError):
    """Too few films to fill a film's list of recommendations: nothing is trained."""


def minimum_films(settings: Settings) -> int:
    """The fewest films a model is trained on: each film's list holds ``recommendations`` others.
    (One film crashed training; from two on it trains, but serves lists shorter than promised.)"""
    return settings.recommendations + 1


def check_catalogue_size(films: int, settings: Settings) -> None:
    """Raise :class:`CatalogueTooSmall` below :func:`minimum_films`."""
    needed = minimum_films(settings)
    if films < needed:
        raise CatalogueTooSmall(
            f"{films:,} film{'s' if films != 1 else ''} in the catalogue, fewer than the "
            f"{needed} needed to recommend {settings.recommendations} per film "
            "(MOVIEREC_RECOMMENDATIONS + 1)"
        )


def read_catalogue(tables_dir: Path) -> FilmTables:
    """The columns of the release's tables that the model reads."""
    frames: dict[str, pl.DataFrame] = {}
    for name, columns in TABLE_COLUMNS.items():
        path = tables_dir / f"{name}.parquet"
        frames[name] = pl.read_parquet(path, columns=columns)
    return FilmTables(**frames)


def training_likes(inputs: tuple[Path, Path], row_index: pl.DataFrame) -> Likes:
    """The training users' likes of catalogue films (user_id, row, timestamp), read lazily
    (evaluation users' ratings are dropped while the file streams): what :func:`train` reads when
    it is not handed the build's likes."""
    return read_split_likes(inputs, row_index, training_users).training


def local_stage(likes: pl.DataFrame, n_items: int, params: dict[str, object], clock: StepClock) -> CollaborativeStage:
    """The collaborative stage on this machine: the blockwise co-like counts of ``likes``."""
    stage = fit_collaborative(likes, n_items, params)
    clock.lap("co-likes")
    return stage


def popularity_order(vote_count: np.ndarray) -> np.ndarray:
    """Rows by TMDB vote count, most voted first (ties: the lower row): what fills a personal list."""
    return np.argsort(-np.nan_to_num(vote_count.astype(np.float64), nan=0.0), kind="stable")


def spark_stage(
    inputs: tuple[Path, Path],
    row_index: pl.DataFrame,
    params: dict[str, object],
    clock: StepClock,
    settings: Settings,
    work: Path,
) -> CollaborativeStage:
    """The collaborative stage on Spark, through its parquet contract in ``work`` (removed after)."""
    from movierec.model.spark_cf import run_stage, spark_session

    spark, created = spark_session(settings.spark_master, settings.spark_memory)
    try:
        clock.lap("spark session")
        spark_steps = run_stage(spark, *inputs, row_index, params, work)
        jvm = spark_steps.pop("jvm peak MB", None)
        clock.record(spark_steps)
        stage = read_stage(work, row_index, params)
        clock.lap("read co-likes")
    finally:
        if created:
            spark.stop()
        shutil.rmtree(work, ignore_errors=True)
    if jvm is not None:
        clock.memory["jvm"] = jvm
    return stage


def train(
    tables_dir: Path,
    model_dir: Path,
    settings: Settings,
    raw_dir: Path | None = None,
    engine: str = "local",
    hidden: frozenset[int] | None = None,
    likes: Likes | None = None,
) -> dict[str, object]:
    """Fit the recommender on the release's tables (and RAW's ratings) and write its artifact.

    ``raw_dir`` defaults to ``settings.resolved_raw_dir()``; ``settings.ratings`` chooses the
    ratings file. ``engine`` computes the collaborative stage: ``local`` (this process) or
    ``spark`` (:mod:`movierec.model.spark_cf`, on ``settings.spark_master``); the rest is the same.
    Writes ``neighbours.parquet`` and, with ratings, ``colikes.parquet`` (the training users'
    co-like table of :mod:`movierec.model.collaborative`) and ``likes.parquet`` (each film's likes). Returns what the manifest records
    about the model (method, weights, vocabulary sizes, tuning metrics, seconds, peak memory).
    ``hidden``: TMDB ids whose likes are dropped as soon as they are read, before any stage sees
    them (the cold-start evaluation, :mod:`movierec.evaluation.cold`; local engine only).
    ``likes``: the training users' likes, read once by the caller for the whole build
    (:func:`movierec.raw.ratings.read_split_likes`); without them, they are read from ``raw_dir``.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if hidden and engine != "local":
        raise ValueError("hidden films (the cold-start evaluation) need the local engine")
    clock = StepClock()
    catalogue = read_catalogue(tables_dir)
    check_catalogue_size(catalogue.movies.height, settings)
    clock.lap("read tables")
    if likes is None:  # not handed the build's likes: the training users' own, from RAW
        raw = raw_dir if raw_dir is not None else settings.resolved_raw_dir()
        inputs = ratings_inputs(raw, settings.ratings) if raw.is_dir() else None
        if inputs is not None:
            likes = training_likes(inputs, catalogue.row_index())
            clock.lap("read ratings")
    model = NeighbourRecommender(k=settings.neighbours_k, recommendations=settings.recommendations)
    stage, liked = None, None
    if likes is not None:
        liked = likes.frame
        if hidden:  # the cold-start evaluation: these films' likes reach no stage of the model
            rows = catalogue.row_index().filter(pl.col("id").is_in(sorted(hidden)))["row"].to_list()
            liked = liked.filter(~pl.col("row").is_in(rows))
        if engine == "spark":
            stage = spark_stage(
                likes.files, catalogue.row_index(), model.cf_params(), clock, settings, model_dir / ".collaborative"
            )
        else:
            stage = local_stage(liked, catalogue.movies.height, model.cf_params(), clock)
    # One BLAS thread: the products here are small or memory-bound, and on a busy 2-core machine
    # OpenBLAS's spinning threads made the text SVD 4–6 times slower than one thread.
    with threadpool_limits(limits=1, user_api="blas"):
        model.fit(catalogue, None, collaborative=stage)
        popular = popularity_order(catalogue.movies["vote_count"].to_numpy())
        # the film-to-film neighbours (settings.neighbours_k per film) the personal scorer adds
        tuning_top = model.tuning_top_ if model.tuning_top_ is not None else model.top_
        personal = PersonalRecommender().fit(
            liked,
            catalogue.movies.height,
            tuning_top,
            popular,
            model.new_films_,
            model.tuning_new_films_,
            model.hidden_,
            neighbours=model.top_,
        )
    neighbours = model.neighbours()
    model_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(neighbours, model_dir / NEIGHBOURS_FILE)
    _write_atomically(lists_frame(personal.lists_, catalogue.ids), model_dir / PERSONAL_FILE)
    if stage is not None:
        _write_atomically(stage.training.colikes(catalogue.ids), model_dir / COLIKES_FILE)
        _write_atomically(likes_frame(catalogue.ids, stage.training.support_), model_dir / LIKES)
    seconds = round(time.perf_counter() - clock.start, 3)
    log.info("neighbours: %d rows in %.1f s", neighbours.height, seconds)
    info = model.info_
    if likes is not None:
        info["cf"] = {**info["cf"], "ratings": likes.source}  # type: ignore[dict-item]
    info["steps"] = {**clock.steps, **info["steps"], "personal": personal.info_.get("seconds", 0.0)}  # type: ignore[dict-item]
    info["peak_rss_mb"] = {**clock.memory, **info["peak_rss_mb"]}  # type: ignore[dict-item]
    info["personal"] = personal.info_
    return {
        "method": "candidates (text+genres dense top-k, keywords/cast/director/collection sparse top-k, "
        "item-item CF top-k, most popular) ranked by a blend tuned on validation users",
        "k": settings.neighbours_k,
        "films": catalogue.movies.height,
        "rows": neighbours.height,
        "engine": engine,
        **info,
        "seconds": seconds,
    }


def _write_atomically(frame: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(tmp)
    tmp.replace(path)
