"""Building a release's serving indexes, once, when the release is published.

:func:`build_arrays` reads the release's tables and model (only the columns the API needs) and
computes every answer that does not depend on the request: the films' columns, the counts per
month and weekday, the title index, the per-person aggregates of actors and directors and each
film's first recommendations, and the films the refresh added and each film's training likes
(:mod:`movierec.catalog.additions`). :func:`write_catalog` stores them as the release's catalog artifact
(``release/catalog/``, :mod:`movierec.catalog.artifact`), which the API maps instead of rebuilding.

Choices made here (the client's spec leaves them open):

* A title shared by several films answers the film with the most votes, then the most popular,
  then the lowest TMDB id; the others are its namesakes. A film is found by its catalogue title,
  its original title and its Spanish titles alike (:mod:`movierec.catalog.titles`).
* Persons are TMDB person ids. Several persons may share a normalized name; a name answers the
  person with the most films, then the highest total return, then the lowest person id, and the
  others are listed as homonyms. A person is found under every spelling of their name that the
  credits use; the most used spelling is displayed.
* A person's films count once each, whatever the number of their credits in the film; totals are
  ``math.fsum`` of the films' ``return`` (correctly rounded, so independent of the order).
* Recommendations are the first ``count`` neighbours by rank, skipping the film itself, films not
  in the catalogue or without a title (so every recommended film can be looked up by id and by
  title), repeats, and rows whose score is not a finite number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import polars as pl

from movierec.catalog.additions import addition_arrays, likes_array
from movierec.catalog.artifact import write_arrays
from movierec.catalog.keys import IdIndex, KeyIndex, Strings
from movierec.catalog.personal import PersonalIndex, personal_arrays
from movierec.catalog.text import normalize_many
from movierec.catalog.titles import originals, read_titles, title_arrays
from movierec.model.artifact import LIKES
from movierec.model.scorer import neighbour_weight_of, neighbours_k_of
from movierec.release.layout import CATALOG, MODEL, NEIGHBOURS_FILE, PERSONAL_FILE, TABLES, read_manifest

MOVIE_COLUMNS = [
    "id",
    "title",
    "release_date",
    "release_year",
    "budget",
    "revenue",
    "return",
    "popularity",
    "vote_average",
    "vote_count",
]
NO_YEAR = np.iinfo(np.int32).min  # release_year is null


class MissingModel(FileNotFoundError):
    """The release has no model artifact to recommend from."""


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of each value among them), by one stable sort.

    >>> factorize(np.array([30, 10, 30, 20]))
    (array([10, 20, 30]), array([2, 0, 2, 1]))
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]] if len(values) else np.zeros(0, dtype=bool)
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


class FilmKeys:
    """TMDB id → row look-ups over whole columns, and the rows ordered by release date."""

    def __init__(self, movies: pl.DataFrame) -> None:
        self.count = movies.height
        self._ids = movies["id"]
        self._rows = pl.int_range(self.count, dtype=pl.Int64, eager=True)
        self.returns = movies["return"].to_numpy()
        # by_date[k] = row of the k-th film by (release date, id); date_rank is its inverse
        days = movies["release_date"].cast(pl.Int32).fill_null(np.iinfo(np.int32).max).to_numpy()
        self.by_date = np.lexsort((movies["id"].to_numpy(), days))
        self.date_rank = np.empty(self.count, dtype=np.int64)
        self.date_rank[self.by_date] = np.arange(self.count)

    def rows(self, ids: pl.Series) -> np.ndarray:
        """The row of every id (a hash look-up), -1 where the id is not in the catalogue."""
        return ids.replace_strict(self._ids, self._rows, default=-1, return_dtype=pl.Int64).to_numpy()


def write_catalog(release: Path, count: int, manifest: Mapping[str, object] | None = None) -> dict[str, object]:
    """Build the catalog artifact of ``release`` into ``release/catalog/``; returns its meta."""
    arrays, meta = build_arrays(release, count, manifest)
    write_arrays(release / CATALOG, arrays, meta)
    return meta


def build_arrays(
    release: Path, count: int, manifest: Mapping[str, object] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """Every serving array of ``release`` (tables/ and model/), ``count`` recommendations a film;
    ``manifest``: the release's (default: its manifest.json), for the personal scorer's weight."""
    tables = release / TABLES
    # NaN is no JSON number: unknown popularity or average becomes null, an unknown return 0.
    has_original = "original_title" in pl.read_parquet_schema(tables / "movies.parquet")
    movies = pl.read_parquet(
        tables / "movies.parquet", columns=MOVIE_COLUMNS + ["original_title"] * has_original
    ).with_columns(
        pl.col("budget").fill_null(0),
        pl.col("revenue").fill_null(0),
        pl.col("vote_count").fill_null(0),
        pl.col("return").cast(pl.Float64).fill_nan(None).fill_null(0.0),
        pl.col("popularity").cast(pl.Float64).fill_null(float("nan")),
        pl.col("vote_average").cast(pl.Float64).fill_null(float("nan")),
    )
    films = FilmKeys(movies)
    titles = movies["title"].to_list()
    arrays: dict[str, np.ndarray] = IdIndex.pack(movies["id"].to_numpy())
    arrays["film_year"] = movies["release_year"].cast(pl.Int32).fill_null(NO_YEAR).to_numpy()
    arrays["film_date_blob"], arrays["film_date_offsets"] = Strings.pack(
        movies["release_date"].dt.strftime("%Y-%m-%d").fill_null("").to_list()
    )
    arrays["film_title_blob"], arrays["film_title_offsets"] = Strings.pack([t or "" for t in titles])
    arrays["film_title_null"] = np.array([t is None for t in titles], dtype=np.uint8)
    for name, column in (("popularity", "popularity"), ("vote_average", "vote_average"), ("return", "return")):
        arrays[f"film_{name}"] = movies[column].to_numpy().astype(np.float64)
    for name, column in (("votes", "vote_count"), ("budget", "budget"), ("revenue", "revenue")):
        arrays[f"film_{name}"] = movies[column].cast(pl.Int64).to_numpy()
    arrays |= addition_arrays(release, movies["id"], films.rows)  # what /novedades lists
    arrays["film_likes"] = likes_array(release / MODEL / LIKES, movies["id"], films.rows)

    dates = movies["release_date"].drop_nulls()
    month_counts, weekday_counts = [0] * 13, [0] * 8
    for month, n in dates.dt.month().value_counts().iter_rows():
        month_counts[month] = n
    for day, n in dates.dt.weekday().value_counts().iter_rows():
        weekday_counts[day] = n

    # Rows in the order a shared title prefers them: most votes, most popular, lowest id.
    preferred = np.lexsort(
        (movies["id"].to_numpy(), -movies["popularity"].fill_nan(-np.inf).to_numpy(), -movies["vote_count"].to_numpy())
    ).tolist()
    # every title a film is found by: catalogue, original, Spanish (catalog/titles.py)
    title_index, title_counts = title_arrays(titles, originals(movies), read_titles(tables, films.rows), preferred)
    arrays |= title_index
    title_of = arrays["film_title_key"]
    titled = title_of >= 0
    del movies, dates

    cast = pl.read_parquet(tables / "cast.parquet", columns=["movie_id", "person_id", "name"])
    arrays |= people_arrays(cast, films, keep_films=False, prefix="actor_")
    directing = (
        pl.scan_parquet(tables / "crew.parquet")
        .filter(pl.col("job") == "Director")
        .select("movie_id", "person_id", "name")
        .collect()
    )
    arrays |= people_arrays(directing, films, keep_films=True, prefix="director_")
    if manifest is None:
        manifest = read_manifest(release) or {}
    # One pass for both: a film's first `count` usable neighbours are the first of the model's k
    # (settings.neighbours_k when it was trained), which the personal scorer adds.
    stored = neighbours_k_of(manifest)
    rows, scores, reasons, labels = recommendations(
        release / MODEL / NEIGHBOURS_FILE, films, titled, max(count, stored)
    )
    arrays["rec_rows"], arrays["rec_scores"], arrays["rec_reasons"] = (
        np.ascontiguousarray(a[:, :count]).ravel() for a in (rows, scores, reasons)
    )
    personal, personal_meta = personal_arrays(
        personal_entries(release / MODEL / PERSONAL_FILE, films),
        titled,
        arrays["film_votes"],
        rows[:, :stored],
        neighbour_weight_of(manifest),
    )
    arrays |= personal
    meta = {
        "films": films.count,
        "recommendations": count,
        "month_counts": month_counts,
        "weekday_counts": weekday_counts,
        "reason_labels": list(labels),
        **title_counts,
        **personal_meta,
    }
    return arrays, meta


def personal_entries(path: Path, films: FilmKeys) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The personal recommender's EASE lists as (film row, other film row, weight, rank), -1 for
    ids not in the catalogue; None when the release has none (trained without ratings' lists)."""
    if not path.is_file():
        return None
    table = pl.read_parquet(path, columns=["movie_id", "rank", "neighbour_id", "score"]).drop_nulls()
    return (
        films.rows(table["movie_id"]),
        films.rows(table["neighbour_id"]),
        table["score"].to_numpy(),
        table["rank"].to_numpy(),
    )


def people_arrays(credits: pl.DataFrame, films: FilmKeys, *, keep_films: bool, prefix: str) -> dict[str, np.ndarray]:
    """The arrays of the persons of one role: aggregates of credits (movie_id, person_id, name)
    over the catalogue's films, and the index of every spelling of their names."""
    credits = credits.drop_nulls()
    rows = films.rows(credits["movie_id"])
    keep = rows >= 0
    credits = credits.filter(pl.Series(keep))
    rows = rows[keep]
    person_ids, person_index = factorize(credits["person_id"].to_numpy())

    # One entry per (person, film), sorted by person then by the film's release date.
    pairs = np.sort((person_index << 32) | films.date_rank[rows])
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    owner = pairs >> 32
    film_rows = films.by_date[pairs & 0xFFFFFFFF]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(pairs) else np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], len(pairs)]
    counts = (ends - starts).astype(np.int32)
    returns = films.returns[film_rows]
    totals = returns[starts]  # a person with one film: that film's return
    for person in np.flatnonzero(counts > 1).tolist():
        totals[person] = math.fsum(returns[starts[person] : ends[person]].tolist())

    # Every spelling a person is credited under finds them; the most used one is displayed.
    spellings = (
        credits.group_by("person_id", "name").len().sort(["person_id", "len", "name"], descending=[False, True, False])
    )
    spelling_owner = np.searchsorted(person_ids, spellings["person_id"].to_numpy()).tolist()
    names: list[str] = [""] * len(person_ids)
    by_key: dict[str, list[int]] = {}
    previous = -1
    spelled = spellings["name"].to_list()
    for i, name, key in zip(spelling_owner, spelled, normalize_many(spelled), strict=True):
        if i != previous:
            names[i] = name
            previous = i
        if not key:
            continue
        owners = by_key.setdefault(key, [])
        if i not in owners:
            owners.append(i)
    for owners in by_key.values():
        if len(owners) > 1:  # homonyms: most films, then highest total, then lowest id
            owners.sort(key=lambda i: (-counts[i], -totals[i], person_ids[i]))
    arrays = KeyIndex.pack(list(by_key), list(by_key.values()), prefix=f"{prefix}key_")
    arrays[f"{prefix}id"] = person_ids.astype(np.int64)
    arrays[f"{prefix}name_blob"], arrays[f"{prefix}name_offsets"] = Strings.pack(names)
    arrays[f"{prefix}films"] = counts
    arrays[f"{prefix}total"] = totals.astype(np.float64)
    if keep_films:
        arrays[f"{prefix}film_starts"] = np.r_[starts, len(pairs)].astype(np.int64)
        arrays[f"{prefix}film_rows"] = film_rows.astype(np.int32)
    return arrays


def recommendations(
    path: Path, films: FilmKeys, titled: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """(rows, scores, reason codes, reason labels): arrays of shape (films, count) of each film's
    first ``count`` usable neighbours by rank, padded with row -1 (score 0, reason "") when the
    model has fewer. Reasons are the artifact's ``reason`` column (the signals that scored the
    pair, e.g. "collection,director"), coded against a few labels; all "" when it has none."""
    if not path.is_file():
        raise MissingModel(f"the release has no model: {path} is missing")
    columns = ["movie_id", "rank", "neighbour_id", "score"]
    has_reason = "reason" in pl.read_parquet_schema(path)
    table = (
        pl.read_parquet(path, columns=columns + ["reason"] * has_reason)
        .drop_nulls(columns)
        .filter(pl.col("score").is_finite())
    )
    src = films.rows(table["movie_id"])
    dst = films.rows(table["neighbour_id"])
    rank = table["rank"].cast(pl.Int64).to_numpy()
    score = table["score"].cast(pl.Float64).to_numpy()
    # Few distinct reasons (combinations of two signal names): a small code per pair, "" first.
    labels: tuple[str, ...] = ("",)
    code = np.zeros(table.height, dtype=np.int32)
    if has_reason:
        reason = table["reason"].fill_null("")
        labels = ("", *sorted(set(reason.unique().to_list()) - {""}))
        code = reason.cast(pl.Enum(labels)).to_physical().cast(pl.Int32).to_numpy()
    del table
    usable = (src >= 0) & (dst >= 0) & (src != dst)
    usable[usable] = titled[dst[usable]]
    src, dst, rank, score, code = src[usable], dst[usable], rank[usable], score[usable], code[usable]
    rank = rank - rank.min(initial=0)
    order = np.argsort(src * (int(rank.max(initial=0)) + 1) + rank, kind="stable")
    src, dst, score, code = src[order], dst[order], score[order], code[order]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]]) if len(src) else np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], len(src)].astype(np.int64)
    position = np.arange(len(src)) - np.repeat(starts, ends - starts)
    top = position < count
    rows = np.full((films.count, count), -1, dtype=np.int32)
    scores = np.zeros((films.count, count), dtype=np.float64)
    codes = np.zeros((films.count, count), dtype=np.int32)
    rows[src[top], position[top]] = dst[top]
    scores[src[top], position[top]] = score[top]
    codes[src[top], position[top]] = code[top]

    # A neighbour listed twice counts once, at its best rank: redo the (rare) films concerned.
    ordered = np.sort(rows, axis=1)
    repeated = ((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).any(axis=1)
    for group in np.flatnonzero(repeated[src[starts]]).tolist():
        film, first, last = int(src[starts[group]]), int(starts[group]), int(ends[group])
        seen: dict[int, tuple[float, int]] = {}
        for neighbour, value, why in zip(
            dst[first:last].tolist(), score[first:last].tolist(), code[first:last].tolist(), strict=True
        ):
            seen.setdefault(neighbour, (value, why))
            if len(seen) == count:
                break
        rows[film], scores[film], codes[film] = -1, 0.0, 0
        rows[film, : len(seen)] = list(seen)
        scores[film, : len(seen)] = [value for value, _ in seen.values()]
        codes[film, : len(seen)] = [why for _, why in seen.values()]
    return rows, scores, codes, labels


def personal_from_release(
    release: Path, manifest: Mapping[str, object], *, titled: np.ndarray, votes: np.ndarray
) -> PersonalIndex | bool:
    """The personal index of a release whose catalog artifact predates the personal arrays, from
    its tables and model files (False when it has none, as a serving-only archive)."""
    movies_path, model = release / TABLES / "movies.parquet", release / MODEL / NEIGHBOURS_FILE
    if not movies_path.is_file() or not model.is_file():
        return False
    films = FilmKeys(pl.read_parquet(movies_path, columns=["id", "return", "release_date"]))
    neighbours = recommendations(model, films, titled, neighbours_k_of(manifest))[0]
    arrays, meta = personal_arrays(
        personal_entries(release / MODEL / PERSONAL_FILE, films),
        titled,
        votes,
        neighbours,
        neighbour_weight_of(manifest),
    )
    return PersonalIndex.from_arrays(arrays, meta) or False
