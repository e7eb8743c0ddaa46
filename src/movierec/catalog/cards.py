"""Film cards: what the web page shows of a film beyond the API's answers (genres, directors,
top cast, overview, collection), written once per release and read lazily from a memory map.

The overviews alone weigh about 30 MB at full size; the API process must not hold them for a page
that shows one film at a time. So the publishing pipeline writes the cards as one uncompressed
Arrow IPC file (``catalog/cards.arrow`` in the release, sorted by id), and :func:`open_cards`
memory-maps it: a card is a binary search in the mapped id column and a one-row slice, and only
the pages that row touches are ever read. A release published before cards existed has no such
file; :func:`open_cards` then returns None and the page shows the card without those fields.

>>> import polars as pl
>>> movies = pl.DataFrame({"id": [862, 11], "overview": ["Toys.", None], "collection": ["Toy Story", None]})
>>> genres = pl.DataFrame({"movie_id": [862, 862], "genre": ["Animation", "Comedy"]})
>>> cast = pl.DataFrame({"movie_id": [862, 862], "name": ["Tim Allen", "Tom Hanks"], "order": [1, 0]})
>>> crew = pl.DataFrame({"movie_id": [862, 862], "name": ["John Lasseter", "Pete Docter"],
...                      "job": ["Director", "Screenplay"]})
>>> cards_frame(movies, genres, cast, crew).row(1, named=True)
{'id': 862, 'genres': ['Animation', 'Comedy'], 'directors': ['John Lasseter'], 'cast': ['Tom Hanks', 'Tim Allen'], 'overview': 'Toys.', 'collection': 'Toy Story'}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import polars as pl
import pyarrow as pa

CARDS = Path("catalog") / "cards.arrow"  # inside a release folder
TOP_CAST = 5
LISTS = ("genres", "directors", "cast")


class CardsError(ValueError):
    """The cards file exists but cannot be read."""


class Card(NamedTuple):
    genres: list[str]
    directors: list[str]
    cast: list[str]  # the first TOP_CAST names by billing order
    overview: str | None
    collection: str | None


def _names(frame: pl.DataFrame, column: str, alias: str, limit: int | None = None) -> pl.DataFrame:
    """Each film's distinct ``column`` values in table order (the first ``limit``)."""
    values = pl.col(column).drop_nulls().unique(maintain_order=True)
    return frame.group_by("movie_id", maintain_order=True).agg(
        (values.head(limit) if limit is not None else values).alias(alias))


def cards_frame(movies: pl.DataFrame, genres: pl.DataFrame, cast: pl.DataFrame, crew: pl.DataFrame,
                top_cast: int = TOP_CAST) -> pl.DataFrame:
    """One card per film, sorted by id: id, genres, directors (in credit order), cast (the first
    ``top_cast`` distinct names by billing order), overview and collection (blank → null)."""
    blank_to_null = [pl.when(pl.col(c).str.strip_chars() != "").then(pl.col(c)).alias(c)
                     for c in ("overview", "collection")]
    frame = movies.select(pl.col("id").cast(pl.Int64), pl.col("overview").cast(pl.String),
                          pl.col("collection").cast(pl.String)).with_columns(blank_to_null)
    for part in (
        _names(genres, "genre", "genres"),
        _names(crew.filter(pl.col("job") == "Director"), "name", "directors"),
        _names(cast.sort("movie_id", "order", maintain_order=True), "name", "cast", top_cast),
    ):
        frame = frame.join(part.with_columns(pl.col("movie_id").cast(pl.Int64)), left_on="id",
                           right_on="movie_id", how="left")
    empty = pl.lit([], dtype=pl.List(pl.String))
    return (frame.with_columns(pl.col(c).cast(pl.List(pl.String)).fill_null(empty) for c in LISTS)
            .select("id", *LISTS, "overview", "collection").sort("id"))


def build_cards(tables_dir: Path) -> pl.DataFrame:
    """The cards of the release's tables (only the columns they need are read)."""
    return cards_frame(
        pl.read_parquet(tables_dir / "movies.parquet", columns=["id", "overview", "collection"]),
        pl.read_parquet(tables_dir / "genres.parquet", columns=["movie_id", "genre"]),
        pl.read_parquet(tables_dir / "cast.parquet", columns=["movie_id", "name", "order"]),
        pl.scan_parquet(tables_dir / "crew.parquet").select("movie_id", "name", "job").collect(),
    )


def write_cards(tables_dir: Path, path: Path) -> int:
    """Write the cards of ``tables_dir`` to ``path`` (uncompressed Arrow IPC, so that it can be
    memory-mapped; one rename, so a reader sees the whole file or none). Returns the films."""
    table = build_cards(tables_dir).rechunk().to_arrow()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    tmp.replace(path)
    return table.num_rows


class Cards:
    """The cards of one release, memory-mapped (see the module docstring)."""

    def __init__(self, table: pa.Table) -> None:
        missing = {"id", *LISTS, "overview", "collection"} - set(table.column_names)
        if missing:
            raise CardsError(f"the cards file lacks the columns {sorted(missing)}")
        self._table = table
        self._ids = table.column("id").to_numpy()  # zero-copy view of the map (one chunk, no nulls)

    def __len__(self) -> int:
        return self._table.num_rows

    def card(self, film_id: int) -> Card | None:
        """The film's card, or None when the file has none for it."""
        at = int(np.searchsorted(self._ids, film_id))
        if at >= len(self._ids) or self._ids[at] != film_id:
            return None
        row = self._table.slice(at, 1).to_pylist()[0]
        return Card(row["genres"] or [], row["directors"] or [], row["cast"] or [], row["overview"],
                    row["collection"])


def open_cards(path: Path) -> Cards | None:
    """The release's cards, memory-mapped; None when the release has no cards file (it was
    published before cards existed). An unreadable file raises CardsError."""
    if not path.is_file():
        return None
    try:
        table = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
    except (OSError, pa.ArrowInvalid) as exc:
        raise CardsError(f"{path} is not a readable cards file: {exc}") from exc
    return Cards(table)
