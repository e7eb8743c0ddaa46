"""The model's artifact: every film's k best neighbours as (movie_id, rank, neighbour_id, score),
and, from the trained model, ``reason``: the signals that made most of the score
(:mod:`movierec.model.reasons`; releases built before it have no such column).

Beside it, when the model had ratings, ``likes.parquet``: (movie_id, likes) the training users
who liked each film (0 for a film nobody liked: its list is ranked on content alone), which the
catalog artifact keeps so that the web page can say so."""

from __future__ import annotations

import numpy as np
import polars as pl

NEIGHBOURS_SCHEMA = {"movie_id": pl.Int64, "rank": pl.Int32, "neighbour_id": pl.Int64, "score": pl.Float32}
REASON = "reason"
LIKES = "likes.parquet"  # in the release's model/


def neighbours_frame(
    ids: np.ndarray, top: np.ndarray, scores: np.ndarray, reasons: np.ndarray | None = None
) -> pl.DataFrame:
    """The artifact's rows from (n, k) arrays of neighbour rows and scores (-1 = none), with a
    ``reason`` column when ``reasons`` ((n, k) strings) is given."""
    n, k = top.shape
    valid = top >= 0
    rank = np.broadcast_to(np.arange(1, k + 1, dtype=np.int32), (n, k))
    frame = pl.DataFrame(
        {
            "movie_id": np.broadcast_to(ids[:, None], (n, k))[valid],
            "rank": rank[valid],
            "neighbour_id": ids[np.where(valid, top, 0)][valid],
            "score": scores[valid].astype(np.float32),
        },
        schema=NEIGHBOURS_SCHEMA,
    )
    if reasons is None:
        return frame
    return frame.with_columns(pl.Series(REASON, reasons[valid].tolist(), dtype=pl.String))


def likes_frame(ids: np.ndarray, support: np.ndarray) -> pl.DataFrame:
    """(movie_id, likes): the training users who liked each film of the catalogue.

    >>> likes_frame(np.array([862, 11]), np.array([3.0, 0.0], dtype=np.float32)).rows()
    [(862, 3), (11, 0)]
    """
    return pl.DataFrame(
        {"movie_id": ids, "likes": np.rint(support).astype(np.int64)}, schema={"movie_id": pl.Int64, "likes": pl.Int64}
    )
