"""`movierec train`: tables (and RAW's ratings, when present) in, model/neighbours.parquet out.

:func:`fit_neighbours` is the pure part: features, candidates, collaborative signal, weight tuning
and ranking. :func:`train` is the I/O edge around it: it reads the release's tables and the
training users' ratings, writes the artifact atomically and returns what the manifest records.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

from movierec.evaluate import collection_recall, coverage, precision_at_k, release_raw_dir
from movierec.model import (
    DEFAULT_WEIGHTS, SIGNALS, Catalogue, ContentFeatures, ContentFeaturizer, ItemCF, Objective, PoolSizes,
    blend, candidate_pool, cf_signal, merge_pools, neighbours_frame, pair_signals, popularity_prior,
    quality_prior, rank_pool, top_k_of_csr, tune_weights,
)
from movierec.ratings import (
    LIKED_RATING, USER_MODULUS, VALIDATION_REMAINDER, is_validation_user, liked_rows, ratings_inputs,
    read_ratings,
)
from movierec.release import MANIFEST, write_manifest
from movierec.settings import Settings

log = logging.getLogger("movierec.train")

ARTIFACT = "neighbours.parquet"
TABLE_COLUMNS = {
    "movies": ["id", "title", "overview", "tagline", "original_language", "release_year",
               "vote_average", "vote_count", "collection_id"],
    "genres": ["movie_id", "genre_id"],
    "keywords": ["movie_id", "keyword_id"],
    "cast": ["movie_id", "person_id", "order"],
    "crew": ["movie_id", "person_id", "job"],
}


@dataclass(frozen=True)
class Targets:
    """What the tuning holds on the catalogue while it maximises validation precision: a little
    above the issue's goals (coverage ≥ 60%, collection recall ≥ 0.95), because the final
    collaborative signal, fitted on more users, moves them slightly."""

    coverage: float = 0.65  # met by damping the priors (phase 2 of the tuning)
    collection_recall: float = 0.98  # below it, the score loses `penalty` per unit
    penalty: float = 10.0


@dataclass(frozen=True)
class ModelParams:
    text_dims: int = 64
    top_cast: int = 5
    cf_alpha: float = 1.0  # chosen on validation users: 0.5 … 1.0 tried, see the README
    cf_shrink: float = 10.0
    pool: PoolSizes = field(default_factory=PoolSizes)
    targets: Targets = field(default_factory=Targets)


@dataclass
class FitResult:
    top: np.ndarray  # (films, k) neighbour rows, best first, -1 = none
    scores: np.ndarray  # (films, k) blended scores
    info: dict[str, object]


def read_catalogue(tables_dir: Path) -> Catalogue:
    """The columns of the release's tables that the model reads."""
    frames: dict[str, pl.DataFrame] = {}
    for name, columns in TABLE_COLUMNS.items():
        path = tables_dir / f"{name}.parquet"
        frames[name] = pl.read_parquet(path, columns=columns)
    return Catalogue(**frames)


def validation_objective(
    users: np.ndarray, rows: np.ndarray, collection: np.ndarray, k: int, targets: Targets,
) -> Objective:
    """score: validation precision@k minus ``targets.penalty`` per unit of collection recall
    below its target (it reads only the validation users' liked films and the collection
    members); shortfall: coverage below its target, which needs every film's top k."""
    members = np.flatnonzero(collection >= 0)

    def score(top: np.ndarray) -> float:
        recall = collection_recall(top, collection, k)
        missing = 0.0 if recall is None else max(0.0, targets.collection_recall - recall)
        return precision_at_k(top, users, rows, k) - targets.penalty * missing

    def metrics(top: np.ndarray) -> dict[str, float | None]:
        return {
            "precision_at_k": precision_at_k(top, users, rows, k),
            "coverage": coverage(top, k),
            "collection_recall": collection_recall(top, collection, k),
        }

    return Objective(rows=np.union1d(np.unique(rows), members), score=score,
                     shortfall=lambda top: max(0.0, targets.coverage - coverage(top, k)), metrics=metrics)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def in_pool(pool: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """Boolean (n, width): whether each candidate of ``pool`` is also in ``subset``'s row. Both
    list each row's candidates in increasing order (:func:`merge_pools`), so the keys
    row · (n + 1) + candidate of ``subset`` are sorted and a binary search finds them."""
    n = pool.shape[0]
    base = np.arange(n, dtype=np.int64)[:, None] * (n + 1)
    wanted = (base + subset)[subset >= 0]
    if wanted.size == 0:
        return np.zeros(pool.shape, dtype=bool)
    keys = base + pool
    position = np.minimum(np.searchsorted(wanted, keys), wanted.size - 1)
    return (wanted[position] == keys) & (pool >= 0)


def tuned_weights(
    signals: np.ndarray, pool: np.ndarray, validation: pl.DataFrame, features: ContentFeatures,
    recommendations: int, targets: Targets,
) -> tuple[dict[str, float], dict[str, object]]:
    """The blend's weights tuned on the validation users' likes (user_id, row), and the record."""
    objective = validation_objective(validation["user_id"].to_numpy(), validation["row"].to_numpy(),
                                     features.collection, recommendations, targets)
    result = tune_weights(signals, pool, objective, DEFAULT_WEIGHTS, k=recommendations)
    return result.weights, {
        "tuned": True,
        "validation": f"userId % {USER_MODULUS} == {VALIDATION_REMAINDER}",
        "validation_users": int(validation["user_id"].n_unique()),
        "validation_pairs": validation.height,
        "targets": asdict(targets),
        "metrics": {name: _rounded(v) for name, v in result.metrics.items()},
        "prior_damping": round(result.damping, 4),
        "trials": result.trials,
        "full_rankings": result.full_rankings,
    }


def fit_neighbours(
    catalogue: Catalogue, likes: pl.DataFrame | None, k: int, recommendations: int,
    params: ModelParams = ModelParams(),
) -> FitResult:
    """The pure training: every film's k best neighbours and what the model learned.

    ``likes`` holds (user_id, row) for the training users only (None: no ratings). With likes,
    the collaborative signal used while tuning is fitted on the fit users and the weights are
    chosen on the validation users' pairs; the final signal is fitted on all training users.
    """
    steps: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        steps[name] = round(now - clock, 3)
        log.info("%-12s %6.2f s", name, now - clock)
        clock = now

    n = catalogue.movies.height
    featurizer = ContentFeaturizer(text_dims=params.text_dims, top_cast=params.top_cast)
    features = featurizer.fit_transform(catalogue)
    movies = catalogue.movies
    priors = {
        "popularity": popularity_prior(movies["vote_count"].to_numpy()),
        "quality": quality_prior(movies["vote_average"].to_numpy(), movies["vote_count"].to_numpy()),
    }
    step("features")
    base = candidate_pool(features, None, priors["popularity"], params.pool)
    step("candidates")

    info: dict[str, object] = {}
    tuning: dict[str, object] = {"tuned": False}
    weights = dict(DEFAULT_WEIGHTS)
    if likes is not None and likes.height > 0:
        validation = likes.filter(is_validation_user(pl.col("user_id")))
        fit = likes.filter(~is_validation_user(pl.col("user_id")))
        cf_params = {"alpha": params.cf_alpha, "shrink": params.cf_shrink, "neighbours": params.pool.cf}
        cf_tune = ItemCF(**cf_params).fit(fit["user_id"].to_numpy(), fit["row"].to_numpy(), n)
        cf_all = ItemCF(**cf_params).fit(likes["user_id"].to_numpy(), likes["row"].to_numpy(), n)
        step("cf")
        info["cf"] = {
            "used": True, "liked_rating": LIKED_RATING,
            "training_users": cf_all.users_, "likes": cf_all.likes_,
            "films_with_likes": int((cf_all.support_ > 0).sum()),
            "alpha": params.cf_alpha, "shrink": params.cf_shrink, "neighbours": params.pool.cf,
        }
        # The tuning sees only candidates and similarities from the fit users; the final ranking
        # all training users'. Both on one pool, so the signals are computed once.
        tune_pool = merge_pools([base, top_k_of_csr(cf_tune.similarity_, params.pool.cf)])
        pool = merge_pools([tune_pool, top_k_of_csr(cf_all.similarity_, params.pool.cf)])
        signals = pair_signals(features, cf_tune.similarity_, priors, pool)
        step("signals")
        if validation.height:
            weights, tuning = tuned_weights(
                signals, np.where(in_pool(pool, tune_pool), pool, -1), validation, features,
                recommendations, params.targets)
            tuning["fit_users"] = cf_tune.users_
            step("tuning")
        signals[SIGNALS.index("cf")] = cf_signal(cf_all.similarity_, pool)
    else:
        pool = base
        weights["cf"] = 0.0
        signals = pair_signals(features, None, priors, pool)
        info["cf"] = {"used": False, "reason": "no ratings_small.csv and links.csv in RAW"
                      if likes is None else "no training user liked a catalogue film"}
        step("signals")
    top, scores = rank_pool(pool, blend(signals, pool, weights), k)
    step("ranking")
    info.update({
        # the artifact's own catalogue metrics (no users involved)
        "coverage": round(coverage(top, recommendations), 4),
        "collection_recall": _rounded(collection_recall(top, features.collection, recommendations)),
        "weights": {name: round(weights[name], 6) for name in SIGNALS},
        "tuning": tuning,
        "vocabulary": features.vocabulary,
        "candidates": {**asdict(params.pool), "width": int(pool.shape[1]),
                       "mean": round(float((pool >= 0).sum(axis=1).mean()) if n else 0.0, 1)},
        "text_dims": params.text_dims, "top_cast": params.top_cast,
        "steps": steps,
    })
    return FitResult(top=top, scores=scores, info=info)


def training_likes(raw_dir: Path | None, row_index: pl.DataFrame) -> tuple[pl.DataFrame | None, str | None]:
    """(user_id, row) likes of the training users, and the ratings file's name; (None, None)
    when RAW has no ratings. Evaluation users' ratings are dropped while the file is read."""
    inputs = ratings_inputs(raw_dir) if raw_dir is not None and raw_dir.is_dir() else None
    if inputs is None:
        return None, None
    ratings = read_ratings(*inputs, evaluation=False)
    return liked_rows(ratings, row_index), inputs[0].name


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
        result = fit_neighbours(catalogue, likes, settings.neighbours_k, settings.recommendations)
    neighbours = neighbours_frame(catalogue.ids, result.top, result.scores)
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = model_dir / f".{ARTIFACT}.tmp"
    neighbours.write_parquet(tmp)
    tmp.replace(model_dir / ARTIFACT)
    seconds = round(time.perf_counter() - start, 3)
    log.info("neighbours: %d rows in %.1f s", neighbours.height, seconds)
    info = result.info
    if ratings_name is not None:
        info["cf"] = {**info["cf"], "ratings": ratings_name}  # type: ignore[dict-item]
    info["steps"] = {"read": read_seconds, **info["steps"]}  # type: ignore[dict-item]
    return {
        "method": "candidates (text+genres dense top-k, keywords/cast/director/collection sparse top-k, "
                  "item-item CF top-k, most popular) ranked by a blend tuned on validation users",
        "k": settings.neighbours_k,
        "films": catalogue.movies.height,
        "rows": neighbours.height,
        **info,
        "seconds": seconds,
    }


def retrain_release(release: Path, settings: Settings, raw_dir: Path | None = None) -> dict[str, object]:
    """`movierec train`: refit a published release's model in place (the artifact is replaced
    atomically) and record it in the manifest. ``raw_dir`` defaults to the folder the release was
    built from. The manifest's evaluation, which measured the previous model, is dropped."""
    raw = raw_dir or release_raw_dir(release, settings.resolved_raw_dir())
    model = train(release / "tables", release / "model", settings, raw_dir=raw)
    manifest = json.loads((release / MANIFEST).read_text())
    manifest["model"] = model
    durations = manifest.get("durations")
    if isinstance(durations, dict):
        durations["train"] = model["seconds"]
    manifest.pop("evaluation", None)
    write_manifest(release, manifest)
    return model
