"""Item–item collaborative filtering (:mod:`movierec.model.cf`) on likes worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from movierec.model.cf import ItemCF, cap_likes, lookup_pairs

# users 1: films {0, 1, 2}; 2: {0, 1}; 3: {1, 3}; film 4 liked by nobody
LIKES_USERS = np.array([1, 1, 1, 2, 2, 3, 3])
LIKES_ITEMS = np.array([0, 1, 2, 0, 1, 1, 3])


def test_item_cf_conditional_probability_by_hand() -> None:
    cf = ItemCF(alpha=1.0, shrink=0.0, neighbours=3).fit(LIKES_USERS, LIKES_ITEMS, 5)
    # n = [2, 3, 1, 1, 0]; co(0,1) = 2, co(0,2) = co(1,2) = co(1,3) = 1; score = co(i, j) / n_i
    assert cf.similarity_.toarray() == pytest.approx(
        np.array(
            [[0, 2 / 2, 1 / 2, 0, 0], [2 / 3, 0, 1 / 3, 1 / 3, 0], [1, 1, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 0]]
        )
    )
    assert cf.support_.tolist() == [2, 3, 1, 1, 0]
    assert (cf.users_, cf.likes_) == (3, 7)


def test_item_cf_cosine_shrink_and_neighbour_cap() -> None:
    cf = ItemCF(alpha=0.5, shrink=1.0, neighbours=1).fit(LIKES_USERS, LIKES_ITEMS, 5)
    similarity = cf.similarity_.toarray()
    # film 0 keeps only its best: film 1, 2 / sqrt((2 + 1)(3 + 1))
    assert similarity[0].tolist() == pytest.approx([0, 2 / math.sqrt(12), 0, 0, 0])
    # film 1: films 2 and 3 tie at 1 / sqrt(4 · 2) < film 0's 2 / sqrt(12)
    assert similarity[1].tolist() == pytest.approx([2 / math.sqrt(12), 0, 0, 0, 0])


def test_repeated_likes_count_once_and_heavy_users_are_capped() -> None:
    cf = ItemCF(alpha=1.0, shrink=0.0).fit(np.array([1, 1, 1]), np.array([0, 0, 1]), 2)
    assert cf.similarity_.toarray().tolist() == [[0, 1], [1, 0]]
    # without times the lower films are kept; with times the most recent, ties to the lower film
    users, films = np.array([4, 4, 4, 9]), np.array([2, 0, 1, 1])
    assert [a.tolist() for a in cap_likes(users, films, None, 2)] == [[0, 0, 1], [0, 1, 1]]
    assert [a.tolist() for a in cap_likes(users, films, np.array([5, 1, 5, 0]), 2)] == [[0, 0, 1], [1, 2, 1]]
    capped = ItemCF(shrink=0.0, max_likes_per_user=2).fit(users, films, 3, times=np.array([5, 1, 5, 0]))
    assert capped.co_counts_.toarray().tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert (capped.likes_, capped.users_, capped.support_.tolist()) == (3, 2, [0, 2, 1])


def test_lookup_pairs() -> None:
    matrix = sp.csr_matrix(np.array([[0, 2, 0], [3, 0, 4], [0, 0, 0]], dtype=np.float32))
    values = lookup_pairs(matrix, np.array([0, 0, 1, 1, 2, 1]), np.array([1, 2, 0, 2, 2, 1]))
    assert values.tolist() == [2, 0, 3, 4, 0, 0]
    assert lookup_pairs(sp.csr_matrix((2, 2), dtype=np.float32), np.array([0]), np.array([1])).tolist() == [0]
