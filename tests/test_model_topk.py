"""Top-k selection (:mod:`movierec.model.topk`) and the clustered nearest-neighbour search
(:mod:`movierec.model.ann`), on fixtures small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.model.ann import spherical_kmeans, top_k_clustered
from movierec.model.topk import at_least_kth, pair_order, select_top_k, top_k_of_pairs, top_k_similar, top_k_sparse

INF = np.inf


def test_select_top_k_best_first_ties_to_the_lower_column_and_padding() -> None:
    block = np.array(
        [
            [0.5, 0.9, 0.9, 0.1],
            [-INF, 0.3, -INF, -INF],  # one finite value: padded
            [2.0, 2.0, 2.0, 2.0],
        ],
        dtype=np.float32,
    )
    columns, values = select_top_k(block, 2)
    assert columns.tolist() == [[1, 2], [1, -1], [0, 1]]
    assert values.tolist() == [[pytest.approx(0.9), pytest.approx(0.9)], [pytest.approx(0.3), -INF], [2.0, 2.0]]


def test_top_k_similar_excludes_the_film_itself_and_adds_the_prior() -> None:
    features = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    top, scores = top_k_similar(features, 1)
    # products: 0·1 = 0.8, 0·2 = 0, 1·2 = 0.6
    assert top.tolist() == [[1], [0], [1]]
    assert scores.ravel().tolist() == pytest.approx([0.8, 0.8, 0.6])
    top, scores = top_k_similar(features, 1, prior=np.array([0.0, 0.0, 1.0], dtype=np.float32))
    assert top.tolist() == [[2], [2], [1]]  # 0: max(0.8, 0 + 1) -> 2
    assert scores.ravel().tolist() == pytest.approx([1.0, 1.6, 0.6])
    # the same with sparse rows, block by block, and k above n − 1
    top, _ = top_k_similar(sp.csr_matrix(features), 5, block_rows=2)
    assert top.tolist() == [[1, 2], [0, 2], [1, 0]]


def test_top_k_sparse_lists_only_films_sharing_a_feature() -> None:
    features = sp.csr_matrix(np.array([[1, 0, 0], [0.6, 0.8, 0], [0, 0, 1], [0, 1, 0]], dtype=np.float32))
    top, scores = top_k_sparse(features, 2, block_rows=3)
    assert top.tolist() == [[1, -1], [3, 0], [-1, -1], [1, -1]]
    assert scores[1].tolist() == pytest.approx([0.8, 0.6])


pairs = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 30), st.sampled_from([0.0, 0.25, 0.5, 1.0, 3.0, 0.125, 7.5])),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(pairs, st.integers(1, 6))
def test_top_k_of_pairs_matches_a_plain_sort(triples: list[tuple[int, int, float]], k: int) -> None:
    rows = np.array([t[0] for t in triples], dtype=np.int64)
    cols = np.array([t[1] for t in triples], dtype=np.int64)
    values = np.array([t[2] for t in triples], dtype=np.float32)
    top, scores = top_k_of_pairs(rows, cols, values, 6, k)
    for row in range(6):
        expected = sorted(((-v, c) for r, c, v in triples if r == row))[:k]
        got = [(c, s) for c, s in zip(top[row], scores[row], strict=True) if c >= 0]
        assert got == [(c, -v) for v, c in expected]
    assert np.array_equal(pair_order(rows, cols, values), np.lexsort((cols, -values, rows)))
    keep = at_least_kth(rows, values, 6, k)
    assert np.array_equal(top_k_of_pairs(rows[keep], cols[keep], values[keep], 6, k)[0], top)


def test_at_least_kth_keeps_few_pairs() -> None:
    rows = np.zeros(1000, dtype=np.int64)
    values = np.arange(1000, dtype=np.float32)
    assert at_least_kth(rows, values, 1, 3).sum() <= 3 + 1000 // 256 + 1


def test_top_k_clustered_is_exact_on_small_catalogues() -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(60, 5)).astype(np.float32)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    exact = top_k_similar(features, 4)
    clustered = top_k_clustered(features, 4, cluster_size=10, probe=8)  # 6 cells <= 8: brute force
    assert np.array_equal(clustered[0], exact[0])


def test_top_k_clustered_finds_the_neighbours_within_blobs() -> None:
    rng = np.random.default_rng(2)
    centres = np.eye(16, dtype=np.float32)  # 16 well separated blobs of 50 films
    features = np.repeat(centres, 50, axis=0) + 0.05 * rng.normal(size=(800, 16)).astype(np.float32)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    top, scores = top_k_clustered(features, 5, cluster_size=50, probe=3)  # 16 cells
    exact, _ = top_k_similar(features, 5)
    assert (top != np.arange(800)[:, None]).all()
    assert all(len(set(row)) == 5 for row in top.tolist())
    assert np.mean([len(set(a) & set(b)) / 5 for a, b in zip(top.tolist(), exact.tolist(), strict=True)]) > 0.95
    assert (top // 50 == np.arange(800)[:, None] // 50).all()  # neighbours from the same blob
    assert (np.diff(scores, axis=1) <= 0).all()


def test_spherical_kmeans_separates_directions() -> None:
    features = np.array([[1, 0], [0.99, 0.1], [0, 1], [0.1, 0.99]], dtype=np.float32)
    labels, centres = spherical_kmeans(features / np.linalg.norm(features, axis=1, keepdims=True), 2)
    assert labels[0] == labels[1] != labels[2] == labels[3]
    assert np.linalg.norm(centres, axis=1) == pytest.approx([1.0, 1.0])
