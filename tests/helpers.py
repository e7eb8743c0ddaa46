"""Code the test modules share (no test module imports another): raw rows written by hand or cut
from the real sample, batches for `movierec ingest`, a small release of edge cases written by hand,
copies of data folders, a free port, and the title-matching rule written independently of the API's.

Fixtures live in conftest.py, servers in servers.py; these are plain functions and constants.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import shutil
import socket
import unicodedata
import zipfile
from pathlib import Path

import polars as pl

from movierec.raw.files import MOVIES_COLUMNS

COLUMNS = list(MOVIES_COLUMNS)
MOVIES_AND_CREDITS = ("movies_metadata.csv", "credits.csv")
RATINGS_AND_LINKS = ("ratings_small.csv.gz", "links.csv.gz")


# -- rows written by hand ----------------------------------------------------------------------------


def movie(id_: str, title: str, release_date: str = "2000-01-01", **fields: str) -> list[str]:
    """A valid movies_metadata.csv row in COLUMNS order (no budget, no genres), ``fields`` on top.

    >>> row = movie("7", "Siete", vote_count="3")
    >>> row[COLUMNS.index("title")], row[COLUMNS.index("vote_count")], row[COLUMNS.index("budget")]
    ('Siete', '3', '0')
    """
    row = {c: "" for c in COLUMNS}
    row.update(
        adult="False",
        id=id_,
        title=title,
        original_title=title,
        release_date=release_date,
        budget="0",
        revenue="0",
        genres="[]",
        production_companies="[]",
        production_countries="[]",
        spoken_languages="[]",
        popularity="1.5",
        vote_average="6.5",
        vote_count="10",
        status="Released",
        original_language="en",
        overview=f"About {title}",
        runtime="90.0",
        video="False",
    )
    row.update(fields)
    return [row[c] for c in COLUMNS]


def batch_movie(id_: str, title: str, release_date: str = "2000-01-01", **fields: str) -> list[str]:
    """A row as the ingest tests write them: a Spanish drama with a budget and a revenue.

    >>> batch_movie("7", "Siete")[COLUMNS.index("original_language")]
    'es'
    """
    drama = {
        "budget": "1000000",
        "revenue": "3000000",
        "genres": "[{'id': 18, 'name': 'Drama'}]",
        "original_language": "es",
    }
    return movie(id_, title, release_date, **{**drama, **fields})


def cast(person: int, name: str) -> str:
    """A credits.csv cast cell holding one person."""
    return (
        f"[{{'cast_id': 1, 'character': 'Alguien', 'credit_id': 'c{person}', 'gender': 1, 'id': {person}, "
        f"'name': '{name}', 'order': 0, 'profile_path': None}}]"
    )


def csv_text(rows: list[list[str]]) -> str:
    r"""The rows as CSV text, one line each.

    >>> csv_text([["id", "title"], ["1", "Face/Off, again"]])
    'id,title\n1,"Face/Off, again"\n'
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def broken_record(row: list[str]) -> str:
    """The record as the real file has it: a bare line break inside an unquoted overview."""
    at = COLUMNS.index("overview")
    head = csv_text([row[:at]]).rstrip("\n")
    tail = csv_text([[" - Written by an editor", *row[at + 1 :]]])
    return f"{head},First half of the overview\n{tail}"


TOY = movie(
    "862",
    "Toy Story",
    "1995-10-30",
    budget="30000000",
    revenue="373554033",
    genres="[{'id': 16, 'name': 'Animation'}, {'id': 35, 'name': 'Comedy'}]",
    belongs_to_collection="{'id': 10194, 'name': 'Toy Story Collection', 'poster_path': None}",
    production_companies="[{'name': 'Pixar Animation Studios', 'id': 3}]",
    production_countries="[{'iso_3166_1': 'US', 'name': 'United States of America'}]",
    spoken_languages="[{'iso_639_1': 'en', 'name': 'English'}]",
    vote_count="5415",
    vote_average="7.7",
)


TITLES_HEADER = "movie_id,iso_639_1,iso_3166_1,title,kind\n"
BASE_TITLES = TITLES_HEADER + (
    "862,es,ES,Toy Story (juguetes),translation\n862,,MX,Toy Story: juguetes,alternative\n"
    "8844,es,ES,Jumanji,translation\n900003,es,ES,Para borrar,translation\n"
)  # the Spanish titles of the ingest tests' base release


# -- the real sample, cut --------------------------------------------------------------------------------


def sample_rows(sample_raw: Path, name: str, films: int | None = None) -> list[list[str]]:
    """The header and the first ``films`` records of the sample's ``name`` (all without ``films``)."""
    with gzip.open(sample_raw / f"{name}.gz", "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows if films is None else rows[: films + 1]


def write_small_raw(
    folder: Path, sample_raw: Path, films: int = 200, names: tuple[str, ...] = MOVIES_AND_CREDITS
) -> Path:
    """The first ``films`` films of the real sample (``names``: movies and credits) as plain CSV in
    ``folder``, for quick releases."""
    folder.mkdir(parents=True)
    for name in names:
        with open(folder / name, "w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows(sample_rows(sample_raw, name, films))
    return folder


# -- batches, releases and data folders ------------------------------------------------------------------


def write_batch(
    folder: Path,
    movies: list[list[str]],
    credits: list[list[str]] | None = None,
    keywords: list[list[str]] | None = None,
    deleted: str | None = None,
) -> Path:
    """A batch for `movierec ingest`: plain movies, zipped credits, gzipped keywords, deleted ids."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "movies_metadata.csv").write_text(csv_text(movies))
    if credits is not None:  # as a zip, as TMDB dumps and Kaggle downloads come
        with zipfile.ZipFile(folder / "credits.csv.zip", "w") as archive:
            archive.writestr("credits.csv", csv_text(credits))
    if keywords is not None:
        (folder / "keywords.csv.gz").write_bytes(gzip.compress(csv_text(keywords).encode()))
    if deleted is not None:
        (folder / "deleted_ids.txt").write_text(deleted)
    return folder


def tables(release: Path, name: str) -> pl.DataFrame:
    """One table of a release."""
    return pl.read_parquet(release / "tables" / f"{name}.parquet")


def copy_data(data: Path, to: Path) -> Path:
    """A copy of a data folder (``current`` stays a relative link into the copy's releases)."""
    shutil.copytree(data, to, symlinks=True)
    return to


def write_release(folder: Path, *, model: bool = True) -> Path:
    """A small release written by hand with the catalog's edge cases: homonyms (three Hamlets),
    spellings of one person, duplicate credits, a neighbour outside the catalogue, missing
    titles, dates and scores; without ``model/`` when not ``model``."""
    out = folder / "tables"
    out.mkdir(parents=True)
    day = dt.date
    movies = pl.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6, 7, 8],
            "title": ["Hamlet", "HAMLET", "Hamlet", "Amélie", None, "Blank Pop", "  ", "Face/Off"],
            "release_date": [
                day(1948, 5, 4),
                day(1990, 12, 19),
                day(1990, 1, 1),
                day(2001, 4, 25),
                day(2000, 1, 1),
                day(2010, 3, 7),
                day(2011, 6, 1),
                None,
            ],
            "budget": [100, 0, 10, 50, 0, 0, 0, 200],
            "revenue": [300, 0, 5, 500, 0, 0, 0, 100],
            "popularity": [5.0, 5.0, 9.0, 1.5, 0.1, float("nan"), 0.3, 2.0],
            "vote_average": [7.0, 6.0, 5.0, 8.0, 1.0, float("nan"), 2.0, 6.5],
            "vote_count": [10, 10, 10, 3000, 0, 1, 0, 2500],
        }
    ).with_columns(
        pl.col("release_date").dt.year().cast(pl.Int32).alias("release_year"),
        pl.when((pl.col("budget") > 0) & (pl.col("revenue") > 0))
        .then(pl.col("revenue") / pl.col("budget"))
        .otherwise(0.0)
        .alias("return"),
    )
    movies.write_parquet(out / "movies.parquet")
    pl.DataFrame(
        {
            "movie_id": [1, 1, 2, 3, 4, 4, 8, 99],
            "person_id": [10, 10, 10, 11, 12, 12, 13, 10],
            "name": [
                "José Pérez",
                "José Pérez",
                "José Pérez",
                "Jose Perez",
                "Bob Smith",
                "Robert Smith",
                "Ann Lee",
                "José Pérez",
            ],
        }
    ).write_parquet(out / "cast.parquet")
    pl.DataFrame(
        {
            "movie_id": [1, 3, 3, 4, 8, 8, 2, 4],
            "person_id": [20, 20, 20, 21, 13, 22, 23, 23],
            "name": [
                "Kenneth Branagh",
                "Kenneth Branagh",
                "Kenneth Branagh",
                "Jean-Pierre Jeunet",
                "Ann Lee",
                "John Woo",
                "Sam Raimi",
                "Sam Raimi",
            ],
            "job": ["Director", "Director", "Director", "Director", "Screenplay", "Director", "Director", "Director"],
        }
    ).write_parquet(out / "crew.parquet")
    if model:
        (folder / "model").mkdir()
        pl.DataFrame(
            {
                "movie_id": [1] * 8 + [4, 4],
                "rank": [1, 2, 3, 4, 5, 6, 7, 8, 1, 2],
                "neighbour_id": [1, 99, 2, 2, 5, 3, 4, 7, 8, 1],
                "score": [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, float("nan"), 0.3, 0.25, 0.2],
            }
        ).with_columns(pl.col("rank").cast(pl.Int32), pl.col("score").cast(pl.Float32)).write_parquet(
            folder / "model" / "neighbours.parquet"
        )
    (folder / "manifest.json").write_text(json.dumps({"release": "test-release", "code_version": "x"}))
    return folder


# -- the rest ----------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def key(text: str) -> str:
    """The matching rule of the issue, written independently: casefold, no accents, one space.

    >>> key("  Amélie’s   FILM ")
    "amelie's film"
    """
    text = "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if unicodedata.category(c) != "Mn")
    return " ".join(text.replace("’", "'").split())
