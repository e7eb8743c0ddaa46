"""The seed's method (TF-IDF over title, genres and overview; cosine nearest neighbours), kept as the
evaluation's yardstick.

Example:
    >>> import polars as pl
    >>> movies = pl.DataFrame({"id": [1, 2, 3], "title": ["Toy Story", "Toy Story 2", "Heat"],
    ...                        "overview": ["toys", "toys again", "a heist"]})
    >>> genres = pl.DataFrame({"movie_id": [1, 2, 3], "genre": ["Animation", "Animation", "Crime"]})
    >>> top_k_neighbours(tfidf_features(movies, genres), movies["id"], k=1)["neighbour_id"].to_list()
    [2, 1, 1]
"""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from movierec.model.artifact import neighbours_frame
from movierec.model.topk import top_k_similar
from movierec.model.vectors import unit_rows


def tfidf_features(movies: pl.DataFrame, genres: pl.DataFrame) -> sp.csr_matrix:
    """Rows of unit-norm TF-IDF features over title, genre names and overview, in movies order."""
    genre_text = genres.group_by("movie_id").agg(pl.col("genre").str.join(" ").alias("genre_text"))
    docs = (
        movies.select("id", "title", "overview")
        .join(genre_text, left_on="id", right_on="movie_id", how="left", maintain_order="left")
        .select(
            pl.concat_str(
                [pl.col("title").fill_null(""), pl.col("genre_text").fill_null(""), pl.col("overview").fill_null("")],
                separator=" ",
            )
        )
        .to_series()
        .to_list()
    )
    # scikit-learn only here: importing it costs seconds, and only the evaluation needs the seed
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", min_df=1, dtype=np.float32)
    return sp.csr_matrix(unit_rows(vectorizer.fit_transform(docs)))


def top_k_neighbours(
    features: sp.csr_matrix | np.ndarray,
    ids: pl.Series,
    k: int,
    block_rows: int = 2048,
    prior: np.ndarray | None = None,
) -> pl.DataFrame:
    """The k most similar other films of every film, best first, as (movie_id, rank, neighbour_id,
    score). ``features`` rows must be unit-norm so that the product is the cosine similarity;
    ``prior`` (one value per film) is added to every candidate's score when given."""
    top, scores = top_k_similar(features, k, block_rows, prior)
    return neighbours_frame(ids.to_numpy(), top, scores)
