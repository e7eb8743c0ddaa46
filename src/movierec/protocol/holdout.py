"""Holding out each user's latest likes: the personal recommendations' train/test split in time.

A person gives the films they liked; the recommender must find the ones they liked next. For
every user with at least ``min_likes`` likes, the earliest ``floor(fraction × likes)`` by
timestamp are the input and the rest (at least one) the truth. Likes at the same second are
ordered by film row, so the split is deterministic; no truth like is ever earlier than an input
like.

>>> import polars as pl
>>> likes = pl.DataFrame({"user_id": [1] * 5 + [2] * 2, "row": [10, 11, 12, 13, 14, 20, 21],
...                       "timestamp": [5, 1, 4, 2, 3, 0, 1]})
>>> given, held = time_split(likes)
>>> given.sort("user_id", "timestamp")["row"].to_list(), held["row"].to_list()
([11, 13, 14, 12], [10])
"""

from __future__ import annotations

import numpy as np
import polars as pl

FRACTION = 0.8
MIN_LIKES = 5


def time_split(
    likes: pl.DataFrame, fraction: float = FRACTION, min_likes: int = MIN_LIKES
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(input, truth) rows (user_id, row, timestamp) of the users with ≥ ``min_likes`` likes."""
    ordered = (
        likes.select("user_id", "row", "timestamp")
        .sort("user_id", "timestamp", "row")
        .with_columns(position=pl.int_range(pl.len()).over("user_id"), count=pl.len().over("user_id"))
        .filter(pl.col("count") >= min_likes)
        .with_columns(given=pl.col("position") < (pl.col("count") * fraction).floor())
    )
    keep = ["user_id", "row", "timestamp"]
    return ordered.filter(pl.col("given")).select(keep), ordered.filter(~pl.col("given")).select(keep)


def grouped(frame: pl.DataFrame, users: np.ndarray) -> list[np.ndarray]:
    """The rows of each of ``users`` (sorted user ids) in ``frame`` (user_id, row), one array each."""
    table = frame.select("user_id", "row").sort("user_id", "row")
    ids = table["user_id"].to_numpy()
    rows = table["row"].to_numpy().astype(np.int64)
    starts = np.searchsorted(ids, users, side="left")
    stops = np.searchsorted(ids, users, side="right")
    return [rows[a:b] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)]
