"""The recommender's pure parts: top-k selection, features, collaborative filtering, candidates,
signals, blending and tuning, on fixtures small enough to work out by hand."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.model.ann import spherical_kmeans, top_k_clustered
from movierec.model.artifact import NEIGHBOURS_SCHEMA, neighbours_frame
from movierec.model.candidates import in_pool, merge_pools
from movierec.model.cf import ItemCF, cap_likes, lookup_pairs
from movierec.model.features import FilmTables, ContentFeaturizer, era_features, popularity_prior, quality_prior
from movierec.model.ranking import (
    DEFAULT_WEIGHTS,
    RANKING_SIGNALS,
    Blend,
    blend,
    confidence,
    likes_prior,
    pair_dot_by_code,
    pair_dot_dense,
    pair_signals,
    rank_pool,
)
from movierec.model.text import STOP_WORDS, TextVectorizer, truncated_svd
from movierec.model.topk import at_least_kth, pair_order, select_top_k, top_k_of_pairs, top_k_similar, top_k_sparse
from movierec.model.targets import Targets, Yardstick, meet_targets
from movierec.model.tuning import Objective, tune_blend
from movierec.model.vectors import unit_rows

INF = np.inf


# ----------------------------------------------------------------------------------------------
# Top-k selection
# ----------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------
# Content features
# ----------------------------------------------------------------------------------------------


def tiny_catalogue() -> FilmTables:
    """Four films: 1 and 2 share a keyword, the director and a collection; 3 and 4 do not."""
    return FilmTables(
        movies=pl.DataFrame(
            {
                "id": [1, 2, 3, 4],
                "title": ["Sky", "Sky Two", "Sea", "Land"],
                "overview": ["pilots fly planes", "pilots fly again", "sailors sail ships", None],
                "tagline": [None, "higher", None, None],
                "original_language": ["en", "en", "fr", None],
                "release_year": [1990, 1994, 2010, None],
                "vote_average": [7.0, 6.0, 8.0, None],
                "vote_count": [100, 10, 0, None],
                "collection_id": [50, 50, None, None],
            },
            schema_overrides={"release_year": pl.Int32, "vote_count": pl.Int64, "collection_id": pl.Int64},
        ),
        genres=pl.DataFrame({"movie_id": [1, 2, 3, 3], "genre_id": [10, 10, 10, 20]}),
        keywords=pl.DataFrame({"movie_id": [1, 1, 2, 9], "keyword_id": [100, 200, 100, 100]}),  # 9: not a film
        cast=pl.DataFrame({"movie_id": [1, 1, 2, 2, 3], "person_id": [7, 8, 7, 9, 8], "order": [0, 1, 5, 0, 1]}),
        crew=pl.DataFrame(
            {"movie_id": [1, 2, 3], "person_id": [70, 70, 70], "job": ["Director", "Director", "Editor"]}
        ),
    )


def test_text_vectorizer_by_hand() -> None:
    docs = pl.Series(["Red apple", "red RED car", "blue car of the", None])
    vectorizer = TextVectorizer(min_df=1, max_df=1.0)
    matrix = vectorizer.fit_transform(docs).toarray()
    assert vectorizer.vocabulary_["term"].to_list() == ["apple", "blue", "car", "red"]  # "of", "the": stop words
    # n = 4; df 1 -> idf ln(5/2) + 1, df 2 -> ln(5/3) + 1; "red" twice in doc 1 -> tf weight 1 + ln 2
    one, two = math.log(5 / 2) + 1, math.log(5 / 3) + 1
    red, car = (1 + math.log(2)) * two, two
    assert matrix[1].tolist() == pytest.approx([0, 0, car / math.hypot(red, car), red / math.hypot(red, car)])
    assert matrix[0].tolist() == pytest.approx([one / math.hypot(one, two), 0, 0, two / math.hypot(one, two)])
    assert matrix[3].tolist() == [0, 0, 0, 0]
    assert np.allclose(vectorizer.transform(docs).toarray(), matrix)


def test_text_vectorizer_equals_scikit_learns_sublinear_tfidf(sample_raw: object) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    movies = pl.read_csv(sample_raw / "movies_metadata.csv.gz", columns=["overview"], n_rows=400)  # type: ignore[operator]
    docs = movies["overview"]
    ours = TextVectorizer(min_df=2, max_df=0.5)
    theirs = TfidfVectorizer(sublinear_tf=True, min_df=2, max_df=0.5, stop_words=list(STOP_WORDS))
    expected = theirs.fit_transform(docs.fill_null("").to_list())
    assert ours.fit(docs).vocabulary_["term"].to_list() == theirs.get_feature_names_out().tolist()
    assert np.allclose(ours.transform(docs).toarray(), expected.toarray(), atol=1e-6)


def test_truncated_svd_finds_the_main_directions() -> None:
    rng = np.random.default_rng(0)
    left, _ = np.linalg.qr(rng.normal(size=(200, 3)))
    right, _ = np.linalg.qr(rng.normal(size=(40, 3)))
    matrix = (left * [10.0, 5.0, 2.0]) @ right.T + 0.01 * rng.normal(size=(200, 40))
    components = truncated_svd(sp.csr_matrix(matrix.astype(np.float32)), 3)
    assert components.shape == (3, 40)
    assert np.abs(components @ right).max(axis=1) == pytest.approx([1, 1, 1], abs=1e-3)
    assert np.array_equal(components, truncated_svd(sp.csr_matrix(matrix.astype(np.float32)), 3))


def test_unit_rows_keeps_zero_rows() -> None:
    dense = unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(dense, [[0.6, 0.8], [0.0, 0.0]]) and dense.dtype == np.float32
    sparse = unit_rows(sp.csr_matrix(np.array([[0.0, 2.0], [0.0, 0.0]])))
    assert sparse.toarray().tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_pair_products_of_dense_and_coded_rows() -> None:
    rows = np.array([[1.0, 0.0], [0.6, 0.8], [1.0, 0.0]], dtype=np.float32)  # rows 0 and 2 share code 7
    pool = np.array([[1, 2], [0, -1], [1, 0]])
    expected = [[0.6, 1.0], [0.6, 0.0], [0.6, 1.0]]
    assert np.allclose(pair_dot_dense(rows, pool), expected)
    assert np.allclose(pair_dot_by_code(rows, np.array([7, 3, 7]), pool), expected)


def test_in_pool() -> None:
    pool = np.array([[1, 2, 3], [0, 2, -1], [0, 1, -1]])
    subset = np.array([[2, -1], [0, 2], [-1, -1]])
    assert in_pool(pool, subset).tolist() == [[False, True, False], [True, True, False], [False, False, False]]


def test_featurizer_by_hand() -> None:
    features = ContentFeaturizer(top_cast=2, min_df=1).fit_transform(tiny_catalogue())
    # keywords: 100 in films 1, 2 (df 2), 200 in film 1 (df 1); idf = ln((1 + 4) / (1 + df)) + 1
    idf_100, idf_200 = math.log(5 / 3) + 1, math.log(5 / 2) + 1
    keywords = (features.keywords @ features.keywords.T).toarray()
    assert keywords[0, 1] == pytest.approx(idf_100 / math.hypot(idf_100, idf_200), abs=1e-6)  # 0.6191
    assert keywords[0, 0] == pytest.approx(1.0)
    assert keywords[2].tolist() == [0, 0, 0, 0]  # film 3 has no keywords
    # cast: only the first 2 billed (order < 2): film 1 {7, 8}, film 2 {9} (7 is billed 6th), film 3 {8}
    # actor 8 is in 2 films (idf as keyword 100), actor 7 in 1 (idf as keyword 200)
    cast = (features.cast @ features.cast.T).toarray()
    assert cast[0, 1] == 0.0
    assert cast[0, 2] == pytest.approx(idf_100 / math.hypot(idf_100, idf_200), abs=1e-6)
    # director: crew with job Director only
    director = (features.director @ features.director.T).toarray()
    assert director[0, 1] == pytest.approx(1.0) and director[0, 2] == 0.0
    assert features.language.tolist() == [0, 0, 1, -1]
    assert features.collection.tolist() == [50, 50, -1, -1]
    genres = features.genres @ features.genres.T
    assert genres[0, 1] == pytest.approx(1.0) and genres[3, 3] == 0.0
    assert 0 < genres[0, 2] < 1
    # text terms: sky pilots fly planes two higher sea sailors sail ships land ("again" is a stop
    # word); fewer films than dimensions, so the text rows are the 11 exact TF-IDF columns
    assert features.vocabulary == {
        "text_terms": 11,
        "text_dims": 11,
        "genres": 2,
        "keywords": 2,
        "cast": 3,
        "director": 1,
        "languages": 2,
        "collections": 1,
        "era_bins": features.vocabulary["era_bins"],
    }
    text = features.text @ features.text.T  # too few films for a projection: exact TF-IDF cosines
    assert text[0, 1] > text[0, 2] == pytest.approx(0.0)
    assert np.linalg.norm(features.text[3]) == pytest.approx(1.0)  # title only


def test_featurizer_transform_equals_fit_transform() -> None:
    catalogue = tiny_catalogue()
    fitted = ContentFeaturizer(min_df=1).fit(catalogue)
    once = ContentFeaturizer(min_df=1).fit_transform(catalogue)
    again = fitted.transform(catalogue)
    assert np.allclose(once.text, again.text)
    assert (once.keywords != again.keywords).nnz == 0


def test_featurizer_survives_empty_tables() -> None:
    empty = tiny_catalogue()
    empty = FilmTables(
        movies=empty.movies.with_columns(pl.lit(None, pl.String).alias("overview")),
        genres=empty.genres.clear(),
        keywords=empty.keywords.clear(),
        cast=empty.cast.clear(),
        crew=empty.crew.clear(),
    )
    features = ContentFeaturizer().fit_transform(empty)
    assert features.keywords.shape == (4, 0) and features.genres.shape == (4, 0)
    assert features.vocabulary["keywords"] == 0


def test_era_features_decay_with_the_years_between() -> None:
    era = era_features(np.array([1990.0, 1991.0, 2000.0, np.nan]), np.arange(1980.0, 2011.0, 5.0), width=6.0)
    product = era @ era.T
    assert product[0, 0] == pytest.approx(1.0)
    assert 1.0 > product[0, 1] > product[0, 2] > 0
    assert product[3].tolist() == [0, 0, 0, 0]


def test_priors_by_hand() -> None:
    votes = np.array([0.0, 10.0, 100.0])
    assert popularity_prior(votes).tolist() == pytest.approx([0.0, math.log(11) / math.log(101), 1.0])
    # C = mean rating of rated films = (6 + 8) / 2 = 7; m = 80th percentile of votes = 10 + 0.6 · 90 = 64
    quality = quality_prior(np.array([0.0, 6.0, 8.0]), votes)
    assert quality.tolist() == pytest.approx(
        [0.7, (10 / 74 * 6 + 64 / 74 * 7) / 10, (100 / 164 * 8 + 64 / 164 * 7) / 10]
    )


# ----------------------------------------------------------------------------------------------
# Collaborative filtering
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# Candidates, signals, ranking
# ----------------------------------------------------------------------------------------------


def test_merge_pools_by_hand() -> None:
    first = np.array([[2, 1], [0, -1], [1, 2], [0, 0]])
    second = np.array([[1, 3], [3, 1], [2, 0], [-1, -1]])
    # row 0: {2, 1, 3}; row 1: {0, 3} (itself dropped); row 2: {1, 0} (itself dropped); row 3: {0}
    assert merge_pools([first, second]).tolist() == [[1, 2, 3], [0, 3, -1], [0, 1, -1], [0, -1, -1]]


def test_pair_signals_by_hand() -> None:
    catalogue = tiny_catalogue()
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


# ----------------------------------------------------------------------------------------------
# Tuning
# ----------------------------------------------------------------------------------------------


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
