"""Personal recommendations: the pure scorer and the EASE lists on fixtures worked out by hand, the
batch scorer equal to the one-person scorer, the tuning's record, and the artifact's contract."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.model.ease import ease_inverse, ease_lists, lists_frame, weight_lists
from movierec.model.personal import PersonalParams, PersonalRecommender
from movierec.model.scorer import NO_REASON, Pick, WeightLists, recommend, recommend_many

# Five films. Film 0 lists 1 (+0.5), 2 (+0.25), 4 (-0.125); film 1 lists 2 (+0.5); film 3 lists 4 (+1).
LISTS = WeightLists(
    indptr=np.array([0, 3, 4, 4, 5, 5]),
    cols=np.array([1, 2, 4, 2, 4], dtype=np.int32),
    weights=np.array([0.5, 0.25, -0.125, 0.5, 1.0], dtype=np.float32),
)
# Film-to-film neighbours (2 each, best first); -1 = none.
NEIGHBOURS = np.array([[3, 1], [0, -1], [0, 1], [4, 2], [3, -1]])
POPULAR = np.array([4, 3, 2, 1, 0])  # film 4 is the most voted


def test_recommend_sums_the_named_films_weights_by_hand() -> None:
    # liked 0 and 1: film 1 is named (never recommended); film 2 gets 0.25 (from 0) + 0.5 (from 1)
    # = 0.75, film 4 gets -0.125 (from 0): both candidates, best first.
    picks = recommend([0, 1], LISTS, NEIGHBOURS, 0.0, POPULAR, k=2)
    assert picks == [Pick(2, 0.75, 1), Pick(4, -0.125, 0)]  # porque: 1 gave 0.5 > 0's 0.25


def test_recommend_adds_the_neighbours_discounted_by_rank() -> None:
    # neighbour weight 0.5: film 0's neighbours 3 (rank 1: 0.5 / log2 2 = 0.5) and 1 (rank 2:
    # 0.5 / log2 3); film 3's lists and neighbours are not involved. Liked: 0 only.
    picks = recommend([0], LISTS, NEIGHBOURS, 0.5, POPULAR, k=4)
    expected = {1: 0.5 + 0.5 / np.log2(3), 2: 0.25, 3: 0.5, 4: -0.125}
    assert [p.row for p in picks] == [1, 3, 2, 4]
    assert [p.score for p in picks] == pytest.approx([expected[p.row] for p in picks])
    assert {p.because for p in picks} == {0}


def test_recommend_ties_go_to_the_lower_row_and_porque_to_the_lower_named_film() -> None:
    lists = WeightLists(
        np.array([0, 2, 4, 4]), np.array([2, 1, 2, 0], dtype=np.int32), np.array([0.5, 0.5, 0.5, 0.5], dtype=np.float32)
    )
    # liked 0 only: films 1 and 2 tie at 0.5 -> 1 first
    assert [p.row for p in recommend([0], lists, np.full((3, 1), -1), 0.0, np.arange(3), k=2)] == [1, 2]
    # liked 0 and 1: film 2 gets 0.5 from each -> porque is film 0, the lower row
    assert recommend([1, 0], lists, np.full((3, 1), -1), 0.0, np.arange(3), k=1) == [Pick(2, 1.0, 0)]


def test_recommend_fills_with_popular_films_and_ignores_repeats_and_unknown_rows() -> None:
    # liked 3 (twice) and row 99 (not a film): 3 lists 4 only; the fill takes the most voted
    # films that are neither named nor already picked: 4 is picked, 3 named -> 2, 1
    picks = recommend([3, 3, 99, -1], LISTS, NEIGHBOURS, 0.0, POPULAR, k=3)
    assert picks == [Pick(4, 1.0, 3), Pick(2, 0.0, NO_REASON), Pick(1, 0.0, NO_REASON)]
    assert recommend([], LISTS, NEIGHBOURS, 0.0, POPULAR, k=2) == [Pick(4, 0.0, NO_REASON), Pick(3, 0.0, NO_REASON)]


def lists_matrix(lists: WeightLists) -> sp.csr_matrix:
    """The lists as a sparse film × film matrix."""
    return sp.csr_matrix((lists.weights, lists.cols, lists.indptr), shape=(lists.n, lists.n))


dyadic = st.integers(-8, 8).map(lambda v: v / 8)  # exact in float32: sums never tie by rounding


@st.composite
def lists_and_inputs(draw: st.DrawFn) -> tuple[WeightLists, np.ndarray, list[np.ndarray]]:
    n = draw(st.integers(2, 12))
    src, dst, weights, ranks = [], [], [], []
    for film in range(n):
        others = draw(st.lists(st.integers(0, n - 1).filter(lambda j, f=film: j != f), unique=True, max_size=4))
        for rank, other in enumerate(others):
            src.append(film), dst.append(other), weights.append(draw(dyadic)), ranks.append(rank)
    lists = WeightLists.from_rows(
        np.array(src, dtype=np.int64),
        np.array(dst, dtype=np.int64),
        np.array(weights, dtype=np.float32),
        np.array(ranks, dtype=np.int64),
        n,
    )
    neighbours = np.array(
        draw(st.lists(st.lists(st.integers(-1, n - 1), min_size=3, max_size=3), min_size=n, max_size=n))
    )
    inputs = draw(
        st.lists(st.lists(st.integers(0, n - 1), min_size=1, max_size=5).map(np.array), min_size=1, max_size=6)
    )
    return lists, neighbours, inputs


@pytest.mark.slow
@given(case=lists_and_inputs(), weight=st.sampled_from([0.0, 0.25]))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_the_batch_scorer_equals_the_one_person_scorer(
    case: tuple[WeightLists, np.ndarray, list[np.ndarray]], weight: float
) -> None:
    """The tuning and the evaluation score many people at once; the API one at a time: the same lists."""
    lists, neighbours, inputs = case
    popular = np.arange(lists.n)[::-1]
    batch = recommend_many(inputs, lists, neighbours, weight, popular, k=4)
    for person, named in enumerate(inputs):
        one = [p.row for p in recommend(named, lists, neighbours, weight, popular, k=4)]
        assert batch[person, : len(one)].tolist() == one
        assert (batch[person, len(one) :] == -1).all()
        assert not set(one) & set(named.tolist())


def _dense_ease(likes: np.ndarray, penalty: float) -> np.ndarray:
    """EASE's closed form, B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹, in float64."""
    inverse = np.linalg.inv(likes.T @ likes + penalty * np.eye(likes.shape[1]))
    weights = -inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights


def test_ease_lists_equal_the_closed_form() -> None:
    rng = np.random.default_rng(3)
    likes = (rng.random((60, 9)) < 0.35).astype(np.float64)
    likes[:, 8] = 0.0  # a film nobody liked: no list, never listed
    users, rows = np.nonzero(likes)
    lists = ease_lists(users, rows, 9, penalty=4.0, keep=20)
    expected = np.pad(_dense_ease(likes[:, :8], 4.0), ((0, 1), (0, 1)))  # film 8: a zero row and column
    assert np.allclose(lists_matrix(lists).toarray(), expected, atol=1e-5)
    # every list is sorted by magnitude, largest first
    for film in range(9):
        weights = np.abs(lists.weights[lists.indptr[film] : lists.indptr[film + 1]])
        assert (np.diff(weights) <= 1e-7).all()
    # keep: the 3 largest magnitudes of each film
    short = ease_lists(users, rows, 9, penalty=4.0, keep=3)
    assert np.diff(short.indptr).max() == 3
    full = _dense_ease(likes[:, :8], 4.0)
    for film in range(8):
        kept = set(short.cols[short.indptr[film] : short.indptr[film + 1]].tolist())
        assert kept == set(np.argsort(-np.abs(full[film]), kind="stable")[:3].tolist())


def test_popularity_discount_divides_by_the_targets_likes() -> None:
    rng = np.random.default_rng(5)
    likes = (rng.random((40, 6)) < 0.5).astype(np.float64)
    users, rows = np.nonzero(likes)
    inverse = ease_inverse(users, rows, 6, penalty=2.0)
    assert inverse is not None
    plain = lists_matrix(weight_lists(inverse, keep=10)).toarray()
    discounted = lists_matrix(weight_lists(inverse, keep=10, discount=0.5)).toarray()
    assert np.allclose(discounted, plain / np.sqrt(1 + likes.sum(axis=0))[None, :], atol=1e-6)


def test_ease_caps_the_films_it_covers() -> None:
    # film 2 is the least liked: with max_films = 2 it has no list and is in nobody's
    users = np.array([1, 1, 1, 2, 2, 3])
    rows = np.array([0, 1, 2, 0, 1, 0])
    lists = ease_lists(users, rows, 3, penalty=1.0, max_films=2)
    assert np.diff(lists.indptr).tolist() == [1, 1, 0] and 2 not in lists.cols.tolist()
    assert ease_lists(np.array([1]), np.array([0]), 3, penalty=1.0).cols.size == 0  # one film: nothing to list


def test_weight_lists_frame_round_trip() -> None:
    ids = np.array([10, 20, 30, 40, 50])
    frame = lists_frame(LISTS, ids)
    assert frame.rows()[:3] == [(10, 1, 20, 0.5), (10, 2, 30, 0.25), (10, 3, 50, -0.125)]
    row_of = {film: row for row, film in enumerate(ids.tolist())}
    back = WeightLists.from_rows(
        np.array([row_of[i] for i in frame["movie_id"]]),
        np.array([row_of[i] for i in frame["neighbour_id"]]),
        frame["score"].to_numpy(),
        frame["rank"].to_numpy(),
        5,
    )
    assert back.indptr.tolist() == LISTS.indptr.tolist() and back.cols.tolist() == LISTS.cols.tolist()
    assert LISTS.truncated(1).cols.tolist() == [1, 2, 4]


def _synthetic_likes(seed: int = 0, users: int = 150, films: int = 30) -> pl.DataFrame:
    """Two tastes: even users like even films, odd users odd films, in time order; userId % 5
    decides the split as in the real data (0 evaluation users are left out, as training does)."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, users + 1):
        if user % 5 == 0:
            continue
        liked = rng.choice(np.arange(user % 2, films, 2), size=8, replace=False)
        rows += [(user, int(film), t) for t, film in enumerate(liked)]
    return pl.DataFrame(rows, schema={"user_id": pl.Int64, "row": pl.Int64, "timestamp": pl.Int64}, orient="row")


def test_personal_recommender_tunes_on_validation_users_and_records_it() -> None:
    likes = _synthetic_likes()
    neighbours = np.full((30, 3), -1)
    params = PersonalParams(penalties=(10.0, 1000.0), keeps=(5,), discounts=(0.0,), neighbour_weights=(0.0,))
    model = PersonalRecommender(params).fit(likes, 30, neighbours, np.arange(30))
    info = model.info_
    tuning = info["tuning"]
    assert tuning["tuned"] is True
    assert tuning["validation_users"] == 30  # userId % 5 == 1 among 1..150, all with 8 likes
    assert len(tuning["trials"]) == 2 and tuning["best"] in tuning["trials"]
    assert info["training_users"] == likes["user_id"].n_unique() == 120
    assert info["penalty"] == pytest.approx(info["penalty_per_1000_users"] * 120 / 1000)
    # what it learned: an even film's list holds even films first
    first = model.lists_.cols[model.lists_.indptr[0] : model.lists_.indptr[1]][:3]
    assert (first % 2 == 0).all()
    picks = recommend([0, 2], model.lists_, neighbours, 0.0, np.arange(30))
    assert all(p.row % 2 == 0 for p in picks[:5])


def test_personal_recommender_without_ratings_uses_the_neighbours_alone() -> None:
    model = PersonalRecommender().fit(None, 4, None, np.arange(4))
    assert model.lists_.cols.size == 0 and model.neighbour_weight_ == 1.0
    assert model.info_["used"] is False
