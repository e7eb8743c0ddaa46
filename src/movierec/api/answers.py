"""What each endpoint answers, from the catalog: the JSON body (bytes), or an :class:`ApiError`.

Kept apart from the FastAPI routes so the routes stay one line each and these rules can be read
(and tested) without HTTP. Messages to the client are in Spanish.

Parsing and validation of the raw parameters happen here (422 with a Spanish message). A 200
body (:mod:`movierec.api.bodies`) is rendered to JSON once per resolved film or person and kept
in a bounded LRU cache: the release never changes while it is served, so the answer for a film or
a name is always the same, and rendering costs more than the look-up. The tests validate every
answer against its model, and the property test against the OpenAPI schema. Error bodies
(:mod:`movierec.api.errors`), rare and echoing the client's input, are built through their
models and never cached.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from urllib.parse import parse_qsl

from movierec.api import schemas as s
from movierec.api.bodies import LISTED, Bodies
from movierec.api.cache import BoundedCache
from movierec.api.errors import ApiError, invalid, not_found
from movierec.api.shapes import json_bytes, picks_size
from movierec.catalog.indexes import Catalog, Film
from movierec.catalog.people import People
from movierec.catalog.text import normalize, parse_month, parse_weekday
from movierec.config import Settings
from movierec.vocabulary import MONTHS, WEEKDAYS

VALID_MONTHS = [*MONTHS[:8], "septiembre (o setiembre)", *MONTHS[9:]]
MAX_YEAR = 9999
MAX_ID = 2**63 - 1
MAX_CACHED_QUERY = 1024  # longer personal queries (up to 50 titles) are answered, not kept
MAX_LIKED = 50  # films one personal query may name
# "Heat (1995)"; ASCII digits only: int() reads "١٩٩٥" as 1995 too
YEAR_SUFFIX = re.compile(r"^(?P<title>.*\S)\s*\(\s*(?P<year>[0-9]{1,4})\s*\)\s*$")

Found = tuple[int, int]  # a film found by its title: (row, title key)
Picks = list[tuple[Film, float, Film | None]]  # a personal query's films: (film, score, the liked film behind it)


class Answers:
    """The API's answers over one catalog; every public method is one endpoint."""

    def __init__(self, catalog: Catalog, settings: Settings, *, defer_suggestions: bool = False) -> None:
        self.catalog = catalog
        self.settings = settings
        self.defer_suggestions = defer_suggestions  # the app's choice: see _suggestions
        self.bodies = bodies = Bodies(catalog, settings)
        # Bounded in entries and bytes (api/cache.py). The caches compute from the bodies and the
        # catalog, never from the answers: no reference cycle back to them, so that a release the
        # server switched away from is freed as soon as no request holds it.
        # by (row, title key): the title a film was asked by decides its `coincidencias`
        self._score: BoundedCache[Found, bytes] = BoundedCache(lambda found: json_bytes(bodies.score(*found)))
        self._votes: BoundedCache[Found, bytes] = BoundedCache(lambda found: json_bytes(bodies.votes(*found)))
        self._recommend_title: BoundedCache[Found, bytes] = BoundedCache(
            lambda found: json_bytes(bodies.recommendation(found[0], namesakes=True, key=found[1]))
        )
        self._recommend_id: BoundedCache[int, bytes] = BoundedCache(
            lambda row: json_bytes(bodies.recommendation(row, namesakes=False))
        )
        self._actor: BoundedCache[str, bytes] = BoundedCache(lambda key: json_bytes(bodies.actor(key)))
        self._director: BoundedCache[str, bytes] = BoundedCache(lambda key: json_bytes(bodies.director(key)))
        self._month: BoundedCache[int, bytes] = BoundedCache(lambda n: json_bytes(bodies.month(n)), entries=12)
        self._weekday: BoundedCache[int, bytes] = BoundedCache(lambda n: json_bytes(bodies.weekday(n)), entries=7)
        self._personal: BoundedCache[tuple[int, ...], Picks] = BoundedCache(
            lambda rows: catalog.personal(list(rows)), size=picks_size
        )
        # the whole answer by the query string as received: a repeated list skips the parsing and
        # the title look-ups too; an error is raised, never cached. Through a weak proxy: this one
        # computes from the answers themselves.
        me = weakref.proxy(self)
        self._personal_query: BoundedCache[bytes, bytes] = BoundedCache(lambda query: me.personal_from_query(query))

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
        missing: list[tuple[str, list[str]]] = []  # (entry, suggestions): an s.NoEncontrado each
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
                missing.append((entry, suggestions))
            elif row in rows:
                repeated.append(entry)
            else:
                rows.append(row)
        if not rows:
            flat = list(dict.fromkeys(x for _, suggested in missing for x in suggested))
            body = s.ErrorNingunaEncontrada(
                detail="No se encontró ninguna de las películas indicadas: "
                + ", ".join(f"«{entry}»" for entry, _ in missing)
                + ".",
                sugerencias=flat[: self.settings.suggestions],
                no_encontrados=[s.NoEncontrado(entrada=entry, sugerencias=suggested) for entry, suggested in missing],
            )
            raise ApiError(404, body.model_dump())
        picks = self._personal(tuple(sorted(rows)))
        unknown: list[dict[str, object]] = [{"entrada": entry, "sugerencias": found} for entry, found in missing]
        return json_bytes(self.bodies.personal(rows, picks, unknown, repeated))

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
