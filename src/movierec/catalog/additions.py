"""The films the refresh added: ``tables/additions.parquet``, and what the API keeps of it.

The table (one row a film: ``movie_id``, ``added_at`` (UTC), ``release``: the release that added
it) is the catalogue's history of additions, carried from release to release:

* ``movierec pipeline`` builds a catalogue from a raw folder: nothing was added to it, the
  release has no such file (an empty history; ``/novedades`` answers an empty list);
* ``movierec ingest`` writes the table of the release it was built on, without the films the new
  catalogue no longer holds (deleted), plus the films of the new catalogue that the base's
  catalogue did not hold, at the time in the new release's name (the UTC time its build started).
  "Added" is judged on the catalogues, not on the batch: a batch record the ETL quarantines adds
  nothing, and a film whose bad record a batch repairs is added then. A chain of ingests keeps
  each film's own date (a film the next batch updates keeps it);
* ``movierec train`` keeps the tables of the release it retrains, this one included.

Releases are never modified, so ``movierec rollback`` to an older release serves that release's
history: the films a rolled-back ingest added are neither in its catalogue nor in its list.

At publish time the catalog artifact keeps two arrays of it (:func:`addition_arrays`): each
film's day of addition (``film_added_day``, days since 1970-01-01, :data:`NO_DAY` for a film not
added) and the rows of the newest :data:`LISTED` additions, newest first (``new_rows``): the
newest release first, and within one release the highest TMDB id first (TMDB numbers films as
they are created, so the newest there too). Beside them, each film's training likes
(``film_likes``, from the model's ``likes.parquet``; -1 when the model had no ratings).

>>> import polars as pl
>>> from datetime import datetime, UTC
>>> first = next_additions(None, [1, 2], [1, 2, 5, 7], "20261201T101500000000Z")
>>> first.select("movie_id", "release").rows()
[(7, '20261201T101500000000Z'), (5, '20261201T101500000000Z')]
>>> second = next_additions(first, [1, 2, 5, 7], [1, 2, 5, 9], "20261202T101500000000Z")  # 7 deleted
>>> second.select("movie_id", "release").rows()
[(9, '20261202T101500000000Z'), (5, '20261201T101500000000Z')]
>>> second["added_at"][0]
datetime.datetime(2026, 12, 2, 10, 15, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # polars only at publish time: the server reads the arrays without it
    import polars as pl

log = logging.getLogger("movierec.catalog")

ADDITIONS = Path("tables") / "additions.parquet"  # inside a release folder
NO_DAY = np.iinfo(np.int32).min  # film_added_day of a film no ingest added
LISTED = 100  # the newest additions the artifact lists (/novedades answers at most this many)
EPOCH = date(1970, 1, 1)


def release_time(name: str) -> datetime:
    """The UTC time a release's name holds (``20261201T101500123456Z``)."""
    return datetime.strptime(name, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)


def next_additions(
    previous: pl.DataFrame | None, base_ids: Iterable[int], new_ids: Iterable[int], release: str
) -> pl.DataFrame:
    """The history of a release built on another: ``previous`` (the base's, None: none) without
    the films the new catalogue lacks, plus the films ``new_ids`` holds and ``base_ids`` did not,
    added by ``release``; newest first (then the highest id first)."""
    import polars as pl

    schema = pl.Schema({"movie_id": pl.Int64(), "added_at": pl.Datetime("us", "UTC"), "release": pl.String()})
    current = pl.Series("movie_id", list(new_ids), dtype=pl.Int64).unique()
    added = current.filter(~current.is_in(pl.Series(list(base_ids), dtype=pl.Int64).implode()))
    fresh = pl.DataFrame(
        {"movie_id": added, "added_at": [release_time(release)] * added.len(), "release": [release] * added.len()},
        schema=schema,
    )
    kept = (
        previous.select(list(schema))
        .cast(schema)
        .filter(pl.col("movie_id").is_in(current.implode()) & ~pl.col("movie_id").is_in(added.implode()))
        if previous is not None
        else pl.DataFrame(schema=schema)
    )
    return pl.concat([fresh, kept]).sort(["added_at", "movie_id"], descending=True)


def write_additions(base: Path, folder: Path, release: str) -> int:
    """Write the history of the release being built in ``folder`` (its tables written) on the
    release ``base``; returns how many films this release added (0, and the base's history
    kept, when the base has no movies table to compare with)."""
    import polars as pl

    new_ids = pl.read_parquet(folder / "tables" / "movies.parquet", columns=["id"])["id"].to_list()
    previous = pl.read_parquet(base / ADDITIONS) if (base / ADDITIONS).is_file() else None
    base_movies = base / "tables" / "movies.parquet"
    if base_movies.is_file():
        base_ids = pl.read_parquet(base_movies, columns=["id"])["id"].to_list()
    else:
        log.warning("release %s has no movies table: no film is recorded as added by %s", base.name, release)
        base_ids = new_ids
    history = next_additions(previous, base_ids, new_ids, release)
    history.write_parquet(folder / ADDITIONS)
    return int((history["release"] == release).sum())


def addition_arrays(release: Path, ids: pl.Series, rows_of: Callable[[pl.Series], np.ndarray]) -> dict[str, np.ndarray]:
    """``film_added_day`` and ``new_rows`` (see the module docstring) of a release; ``ids`` are
    the catalogue's ids in row order, ``rows_of`` maps a Series of ids to rows (-1: not in it)."""
    import polars as pl

    days = np.full(ids.len(), NO_DAY, dtype=np.int32)
    new_rows = np.zeros(0, dtype=np.int32)
    if (release / ADDITIONS).is_file():
        history = pl.read_parquet(release / ADDITIONS, columns=["movie_id", "added_at"]).drop_nulls()
        history = history.sort(["added_at", "movie_id"], descending=True).unique(
            "movie_id", keep="first", maintain_order=True
        )
        rows = rows_of(history["movie_id"])
        day = history["added_at"].dt.date().cast(pl.Int32).to_numpy()
        found = rows >= 0
        days[rows[found]] = day[found]
        new_rows = rows[found][:LISTED].astype(np.int32)
    return {"film_added_day": days, "new_rows": new_rows}


def likes_array(path: Path, ids: pl.Series, rows_of: Callable[[pl.Series], np.ndarray]) -> np.ndarray:
    """Each film's training likes from the model's ``likes.parquet`` (0 for a film it does not
    list); all -1 (unknown) when the release has no such file (trained without ratings)."""
    import polars as pl

    if not path.is_file():
        return np.full(ids.len(), -1, dtype=np.int32)
    table = pl.read_parquet(path, columns=["movie_id", "likes"]).drop_nulls()
    rows = rows_of(table["movie_id"])
    likes = np.zeros(ids.len(), dtype=np.int32)
    found = rows >= 0
    likes[rows[found]] = np.minimum(table["likes"].to_numpy()[found], np.iinfo(np.int32).max)
    return likes


def day_text(day: int) -> str | None:
    """``YYYY-MM-DD`` of a ``film_added_day`` value; None for :data:`NO_DAY`.

    >>> day_text(20788), day_text(int(NO_DAY))
    ('2026-12-01', None)
    """
    return None if day == NO_DAY else (EPOCH + timedelta(days=day)).isoformat()
