"""What each endpoint answers, from the catalog: the JSON body (bytes), or an :class:`ApiError`.

Kept apart from the FastAPI routes so the routes stay one line each and these rules can be read
(and tested) without HTTP. Messages to the client are in Spanish; numbers in ``mensaje`` round to
two decimals, the JSON fields keep full precision.

Parsing and validation of the raw parameters happen here (422 with a Spanish message). A 200
body is a plain dict shaped as the endpoint's pydantic model in :mod:`movierec.api.schemas`
(each builder names its model), rendered to JSON once per resolved film or person and kept in a
bounded LRU cache: the release never changes while it is served, so the answer for a film or a
name is always the same, and rendering costs more than the look-up. The tests validate every
answer against its model, and the property test against the OpenAPI schema. Error bodies, rare
and echoing the client's input, are built through their models and never cached.

>>> render({"titulo": "Amélie", "popularidad": 0.1})
b'{"titulo":"Am\\xc3\\xa9lie","popularidad":0.1}'
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from urllib.parse import parse_qsl

from pydantic_core import to_json

from movierec.api import schemas as s
from movierec.api.cache import BoundedCache
from movierec.api.shapes import (
    because_text,
    coincidencias,
    homonyms,
    named,
    number_text,
    other_titles,
    picks_size,
    profit,
    year_text,
)
from movierec.catalog.indexes import Catalog, Film
from movierec.catalog.people import People
from movierec.catalog.text import MONTHS, WEEKDAYS, normalize, parse_month, parse_weekday
from movierec.config import Settings

VALID_MONTHS = [*MONTHS[:8], "septiembre (o setiembre)", *MONTHS[9:]]
MAX_YEAR = 9999
MAX_ID = 2**63 - 1
MAX_CACHED_QUERY = 1024  # longer personal queries (up to 50 titles) are answered, not kept
MAX_LIKED = 50  # films one personal query may name
# "Heat (1995)"; ASCII digits only: int() reads "١٩٩٥" as 1995 too
YEAR_SUFFIX = re.compile(r"^(?P<title>.*\S)\s*\(\s*(?P<year>[0-9]{1,4})\s*\)\s*$")
LISTED = 100  # coincidencias, homonimos and the years of a 404: the first 100 (a title may be shared by thousands)
DIRECTED = 500  # a director's `peliculas`: the first 500 by date (`cantidad_peliculas` counts them all)


class ApiError(Exception):
    """An answer other than 200: the HTTP status and the JSON body."""

    def __init__(self, status: int, body: dict[str, object], pending: Callable[[], list[str]] | None = None) -> None:
        super().__init__(body.get("detail"))
        self.status = status
        self.body = body
        # The suggestions still to compute (while their indexes are being built): the app's error
        # handler runs this in a worker thread, never on the event loop.
        self.pending = pending


def not_found(
    detail: str, suggestions: list[str] | Callable[[], list[str]], matches: list[Film] | None = None
) -> ApiError:
    """A 404; ``suggestions`` may be a callable, to be computed off the event loop."""
    body = s.ErrorNoEncontrado(
        detail=detail,
        sugerencias=suggestions if isinstance(suggestions, list) else [],
        coincidencias=[
            s.Coincidencia(id=f.id, titulo=f.title or "", anio=f.year, **other_titles(f)) for f in matches or []
        ],
    )
    # exclude_unset: a film's other titles are absent when unknown, as in the 200 answers
    return ApiError(404, body.model_dump(exclude_unset=True), None if isinstance(suggestions, list) else suggestions)


def invalid(detail: str, valid_values: list[str] | None = None, field: str | None = None) -> ApiError:
    errors = [s.ErrorCampo(campo=field, mensaje=detail)] if field else []
    body = s.ErrorValidacion(detail=detail, valores_validos=valid_values or [], errores=errors)
    return ApiError(422, body.model_dump())


def render(body: dict[str, object]) -> bytes:
    """Compact UTF-8 JSON, by pydantic-core's serializer (2–3× faster than ``json.dumps`` here;
    floats keep their shortest round-trip digits). NaN cannot reach it, the catalog turns it into
    null at load; it would be written as null, never as the invalid ``NaN``."""
    return to_json(body, inf_nan_mode="null")


class Answers:
    """The API's answers over one catalog; every public method is one endpoint."""

    def __init__(self, catalog: Catalog, settings: Settings, *, defer_suggestions: bool = False) -> None:
        self.catalog = catalog
        self.settings = settings
        self.defer_suggestions = defer_suggestions  # the app's choice: see _suggestions
        # Bounded in entries and bytes (api/cache.py). Through a weak proxy: the caches must not make a cycle back to the answers, so that a
        # release the server switched away from is freed as soon as no request holds it.
        me = weakref.proxy(self)
        cache = BoundedCache
        # by (row, title key): the title a film was asked by decides its `coincidencias`
        self._score = cache(lambda found: render(me.score_body(*found)))
        self._votes = cache(lambda found: render(me.votes_body(*found)))
        self._recommend_title = cache(
            lambda found: render(me.recommendation_body(found[0], namesakes=True, key=found[1]))
        )
        self._recommend_id = cache(lambda row: render(me.recommendation_body(row, namesakes=False)))
        self._actor = cache(lambda key: render(me.actor_body(key)))
        self._director = cache(lambda key: render(me.director_body(key)))
        self._month = cache(lambda number: render(me.month_body(number)), entries=12)
        self._weekday = cache(lambda number: render(me.weekday_body(number)), entries=7)
        self._personal = cache(lambda rows: me.personal_picks(rows), size=picks_size)
        # the whole answer by the query string as received: a repeated list skips the parsing and
        # the title look-ups too; an error is raised, never cached
        self._personal_query = cache(lambda query: me.personal_from_query(query))

    # -- endpoints: raw parameters in, JSON bytes out -------------------------------------------
    def month(self, mes: str) -> bytes:
        self._text(mes, "mes", "un mes")
        number = parse_month(mes)
        if number is None:
            raise invalid(
                f"«{mes}» no es un mes válido. Valores válidos: {', '.join(VALID_MONTHS)}.",
                [*MONTHS, "setiembre"],
                "mes",
            )
        return self._month(number)

    def weekday(self, dia: str) -> bytes:
        self._text(dia, "dia", "un día")
        number = parse_weekday(dia)
        if number is None:
            raise invalid(
                f"«{dia}» no es un día de la semana válido. Valores válidos: {', '.join(WEEKDAYS)} (con o sin tilde).",
                list(WEEKDAYS),
                "dia",
            )
        return self._weekday(number)

    def score(self, titulo: str, anio: str | None = None) -> bytes:
        return self._score(self._film(titulo, anio))

    def votes(self, titulo: str, anio: str | None = None) -> bytes:
        return self._votes(self._film(titulo, anio))

    def actor(self, nombre: str) -> bytes:
        return self._actor(self._person(nombre, "nombre_actor", self.catalog.actors))

    def director(self, nombre: str) -> bytes:
        return self._director(self._person(nombre, "nombre_director", self.catalog.directors))

    def recommend_title(self, titulo: str, anio: str | None = None) -> bytes:
        return self._recommend_title(self._film(titulo, anio))

    def recommend_id(self, film_id: str) -> bytes:
        number = self._integer(film_id, "id", MAX_ID, 0)
        row = self.catalog.row_of_id(number)
        if row is None:
            raise not_found(f"No hay ninguna película con id {number} en el catálogo.", [])
        return self._recommend_id(row)

    def personal_cached(self, query: bytes) -> bytes | None:
        """The kept answer of a personal query string, or None: the app then computes it in a
        worker thread (its title look-ups may run fuzzy searches, milliseconds each)."""
        return self._personal_query.get(query) if len(query) <= MAX_CACHED_QUERY else None

    def personal_query(self, query: bytes) -> bytes:
        """`/recomendacion_usuario` from its raw query string (``titulo=…&id=…``, as the ASGI scope
        holds it); kept in the cache when it is at most ``MAX_CACHED_QUERY`` bytes long."""
        return self._personal_query(query) if len(query) <= MAX_CACHED_QUERY else self.personal_from_query(query)

    def personal_from_query(self, query: bytes) -> bytes:
        """:meth:`personal` of a raw query string, parsed as Starlette parses it (latin-1 bytes,
        then ``parse_qsl`` keeping blank values)."""
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        return self.personal([v for k, v in pairs if k == "titulo"], [v for k, v in pairs if k == "id"])

    def personal(self, titles: list[str], ids: list[str]) -> bytes:
        """`/recomendacion_usuario`: 10 films for someone who liked the films named by ``titles``
        (each may end in its year, "Heat (1995)") and TMDB ``ids``; unknown ones are reported
        with suggestions (fuzzy ones for the first ``fuzzy_per_request`` only), repeats counted
        once; a 404 only when none is found."""
        total = len(titles) + len(ids)
        if total == 0:
            raise invalid(
                "Indique al menos una película que le haya gustado: `titulo=…` (se puede repetir) o "
                "`id=…` (id de TMDB).",
                field="titulo",
            )
        if total > MAX_LIKED:
            raise invalid(
                f"Se admiten como máximo {MAX_LIKED} películas por consulta (se recibieron {total}).", field="titulo"
            )
        for title in titles:
            self._text(title, "titulo", "un título")
        numbers = [self._integer(value, "id", MAX_ID, 0) for value in ids]
        rows: list[int] = []
        missing: list[dict[str, object]] = []  # [s.NoEncontrado]
        repeated: list[str] = []
        entries: list[tuple[str, int | None, list[str]]] = []
        fuzzy = self.settings.fuzzy_per_request  # unknown titles left that get a fuzzy search
        for title in titles:
            row, suggestions, searched = self._liked_title(title, fuzzy > 0)
            fuzzy -= searched
            entries.append((title, row, suggestions))
        entries += [(f"id={number}", self.catalog.row_of_id(number), []) for number in numbers]
        for entry, row, suggestions in entries:
            if row is None:
                missing.append({"entrada": entry, "sugerencias": suggestions})
            elif row in rows:
                repeated.append(entry)
            else:
                rows.append(row)
        if not rows:
            flat = list(dict.fromkeys(x for item in missing for x in item["sugerencias"]))  # type: ignore[attr-defined]
            body = s.ErrorNingunaEncontrada(
                detail="No se encontró ninguna de las películas indicadas: "
                + ", ".join(f"«{item['entrada']}»" for item in missing)
                + ".",
                sugerencias=flat[: self.settings.suggestions],
                no_encontrados=[s.NoEncontrado(**item) for item in missing],
            )  # type: ignore[arg-type]
            raise ApiError(404, body.model_dump())
        picks = self._personal(tuple(sorted(rows)))
        return render(
            {  # s.RecomendacionUsuario
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
        )

    def personal_picks(self, rows: tuple[int, ...]) -> list[tuple[Film, float, Film | None]]:
        return self.catalog.personal(list(rows))

    def _liked_title(self, text: str, fuzzy: bool) -> tuple[int | None, list[str], bool]:
        """The row a title of a personal query designates (with its year when it ends in "(AAAA)"
        and no film has the whole text as its title), else None and suggestions: the title's
        other years, else (when ``fuzzy``) the fuzzy ones; and whether a fuzzy search ran."""
        row = self.catalog.find_title(text)
        if row is not None:
            return row, [], False
        match = YEAR_SUFFIX.match(text)
        title = match["title"] if match else text
        if match and (row := self.catalog.find_title(title, int(match["year"]))) is not None:
            return row, [], False
        rows = self.catalog.title_rows(title)
        if rows:  # the title exists, in other years: suggest each "Title (year)"
            return (
                None,
                [
                    f"{f.title} ({f.year})" if f.year is not None else f.title or ""
                    for f in self.catalog.by_year(rows, self.settings.suggestions)
                ],
                False,
            )
        if not fuzzy:
            return None, [], False
        return None, self.catalog.titles.suggest(normalize(title), self.settings.suggestions), True

    def health(self) -> dict[str, object]:  # s.Salud
        code = self.catalog.manifest.get("code_version")
        return {
            "status": "ok",
            "version": self.catalog.version,
            "peliculas": len(self.catalog),
            "version_codigo": str(code) if code is not None else None,
            "titulos_es": self.catalog.spanish_titles,
            "titulos_originales": self.catalog.original_titles,
        }

    # -- input ------------------------------------------------------------------------------------
    def _text(self, value: str, field: str, what: str) -> None:
        if len(value) > self.settings.max_input_chars:
            raise invalid(
                f"El parámetro «{field}» admite como máximo {self.settings.max_input_chars} "
                f"caracteres (tiene {len(value)}).",
                field=field,
            )
        if not normalize(value):
            raise invalid(f"Indique {what}: el parámetro «{field}» está vacío.", field=field)

    @staticmethod
    def _integer(value: str, field: str, maximum: int, minimum: int) -> int:
        """A decimal integer parameter in [minimum, maximum], else a 422."""
        text = value.strip()
        if not (
            text.isascii() and text.isdigit() and len(text) <= len(str(maximum)) and minimum <= int(text) <= maximum
        ):
            raise invalid(
                f"El parámetro «{field}» debe ser un número entero entre {minimum} y {maximum} "
                f"(se recibió «{value[:40]}»).",
                field=field,
            )
        return int(text)

    def _film(self, titulo: str, anio: str | None) -> tuple[int, int]:
        """The row a title (and optional year) designates and the title key it was found under,
        else a 404 with suggestions."""
        self._text(titulo, "titulo", "un título")
        year = None if anio is None or not anio.strip() else self._integer(anio, "anio", MAX_YEAR, 1)
        found = self.catalog.find_title_key(titulo, year)
        if found is not None:
            return found
        rows = self.catalog.title_rows(titulo)
        if rows:  # the title exists, not in that year
            years = sorted({y for r in rows if (y := self.catalog.year(r)) is not None})
            listed = ", ".join(map(str, years[:LISTED])) + (
                f" y {len(years) - LISTED} más" if len(years) > LISTED else ""
            )
            raise not_found(
                f"No hay ninguna película «{titulo}» estrenada en {year}; los años con ese título son: "
                f"{listed or 'desconocidos'}.",
                [self.catalog.title(rows[0]) or ""],
                self.catalog.by_year(rows, LISTED),
            )
        raise not_found(
            f"No se encontró la película «{titulo}».",
            self._suggestions(lambda: self.catalog.titles.suggest(normalize(titulo), self.settings.suggestions)),
        )

    def _person(self, nombre: str, field: str, people: People) -> str:
        """The normalized name of a known person, else a 404 with suggestions."""
        self._text(nombre, field, "un nombre")
        key = normalize(nombre)
        if key in people.by_key:
            return key
        acting = people is self.catalog.actors
        other = self.catalog.directors if acting else self.catalog.actors
        hint = ""
        if key in other.by_key:
            hint = (
                " Figura como director, pero no en el reparto de ninguna película."
                if acting
                else " Figura en el reparto, pero no como director de ninguna película."
            )
        label = "actor o actriz" if acting else "director o directora"
        raise not_found(
            f"No se encontró ningún {label} llamado «{nombre}».{hint}",
            self._suggestions(lambda: people.suggester.suggest(key, self.settings.suggestions)),
        )

    def _suggestions(self, compute: Callable[[], list[str]]) -> list[str] | Callable[[], list[str]]:
        """The suggestions' computation, deferred to a worker thread when serving (the app's
        choice): a fuzzy search costs milliseconds at full size, and seconds while the indexes
        are still being built; on the event loop it would hold every other request."""
        return compute if self.defer_suggestions else compute()

    # -- bodies: resolved film or person in, dict shaped as the response model out ---------------
    def month_body(self, number: int) -> dict[str, object]:  # s.CantidadMes
        name, count = MONTHS[number - 1], self.catalog.month_counts[number]
        return {
            "mes": name,
            "numero_mes": number,
            "cantidad": count,
            "mensaje": f"{count} cantidad de películas fueron estrenadas en el mes de {name}",
        }

    def weekday_body(self, number: int) -> dict[str, object]:  # s.CantidadDia
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

    def score_body(self, row: int, key: int | None = None) -> dict[str, object]:  # s.ScoreTitulo
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

    def votes_body(self, row: int, key: int | None = None) -> dict[str, object]:  # s.VotosTitulo
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

    def actor_body(self, key: str) -> dict[str, object]:  # s.Actor
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

    def director_body(self, key: str) -> dict[str, object]:  # s.Director
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

    def recommendation_body(self, row: int, namesakes: bool, key: int | None = None) -> dict[str, object]:
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
