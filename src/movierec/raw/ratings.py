"""MovieLens ratings (the I/O edge): choosing the file, reading it lazily, mapping it to catalogue films.

Which file (``settings.ratings``, ``MOVIEREC_RATINGS``): ``auto`` reads ``ratings.csv`` (the full
Kaggle file, 26M ratings) when RAW has it, else ``ratings_small.csv``; ``full`` and ``small``
force one. Each may be plain, ``.gz`` or ``.zip``; ``links.csv`` maps MovieLens ids to TMDB ids.

Reading is lazy: Polars ``scan_csv`` with an explicit schema, only the needed columns parsed, the
user filter (the caller's, from :mod:`movierec.protocol.split`) and the like filter applied while
the file streams, so neither the whole file nor an evaluation user's rating is ever held. Polars
streams ``.gz`` itself; a ``.zip`` is first copied out to a temporary plain file (streamed, never
in memory). A file whose header lacks a column, or whose values do not parse, is an
:class:`~movierec.raw.files.InputError` (exit code 2 in the CLI).

A film is liked when rated at least ``LIKED_RATING``; a like's time is its rating's timestamp.
"""

from __future__ import annotations

import csv
import gzip
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import polars as pl

from movierec.raw.files import InputError, find_input

FULL_RATINGS = "ratings.csv"
SMALL_RATINGS = "ratings_small.csv"
RATINGS_CHOICES = ("auto", "small", "full")
LINKS_NAMES = ("links.csv",)
LIKED_RATING = 4.0
RATINGS_SCHEMA = pl.Schema(
    {"userId": pl.Int64(), "movieId": pl.Int64(), "rating": pl.Float64(), "timestamp": pl.Int64()}
)
LINKS_SCHEMA = pl.Schema({"movieId": pl.Int64(), "tmdbId": pl.Int64()})

UserFilter = Callable[[pl.LazyFrame], pl.LazyFrame]
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def ratings_inputs(raw_dir: Path, choice: str = "auto") -> tuple[Path, Path] | None:
    """The ratings and links files of RAW for ``choice`` (auto | small | full).

    ``auto``: ratings.csv when present, else ratings_small.csv; None when RAW has neither, or no
    links.csv (the model is then content only). A forced choice whose files are missing is an
    InputError.
    """
    if choice not in RATINGS_CHOICES:
        raise InputError(f"ratings must be one of {', '.join(RATINGS_CHOICES)}, got {choice!r}")
    names = {"auto": (FULL_RATINGS, SMALL_RATINGS), "full": (FULL_RATINGS,), "small": (SMALL_RATINGS,)}[choice]
    forced = choice != "auto"
    ratings = find_input(raw_dir, names, required=forced)
    links = find_input(raw_dir, LINKS_NAMES, required=forced)
    return (ratings, links) if ratings is not None and links is not None else None


@contextmanager
def plain_csv(path: Path, folder: Path | None = None) -> Iterator[Path]:
    """A path Polars (or Spark) can scan: the file itself (plain or .gz), or a .zip's first CSV
    copied out to a temporary file (in ``folder``, default the system's) removed afterwards."""
    if path.suffix != ".zip":
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=".movierec-ratings-", dir=folder) as temporary:
        target = Path(temporary) / path.stem
        try:
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if m.endswith(".csv")] or archive.namelist()
                if not members:
                    raise InputError(f"{path.name}: the zip archive is empty")
                with archive.open(members[0]) as source, target.open("wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
        except zipfile.BadZipFile as exc:
            raise InputError(f"{path.name}: not a zip archive ({exc})") from None
        yield target


def header(path: Path) -> list[str]:
    """The column names on the first line of a plain or .gz CSV."""
    try:
        opener = gzip.open if path.suffix == ".gz" or _is_gzip(path) else open
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as f:
            first = f.readline()
    except (OSError, EOFError) as exc:
        raise InputError(f"{path.name}: cannot be read ({exc})") from None
    return [name.strip() for name in next(csv.reader([first.rstrip("\r\n")]))] if first.strip() else []


def scan(path: Path, schema: pl.Schema, name: str | None = None) -> pl.LazyFrame:
    """A lazy scan of a plain or .gz CSV whose header must hold ``schema``'s columns (other
    columns are kept as text and never parsed unless selected)."""
    found = header(path)
    missing = [c for c in schema if c not in found]
    if missing:
        shown = ", ".join(found) if found else "nothing (empty file)"
        raise InputError(f"{name or path.name}: missing columns {', '.join(missing)} (found: {shown})")
    full = {c: schema.get(c, pl.String) for c in found}
    return pl.scan_csv(path, schema=full)


def collect(query: pl.LazyFrame, name: str) -> pl.DataFrame:
    """Run a scan with the streaming engine; a value that does not parse is an InputError."""
    try:
        return query.collect(engine="streaming")
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError, pl.exceptions.SchemaError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{name}: unreadable values ({reason})") from None


def read_links(links_path: Path) -> pl.DataFrame:
    """(movieId, tmdbId) of the MovieLens films that have a TMDB id."""
    with plain_csv(links_path) as path:
        query = scan(path, LINKS_SCHEMA, links_path.name).select("movieId", "tmdbId").drop_nulls("tmdbId")
        return collect(query, links_path.name)


def read_ratings(ratings_path: Path, links_path: Path, users: UserFilter, with_timestamp: bool = False) -> pl.DataFrame:
    """The ratings of the users ``users`` keeps, as (user_id, movie_id, rating), movie_id being
    TMDB's id, and ``timestamp`` (seconds) when ``with_timestamp``; when two MovieLens films share
    a TMDB id, a user's best rating of them counts. The other users' ratings are dropped as the
    file streams."""
    columns = ["userId", "movieId", "rating", *(["timestamp"] if with_timestamp else [])]
    links = read_links(links_path)
    with plain_csv(ratings_path) as path:
        query = users(scan(path, RATINGS_SCHEMA, ratings_path.name).select(columns))
        query = to_tmdb(query, links.lazy())
        return collect(query, ratings_path.name)


def read_likes(ratings_path: Path, links_path: Path, users: UserFilter) -> pl.DataFrame:
    """The likes of the users ``users`` keeps, as (user_id, movie_id = TMDB id, timestamp): one
    row per user and film, at the latest time the user rated it at least ``LIKED_RATING``."""
    links = read_links(links_path)
    with plain_csv(ratings_path) as path:
        return collect(
            latest_likes(users(scan(path, RATINGS_SCHEMA, ratings_path.name)), links.lazy()), ratings_path.name
        )


def latest_likes(ratings: pl.LazyFrame, links: pl.LazyFrame) -> pl.LazyFrame:
    """MovieLens ratings (userId, movieId, rating, timestamp) to likes (user_id, movie_id = TMDB
    id, timestamp): one row per user and film, at the latest time the user rated it at least
    ``LIKED_RATING``."""
    return (
        ratings.filter(pl.col("rating") >= LIKED_RATING)
        .join(links, on="movieId", how="inner")
        .group_by("userId", "tmdbId")
        .agg(pl.col("timestamp").max())
        .select(pl.col("userId").alias("user_id"), pl.col("tmdbId").alias("movie_id"), "timestamp")
    )


@dataclass(frozen=True)
class Likes:
    """Likes of catalogue films read from one ratings file: ``frame`` holds (user_id, row,
    timestamp[, rating]) sorted by user and row (``row``: the film's row in the release's movies
    table); ``files`` are the ratings and links files they come from (Spark's engine reads them
    itself)."""

    frame: pl.DataFrame
    files: tuple[Path, Path]

    @property
    def source(self) -> str:
        """The ratings file's name (ratings.csv or ratings_small.csv, and its extension)."""
        return self.files[0].name


@dataclass(frozen=True)
class SplitLikes:
    """The likes of one build (:func:`read_split_likes`): the training users' — the only ratings
    a model is fitted on — and the held-out users' (None when not asked for)."""

    training: Likes
    held_out: Likes | None


def read_split_likes(
    files: tuple[Path, Path], row_index: pl.DataFrame, training: UserFilter, held_out: UserFilter | None = None
) -> SplitLikes:
    """The likes of the catalogue films (``row_index``: id, row), the ratings file read once.

    ``training`` keeps the users whose likes train: (user_id, row, timestamp), one row per user
    and film at the latest time they rated it at least ``LIKED_RATING``
    (:func:`latest_likes`), their other ratings dropped as the file streams. ``held_out``, when
    given, keeps the users whose liked films are measured against: (user_id, row, timestamp,
    rating), their best rating of the film and the first time they rated it
    (:func:`to_tmdb`, as the evaluation always read them; the two times differ only when two
    MovieLens films share a TMDB id). Both from one pass over the file: its rows are held in
    memory until both halves are made (26M ratings: about 0.8 GB, for a few seconds).
    """
    ratings_path, links_path = files
    links = read_links(links_path).lazy()
    with plain_csv(ratings_path) as path:
        ratings = scan(path, RATINGS_SCHEMA, ratings_path.name).select(*RATINGS_SCHEMA)
        if held_out is not None:
            ratings = collect(ratings, ratings_path.name).lazy()
        liked = collect(latest_likes(training(ratings), links), ratings_path.name)
    evaluated = None if held_out is None else to_tmdb(held_out(ratings), links).collect()
    del ratings
    return SplitLikes(
        Likes(like_rows(liked, row_index), files),
        None if evaluated is None else Likes(liked_rows(evaluated, row_index, with_rating=True), files),
    )


def catalogue_rows(ids: pl.Series) -> pl.DataFrame:
    """(id, row): the row of each film of a release's movies table, from its ``id`` column."""
    return pl.DataFrame({"id": ids.cast(pl.Int64), "row": np.arange(ids.len(), dtype=np.int64)})


def to_tmdb(ratings: Frame, links: Frame) -> Frame:
    """MovieLens (userId, movieId, rating[, timestamp]) to (user_id, movie_id = tmdbId, rating[,
    timestamp]); when two MovieLens films share a TMDB id, a user's best rating of them counts (and
    the first time they rated one)."""
    stamped = "timestamp" in ratings.collect_schema().names()
    return (
        ratings.join(links.drop_nulls("tmdbId"), on="movieId", how="inner")
        .group_by("userId", "tmdbId")
        .agg(pl.col("rating").max(), *([pl.col("timestamp").min()] if stamped else []))
        .select(
            pl.col("userId").alias("user_id"),
            pl.col("tmdbId").alias("movie_id"),
            "rating",
            *(["timestamp"] if stamped else []),
        )
        .sort("user_id", "movie_id")
    )


def liked_rows(ratings: pl.DataFrame, row_index: pl.DataFrame, *, with_rating: bool = False) -> pl.DataFrame:
    """(user_id, row[, timestamp][, rating]): the catalogue films (rows of ``row_index``: id, row)
    each user liked (with when, if ``ratings`` has timestamps, and the rating when asked)."""
    return (
        ratings.filter(pl.col("rating") >= LIKED_RATING)
        .join(row_index, left_on="movie_id", right_on="id", how="inner")
        .select(
            "user_id",
            "row",
            *(["timestamp"] if "timestamp" in ratings.columns else []),
            *(["rating"] if with_rating else []),
        )
        .unique(["user_id", "row"], keep="first", maintain_order=True)
        .sort("user_id", "row")
    )


def like_rows(likes: pl.DataFrame, row_index: pl.DataFrame) -> pl.DataFrame:
    """(user_id, row, timestamp): the likes of :func:`read_likes` that are catalogue films (rows
    of ``row_index``: id, row), sorted by user and row."""
    return (
        likes.join(row_index, left_on="movie_id", right_on="id", how="inner")
        .select("user_id", "row", "timestamp")
        .sort("user_id", "row")
    )


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == b"\x1f\x8b"
