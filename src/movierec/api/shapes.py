"""Small pieces of the answers' bodies: numbers and years in words, lists of films and persons
as the response models shape them (:mod:`movierec.api.bodies` builds the bodies), and the JSON
bytes a body is sent as.

>>> json_bytes({"titulo": "Amélie", "popularidad": 0.1})
b'{"titulo":"Am\\xc3\\xa9lie","popularidad":0.1}'
"""

from __future__ import annotations

from pydantic_core import to_json

from movierec.api.cache import OVERHEAD
from movierec.catalog.indexes import Film
from movierec.catalog.people import PersonMatch


def json_bytes(body: dict[str, object]) -> bytes:
    """Compact UTF-8 JSON, by pydantic-core's serializer (2–3× faster than ``json.dumps`` here;
    floats keep their shortest round-trip digits). NaN cannot reach it, the catalog turns it into
    null at load; it would be written as null, never as the invalid ``NaN``."""
    return to_json(body, inf_nan_mode="null")


def number_text(value: float | None) -> str:
    return "sin dato" if value is None else f"{value:.2f}"


def year_text(film: Film) -> str:
    return f"en el año {film.year}" if film.year is not None else "en un año desconocido"


def other_titles(film: Film) -> dict[str, str]:
    """The fields a film's other titles add to an answer: ``titulo_original`` when it differs
    from ``titulo``, ``titulo_es`` when a Spanish title is known (absent otherwise)."""
    if film.original is None and film.es is None:
        return {}
    fields = {"titulo_original": film.original} if film.original is not None else {}
    if film.es is not None:
        fields["titulo_es"] = film.es
    return fields


def shown_title(film: Film, language: str) -> str | None:
    """The title a film is shown under first (MOVIEREC_TITLE_LANGUAGE: es, original or catalogue),
    falling back to the catalogue title when that one is not known."""
    preferred = film.es if language == "es" else film.original if language == "original" else None
    return preferred or film.title


def named(film: Film, language: str) -> str:
    """The film as a sentence names it: «El padrino (The Godfather)», or the catalogue title alone.

    >>> film = Film(0, 238, "The Godfather", 1972, None, None, 0, None, 0, 0, 0.0, None, "El padrino")
    >>> named(film, "es"), named(film, "original"), named(film, "catalogue")
    ('El padrino (The Godfather)', 'The Godfather', 'The Godfather')
    """
    shown = shown_title(film, language)
    title = film.title or f"la película {film.id}"
    return title if shown is None or shown == film.title else f"{shown} ({title})"


def coincidencias(films: list[Film]) -> list[dict[str, object]]:  # [s.Coincidencia]
    return [{"id": f.id, "titulo": f.title or "", "anio": f.year, **other_titles(f)} for f in films]


def because_text(film: Film | None, language: str = "catalogue") -> str:
    if film is None:
        return "porque es de las más votadas"
    return f"porque te gustó {named(film, language)}"


def picks_size(picks: list[tuple[Film, float, Film | None]]) -> int:
    """The approximate bytes of a personal query's picks, for the cache's bound."""
    return sum(
        len(film.title or "") + len(because.title or "" if because else "") + OVERHEAD for film, _, because in picks
    )


def homonyms(match: PersonMatch) -> list[dict[str, object]]:  # [s.Homonimo]
    return [{"id": p.person_id, "nombre": p.name, "cantidad_peliculas": p.films} for p in match.homonyms]


def profit(film: Film) -> int | None:
    """Revenue minus budget, or None when either is unknown (0): an unknown revenue is no loss."""
    return film.revenue - film.budget if film.revenue > 0 and film.budget > 0 else None
