"""What every film is like: the text vectorizer and its LSA (:mod:`movierec.model.text`), unit rows
(:mod:`movierec.model.vectors`), the content featurizer and the priors (:mod:`movierec.model.features`)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from movierec.model.features import ContentFeaturizer, FilmTables, era_features, popularity_prior, quality_prior
from movierec.model.text import STOP_WORDS, TextVectorizer, truncated_svd
from movierec.model.vectors import unit_rows
from tiny_films import tiny_films


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


def test_featurizer_by_hand() -> None:
    features = ContentFeaturizer(top_cast=2, min_df=1).fit_transform(tiny_films())
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
    catalogue = tiny_films()
    fitted = ContentFeaturizer(min_df=1).fit(catalogue)
    once = ContentFeaturizer(min_df=1).fit_transform(catalogue)
    again = fitted.transform(catalogue)
    assert np.allclose(once.text, again.text)
    assert (once.keywords != again.keywords).nnz == 0


def test_featurizer_survives_empty_tables() -> None:
    empty = tiny_films()
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
