"""Choosing the blend's weights on validation users (:mod:`movierec.model.tuning`): coordinate ascent
on objectives small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.model.ranking import DEFAULT_WEIGHTS, RANKING_SIGNALS, Blend, blend, confidence, rank_pool
from movierec.model.tuning import Objective, tune_blend


def _tuning_case() -> tuple[np.ndarray, np.ndarray, Objective]:
    """Three films; each should recommend the film keywords point to, which popularity does not."""
    pool = np.array([[1, 2], [0, 2], [0, 1]])
    signals = np.zeros((len(RANKING_SIGNALS), 3, 2), dtype=np.float32)
    signals[RANKING_SIGNALS.index("keywords")] = [[0.9, 0.0], [0.0, 0.9], [0.9, 0.0]]  # right: 1, 2, 0
    signals[RANKING_SIGNALS.index("popularity")] = [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]  # wrong: 2, 0, 1
    right = np.array([1, 2, 0])

    def hits(top: np.ndarray) -> float:
        return float((top[:, 0] == right).mean())

    return (
        pool,
        signals,
        Objective(
            rows=np.array([0, 1, 2]), score=lambda top: np.array([hits(top)]), metrics=lambda top: {"hits": hits(top)}
        ),
    )


def test_tune_blend_finds_the_right_signal_in_the_head_weights() -> None:
    pool, signals, objective = _tuning_case()
    wrong = {**DEFAULT_WEIGHTS, "keywords": 0.25, "popularity": 0.3}  # 0.225 < 0.3: popularity wins
    start = Blend(tail=wrong, head=wrong, evidence=0.01)
    support = np.array([50.0, 50.0, 50.0])  # liked by half of 100 users: confidence 50 / (50 + 1) ≈ 0.98
    weight = confidence(support, 100, 0.01, 3)
    assert objective.score(rank_pool(pool, blend(signals, pool, start, weight), 1)[0]).tolist() == [0.0]
    result = tune_blend(signals, pool, objective, start, support, users=100, k=1)
    assert (result.score, result.metrics) == (1.0, {"hits": 1.0})
    assert result.blend.head["keywords"] * 0.9 > result.blend.head["popularity"]
    assert result.blend.tail == wrong  # the tuning moves the head weights only
    # ... or the tail's only, for films nobody liked (the evidence scale stays)
    cold = tune_blend(signals, pool, objective, start, np.zeros(3), users=100, k=1, part="tail")
    assert cold.score == 1.0 and cold.blend.head == wrong and cold.blend.evidence == 0.01
    assert cold.blend.tail["keywords"] * 0.9 > cold.blend.tail["popularity"]
    # fixed weights are never touched
    fixed = tune_blend(signals, pool, objective, start, support, 100, k=1, fixed=("keywords", "popularity"))
    assert fixed.score == 0.0 and fixed.blend.head["keywords"] == 0.25


def test_tune_blend_moves_the_evidence_scale_when_the_tail_is_right() -> None:
    """The tail weights rank right, the head weights wrong: only a larger evidence scale (films
    treated as tail films longer) can win."""
    pool, signals, objective = _tuning_case()
    right = {name: 0.0 for name in RANKING_SIGNALS} | {"keywords": 1.0}
    wrong = {name: 0.0 for name in RANKING_SIGNALS} | {"popularity": 1.0}
    support = np.array([2.0, 2.0, 2.0])
    # evidence 0.01 × 100 users = 1: confidence 2/3, scores keywords 0.9/3 = 0.3 < popularity 2/3
    result = tune_blend(
        signals,
        pool,
        objective,
        Blend(tail=right, head=wrong, evidence=0.01),
        support,
        100,
        k=1,
        fixed=RANKING_SIGNALS,
        rounds=2,
    )
    # × 2 → 2: confidence 1/2, keywords 0.45 < popularity 0.5; × 4 → 4: confidence 1/3, keywords 0.6 > 1/3
    assert result.blend.evidence == pytest.approx(0.04) and result.score == 1.0
    assert result.trials == 1 + 4 + 4  # the start, then two rounds of 4 evidence factors (the second finds no gain)


def test_phase_one_ranks_only_the_objectives_rows() -> None:
    pool, signals, _ = _tuning_case()
    seen: list[list[int]] = []

    def score(top: np.ndarray) -> np.ndarray:
        seen.append(top[:, 0].tolist())
        return np.zeros(2)

    only_film_1 = Objective(rows=np.array([1]), score=score, metrics=lambda top: {})
    result = tune_blend(signals, pool, only_film_1, Blend(DEFAULT_WEIGHTS, DEFAULT_WEIGHTS), None, 0, k=1, rounds=1)
    assert len(seen) == result.trials
    assert all(top[0] == -1 and top[2] == -1 and top[1] >= 0 for top in seen)
