"""Candidates (:mod:`movierec.model.candidates`), the pair signals, the blend and the ranking
(:mod:`movierec.model.ranking`), and the artifact's rows (:mod:`movierec.model.artifact`)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from movierec.model.artifact import NEIGHBOURS_SCHEMA, neighbours_frame
from movierec.model.candidates import in_pool, merge_pools
from movierec.model.features import ContentFeaturizer
from movierec.model.ranking import (
    RANKING_SIGNALS,
    Blend,
    blend,
    likes_prior,
    pair_dot_by_code,
    pair_dot_dense,
    pair_signals,
    rank_pool,
)
from tiny_films import tiny_films

INF = np.inf


def test_in_pool() -> None:
    pool = np.array([[1, 2, 3], [0, 2, -1], [0, 1, -1]])
    subset = np.array([[2, -1], [0, 2], [-1, -1]])
    assert in_pool(pool, subset).tolist() == [[False, True, False], [True, True, False], [False, False, False]]


def test_merge_pools_by_hand() -> None:
    first = np.array([[2, 1], [0, -1], [1, 2], [0, 0]])
    second = np.array([[1, 3], [3, 1], [2, 0], [-1, -1]])
    # row 0: {2, 1, 3}; row 1: {0, 3} (itself dropped); row 2: {1, 0} (itself dropped); row 3: {0}
    assert merge_pools([first, second]).tolist() == [[1, 2, 3], [0, 3, -1], [0, 1, -1], [0, -1, -1]]


def test_pair_products_of_dense_and_coded_rows() -> None:
    rows = np.array([[1.0, 0.0], [0.6, 0.8], [1.0, 0.0]], dtype=np.float32)  # rows 0 and 2 share code 7
    pool = np.array([[1, 2], [0, -1], [1, 0]])
    expected = [[0.6, 1.0], [0.6, 0.0], [0.6, 1.0]]
    assert np.allclose(pair_dot_dense(rows, pool), expected)
    assert np.allclose(pair_dot_by_code(rows, np.array([7, 3, 7]), pool), expected)


def test_pair_signals_by_hand() -> None:
    catalogue = tiny_films()
    features = ContentFeaturizer(top_cast=2, min_df=1).fit_transform(catalogue)
    priors = {
        "popularity": np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32),
        "quality": np.array([0.5, 0.6, 0.7, 0.8], dtype=np.float32),
    }
    cf = sp.csr_matrix(np.array([[0, 0.5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float32))
    pool = np.array([[1, 2], [0, -1], [0, 3], [0, 1]])
    signals = pair_signals(features, cf, priors, pool)
    get = {name: signals[i] for i, name in enumerate(RANKING_SIGNALS)}
    assert get["collection"].tolist() == [[1, 0], [1, 0], [0, 0], [0, 0]]
    assert get["language"].tolist() == [[1, 0], [1, 0], [0, 0], [0, 0]]  # film 4 has no language
    assert np.allclose(get["director"], [[1, 0], [1, 0], [0, 0], [0, 0]])
    assert get["cf"].tolist() == [[0.5, 0], [0, 0], [0, 0], [0, 0]]
    assert np.allclose(get["popularity"], [[0.2, 0.3], [0.1, 0], [0.1, 0.4], [0.1, 0.2]])
    assert get["quality"][1].tolist() == pytest.approx([0.5, 0.0])  # padding is 0
    assert get["keywords"][0, 0] == pytest.approx((features.keywords[0] @ features.keywords[1].T).toarray()[0, 0])
    assert get["era"][0, 0] == pytest.approx(float(features.era[0] @ features.era[1]))


def test_blend_and_rank_pool_ties_go_to_the_lower_row() -> None:
    pool = np.array([[1, 2, 3], [0, 2, -1]])
    signals = np.zeros((len(RANKING_SIGNALS), 2, 3), dtype=np.float32)
    signals[RANKING_SIGNALS.index("keywords")] = [[0.5, 0.5, 0.1], [0.2, 0.9, 0.0]]
    signals[RANKING_SIGNALS.index("popularity")] = [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    scores = blend(signals, pool, {"keywords": 1.0, "popularity": 0.1})
    assert scores.tolist() == [
        [pytest.approx(0.5), pytest.approx(0.5), pytest.approx(0.2)],
        [pytest.approx(0.3), pytest.approx(0.9), -INF],
    ]
    rows, values = rank_pool(pool, scores, 3)
    assert rows.tolist() == [[1, 2, 3], [2, 0, -1]]
    assert values[1, 2] == -INF


def test_blend_mixes_tail_and_head_weights_by_confidence() -> None:
    pool = np.array([[1], [0], [0]])
    signals = np.zeros((len(RANKING_SIGNALS), 3, 1), dtype=np.float32)
    signals[RANKING_SIGNALS.index("keywords")] = 1.0
    signals[RANKING_SIGNALS.index("cf")] = 2.0
    mixed = Blend(tail={"keywords": 1.0}, head={"cf": 1.0})
    # film 0: tail only (1.0); film 1: half-way (0.5 + 1.0); film 2: head only (2.0)
    assert blend(signals, pool, mixed, np.array([0.0, 0.5, 1.0], dtype=np.float32)).ravel().tolist() == [1.0, 1.5, 2.0]
    assert blend(signals, pool, mixed).ravel().tolist() == [1.0, 1.0, 1.0]  # no confidence: the tail


def test_likes_prior_by_hand() -> None:
    assert likes_prior(np.array([0.0, 1.0, 3.0]), 3).tolist() == pytest.approx([0.0, 0.5, 1.0])  # log 2 / log 4
    assert likes_prior(None, 2).tolist() == [0.0, 0.0]
    assert likes_prior(np.zeros(2), 2).tolist() == [0.0, 0.0]


def test_neighbours_frame_schema_and_padding() -> None:
    frame = neighbours_frame(
        np.array([10, 20, 30]),
        np.array([[1, 2], [0, -1], [-1, -1]]),
        np.array([[0.9, 0.5], [0.7, -INF], [-INF, -INF]], dtype=np.float32),
    )
    assert frame.schema == pl.Schema(NEIGHBOURS_SCHEMA)
    assert frame.rows() == [
        (10, 1, 20, pytest.approx(0.9)),
        (10, 2, 30, pytest.approx(0.5)),
        (20, 1, 10, pytest.approx(0.7)),
    ]
