"""Small pieces of the answers' bodies: numbers and years in words, lists of films and persons
as the response models shape them (:mod:`movierec.api.answers` builds the bodies)."""

from __future__ import annotations

from movierec.api.cache import OVERHEAD
from movierec.catalog.indexes import Film
from movierec.catalog.people import PersonMatch


def number_text(value: float | None) -> str:
    return "sin dato" if value is None else f"{value:.2f}"


def year_text(film: Film) -> str:
    return f"en el año {film.year}" if film.year is not None else "en un año desconocido"


def coincidencias(films: list[Film]) -> list[dict[str, object]]:  # [s.Coincidencia]
    return [{"id": f.id, "titulo": f.title or "", "anio": f.year} for f in films]


def because_text(film: Film | None) -> str:
    if film is None:
        return "porque es de las más votadas"
    return f"porque te gustó {film.title or f'la película {film.id}'}"


def picks_size(picks: list[tuple[Film, float, Film | None]]) -> int:
    """The approximate bytes of a personal query's picks, for the cache's bound."""
    return sum(len(film.title or "") + len(because.title or "" if because else "") + OVERHEAD
               for film, _, because in picks)


def homonyms(match: PersonMatch) -> list[dict[str, object]]:  # [s.Homonimo]
    return [{"id": p.person_id, "nombre": p.name, "cantidad_peliculas": p.films} for p in match.homonyms]


def profit(film: Film) -> int | None:
    """Revenue minus budget, or None when either is unknown (0): an unknown revenue is no loss."""
    return film.revenue - film.budget if film.revenue > 0 and film.budget > 0 else None
