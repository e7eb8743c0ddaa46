"""The in-memory indexes the API answers from, built once from a published release.

:func:`load_catalog` reads the release's parquet tables (only the columns it needs), computes
every answer that does not depend on the request (counts per month and weekday, per-person
aggregates, the first recommendations of every film) and keeps the result in plain Python lists,
dicts and small numpy arrays. The data frames are dropped at the end of the load, so that no
request scans a table: a request costs a normalization, a dict look-up and a few list reads.

Films are addressed by their *row*, their position in ``movies.parquet``.

Choices this module makes (the client's spec leaves them open):

* A title shared by several films answers the film with the most votes, then the most popular,
  then the lowest TMDB id; the others are its ``namesakes``.
* Persons are TMDB person ids. Several persons may share a normalized name; a name answers the
  person with the most films, then the highest total return, then the lowest person id, and the
  others are listed as homonyms. A person is found under every spelling of their name that the
  credits use.
* A person's films count once each, whatever the number of their credits in the film; totals are
  ``math.fsum`` of the films' ``return`` (correctly rounded, so independent of the order).
* Recommendations are the first ``settings.recommendations`` neighbours by rank, skipping the film
  itself, films not in the catalogue or without a title (so every recommended film can be looked
  up by id and by title), repeats, and rows whose score is not a finite number.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import polars as pl

from movierec.catalog.keys import FilmKeys
from movierec.catalog.people import People, build_people
from movierec.catalog.personal import PersonalIndex, load_personal
from movierec.catalog.suggest import Suggester
from movierec.catalog.text import normalize, normalize_many
from movierec.release.layout import MANIFEST
from movierec.config import Settings

MOVIE_COLUMNS = ["id", "title", "release_date", "release_year", "budget", "revenue", "return",
                 "popularity", "vote_average", "vote_count"]


class ReleaseError(RuntimeError):
    """The data folder holds no usable release."""


class Film(NamedTuple):
    """One film of the catalogue, as the API shows it (a named tuple: cheap to build per request)."""

    row: int
    id: int
    title: str | None
    year: int | None
    date: str | None  # YYYY-mm-dd
    popularity: float | None
    votes: int
    vote_average: float | None
    budget: int
    revenue: int
    ret: float  # the table's ``return``: revenue / budget, 0 when either is unknown


class Catalog:
    """Every answer of the API, from one release. Build it with :func:`load_catalog`."""

    def __init__(self, *, version: str, manifest: dict[str, object], columns: dict[str, list],
                 month_counts: Sequence[int], weekday_counts: Sequence[int],
                 title_rows: dict[str, list[int]], actors: People, directors: People,
                 recommendations: np.ndarray, scores: np.ndarray, personal: PersonalIndex | None = None) -> None:
        self.version = version
        self.manifest = manifest
        self._ids: list[int] = columns["id"]
        self._titles: list[str | None] = columns["title"]
        self._years: list[int | None] = columns["release_year"]
        self._dates: list[str | None] = columns["release_date"]
        self._popularity: list[float | None] = columns["popularity"]
        self._votes: list[int] = columns["vote_count"]
        self._vote_average: list[float | None] = columns["vote_average"]
        self._budget: list[int] = columns["budget"]
        self._revenue: list[int] = columns["revenue"]
        self._return: list[float] = columns["return"]
        self._row_of_id = {film_id: row for row, film_id in enumerate(self._ids)}
        self.month_counts = tuple(month_counts)  # index 1–12
        self.weekday_counts = tuple(weekday_counts)  # index 1 (Monday) – 7 (Sunday)
        self._title_rows = title_rows
        self._title_key: list[str | None] = [None] * len(self._ids)
        for key, rows in title_rows.items():
            for row in rows:
                self._title_key[row] = key
        self.actors = actors
        self.directors = directors
        self._recommendations = recommendations
        self._scores = scores
        self._personal = personal

    def __len__(self) -> int:
        return len(self._ids)

    def warm_up(self) -> int:
        """Build the suggestion indexes now (the app does it in a thread once it serves);
        returns the number of keys they hold."""
        return sum(len(s) for s in (self.titles, self.actors.suggester, self.directors.suggester))

    @cached_property
    def titles(self) -> Suggester:
        """Suggestions among the titles, built on the first unknown title, not at start-up."""
        labels = [self._titles[rows[0]] or "" for rows in self._title_rows.values()]
        return Suggester(list(self._title_rows), labels)

    def film(self, row: int) -> Film:
        return Film(
            row, self._ids[row], self._titles[row], self._years[row], self._dates[row],
            self._popularity[row], self._votes[row], self._vote_average[row],
            self._budget[row], self._revenue[row], self._return[row],
        )

    def row_of_id(self, film_id: int) -> int | None:
        return self._row_of_id.get(film_id)

    def films_titled(self, title: str) -> list[Film]:
        """All films whose normalized title equals ``title``'s, preferred first."""
        return [self.film(row) for row in self._title_rows.get(normalize(title), ())]

    def find_title(self, title: str, year: int | None = None) -> int | None:
        """The row of the film a title designates: among the films with that normalized title
        (and that release year, if given), the one with the most votes, then the most popular."""
        rows = self._title_rows.get(normalize(title))
        if rows is None:
            return None
        if year is None:
            return rows[0]
        return next((r for r in rows if self._years[r] == year), None)

    def namesakes(self, row: int) -> list[Film]:
        """The other films with the same normalized title as ``row``, by year then id."""
        key = self._title_key[row]
        others = [self.film(r) for r in self._title_rows.get(key, ()) if r != row] if key else []
        others.sort(key=lambda f: (f.year is None, f.year or 0, f.id))
        return others

    def recommend(self, row: int) -> list[tuple[Film, float]]:
        """The film's recommendations, best first, with the model's score."""
        rows = self._recommendations[row].tolist()
        scores = self._scores[row].tolist()
        return [(self.film(r), s) for r, s in zip(rows, scores, strict=True) if r >= 0]

    def personal(self, rows: list[int]) -> list[tuple[Film, float, Film | None]]:
        """Personal recommendations for someone who liked the films ``rows``: 10 films, best
        first, with the model's score and the liked film that contributed most (None for a film
        that only fills the list by popularity)."""
        if self._personal is None:
            return []
        return [(self.film(p.row), p.score, self.film(p.because) if p.because >= 0 else None)
                for p in self._personal.recommend(rows)]


def load_catalog(release: Path, settings: Settings) -> Catalog:
    """Build the catalog of the release folder ``release`` (``DATA/current`` resolved)."""
    tables = release / "tables"
    manifest_path = release / MANIFEST
    if not manifest_path.is_file():
        raise ReleaseError(f"{release} is not a release: {MANIFEST} is missing")
    manifest = json.loads(manifest_path.read_text())
    version = str(manifest.get("release", release.name))

    # NaN is no JSON number: unknown popularity or average becomes null, an unknown return 0.
    movies = pl.read_parquet(tables / "movies.parquet", columns=MOVIE_COLUMNS).with_columns(
        pl.col("budget").fill_null(0), pl.col("revenue").fill_null(0),
        pl.col("return").cast(pl.Float64).fill_nan(None).fill_null(0.0), pl.col("vote_count").fill_null(0),
        pl.col("popularity").cast(pl.Float64).fill_nan(None), pl.col("vote_average").cast(pl.Float64).fill_nan(None),
    )
    columns = {c: movies[c].to_list() for c in MOVIE_COLUMNS if c != "release_date"}
    columns["release_date"] = movies["release_date"].dt.strftime("%Y-%m-%d").to_list()
    films = FilmKeys(movies)

    dates = movies["release_date"].drop_nulls()
    month_counts = [0] * 13
    for month, n in dates.dt.month().value_counts().iter_rows():
        month_counts[month] = n
    weekday_counts = [0] * 8
    for day, n in dates.dt.weekday().value_counts().iter_rows():
        weekday_counts[day] = n

    # Rows in the order a shared title prefers them: most votes, most popular, lowest id.
    preferred = np.lexsort((
        movies["id"].to_numpy(),
        -movies["popularity"].fill_null(-np.inf).to_numpy(),
        -movies["vote_count"].to_numpy(),
    )).tolist()
    title_rows: dict[str, list[int]] = {}
    title_keys = normalize_many(columns["title"])
    for row in preferred:
        if key := title_keys[row]:
            rows = title_rows.get(key)
            if rows is None:
                title_rows[key] = [row]
            else:
                rows.append(row)
    titled = np.zeros(len(movies), dtype=bool)
    titled[[row for rows in title_rows.values() for row in rows]] = True
    del movies, dates

    actors = build_people(pl.read_parquet(tables / "cast.parquet", columns=["movie_id", "person_id", "name"]),
                     films, keep_films=False)
    directors = build_people(
        pl.scan_parquet(tables / "crew.parquet").filter(pl.col("job") == "Director")
        .select("movie_id", "person_id", "name").collect(),
        films, keep_films=True,
    )
    # every neighbour the artifact keeps (the personal scorer reads them), the first few served
    neighbours, neighbour_scores = _recommendations(release / "model" / "neighbours.parquet", films, titled,
                                                    max(settings.neighbours_k, settings.recommendations))
    recommendations = np.ascontiguousarray(neighbours[:, : settings.recommendations])
    scores = np.ascontiguousarray(neighbour_scores[:, : settings.recommendations])
    personal = load_personal(release, manifest, films, titled, neighbours, np.asarray(columns["vote_count"]))
    return Catalog(
        version=version, manifest=manifest, columns=columns,
        month_counts=month_counts, weekday_counts=weekday_counts,
        title_rows=title_rows,
        actors=actors, directors=directors, recommendations=recommendations, scores=scores, personal=personal,
    )


def _recommendations(path: Path, films: FilmKeys, titled: np.ndarray,
                     count: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, scores) arrays of shape (films, count): each film's first ``count`` usable
    neighbours by rank, padded with row -1 (score 0) when the model has fewer."""
    if not path.is_file():
        raise ReleaseError(f"the release has no model: {path} is missing")
    table = (pl.read_parquet(path, columns=["movie_id", "rank", "neighbour_id", "score"])
             .drop_nulls().filter(pl.col("score").is_finite()))
    src = films.rows(table["movie_id"])
    dst = films.rows(table["neighbour_id"])
    rank = table["rank"].cast(pl.Int64).to_numpy()
    score = table["score"].cast(pl.Float64).to_numpy()
    del table
    usable = (src >= 0) & (dst >= 0) & (src != dst)
    usable[usable] = titled[dst[usable]]
    src, dst, rank, score = src[usable], dst[usable], rank[usable], score[usable]
    rank = rank - rank.min(initial=0)
    order = np.argsort(src * (int(rank.max(initial=0)) + 1) + rank, kind="stable")
    src, dst, score = src[order], dst[order], score[order]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]]) if len(src) else np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], len(src)].astype(np.int64)
    position = np.arange(len(src)) - np.repeat(starts, ends - starts)
    top = position < count
    rows = np.full((films.count, count), -1, dtype=np.int32)
    scores = np.zeros((films.count, count), dtype=np.float64)
    rows[src[top], position[top]] = dst[top]
    scores[src[top], position[top]] = score[top]

    # A neighbour listed twice counts once, at its best rank: redo the (rare) films concerned.
    ordered = np.sort(rows, axis=1)
    repeated = ((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).any(axis=1)
    for group in np.flatnonzero(repeated[src[starts]]).tolist():
        film, first, last = int(src[starts[group]]), int(starts[group]), int(ends[group])
        seen: dict[int, float] = {}
        for neighbour, value in zip(dst[first:last].tolist(), score[first:last].tolist(), strict=True):
            seen.setdefault(neighbour, value)
            if len(seen) == count:
                break
        rows[film], scores[film] = -1, 0.0
        rows[film, : len(seen)] = list(seen)
        scores[film, : len(seen)] = list(seen.values())
    return rows, scores
