"""Checking a release the way the API will use it, before it is published."""

from __future__ import annotations

from pathlib import Path

from movierec.config import Settings


class CatalogCheckError(Exception):
    """The release cannot be served."""


def check_catalog(release: Path, settings: Settings, samples: int = 3) -> int:
    """Load ``release`` as the API does and answer a few questions from it: the most voted films
    are found again by title (and year) and by id, and their recommendations resolve to films of
    the catalogue, and their cards (when the release has cards) are read. Returns the number of
    films; raises CatalogCheckError."""
    from movierec.catalog.cards import CardsError
    from movierec.catalog.indexes import load_catalog

    try:
        catalog = load_catalog(release, settings)
    except Exception as exc:  # any failure to load means the API could not serve it
        raise CatalogCheckError(f"the API cannot load it ({type(exc).__name__}: {str(exc)[:200]})") from exc
    if len(catalog) == 0:
        raise CatalogCheckError("the catalogue has no film")
    rows = sorted(range(len(catalog)), key=lambda r: -catalog.film(r).votes)[:samples]
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
    return len(catalog)
