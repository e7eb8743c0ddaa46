"""Film cards: what the web page shows of a film beyond the API's answers (genres, directors,
top cast, overview, collection), written once per release and read lazily from a memory map.

The cards weigh about 25 MB at full size, the overviews most of it; the API process must not
hold them for a page that shows one film at a time. So the publishing pipeline writes the cards as one uncompressed
Arrow IPC file (``catalog/cards.arrow`` in the release, sorted by id), and :func:`open_cards`
memory-maps it (on the first card asked for): a card is a binary search in the ids and a one-row
slice of the mapped table, and only the pages that row touches are read. Those pages are unmapped
from the process again after each card (``madvise(MADV_DONTNEED)``: they stay in the page cache,
and the next read maps them again, about 0.1 ms), so that however many cards are viewed, neither
the private memory nor the file-backed part of the server's RSS grows by the file. A release
published before cards existed has no such file; :func:`open_cards` then returns None and the
page shows the card without those fields.

>>> import polars as pl
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

import mmap
import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:  # polars only to build the cards: the server reads them without it
    import polars as pl
    import pyarrow as pa  # type: ignore[import-untyped]  # pyarrow ships no type information

CARDS = Path("catalog") / "cards.arrow"  # inside a release folder
TOP_CAST = 5
LISTS = ("genres", "directors", "cast")
DONT_NEED = getattr(mmap, "MADV_DONTNEED", None)  # Linux, macOS; not Windows


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
    import polars as pl

    values = pl.col(column).drop_nulls().unique(maintain_order=True)
    return frame.group_by("movie_id", maintain_order=True).agg(
        (values.head(limit) if limit is not None else values).alias(alias)
    )


def cards_frame(
    movies: pl.DataFrame, genres: pl.DataFrame, cast: pl.DataFrame, crew: pl.DataFrame, top_cast: int = TOP_CAST
) -> pl.DataFrame:
    """One card per film, sorted by id: id, genres, directors (in credit order), cast (the first
    ``top_cast`` distinct names by billing order), overview and collection (blank → null)."""
    import polars as pl

    blank_to_null = [
        pl.when(pl.col(c).str.strip_chars() != "").then(pl.col(c)).alias(c) for c in ("overview", "collection")
    ]
    frame = movies.select(
        pl.col("id").cast(pl.Int64), pl.col("overview").cast(pl.String), pl.col("collection").cast(pl.String)
    ).with_columns(blank_to_null)
    for part in (
        _names(genres, "genre", "genres"),
        _names(crew.filter(pl.col("job") == "Director"), "name", "directors"),
        _names(cast.sort("movie_id", "order", maintain_order=True), "name", "cast", top_cast),
    ):
        frame = frame.join(
            part.with_columns(pl.col("movie_id").cast(pl.Int64)), left_on="id", right_on="movie_id", how="left"
        )
    empty = pl.lit([], dtype=pl.List(pl.String))
    return (
        frame.with_columns(pl.col(c).cast(pl.List(pl.String)).fill_null(empty) for c in LISTS)
        .select("id", *LISTS, "overview", "collection")
        .sort("id")
    )


def build_cards(tables_dir: Path) -> pl.DataFrame:
    """The cards of the release's tables (only the columns they need are read)."""
    import polars as pl

    return cards_frame(
        pl.read_parquet(tables_dir / "movies.parquet", columns=["id", "overview", "collection"]),
        pl.read_parquet(tables_dir / "genres.parquet", columns=["movie_id", "genre"]),
        pl.read_parquet(tables_dir / "cast.parquet", columns=["movie_id", "name", "order"]),
        pl.scan_parquet(tables_dir / "crew.parquet").select("movie_id", "name", "job").collect(),
    )


def write_cards(tables_dir: Path, path: Path) -> int:
    """Write the cards of ``tables_dir`` to ``path`` (uncompressed Arrow IPC, so that it can be
    memory-mapped; one rename, so a reader sees the whole file or none). Returns the films."""
    import pyarrow as pa

    table = build_cards(tables_dir).rechunk().to_arrow()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    tmp.replace(path)
    return table.num_rows


class Cards:
    """The cards file of one release (see the module docstring). The file is opened and mapped
    on the first card asked for: a server nobody asks for a card never imports pyarrow (about
    20 MB of shared libraries and a quarter of a second at start-up)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._table: pa.Table | None = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._mapped: mmap.mmap | None = None

    def __len__(self) -> int:
        return len(self._opened())

    def card(self, film_id: int) -> Card | None:
        """The film's card, or None when the file has none for it; CardsError when the file
        cannot be read."""
        ids = self._opened()
        at = int(np.searchsorted(ids, film_id))
        if at >= len(ids) or ids[at] != film_id:
            return None
        assert self._table is not None and self._mapped is not None
        row = self._table.slice(at, 1).to_pylist()[0]
        if DONT_NEED is not None:  # unmap the pages this row touched: see the module docstring
            self._mapped.madvise(DONT_NEED)
        return Card(row["genres"] or [], row["directors"] or [], row["cast"] or [], row["overview"], row["collection"])

    def _opened(self) -> np.ndarray:
        if self._table is None:
            self._mapped, self._table, self._ids = _map(self.path)
        return self._ids


def _map(path: Path) -> tuple[mmap.mmap, pa.Table, np.ndarray]:
    """The file's memory map, its table (zero-copy over the map) and a copy of its sorted ids."""
    import pyarrow as pa

    try:
        with path.open("rb") as file:
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        table = pa.ipc.open_file(pa.BufferReader(pa.py_buffer(mapped))).read_all()
    except (OSError, ValueError) as exc:  # pa.ArrowInvalid is a ValueError; so is an empty file's mmap
        raise CardsError(f"{path} is not a readable cards file: {exc}") from exc
    missing = {"id", *LISTS, "overview", "collection"} - set(table.column_names)
    if missing:
        raise CardsError(f"{path} lacks the columns {sorted(missing)}")
    column = table.column("id")
    ids = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()  # one chunk as written
    if ids.null_count or ids.type != pa.int64():
        raise CardsError(f"{path}: the ids are not int64 without nulls")
    # The ids copied out of the map (a few hundred kB): the binary search then never faults.
    # (Array.to_numpy would import pandas, when installed, to check for it.)
    return mapped, table, np.frombuffer(ids.buffers()[1], dtype=np.int64, count=len(ids), offset=ids.offset * 8).copy()


def open_cards(path: Path) -> Cards | None:
    """The release's cards (mapped when first read); None when the release has no cards file
    (it was published before cards existed)."""
    return Cards(path) if path.is_file() else None
