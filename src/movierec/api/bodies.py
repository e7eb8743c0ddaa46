"""The 200 answers' bodies: a resolved film or person in, a plain dict shaped as the endpoint's
pydantic model (:mod:`movierec.api.schemas`, each builder names its model) out.

:class:`~movierec.api.answers.Answers` resolves the raw parameters, renders these dicts to JSON
once per film or person and keeps them; the tests validate every answer against its model.
Numbers in ``mensaje`` round to two decimals, the JSON fields keep full precision.
"""

from __future__ import annotations

from movierec.api.shapes import (
    because_text,
    coincidencias,
    homonyms,
    named,
    number_text,
    other_titles,
    profit,
    year_text,
)
from movierec.catalog.indexes import Catalog, Film
from movierec.config import Settings
from movierec.vocabulary import MONTHS, WEEKDAYS

LISTED = 100  # coincidencias, homonimos and the years of a 404: the first 100 (a title may be shared by thousands)
DIRECTED = 500  # a director's `peliculas`: the first 500 by date (`cantidad_peliculas` counts them all)


class Bodies:
    """The bodies of one catalog's answers; every public method is one response model."""

    def __init__(self, catalog: Catalog, settings: Settings) -> None:
        self.catalog = catalog
        self.settings = settings

    def month(self, number: int) -> dict[str, object]:  # s.CantidadMes
        name, count = MONTHS[number - 1], self.catalog.month_counts[number]
        return {
            "mes": name,
            "numero_mes": number,
            "cantidad": count,
            "mensaje": f"{count} cantidad de películas fueron estrenadas en el mes de {name}",
        }

    def weekday(self, number: int) -> dict[str, object]:  # s.CantidadDia
        name, count = WEEKDAYS[number - 1], self.catalog.weekday_counts[number]
        return {
            "dia": name,
            "numero_dia": number,
            "cantidad": count,
            "mensaje": f"{count} cantidad de películas fueron estrenadas en los días {name}",
        }

    def _named(self, film: Film) -> str:
        """The film as a sentence names it: its title in the preferred language first."""
        return named(film, self.settings.title_language)

    def score(self, row: int, key: int | None = None) -> dict[str, object]:  # s.ScoreTitulo
        film = self.catalog.film(row)
        return {
            "id": film.id,
            "titulo": film.title or "",
            **other_titles(film),
            "anio": film.year,
            "fecha_estreno": film.date,
            "popularidad": film.popularity,
            "coincidencias": coincidencias(self.catalog.namesakes(row, LISTED, key)),
            "mensaje": f"La película {self._named(film)} fue estrenada {year_text(film)} con un score/popularidad de "
            f"{number_text(film.popularity)}",
        }

    def votes(self, row: int, key: int | None = None) -> dict[str, object]:  # s.VotosTitulo
        film = self.catalog.film(row)
        minimum = self.settings.min_votes
        enough = film.votes >= minimum and film.vote_average is not None
        head = (
            f"La película {self._named(film)} fue estrenada {year_text(film)}. La misma cuenta con un total de "
            f"{film.votes} valoraciones"
        )
        if enough:
            message = f"{head}, con un promedio de {film.vote_average}"
        else:
            message = (
                f"{head}, por debajo del mínimo de {minimum} valoraciones necesario para informar "
                "un promedio, por lo que no se informa."
            )
        return {
            "id": film.id,
            "titulo": film.title or "",
            **other_titles(film),
            "anio": film.year,
            "votos": film.votes,
            "promedio": film.vote_average if enough else None,
            "minimo_votos": minimum,
            "coincidencias": coincidencias(self.catalog.namesakes(row, LISTED, key)),
            "mensaje": message,
        }

    def actor(self, key: str) -> dict[str, object]:  # s.Actor
        match = self.catalog.actors.match(key, LISTED)
        assert match is not None
        person = match.person
        return {
            "actor": person.name,
            "id": person.person_id,
            "cantidad_peliculas": person.films,
            "retorno_total": person.total_return,
            "retorno_promedio": person.mean_return,
            "homonimos": homonyms(match),
            "mensaje": f"El actor {person.name} ha participado de {person.films} cantidad de filmaciones, el "
            f"mismo ha conseguido un retorno de {number_text(person.total_return)} con un promedio de "
            f"{number_text(person.mean_return)} por filmación",
        }

    def director(self, key: str) -> dict[str, object]:  # s.Director
        match = self.catalog.directors.match(key, LISTED)
        assert match is not None
        person = match.person
        films = [self.catalog.film(row) for row in person.film_rows[:DIRECTED]]
        unknown = sum(1 for row in person.film_rows if not self.catalog.known_money(row))
        note = (
            ""
            if not unknown
            else (f"; de {unknown} se desconocen los ingresos o el presupuesto, y su ganancia figura como null")
        )
        return {
            "director": person.name,
            "id": person.person_id,
            "cantidad_peliculas": person.films,
            "retorno_total": person.total_return,
            "retorno_promedio": person.mean_return,
            "peliculas": [
                {
                    "id": f.id,
                    "titulo": f.title,
                    **other_titles(f),
                    "fecha_estreno": f.date,
                    "retorno": f.ret,
                    "costo": f.budget,
                    "ganancia": profit(f),
                }
                for f in films
            ],
            "homonimos": homonyms(match),
            "mensaje": f"El director {person.name} ha dirigido {person.films} películas, con un retorno total "
            f"de {number_text(person.total_return)} y un promedio de {number_text(person.mean_return)} "
            f"por película{note}",
        }

    def recommendation(self, row: int, namesakes: bool, key: int | None = None) -> dict[str, object]:
        # s.Recomendacion
        film = self.catalog.film(row)
        picks = self.catalog.recommend(row)
        return {
            "id": film.id,
            "titulo": film.title,
            **other_titles(film),
            "anio": film.year,
            "recomendaciones": [f.title for f, _ in picks],
            "peliculas": [
                {"id": f.id, "titulo": f.title, "anio": f.year, "puntaje": score, **other_titles(f)}
                for f, score in picks
            ],
            "coincidencias": coincidencias(self.catalog.namesakes(row, LISTED, key)) if namesakes else [],
        }

    def personal(
        self,
        rows: list[int],
        picks: list[tuple[Film, float, Film | None]],
        missing: list[dict[str, object]],
        repeated: list[str],
    ) -> dict[str, object]:  # s.RecomendacionUsuario
        """The films liked (``rows``, in the order received), the ``picks`` for them, and the
        entries not found (``missing``, [s.NoEncontrado]) or ``repeated``."""
        return {
            "peliculas_base": [
                {"id": f.id, "titulo": f.title or "", "anio": f.year, **other_titles(f)}
                for f in (self.catalog.film(row) for row in rows)
            ],
            "recomendaciones": [film.title for film, _, _ in picks],
            "peliculas": [
                {
                    "id": film.id,
                    "titulo": film.title,
                    "anio": film.year,
                    "puntaje": score,
                    "porque": because_text(because, self.settings.title_language),
                    **other_titles(film),
                }
                for film, score, because in picks
            ],
            "no_encontrados": missing,
            "repetidos": repeated,
        }
