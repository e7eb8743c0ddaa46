"""Checking a release the way the API will use it: before it is published, and by a running
server before it switches to it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from movierec.config import Settings

if TYPE_CHECKING:
    from movierec.catalog.indexes import Catalog


class CatalogCheckError(Exception):
    """The release cannot be served."""


def check_catalog(release: Path, settings: Settings, samples: int = 3) -> int:
    """Load ``release`` as the API does and check it (:func:`check_loaded`), its film cards
    included (when the release has cards). Returns the number of films; raises CatalogCheckError."""
    from movierec.catalog.indexes import load_catalog

    try:
        catalog = load_catalog(release, settings)
    except Exception as exc:  # any failure to load means the API could not serve it
        raise CatalogCheckError(f"the API cannot load it ({type(exc).__name__}: {str(exc)[:200]})") from exc
    return check_loaded(catalog, samples)


PARQUET_MAGIC = b"PAR1"


def check_files(release: Path) -> None:
    """Refuse a release whose files are damaged, cheaply (no parquet reader): every table the
    manifest counts and the model must be whole parquet files (they start and end with PAR1 and
    their footer fits). The server reads its own artifact, not these, but a release with a
    truncated table or no model is not one to serve, roll back to, or ingest into."""
    from movierec.catalog.indexes import ReleaseError
    from movierec.release.layout import MODEL, NEIGHBOURS_FILE, TABLES, read_manifest

    manifest = read_manifest(release)
    if manifest is None:
        raise ReleaseError(f"{release / 'manifest.json'} is missing or not a JSON object")
    tables = manifest.get("tables")
    names = []
    if (release / TABLES).is_dir() and isinstance(tables, dict):  # a serving-only archive has none
        names = [f"{TABLES}/{name}.parquet" for name in tables]
    if (release / MODEL).is_dir():
        model = release / MODEL / NEIGHBOURS_FILE
        if not model.is_file():
            raise ReleaseError(f"the release has no model: {model} is missing")
        names.append(f"{MODEL}/neighbours.parquet")
    for name in names:
        path = release / name
        try:
            size = path.stat().st_size
            with open(path, "rb") as handle:
                head = handle.read(4)
                handle.seek(max(size - 8, 0))
                tail = handle.read(8)
        except FileNotFoundError:
            raise ReleaseError(f"{path} is missing") from None
        except OSError as exc:
            raise ReleaseError(f"{path} cannot be read: {exc.strerror or exc}") from None
        footer = int.from_bytes(tail[:4], "little") if len(tail) == 8 else -1
        if size < 12 or head != PARQUET_MAGIC or tail[4:] != PARQUET_MAGIC or not 0 < footer <= size - 12:
            raise ReleaseError(f"{path} is damaged: not a whole parquet file ({size:,} bytes)")


def check_loaded(catalog: Catalog, samples: int = 3) -> int:
    """Answer a few questions from a loaded catalog: the most voted films are found again by
    title (and year) and by id, and their recommendations (film to film, and personal for someone
    who liked them) and the films the refresh added resolve to films of the catalogue.
    Returns the number of films; raises CatalogCheckError."""
    from movierec.catalog.cards import CardsError

    if len(catalog) == 0:
        raise CatalogCheckError("the catalogue has no film")
    try:
        votes = np.asarray(catalog.arrays["film_votes"])
        rows = np.argsort(-votes, kind="stable")[:samples].tolist()  # the most voted, first row first
        for row in rows:
            film = catalog.film(row)
            if catalog.row_of_id(film.id) != row:
                raise CatalogCheckError(f"film {film.id} is not found by its id")
            if film.title and catalog.find_title(film.title, film.year) is None:
                raise CatalogCheckError(f"{film.title!r} ({film.year}) is not found by its title")
            try:
                if catalog.cards is not None and catalog.cards.card(film.id) is None:
                    raise CatalogCheckError(f"film {film.id} has no card")
            except CardsError as exc:
                raise CatalogCheckError(str(exc)) from None
            for neighbour, score in catalog.recommend(row):
                if catalog.row_of_id(neighbour.id) is None or score != score:
                    raise CatalogCheckError(f"a recommendation of film {film.id} does not resolve")
        if len(catalog) > 1 and not any(catalog.recommend(r) for r in rows):
            raise CatalogCheckError("the most voted films have no recommendation")
        for film, _ in catalog.newest(100):  # the films /novedades lists (none without ingests)
            if catalog.row_of_id(film.id) != film.row:
                raise CatalogCheckError(f"the added film {film.id} is not found by its id")
        for picked, score, _ in catalog.personal(rows):  # what someone who liked them all is shown
            if catalog.row_of_id(picked.id) is None or score != score:
                raise CatalogCheckError("a personal recommendation for the most voted films does not resolve")
    except (IndexError, ValueError, UnicodeDecodeError) as exc:  # arrays that do not fit together
        raise CatalogCheckError(f"its indexes are inconsistent ({type(exc).__name__}: {exc})") from exc
    return len(catalog)
