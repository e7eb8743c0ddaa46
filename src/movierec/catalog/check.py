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
    """Load ``release`` as the API does and check it (:func:`check_loaded`). Returns the number
    of films; raises CatalogCheckError."""
    from movierec.catalog.indexes import load_catalog

    try:
        catalog = load_catalog(release, settings)
    except Exception as exc:  # any failure to load means the API could not serve it
        raise CatalogCheckError(f"the API cannot load it ({type(exc).__name__}: {str(exc)[:200]})") from exc
    return check_loaded(catalog, samples)


def check_loaded(catalog: Catalog, samples: int = 3) -> int:
    """Answer a few questions from a loaded catalog: the most voted films are found again by
    title (and year) and by id, and their recommendations resolve to films of the catalogue.
    Returns the number of films; raises CatalogCheckError."""
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
            for neighbour, score in catalog.recommend(row):
                if catalog.row_of_id(neighbour.id) is None or score != score:
                    raise CatalogCheckError(f"a recommendation of film {film.id} does not resolve")
        if len(catalog) > 1 and not any(catalog.recommend(r) for r in rows):
            raise CatalogCheckError("the most voted films have no recommendation")
    except (IndexError, ValueError, UnicodeDecodeError) as exc:  # arrays that do not fit together
        raise CatalogCheckError(f"its indexes are inconsistent ({type(exc).__name__}: {exc})") from exc
    return len(catalog)
