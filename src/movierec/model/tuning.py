"""Choosing the blend's weights on validation users (never the evaluation users), then holding
the catalogue's targets on the final artifact.

Two phases, because the two kinds of goal need different data:

1. :func:`tune_blend` — precision, a property of users: coordinate ascent of the head weights and
   the evidence scale on the validation users' precision@k, with the collaborative signal fitted
   on the fit users (so the validation users' likes are truth, never input).
2. :func:`meet_targets` — coverage and collection recall, properties of the catalogue alone: held
   on the FINAL signals (collaborative signal of every training user), where they are measured
   exactly as `movierec evaluate` will measure them. Coverage is bought by damping the priors of
   the tail films first (the long tail's lists make the coverage), then the head's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import polars as pl

from movierec.evaluation.metrics import collection_recall, coverage, precision_at_k
from movierec.evaluation.split import describe
from movierec.model.ranking import PRIORS, SIGNALS, Blend, blend, confidence, rank_pool
from movierec.model.slack import pair_values, spend_slack, without_weakest_member


@dataclass(frozen=True)
class Targets:
    """What the artifact must hold (the issue's goals, with a hair of margin for float ties) and
    how the precision tuning treats collection recall."""

    coverage: float = 0.61  # held on the final artifact by damping the priors
    collection_recall: float = 0.955  # held on the final artifact by raising the collection weight
    tuning_collection_recall: float = 0.96  # below it, the tuning's score loses `penalty` per unit
    penalty: float = 10.0


@dataclass(frozen=True)
class Objective:
    """What :func:`tune_blend` maximises: ``score(top)`` reads only the films in ``rows`` (every
    other film's top k is -1 when it is called), so each trial ranks only those films;
    ``metrics(top)`` is what gets recorded."""

    rows: np.ndarray
    score: Callable[[np.ndarray], float]
    metrics: Callable[[np.ndarray], dict[str, float | None]]


@dataclass(frozen=True)
class TuningResult:
    blend: Blend
    score: float  # objective.score at the chosen blend (objective rows ranked)
    metrics: dict[str, float | None]
    trials: int  # rankings of objective.rows


def tune_blend(
    signals: np.ndarray, pool: np.ndarray, objective: Objective, start: Blend,
    support: np.ndarray | None, users: int, k: int = 5, factors: Sequence[float] = (0.0, 0.25, 0.5, 2.0, 4.0),
    evidence_factors: Sequence[float] = (0.25, 0.5, 2.0, 4.0), rounds: int = 6, fixed: Sequence[str] = (),
) -> TuningResult:
    """Coordinate ascent of ``start``'s head weights and evidence scale on ``objective.score``.

    Each round tries the evidence scale times each of ``evidence_factors``, then every head weight
    (but ``fixed``) times each of ``factors`` (a zero weight tries 0.05 and 0.2), keeping a change
    that improves the score by more than 1e-4; it stops after a round without change. The tail
    weights stay as given (the catalogue's phase, :func:`meet_targets`, adjusts them).
    Deterministic.
    """
    n = pool.shape[0]
    rows = np.asarray(objective.rows, dtype=np.int64)
    sub_signals, sub_pool = np.ascontiguousarray(signals[:, rows, :]), pool[rows]
    sub_support = None if support is None else support[rows]

    def ranked_rows(candidate: Blend) -> np.ndarray:
        top = np.full((n, k), -1, dtype=np.int64)
        weight = confidence(sub_support, users, candidate.evidence, rows.size)
        top[rows] = rank_pool(sub_pool, blend(sub_signals, sub_pool, candidate, weight), k)[0]
        return top

    current = replace(start, tail=dict(start.tail), head={name: float(start.head.get(name, 0.0)) for name in SIGNALS})
    best = objective.score(ranked_rows(current))
    trials = 1

    def attempt(candidate: Blend) -> bool:
        nonlocal best, current, trials
        trials += 1
        score = objective.score(ranked_rows(candidate))
        if score > best + 1e-4:
            best, current = score, candidate
            return True
        return False

    for _ in range(rounds):
        improved = False
        if support is not None:
            base = current.evidence
            for factor in evidence_factors:
                improved |= attempt(replace(current, evidence=base * factor))
        for name in SIGNALS:
            if name in fixed:
                continue
            value = current.head[name]
            for trial in ([value * f for f in factors] if value > 0 else [0.05, 0.2]):
                if trial != value:
                    improved |= attempt(replace(current, head={**current.head, name: trial}))
        if not improved:
            break
    return TuningResult(blend=current, score=best, metrics=objective.metrics(ranked_rows(current)), trials=trials)


@dataclass(frozen=True)
class TargetsResult:
    blend: Blend
    tail_damping: float  # the factor applied to the tail's priors (1: none)
    head_damping: float  # the factor applied to the head's priors (1: none)
    collection_boost: float  # the factor applied to the collection weights (1: none)
    metrics: dict[str, float | None]  # coverage and collection recall of the final top k
    full_rankings: int
    met: bool
    loose_films: int = 0  # films that gave up their weakest collection member (the slack, step 3)


def meet_targets(
    signals: np.ndarray, pool: np.ndarray, chosen: Blend, weight: np.ndarray, collection: np.ndarray,
    k: int, targets: Targets, keep: int | None = None, support: np.ndarray | None = None, steps: int = 8,
    boosts: int = 4,
) -> tuple[TargetsResult, np.ndarray, np.ndarray]:
    """Hold the catalogue's targets on the final signals, changing the weights as little as it takes.

    1. Collection recall below ``targets.collection_recall``: the collection weights (tail and
       head) are doubled, up to ``boosts`` times.
    2. Coverage below ``targets.coverage``: the tail's priors (:data:`PRIORS`) are multiplied by
       the largest factor in [0, 1] that meets it, found by ``steps`` bisections; if even 0 misses
       it, the head's priors are damped the same way (0 if nothing meets it: the closest).
    3. With ``support`` (training likes per film): the collection-recall slack above the target is
       spent on the films where it buys the most precision, each giving up at most its weakest
       collection member (:mod:`movierec.model.slack`).

    Returns the result, and the final ranking (top, scores): the ``keep`` (default k) best
    candidates of every film (``weight`` is every film's :func:`confidence`)."""
    full_rankings = 0

    def ranked(candidate: Blend, width: int = k) -> tuple[np.ndarray, np.ndarray]:
        nonlocal full_rankings
        full_rankings += 1
        return rank_pool(pool, blend(signals, pool, candidate, weight), width)

    def recall(top: np.ndarray) -> float:
        value = collection_recall(top, collection, k)
        return 1.0 if value is None else value

    def damp(candidate: Blend, part: str, factor: float) -> Blend:
        weights = getattr(candidate, part)
        return replace(candidate, **{part: {**weights, **{p: weights.get(p, 0.0) * factor for p in PRIORS}}})

    current, boost = chosen, 1.0
    top = ranked(current)[0]
    for _ in range(boosts):
        if recall(top) >= targets.collection_recall:
            break
        boost *= 2
        current = replace(current, tail={**current.tail, "collection": 2 * current.tail.get("collection", 0.0)},
                          head={**current.head, "collection": 2 * current.head.get("collection", 0.0)})
        top = ranked(current)[0]

    dampings = {"tail": 1.0, "head": 1.0}
    for part in ("tail", "head"):
        if coverage(top, k) >= targets.coverage:
            break
        lowest = damp(current, part, 0.0)
        lowest_top = ranked(lowest)[0]
        if coverage(lowest_top, k) < targets.coverage:
            current, top, dampings[part] = lowest, lowest_top, 0.0
            continue
        low, high, low_top = 0.0, 1.0, lowest_top  # low meets the target, high does not
        for _ in range(steps):
            middle = (low + high) / 2
            candidate_top = ranked(damp(current, part, middle))[0]
            if coverage(candidate_top, k) >= targets.coverage:
                low, low_top = middle, candidate_top
            else:
                high = middle
        current, top, dampings[part] = damp(current, part, low), low_top, low
    full_rankings += 1
    scores = blend(signals, pool, current, weight)
    final_top, final_scores = rank_pool(pool, scores, keep or k)
    switched = np.zeros(pool.shape[0], dtype=bool)
    if support is not None and recall(final_top) > targets.collection_recall:
        bonus = current.tail.get("collection", 0.0) + weight * (
            current.head.get("collection", 0.0) - current.tail.get("collection", 0.0))
        full_rankings += 1
        other_top, other_scores = rank_pool(pool, without_weakest_member(scores, pool, final_top, collection, k, bonus),
                                            keep or k)
        cf = signals[SIGNALS.index("cf")]
        gain = support * (pair_values(pool, cf, other_top[:, :k]).sum(axis=1)
                          - pair_values(pool, cf, final_top[:, :k]).sum(axis=1))
        switched = spend_slack(final_top, other_top, gain, collection, k, targets.collection_recall, targets.coverage)
        final_top[switched], final_scores[switched] = other_top[switched], other_scores[switched]
    metrics = {"coverage": coverage(final_top, k), "collection_recall": collection_recall(final_top, collection, k)}
    met = metrics["coverage"] >= targets.coverage and recall(final_top) >= targets.collection_recall
    result = TargetsResult(blend=current, tail_damping=dampings["tail"], head_damping=dampings["head"],
                           collection_boost=boost, metrics=metrics, full_rankings=full_rankings, met=met,
                           loose_films=int(switched.sum()))
    return result, final_top, final_scores


def validation_objective(
    users: np.ndarray, rows: np.ndarray, collection: np.ndarray, k: int, targets: Targets,
) -> Objective:
    """score: validation precision@k minus ``targets.penalty`` per unit of collection recall below
    ``targets.tuning_collection_recall``; it reads only the validation users' liked films and the
    collection members."""
    members = np.flatnonzero(collection >= 0)

    def score(top: np.ndarray) -> float:
        recall = collection_recall(top, collection, k)
        missing = 0.0 if recall is None else max(0.0, targets.tuning_collection_recall - recall)
        return precision_at_k(top, users, rows, k) - targets.penalty * missing

    def metrics(top: np.ndarray) -> dict[str, float | None]:
        return {"precision_at_k": precision_at_k(top, users, rows, k),
                "collection_recall": collection_recall(top, collection, k)}

    return Objective(rows=np.union1d(np.unique(rows), members), score=score, metrics=metrics)


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


def tuned_blend(
    signals: np.ndarray, pool: np.ndarray, validation: pl.DataFrame, collection: np.ndarray,
    support: np.ndarray, users: int, start: Blend, recommendations: int, targets: Targets,
) -> tuple[Blend, dict[str, object]]:
    """The blend tuned on the validation users' likes (user_id, row), and the record. ``support``
    and ``users``: the fit users' likes per film and their number (the signal ``signals`` holds)."""
    objective = validation_objective(validation["user_id"].to_numpy(), validation["row"].to_numpy(),
                                     collection, recommendations, targets)
    result = tune_blend(signals, pool, objective, start, support, users, k=recommendations)
    return result.blend, {
        "tuned": True,
        "split": describe(),
        "validation_users": int(validation["user_id"].n_unique()),
        "validation_pairs": validation.height,
        "targets": asdict(targets),
        "metrics": {name: rounded(v) for name, v in result.metrics.items()},
        "trials": result.trials,
    }
