"""Cold start: the borrowed signal of films nobody liked, and the personal lists' borrowed weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import scipy.sparse as sp
from fastapi.testclient import TestClient

from movierec.model.borrow import borrowed, borrowed_weights, content_neighbours, hidden_films, newness, without
from movierec.model.cf import ItemCF
from movierec.model.scorer import WeightLists, recommend


def test_content_neighbours_are_warm_films_weighted_by_content() -> None:
    pool = np.array([[1, 2, 3], [0, 2, -1], [0, 1, 3], [0, 1, 2]])
    content = np.array([[0.2, 0.9, 0.6], [0.5, 0.5, 0.0], [0.3, 0.1, 0.0], [0.4, 0.0, 0.2]], dtype=np.float32)
    support = np.array([5.0, 1.0, 0.0, 2.0])  # film 2 is new: nobody borrows from it
    S = content_neighbours(pool, content, support, k=2).toarray().round(6)
    # film 0: candidates 1 (0.2), 2 (new), 3 (0.6) -> 3 and 1, weights 0.6 / 0.8 and 0.2 / 0.8
    assert S[0].tolist() == [0.0, 0.25, 0.0, 0.75]
    assert S[1].tolist() == [1.0, 0.0, 0.0, 0.0]  # film 2 is new, padding is no film
    assert S[2].tolist() == [0.75, 0.25, 0.0, 0.0]  # a new film borrows from the warm ones
    assert S[3].tolist() == [1.0, 0.0, 0.0, 0.0]  # a zero content score lends nothing


def test_a_new_film_borrows_its_neighbours_audience_and_enters_their_fans_lists() -> None:
    # films 0 and 1 are co-liked; film 2 (new) is like film 1; film 3 is unrelated and warm
    cf = sp.csr_matrix(np.array([[0, 0.8, 0, 0.1], [0.8, 0, 0, 0], [0, 0, 0, 0], [0.1, 0, 0, 0]], dtype=np.float32))
    S = sp.csr_matrix(([1.0], ([2], [1])), shape=(4, 4))
    support = np.array([10.0, 10.0, 0.0, 10.0])
    B = borrowed(S, cf, support, shrink=10.0).toarray()
    assert B[2, 0] == np.float32(0.8)  # its own list: who liked film 1 liked film 0 (newness 1)
    assert B[0, 2] == np.float32(0.8)  # film 0's fans' list gets the new film, at the strength of film 1
    assert B[3, 2] == 0.0 and B[2, 3] == 0.0  # nothing links film 3 to it
    # two warm films: the smoothed signal, scaled by the newness of the newer (½ at 10 likes)
    assert newness(np.array([10.0]), 10.0).tolist() == [0.5]


def test_without_equals_refitting_without_those_films_likes() -> None:
    """Hiding a film's likes leaves every other pair's collaborative score as it is: the tuning's
    films treated as new cost no second co-like pass."""
    rng = np.random.default_rng(4)
    users, items = rng.integers(0, 40, 400), rng.integers(0, 12, 400)
    hidden = np.zeros(12, dtype=bool)
    hidden[[3, 7]] = True
    full = ItemCF(alpha=0.2, shrink=30.0, neighbours=11).fit(users, items, 12)
    kept = ~hidden[items]
    refit = ItemCF(alpha=0.2, shrink=30.0, neighbours=11).fit(users[kept], items[kept], 12)
    assert np.allclose(without(full.similarity_, hidden).toarray(), refit.similarity_.toarray())


def test_hidden_films_are_a_stable_share_of_the_well_liked_ones() -> None:
    ids = np.arange(1, 2001)
    support = np.where(ids % 2 == 0, 20.0, 3.0)
    chosen = hidden_films(ids, support, 0.1, 8, "tuning")
    assert not chosen[support < 8].any()
    assert 60 <= chosen.sum() <= 140  # ~10% of the 1,000 eligible
    order = np.random.default_rng(0).permutation(ids.size)  # the same films whatever the order
    assert set(ids[order][hidden_films(ids[order], support[order], 0.1, 8, "tuning")]) == set(ids[chosen])
    assert set(ids[hidden_films(ids, support, 0.1, 8, "other")]) != set(ids[chosen])


def test_a_new_film_can_be_one_of_a_persons_picks() -> None:
    """Film 0's EASE list points to films 1 and 3; film 4 is new and like film 1: its borrowed
    weight, on the list's scale, makes it a pick of someone who liked film 0."""
    lists = WeightLists(
        np.array([0, 2, 2, 2, 2, 2]), np.array([1, 3], dtype=np.int32), np.array([0.6, 0.2], dtype=np.float32)
    )
    S = sp.csr_matrix(([1.0], ([4], [1])), shape=(5, 5))
    borrowed = borrowed_weights(lists, S)
    extended = borrowed.into(lists, scale=0.5)
    assert borrowed.gamma == 1.0  # its best borrowed weight (0.6) is already the lists' best own weight
    picks = [p.row for p in recommend([0], extended, np.full((5, 1), -1), 0.0, np.arange(5), k=3)]
    assert picks == [1, 4, 3]  # 0.6, then the new film at 0.6 × 0.5, then 0.2
    assert [p.row for p in recommend([0], lists, np.full((5, 1), -1), 0.0, np.array([2]), k=3)] == [1, 3, 2]


def test_the_personal_endpoint_returns_a_film_nobody_liked(sample_data: Path, client: TestClient) -> None:
    """Someone who names a film nobody liked is answered by its film-to-film neighbours (its
    content and the audience it borrows), not by the popularity fill: its best neighbour comes
    first, and here that is a film nobody liked either."""
    model = sample_data / "current" / "model"
    likes = pl.read_parquet(model / "likes.parquet")
    new = set(likes.filter(pl.col("likes") == 0)["movie_id"].to_list())
    first = pl.read_parquet(model / "neighbours.parquet").filter(pl.col("rank") == 1)
    pairs = first.filter(pl.col("movie_id").is_in(new) & pl.col("neighbour_id").is_in(new)).sort("movie_id")
    assert pairs.height > 10
    named, expected = pairs.row(0)[0], pairs.row(0)[2]
    answer = client.get(f"/recomendacion_usuario?id={named}")
    assert answer.status_code == 200
    picks = answer.json()["peliculas"]
    assert picks[0]["id"] == expected and expected in new and picks[0]["puntaje"] > 0, picks[:2]
