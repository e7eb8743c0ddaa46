"""The recommender: content features of every film, top-K neighbours computed blockwise.

The first model (the seed's method, kept as the evaluation's yardstick): TF-IDF over title,
genres and overview; the K nearest films by cosine similarity. Never an N×N dense matrix: the
similarities of a block of rows are computed as a sparse product, and only the top K of each row
are kept.

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
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

NEIGHBOURS_SCHEMA = {"movie_id": pl.Int64, "rank": pl.Int32, "neighbour_id": pl.Int64, "score": pl.Float32}


def tfidf_features(movies: pl.DataFrame, genres: pl.DataFrame) -> sp.csr_matrix:
    """Rows of unit-norm TF-IDF features over title, genre names and overview, in movies order."""
    genre_text = genres.group_by("movie_id").agg(pl.col("genre").str.join(" ").alias("genre_text"))
    docs = (
        movies.select("id", "title", "overview")
        .join(genre_text, left_on="id", right_on="movie_id", how="left", maintain_order="left")
        .select(pl.concat_str(
            [pl.col("title").fill_null(""), pl.col("genre_text").fill_null(""), pl.col("overview").fill_null("")],
            separator=" ",
        ))
        .to_series()
        .to_list()
    )
    vectorizer = TfidfVectorizer(stop_words="english", min_df=1, dtype=np.float32)
    return normalize(vectorizer.fit_transform(docs)).tocsr()


def top_k_neighbours(
    features: sp.csr_matrix, ids: pl.Series, k: int, block_rows: int = 2048,
    prior: np.ndarray | None = None,
) -> pl.DataFrame:
    """The k most similar other films of every film, best first, as (movie_id, rank, neighbour_id,
    score). ``features`` rows must be unit-norm so that the product is the cosine similarity;
    ``prior`` (one value per film) is added to every candidate's score when given."""
    n = features.shape[0]
    k = min(k, max(n - 1, 0))
    transposed = features.T.tocsc()
    ids_array = ids.to_numpy()
    movie_ids, ranks, neighbours, scores = [], [], [], []
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        block = (features[start:stop] @ transposed).toarray()
        if prior is not None:
            block += prior[None, :]
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # never the film itself
        if k == 0:
            continue
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(block, top, axis=1)
        # Best first; ties broken by the lower row index, so results are deterministic.
        order = np.lexsort((top, -top_scores), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        top_scores = np.take_along_axis(top_scores, order, axis=1)
        movie_ids.append(np.repeat(ids_array[start:stop], k))
        ranks.append(np.tile(np.arange(1, k + 1, dtype=np.int32), stop - start))
        neighbours.append(ids_array[top.ravel()])
        scores.append(top_scores.ravel().astype(np.float32))
    if not movie_ids:
        return pl.DataFrame(schema=NEIGHBOURS_SCHEMA)
    return pl.DataFrame(
        {
            "movie_id": np.concatenate(movie_ids), "rank": np.concatenate(ranks),
            "neighbour_id": np.concatenate(neighbours), "score": np.concatenate(scores),
        },
        schema=NEIGHBOURS_SCHEMA,
    )
