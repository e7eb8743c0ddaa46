"""MovieLens ratings (the I/O edge): finding and reading them, and mapping them to catalogue films.

Which users' ratings are read is the caller's choice (:mod:`movierec.evaluation.split`): the
filter is applied as the file is parsed. A film is liked when rated at least ``LIKED_RATING``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from movierec.raw.files import find_input, read_bytes

RATINGS_NAMES = ("ratings_small.csv",)
LINKS_NAMES = ("links.csv",)
LIKED_RATING = 4.0

UserFilter = Callable[[pl.DataFrame], pl.DataFrame]


def ratings_inputs(raw_dir: Path) -> tuple[Path, Path] | None:
    """The ratings and links files of RAW, or None when either is missing."""
    ratings = find_input(raw_dir, RATINGS_NAMES, required=False)
    links = find_input(raw_dir, LINKS_NAMES, required=False)
    return (ratings, links) if ratings is not None and links is not None else None


def read_ratings(ratings_path: Path, links_path: Path, users: UserFilter, with_timestamp: bool = False) -> pl.DataFrame:
    """The ratings of the users ``users`` keeps, as (user_id, movie_id, rating), movie_id being
    TMDB's id, and ``timestamp`` (seconds) when ``with_timestamp``. The other users' ratings are
    dropped as the file is parsed."""
    columns = ["userId", "movieId", "rating", *(["timestamp"] if with_timestamp else [])]
    ratings = pl.read_csv(
        read_bytes(ratings_path), columns=columns,
        schema_overrides={"userId": pl.Int64, "movieId": pl.Int64, "rating": pl.Float64, "timestamp": pl.Int64},
    )
    links = pl.read_csv(read_bytes(links_path), columns=["movieId", "tmdbId"],
                        schema_overrides={"movieId": pl.Int64, "tmdbId": pl.Int64})
    return to_tmdb(users(ratings), links)


def to_tmdb(ratings: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """MovieLens (userId, movieId, rating[, timestamp]) to (user_id, movie_id = tmdbId, rating[,
    timestamp]); when two MovieLens films share a TMDB id, a user's best rating of them counts (and
    the first time they rated one)."""
    stamped = "timestamp" in ratings.columns
    return (
        ratings.join(links.drop_nulls("tmdbId"), on="movieId", how="inner")
        .group_by("userId", "tmdbId")
        .agg(pl.col("rating").max(), *([pl.col("timestamp").min()] if stamped else []))
        .select(pl.col("userId").alias("user_id"), pl.col("tmdbId").alias("movie_id"), "rating",
                *(["timestamp"] if stamped else []))
        .sort("user_id", "movie_id")
    )


def liked_rows(ratings: pl.DataFrame, row_index: pl.DataFrame) -> pl.DataFrame:
    """(user_id, row[, timestamp]): the catalogue films (rows of ``row_index``: id, row) each user
    liked (with when, if ``ratings`` has timestamps)."""
    return (
        ratings.filter(pl.col("rating") >= LIKED_RATING)
        .join(row_index, left_on="movie_id", right_on="id", how="inner")
        .select("user_id", "row", *(["timestamp"] if "timestamp" in ratings.columns else []))
        .unique(["user_id", "row"], keep="first", maintain_order=True)
        .sort("user_id", "row")
    )
