"""Choosing the blend's weights on validation users (never the evaluation users)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from movierec.evaluation.metrics import collection_recall, coverage, precision_at_k
from movierec.evaluation.split import describe
from movierec.model.features import ContentFeatures
from movierec.model.ranking import DEFAULT_WEIGHTS, SIGNALS, blend, rank_pool


@dataclass(frozen=True)
class Objective:
    """What :func:`tune_weights` optimises.

    ``score(top)`` is maximised by the coordinate ascent and reads only the films in ``rows``
    (every other film's top k is -1 when it is called), so each trial ranks only those films.
    ``shortfall(top)`` measures how far the whole catalogue's top k is from a constraint (0 when
    met); the second phase damps weights until it is 0. ``metrics(top)`` is what gets recorded.
    """

    rows: np.ndarray
    score: Callable[[np.ndarray], float]
    shortfall: Callable[[np.ndarray], float]
    metrics: Callable[[np.ndarray], dict[str, float | None]]


@dataclass(frozen=True)
class TuningResult:
    weights: dict[str, float]
    score: float  # objective.score at the final weights
    shortfall: float  # objective.shortfall at the final weights
    damping: float  # the factor applied to the damped weights in phase 2 (1: none)
    metrics: dict[str, float | None]
    trials: int  # phase 1 trials (rankings of objective.rows only)
    full_rankings: int  # rankings of the whole catalogue (phase 2)


def tune_weights(
    signals: np.ndarray, pool: np.ndarray, objective: Objective, start: Mapping[str, float],
    k: int = 5, factors: Sequence[float] = (0.0, 0.5, 2.0), rounds: int = 3, fixed: Sequence[str] = (),
    damped: Sequence[str] = ("popularity", "quality"), steps: int = 8,
) -> TuningResult:
    """Choose the blend's weights in two phases.

    1. Coordinate ascent on ``objective.score``: each round tries every weight (but ``fixed``)
       times each of ``factors`` (a zero weight tries 0.05 and 0.2) and keeps a change that
       improves the score by more than 1e-4; it stops after a round without change.
    2. If the whole catalogue's top k misses the constraint, the ``damped`` weights are
       multiplied by the largest factor in [0, 1] that meets it, found by ``steps`` bisections
       (0 if even that misses it, which is then the closest).
    Deterministic.
    """
    n = pool.shape[0]
    rows = np.asarray(objective.rows, dtype=np.int64)
    sub_signals, sub_pool = np.ascontiguousarray(signals[:, rows, :]), pool[rows]
    full_rankings = 0

    def ranked_rows(candidate: Mapping[str, float]) -> np.ndarray:
        top = np.full((n, k), -1, dtype=np.int64)
        top[rows] = rank_pool(sub_pool, blend(sub_signals, sub_pool, candidate), k)[0]
        return top

    def ranked_all(candidate: Mapping[str, float]) -> np.ndarray:
        nonlocal full_rankings
        full_rankings += 1
        return rank_pool(pool, blend(signals, pool, candidate), k)[0]

    weights = {name: float(start.get(name, 0.0)) for name in SIGNALS}
    best = objective.score(ranked_rows(weights))
    trials = 1
    for _ in range(rounds):
        improved = False
        for name in SIGNALS:
            if name in fixed:
                continue
            current = weights[name]
            for value in ([current * f for f in factors] if current > 0 else [0.05, 0.2]):
                if value == current:
                    continue
                trial = {**weights, name: value}
                trials += 1
                score = objective.score(ranked_rows(trial))
                if score > best + 1e-4:
                    best, weights, improved = score, trial, True
        if not improved:
            break

    def damp(factor: float) -> dict[str, float]:
        return {**weights, **{name: weights[name] * factor for name in damped}}

    factor, top = 1.0, ranked_all(weights)
    shortfall = objective.shortfall(top)
    if shortfall > 0:
        lowest = ranked_all(damp(0.0))
        if objective.shortfall(lowest) > 0:
            if objective.shortfall(lowest) < shortfall:
                factor, top = 0.0, lowest
        else:
            low, high, top = 0.0, 1.0, lowest  # low meets the constraint, high does not
            for _ in range(steps):
                middle = (low + high) / 2
                candidate = ranked_all(damp(middle))
                if objective.shortfall(candidate) > 0:
                    high = middle
                else:
                    low, top = middle, candidate
            factor = low
        weights = damp(factor)
    return TuningResult(
        weights=weights, score=objective.score(top), shortfall=objective.shortfall(top), damping=factor,
        metrics=objective.metrics(top), trials=trials, full_rankings=full_rankings,
    )


@dataclass(frozen=True)
class Targets:
    """What the tuning holds on the catalogue while it maximises validation precision: a little
    above the issue's goals (coverage ≥ 60%, collection recall ≥ 0.95), because the final
    collaborative signal, fitted on more users, moves them slightly."""

    coverage: float = 0.65  # met by damping the priors (phase 2 of the tuning)
    collection_recall: float = 0.98  # below it, the score loses `penalty` per unit
    penalty: float = 10.0


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


def rounded(value: float | None) -> float | None:
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
        "split": describe(),
        "validation_users": int(validation["user_id"].n_unique()),
        "validation_pairs": validation.height,
        "targets": asdict(targets),
        "metrics": {name: rounded(v) for name, v in result.metrics.items()},
        "prior_damping": round(result.damping, 4),
        "trials": result.trials,
        "full_rankings": result.full_rankings,
    }
