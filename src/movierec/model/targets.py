"""The catalogue's targets, held on the final ranking: what the artifact must hold whatever the
users liked (coverage, adjacent collection recall, generic share), and the catalogue facts they are
measured on (:class:`Yardstick`). The weights are chosen first, on validation users
(:mod:`movierec.model.tuning`); :func:`meet_targets` then changes them as little as it takes, on
the FINAL signals (collaborative signal of every training user), where `movierec evaluate`
measures the same targets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from movierec.model.ranking import PRIORS, Blend, blend, rank_pool
from movierec.protocol.metrics import adjacent_collection_recall, coverage, generic_share


@dataclass(frozen=True)
class Targets:
    """What the artifact must hold (the issue's goals, with a hair of margin for float ties)."""

    coverage: float = 0.61  # held on the final artifact by damping the priors
    adjacent_recall: float = 0.955  # held on the final artifact by raising the adjacent weight
    generic_share: float = 0.29  # held on the final artifact by damping the head's priors
    generic_films: int = 100  # the most-voted films whose lists the generic share reads
    generic_top: int = 20  # the most-liked films that count as generic


@dataclass(frozen=True)
class Yardstick:
    """The catalogue facts the constraints read (arrays by row): collections and release dates
    (adjacent members), TMDB votes and likes (generic share); ``k`` the list length."""

    collection: np.ndarray
    release: np.ndarray
    ids: np.ndarray
    vote_count: np.ndarray
    likes: np.ndarray
    k: int
    targets: Targets

    def generic(self, top: np.ndarray, films: np.ndarray | None = None) -> float:
        return generic_share(
            top,
            self.vote_count,
            self.likes,
            self.k,
            heads=self.targets.generic_films,
            generic=self.targets.generic_top,
            films=films,
        )

    def adjacent_recall(self, top: np.ndarray) -> float:
        value = adjacent_collection_recall(top, self.collection, self.release, self.ids, self.k)
        return 1.0 if value is None else value

    def measure(self, top: np.ndarray) -> dict[str, float | None]:
        return {
            "coverage": coverage(top, self.k),
            "adjacent_recall": adjacent_collection_recall(top, self.collection, self.release, self.ids, self.k),
            "generic_share": self.generic(top),
        }

    def most_voted(self) -> np.ndarray:
        votes = np.nan_to_num(self.vote_count.astype(np.float64), nan=0.0)
        return np.argsort(-votes, kind="stable")[: self.targets.generic_films]


@dataclass(frozen=True)
class TargetsResult:
    blend: Blend
    tail_damping: float  # the factor applied to the tail's priors (1: none)
    head_damping: float  # the factor applied to the head's priors (1: none)
    adjacent_boost: float  # the factor applied to the adjacent-member weights (1: none)
    metrics: dict[str, float | None]  # coverage, adjacent recall and generic share of the final top k
    full_rankings: int
    met: bool


def _damped(candidate: Blend, part: str, factor: float) -> Blend:
    weights = getattr(candidate, part)
    return candidate.with_part(part, {**weights, **{p: weights.get(p, 0.0) * factor for p in PRIORS}})


def meet_targets(
    signals: np.ndarray,
    pool: np.ndarray,
    chosen: Blend,
    weight: np.ndarray,
    yard: Yardstick,
    targets: Targets,
    keep: int | None = None,
    steps: int = 8,
    boosts: int = 6,
) -> tuple[TargetsResult, np.ndarray, np.ndarray]:
    """Hold the catalogue's targets on the final signals, changing the weights as little as it takes.

    1. Adjacent collection recall below ``targets.adjacent_recall``: the ``adjacent`` weights
       (tail and head; 0.5 when 0) are doubled, up to ``boosts`` times.
    2. Generic share above ``targets.generic_share``: the head's priors (:data:`PRIORS`) are
       multiplied by the largest factor in [0, 1] that meets it (``steps`` bisections).
    3. Coverage below ``targets.coverage``: the tail's priors are damped the same way; if even 0
       misses it, the head's priors too (0 if nothing meets it: the closest).

    Returns the result, and the final ranking (top, scores): the ``keep`` (default k) best
    candidates of every film (``weight`` is every film's :func:`confidence`)."""
    k = yard.k
    full_rankings = 0

    def ranked(candidate: Blend) -> np.ndarray:
        nonlocal full_rankings
        full_rankings += 1
        return rank_pool(pool, blend(signals, pool, candidate, weight), k)[0]

    current, boost = chosen, 1.0
    top = ranked(current)
    for _ in range(boosts):
        if yard.adjacent_recall(top) >= targets.adjacent_recall:
            break
        boost *= 2
        current = replace(
            current,
            tail={**current.tail, "adjacent": max(0.25, current.tail.get("adjacent", 0.0)) * 2},
            head={**current.head, "adjacent": max(0.25, current.head.get("adjacent", 0.0)) * 2},
        )
        top = ranked(current)

    def bisect(part: str, meets: Callable[[np.ndarray], bool]) -> tuple[Blend, np.ndarray, float]:
        """The largest damping of ``part``'s priors whose ranking ``meets`` (0 when none does)."""
        lowest = _damped(current, part, 0.0)
        lowest_top = ranked(lowest)
        if not meets(lowest_top):
            return lowest, lowest_top, 0.0
        low, high, low_top = 0.0, 1.0, lowest_top  # low meets the target, high does not
        for _ in range(steps):
            middle = (low + high) / 2
            candidate_top = ranked(_damped(current, part, middle))
            if meets(candidate_top):
                low, low_top = middle, candidate_top
            else:
                high = middle
        return _damped(current, part, low), low_top, low

    dampings = {"tail": 1.0, "head": 1.0}
    if yard.generic(top) > targets.generic_share:
        current, top, dampings["head"] = bisect("head", lambda t: yard.generic(t) <= targets.generic_share)
    for part in ("tail", "head"):
        if coverage(top, k) >= targets.coverage:
            break
        generic_ok = yard.generic(top) <= targets.generic_share

        def meets(t: np.ndarray, generic_ok: bool = generic_ok) -> bool:
            return coverage(t, k) >= targets.coverage and (not generic_ok or yard.generic(t) <= targets.generic_share)

        current, top, factor = bisect(part, meets)
        dampings[part] *= factor
    full_rankings += 1
    final_top, final_scores = rank_pool(pool, blend(signals, pool, current, weight), keep or k)
    metrics = yard.measure(final_top)
    met = (
        coverage(final_top, k) >= targets.coverage
        and yard.adjacent_recall(final_top) >= targets.adjacent_recall
        and yard.generic(final_top) <= targets.generic_share
    )
    result = TargetsResult(
        blend=current,
        tail_damping=dampings["tail"],
        head_damping=dampings["head"],
        adjacent_boost=boost,
        metrics=metrics,
        full_rankings=full_rankings,
        met=bool(met),
    )
    return result, final_top, final_scores
