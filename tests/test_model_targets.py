"""The catalogue's targets held on the final ranking (:mod:`movierec.model.targets`): the priors'
damping by bisection, the adjacent members' weight, on fixtures worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.model.ranking import RANKING_SIGNALS, Blend
from movierec.model.targets import Targets, Yardstick, meet_targets


def _damping_case() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four films: popularity sends every film to film 0, keywords to the next film (0→1→2→3→0);
    coverage needs every film recommended. Films 0 and 1 are tail films, 2 and 3 head films."""
    pool = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])
    signals = np.zeros((len(RANKING_SIGNALS), 4, 3), dtype=np.float32)
    signals[RANKING_SIGNALS.index("popularity")] = np.where(pool == 0, 1.0, 0.0)
    signals[RANKING_SIGNALS.index("keywords")] = np.where(pool == (np.arange(4)[:, None] + 1) % 4, 0.5, 0.0)
    return pool, signals, np.array([0.0, 0.0, 1.0, 1.0], dtype=np.float32)


def _yard(
    n: int,
    k: int = 1,
    collection: np.ndarray | None = None,
    likes: np.ndarray | None = None,
    votes: np.ndarray | None = None,
    targets: Targets | None = None,
) -> Yardstick:
    """What the catalogue targets read, for ``n`` films released in row order."""
    collection = np.full(n, -1) if collection is None else collection
    release, ids = np.arange(n, dtype=np.float64), np.arange(n)
    return Yardstick(
        collection,
        release,
        ids,
        np.zeros(n) if votes is None else votes,
        np.zeros(n) if likes is None else likes,
        k,
        targets or Targets(),
    )


def test_meet_targets_damps_the_tail_priors_first_by_bisection() -> None:
    pool, signals, weight = _damping_case()
    tail = {name: 0.0 for name in RANKING_SIGNALS} | {"keywords": 0.25, "popularity": 0.3, "quality": 0.1}
    head = {name: 0.0 for name in RANKING_SIGNALS} | {"keywords": 1.0}  # head films already recommend the next
    result, top, scores = meet_targets(
        signals, pool, Blend(tail, head), weight, _yard(4), Targets(coverage=1.0), keep=2
    )
    # tail films: keywords give the next film 0.125; popularity gives film 0 0.3 λ and wins ties
    # (lower row): film 1 recommends film 2 iff 0.3 λ < 0.125, i.e. λ < 0.41667. Eight bisections
    # of [0, 1]: 0.5 no, 0.25 yes, 0.375 yes, 0.4375 no, 0.40625 yes, 0.421875 no, 0.4140625 yes,
    # 0.41796875 no.
    assert result.tail_damping == 0.4140625 and result.head_damping == 1.0 and result.met
    assert result.blend.tail["popularity"] == pytest.approx(0.3 * 0.4140625)
    assert result.blend.tail["quality"] == pytest.approx(0.1 * 0.4140625)  # damped alike
    assert result.blend.tail["keywords"] == 0.25 and result.blend.head == head
    assert result.metrics == {"coverage": 1.0, "adjacent_recall": None, "generic_share": 0.0}
    assert result.full_rankings == 1 + 1 + 8 + 1  # as chosen, at λ = 0, bisections, the final ranking
    assert top[:, 0].tolist() == [1, 2, 3, 0] and top.shape == scores.shape == (4, 2)


def test_meet_targets_damps_the_head_when_the_tail_is_not_enough() -> None:
    pool, signals, weight = _damping_case()
    priors_only = {name: 0.0 for name in RANKING_SIGNALS} | {"keywords": 0.25, "popularity": 0.3}
    result, top, _ = meet_targets(
        signals, pool, Blend(priors_only, priors_only), weight, _yard(4), Targets(coverage=1.0)
    )
    assert result.tail_damping == 0.0 and result.head_damping == 0.4140625 and result.met
    assert top[:, 0].tolist() == [1, 2, 3, 0]


def test_meet_targets_keeps_the_closest_when_the_target_cannot_be_met() -> None:
    pool, signals, weight = _damping_case()
    priors_only = {name: 0.0 for name in RANKING_SIGNALS} | {"keywords": 0.25, "popularity": 0.3}
    result, _, _ = meet_targets(
        signals, pool, Blend(priors_only, priors_only), weight, _yard(4), Targets(coverage=1.01)
    )
    assert (result.tail_damping, result.head_damping, result.met) == (0.0, 0.0, False)
    assert result.metrics["coverage"] == 1.0  # the closest: every film recommended


def test_meet_targets_damps_the_head_priors_until_lists_are_about_their_film() -> None:
    """Films 0 and 1 are the most voted, film 3 the most liked; popularity sends every head film's
    list to film 3, keywords to the next film. A generic share ≤ 0.29 needs the keywords to win."""
    pool, signals, _ = _damping_case()
    signals[RANKING_SIGNALS.index("popularity")] = np.where(pool == 3, 1.0, 0.0)
    head = {name: 0.0 for name in RANKING_SIGNALS} | {"keywords": 0.25, "popularity": 0.3}
    targets = Targets(coverage=0.0, generic_films=2, generic_top=1)
    yard = _yard(4, votes=np.array([90.0, 80.0, 1.0, 1.0]), likes=np.array([1.0, 1.0, 1.0, 9.0]), targets=targets)
    result, top, _ = meet_targets(signals, pool, Blend(head, head), np.ones(4, dtype=np.float32), yard, targets)
    # films 0 and 1 recommend film 3 (share 1.0) until 0.3 λ < 0.125: the same bisection as above
    assert result.head_damping == 0.4140625 and result.tail_damping == 1.0 and result.met
    assert top[:, 0].tolist() == [1, 2, 3, 0] and result.metrics["generic_share"] == 0.0


def test_meet_targets_raises_the_adjacent_weight_until_the_sequel_comes_first() -> None:
    pool = np.array([[1, 2], [0, 2], [0, 1]])
    signals = np.zeros((len(RANKING_SIGNALS), 3, 2), dtype=np.float32)
    signals[RANKING_SIGNALS.index("adjacent")] = np.where(np.isin(pool, [0, 1]) & (np.arange(3)[:, None] < 2), 1.0, 0.0)
    signals[RANKING_SIGNALS.index("popularity")] = np.where(pool == 2, 1.0, 0.0)  # film 2 is the popular one
    weights = {name: 0.0 for name in RANKING_SIGNALS} | {"adjacent": 0.2, "popularity": 0.6}
    targets = Targets(coverage=0.0, adjacent_recall=1.0)
    result, top, _ = meet_targets(
        signals,
        pool,
        Blend(weights, weights),
        np.zeros(3, dtype=np.float32),
        _yard(3, collection=np.array([7, 7, -1])),
        targets,
    )
    # max(0.25, 0.2) × 2 = 0.5 < 0.6, then 1.0 > 0.6: two doublings put the other member first
    assert result.adjacent_boost == 4.0 and result.blend.tail["adjacent"] == pytest.approx(1.0)
    assert top[:2, 0].tolist() == [1, 0] and result.metrics["adjacent_recall"] == 1.0 and result.met
