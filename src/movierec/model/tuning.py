"""Choosing the blend's weights on validation users (never the evaluation users), then holding
the catalogue's targets on the final artifact.

What is maximised is what a person judges: popularity-stratified precision@k (Steck 2011: a hit
counts 1/likes^0.5, over the best list possible for that user), not plain precision, which is
mostly popularity (everybody who liked Toy Story also liked Forrest Gump). Under constraints that
are properties of the catalogue, not of users:

* generic share ≤ 0.30: of the most-voted films' top k slots, the share taken by the most-liked
  films (a list must be about its film);
* adjacent collection recall ≥ 0.95: a film's previous and next collection member by release date
  in its top k (the other members are free);
* coverage ≥ 60%.

Three phases, because the kinds of goal need different data:

1. :func:`tune_blend` on the ``tail`` weights — films nobody liked: coordinate ascent on the
   validation users' pairs whose film the tuning treats as new (its likes hidden from the signal,
   :mod:`movierec.model.borrow`), so the weights a new film gets are chosen on films with a known
   audience;
2. :func:`tune_blend` on the ``head`` weights and the evidence scale, on every validation pair
   (the hidden films still hidden, so putting a new film in a warm film's list pays when its
   audience likes it);
3. :func:`~movierec.model.targets.meet_targets` — the catalogue's targets, held on the FINAL
   signals (collaborative signal of every training user), where `movierec evaluate` measures them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from movierec.model.ranking import CONTENT, RANKING_SIGNALS, Blend, blend, confidence, rank_pool
from movierec.model.targets import Targets, Yardstick
from movierec.protocol.metrics import best_possible, liked_keys, popularity_weights, stratified_precision_per_pair
from movierec.protocol.split import split_description


@dataclass(frozen=True)
class Objective:
    """What :func:`tune_blend` maximises: ``score(top)`` reads only the films in ``rows`` (every
    other film's top k is -1 when it is called), so each trial ranks only those films; it gives
    one score per half of the validation users (a change must not lower either: the tuning keeps
    what both halves agree on, not the noise of one); ``metrics(top)`` is what gets recorded."""

    rows: np.ndarray
    score: Callable[[np.ndarray], np.ndarray]
    metrics: Callable[[np.ndarray], dict[str, float | None]]


@dataclass(frozen=True)
class TuningResult:
    blend: Blend
    score: float  # objective.score at the chosen blend (objective rows ranked)
    metrics: dict[str, float | None]
    trials: int  # rankings of objective.rows


def tune_blend(
    signals: np.ndarray,
    pool: np.ndarray,
    objective: Objective,
    start: Blend,
    support: np.ndarray | None,
    users: int,
    k: int = 5,
    factors: Sequence[float] = (0.0, 0.25, 0.5, 2.0, 4.0),
    evidence_factors: Sequence[float] = (0.25, 0.5, 2.0, 4.0),
    rounds: int = 6,
    fixed: Sequence[str] = (),
    part: str = "head",
    min_gain: float = 0.02,
    kept: Sequence[str] = (),
) -> TuningResult:
    """Coordinate ascent of ``start``'s ``part`` weights (``head`` or ``tail``) and, for the head,
    the evidence scale, on ``objective.score``.

    Each round tries the evidence scale times each of ``evidence_factors`` (head only), then every
    weight of ``part`` (but ``fixed``) times each of ``factors`` (a zero weight tries 0.05, 0.2
    and 1; a weight in ``kept`` is never set to 0), keeping a change that improves the score by
    more than ``min_gain`` of it (2%: on a
    few hundred validation users smaller gains are mostly noise, and following them fitted the
    noise); it stops after a round without change. The other part's weights stay as given.
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

    current = replace(
        start,
        tail={name: float(start.tail.get(name, 0.0)) for name in RANKING_SIGNALS},
        head={name: float(start.head.get(name, 0.0)) for name in RANKING_SIGNALS},
    )
    best = objective.score(ranked_rows(current))
    trials = 1

    def attempt(candidate: Blend) -> bool:
        nonlocal best, current, trials
        trials += 1
        score = objective.score(ranked_rows(candidate))
        if score.mean() > best.mean() + max(1e-4, min_gain * abs(best.mean())) and (score >= best).all():
            best, current = score, candidate
            return True
        return False

    for _ in range(rounds):
        improved = False
        if support is not None and part == "head":
            base = current.evidence
            for factor in evidence_factors:
                improved |= attempt(replace(current, evidence=base * factor))
        for name in RANKING_SIGNALS:
            if name in fixed:
                continue
            weights = getattr(current, part)
            value = weights[name]
            for trial in [value * f for f in factors if f or name not in kept] if value > 0 else [0.05, 0.2, 1.0]:
                if trial != value:
                    improved |= attempt(current.with_part(part, {**getattr(current, part), name: trial}))
        if not improved:
            break
    return TuningResult(
        blend=current, score=float(best.mean()), metrics=objective.metrics(ranked_rows(current)), trials=trials
    )


def validation_objective(
    users: np.ndarray, rows: np.ndarray, likes: np.ndarray, yard: Yardstick, queries: np.ndarray | None = None
) -> Objective:
    """score: the validation users' popularity-stratified precision@k (hits weighted by
    1/likes^0.5, ``likes``: the fit users' per film), one score per half of the users. With
    ``queries`` (a film mask): only the pairs of those films count (the tail's phase: films
    treated as new). The constraints are recorded, not scored: as penalties they let the ascent
    buy them with any signal at any cost in precision (the text weight, which ranks a film's
    lookalikes first), while :func:`meet_targets` holds each with the weight made for it (the
    adjacent members', the priors' damping) on the final ranking."""
    k = yard.k
    # every like is truth (a hit, or part of the best list possible), whichever pairs count
    liked = liked_keys(users, rows, likes.size)
    best = best_possible(users, rows, popularity_weights(likes), k)
    counted = np.ones(rows.size, dtype=bool) if queries is None else queries[rows]
    users, rows, best = users[counted], rows[counted], best[counted]
    listed = np.flatnonzero(queries) if queries is not None else None
    halves = [(users // 5) % 2 == half for half in (0, 1)]

    def per_pair(top: np.ndarray) -> np.ndarray:
        return stratified_precision_per_pair(top, users, rows, likes, k, liked=liked, best=best)

    def metrics(top: np.ndarray) -> dict[str, float | None]:
        return {
            "stratified_precision_at_k": float(per_pair(top).mean()) if rows.size else 0.0,
            "generic_share": yard.generic(top, listed),
            **({} if queries is not None else {"adjacent_recall": yard.adjacent_recall(top)}),
        }

    def score(top: np.ndarray) -> np.ndarray:
        values = per_pair(top)
        return np.array([values[h].mean() if h.any() else 0.0 for h in halves])

    scored = np.unique(rows) if queries is not None else np.unique(np.r_[rows, yard.most_voted()])
    return Objective(rows=scored, score=score, metrics=metrics)


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def tuned_blend(
    signals: np.ndarray,
    pool: np.ndarray,
    validation_users: np.ndarray,
    validation_rows: np.ndarray,
    support: np.ndarray,
    users: int,
    hidden: np.ndarray,
    yard: Yardstick,
    start: Blend,
    targets: Targets,
) -> tuple[Blend, dict[str, object]]:
    """The blend tuned on the validation users' likes (users, rows): the tail on the pairs of the
    ``hidden`` films (treated as new: no likes in ``signals``), then the head on every pair.
    ``support`` and ``users``: the fit users' likes per film (hidden films' at 0) and their number."""
    k = yard.k
    record: dict[str, object] = {
        "tuned": True,
        "split": split_description(),
        "validation_users": int(np.unique(validation_users).size),
        "validation_pairs": int(validation_rows.size),
        "targets": asdict(targets),
        "hidden_films": int(hidden.sum()),
    }
    chosen = start
    if hidden.any():
        tail = validation_objective(validation_users, validation_rows, support, yard, queries=hidden)
        # a new film's list is about what it is: what it shares (director, cast, keywords, collection,
        # genres, story) may weigh less, never nothing; era and language stay a tie-break
        result = tune_blend(
            signals,
            pool,
            tail,
            chosen,
            support,
            users,
            k=k,
            part="tail",
            fixed=("cf", "era", "language"),
            kept=tuple(CONTENT),
            rounds=3,
        )
        chosen = result.blend
        record["tail"] = {"metrics": {name: rounded(v) for name, v in result.metrics.items()}, "trials": result.trials}
    head = validation_objective(validation_users, validation_rows, support, yard)
    result = tune_blend(signals, pool, head, chosen, support, users, k=k, rounds=4)
    record["metrics"] = {name: rounded(v) for name, v in result.metrics.items()}
    record["trials"] = result.trials
    return result.blend, record
