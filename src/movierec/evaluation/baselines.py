"""The yardsticks scored beside the model: random, most popular, the seed's method, and the artifact's own top k."""

from __future__ import annotations

import numpy as np
import polars as pl

from movierec.model.seed import tfidf_features
from movierec.model.topk import select_top_k, top_k_similar


def random_top(n: int, k: int, seed: int = 0) -> np.ndarray:
    """k distinct other films per film, uniformly at random (seeded)."""
    rng = np.random.default_rng(seed)
    k = min(k, max(n - 1, 0))
    top = np.empty((n, k), dtype=np.int64)
    for row in range(n):
        picks = rng.choice(n - 1, size=k, replace=False)
        top[row] = picks + (picks >= row)  # skip the film itself
    return top


def popular_top(popularity: np.ndarray, k: int) -> np.ndarray:
    """The k most popular other films for every film (ties to the lower row)."""
    n = popularity.size
    k = min(k, max(n - 1, 0))
    ranking = np.argsort(-popularity, kind="stable")[: k + 1]
    top = np.broadcast_to(ranking, (n, ranking.size))
    itself = top == np.arange(n)[:, None]
    # a stable sort moves the film itself (if listed) to the end; the first k are the others
    order = np.argsort(itself, axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)[:, :k].astype(np.int64)


def seed_top(movies: pl.DataFrame, genres: pl.DataFrame, k: int) -> np.ndarray:
    """The seed's method: the k nearest films by TF-IDF cosine, re-sorted by vote average."""
    top, _ = top_k_similar(tfidf_features(movies, genres), k, block_rows=1024, workers=2)  # as much memory as 1 thread
    votes = movies["vote_average"].fill_null(0.0).to_numpy().astype(np.float32)
    by_votes = np.where(top >= 0, votes[np.maximum(top, 0)], -np.inf)
    order, _ = select_top_k(by_votes, top.shape[1])
    return np.take_along_axis(top, np.maximum(order, 0), axis=1)


def artifact_top(neighbours: pl.DataFrame, row_index: pl.DataFrame, n: int, k: int) -> np.ndarray:
    """(n, k) rows of the artifact's first k neighbours of every film (-1 where fewer)."""
    top = np.full((n, k), -1, dtype=np.int64)
    rows = (
        neighbours.filter(pl.col("rank") <= k)
        .join(row_index, left_on="movie_id", right_on="id", how="inner")
        .join(row_index.rename({"row": "neighbour_row"}), left_on="neighbour_id", right_on="id", how="inner")
    )
    top[rows["row"].to_numpy(), rows["rank"].to_numpy() - 1] = rows["neighbour_row"].to_numpy()
    return top
