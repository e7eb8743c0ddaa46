"""The web page for people: ``GET /`` (search, a film's card, "mi lista") and ``GET /sugerencias``.

Installed by ``add_web_routes(app, answers, settings)``: it reads the same
:class:`~movierec.api.answers.Answers` (and so the same catalog, of the release being served) as
the API's routes, on every request; it holds no data of its own, so it follows the release the
API serves. Its routes are plain FastAPI routes, tried after the API's (the app sorts its own
routes first): the API's requests never reach them, and no middleware is added.

* ``GET /sugerencias?q=toy+stor``: up to 10 films, by title prefix and fuzzy match (the catalog's
  title suggester, the normalization of the API), each ``{id, titulo, anio}``; a title shared by
  several films lists up to 3 of them, the preferred (most voted) first. Computed in a worker
  thread: the fuzzy match costs milliseconds at full size and must not hold the event loop, where
  the API's microsecond answers run.
* ``GET /``: the page, rendered on the server so that it works without JavaScript: ``?q=`` lists
  matching titles as links, ``?id=`` shows the film's card (title, year, genres, director, top
  cast, overview from the release's memory-mapped cards; popularity, votes, the average only
  from the API's minimum of votes) and its 5 recommendations with the model's reason in words.
  The inline script adds the suggestions as one types and "mi lista" (localStorage), whose
  personal picks come from ``GET /recomendacion_usuario?id=…&id=…``.

Nothing is loaded from elsewhere: style and script are inline, and the page's
Content-Security-Policy allows only those two (by hash) and requests to this origin.
Errors: a bad ``q`` or ``id`` answers 422 and an unknown ``id`` 404, as Spanish JSON like the
API's, or as the page with the message when the client asks for HTML (a browser).
"""

# No `from __future__ import annotations`: FastAPI inspects the endpoints' annotations.
import base64
import hashlib
import weakref
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from movierec.api import schemas as s
from movierec.api.answers import MAX_ID, Answers
from movierec.api.cache import OVERHEAD, BoundedCache
from movierec.api.errors import ApiError, invalid, not_found
from movierec.api.fields import original_title_field, spanish_title_field, with_examples
from movierec.api.openapi_parameters import parameters, search_text
from movierec.api.openapi_responses import OK, responses
from movierec.api.shapes import json_bytes, other_titles, shown_title
from movierec.api.web_text import content_note, genre_names, reason_phrase, spanish_date, spanish_day, spanish_number
from movierec.catalog.indexes import Catalog, Film
from movierec.catalog.text import normalize
from movierec.config import Settings

TEMPLATES = Path(__file__).parent / "templates"
SUGGESTIONS = 10  # films per /sugerencias answer
RESULTS = 20  # films listed by a search without JavaScript
PER_TITLE = 3  # films of one shared title among them
CARD_LIST = 10  # directors and genres a card shows
NEWEST = 10  # films the home page lists under «Novedades» (GET /novedades gives up to 100)


class Sugerencia(BaseModel):
    id: int = Field(description="Id de TMDB de la película.")
    titulo: str = Field(description="Título de la película.")
    titulo_original: str | None = original_title_field()
    titulo_es: str | None = spanish_title_field()
    anio: int | None = Field(description="Año de estreno.")


class Sugerencias(BaseModel):
    model_config = with_examples(
        {"consulta": "toy stor", "sugerencias": [{"id": 862, "titulo": "Toy Story", "anio": 1995}]}
    )

    consulta: str = Field(description="El texto consultado, tal como llegó.")
    sugerencias: list[Sugerencia] = Field(description="Hasta 10 películas, la más parecida primero.")


def suggested_films(catalog: Catalog, query: str, limit: int) -> list[Film]:
    """Films whose title starts like ``query`` or is within the fuzzy cutoff, best first; a
    shared title contributes its first ``PER_TITLE`` films (most voted first). Kept per catalog
    in an LRU cache by the normalized text: the same first letters are typed by everyone."""
    find = _SUGGESTED.get(catalog)
    if find is None:
        find = _SUGGESTED.setdefault(catalog, _suggester(weakref.proxy(catalog)))
    return list(find(normalize(query), limit))


#: Each served catalog's cached suggestions; weak, so that a release switched away from is freed.
_SUGGESTED: weakref.WeakKeyDictionary[Catalog, Callable[[str, int], tuple[Film, ...]]] = weakref.WeakKeyDictionary()


def _suggester(catalog: Catalog) -> Callable[[str, int], tuple[Film, ...]]:
    def search(key_limit: tuple[str, int]) -> tuple[Film, ...]:
        key, limit = key_limit
        films: list[Film] = []
        seen: set[int] = set()  # a film may bear two of the titles suggested
        for label in catalog.titles.suggest(key, limit):
            for film in catalog.films_titled(label, PER_TITLE):
                if film.row in seen:
                    continue
                seen.add(film.row)
                films.append(film)
                if len(films) == limit:
                    return tuple(films)
        return tuple(films)

    def size(films: tuple[Film, ...]) -> int:  # the key's text is counted by the cache
        return sum(len(film.title or "") + len(film.original or "") + len(film.es or "") + OVERHEAD for film in films)

    cache = BoundedCache(search, size=size)
    return lambda key, limit: cache((key, limit))


def check_query(query: str, settings: Settings) -> None:
    """A 422 for an empty or too long search text (the API's rules for a title)."""
    if len(query) > settings.max_input_chars:
        raise invalid(
            f"El parámetro «q» admite como máximo {settings.max_input_chars} caracteres (tiene {len(query)}).",
            field="q",
        )
    if not normalize(query):
        raise invalid("Indique un título: el parámetro «q» está vacío.", field="q")


def film_row(catalog: Catalog, value: str) -> int:
    """The row of the film whose TMDB id is ``value``; a 422 when it is no id, a 404 when unknown."""
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID)) and int(text) <= MAX_ID):
        raise invalid(
            f"El parámetro «id» debe ser un número entero entre 0 y {MAX_ID} (se recibió «{value[:40]}»).", field="id"
        )
    row = catalog.row_of_id(int(text))
    if row is None:
        raise not_found(f"No hay ninguna película con id {int(text)} en el catálogo.", [])
    return row


def film_label(film: Film, language: str) -> str:
    """How the page names a film: the title in the preferred language (MOVIEREC_TITLE_LANGUAGE)
    with the catalogue title beside it, «El padrino — The Godfather»; the catalogue title alone
    when that is the one preferred or no other is known."""
    shown = shown_title(film, language)
    if shown is None:
        return "Sin título"
    return shown if shown == film.title or not film.title else f"{shown} — {film.title}"


def card_context(catalog: Catalog, row: int, settings: Settings) -> dict[str, object]:
    """What the page shows of a film: the catalog's numbers, the release's card, 5 picks."""
    film = catalog.film(row)
    card = catalog.cards.card(film.id) if catalog.cards is not None else None
    enough = film.votes >= settings.min_votes and film.vote_average is not None
    language = settings.title_language
    picks = [
        {"id": pick.id, "title": film_label(pick, language), "year": pick.year, "reason": reason_phrase(reason)}
        for (pick, _), reason in zip(catalog.recommend(row), catalog.reasons(row), strict=True)
    ]
    shown = film_label(film, language)
    return {
        "id": film.id,
        "title": shown,
        "year": film.year,
        "date": film.date,
        "original": film.original if film.original and film.original not in shown else None,
        "has_details": card is not None,
        "genres": genre_names(card.genres[:CARD_LIST]) if card else "",
        "directors": _listed(card.directors) if card else "",
        "cast": ", ".join(card.cast) if card else "",
        "collection": card.collection if card else None,
        "overview": card.overview if card else None,
        "popularity": spanish_number(film.popularity, 2),
        "votes": spanish_number(film.votes),
        "average": (
            f"{spanish_number(film.vote_average, 1)} de 10"
            if enough
            else f"no se informa con menos de {spanish_number(settings.min_votes)} votos"
        ),
        "picks": picks,
        "added": spanish_day(catalog.added_on(row)),
        "content_note": content_note(catalog.likes(row), catalog.added_on(row)),
    }


def _listed(names: list[str]) -> str:
    """The first ``CARD_LIST`` names, and how many more: one film may credit thousands."""
    more = len(names) - CARD_LIST
    return ", ".join(names[:CARD_LIST]) + (f" y {more} más" if more > 0 else "")


def newest_context(catalog: Catalog, language: str) -> list[dict[str, object]]:
    """The home page's «Novedades»: the films the latest ingests added, newest first."""
    return [
        {"id": film.id, "title": film_label(film, language), "year": film.year, "added": spanish_day(day)}
        for film, day in catalog.newest(NEWEST)
    ]


def _inline_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


class WebPage:
    """The page template, with its inline style and script read once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
        environment.globals["label"] = lambda film: film_label(film, settings.title_language)
        self.template = environment.get_template("pagina.html")
        self.css = (TEMPLATES / "pagina.css").read_text()
        self.js = (TEMPLATES / "pagina.js").read_text()
        self.headers = {
            "Content-Security-Policy": (
                f"default-src 'none'; style-src {_inline_hash(self.css)}; script-src {_inline_hash(self.js)}; "
                "connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
                "frame-ancestors 'none'"
            ),
            "Cache-Control": "no-cache",  # the page follows the release being served
            "X-Content-Type-Options": "nosniff",
        }

    def html_response(
        self,
        catalog: Catalog,
        *,
        status: int = 200,
        query: str = "",
        error: str | None = None,
        results: list[Film] | None = None,
        card: dict[str, object] | None = None,
    ) -> HTMLResponse:
        title = (
            str(card["title"])
            if card
            else (f"Resultados para «{query}»" if results is not None else "Encuentre una película")
        )
        home = card is None and results is None and error is None
        html = self.template.render(
            page_title=title,
            query=query,
            error=error,
            results=results,
            card=card,
            newest=newest_context(catalog, self.settings.title_language) if home else None,
            title_language=self.settings.title_language,
            max_chars=self.settings.max_input_chars,
            css=Markup(self.css),
            js=Markup(self.js),
            version=catalog.version,
            created=spanish_date(catalog.manifest.get("created_at")),
            films=spanish_number(len(catalog)),
        )
        return HTMLResponse(html, status_code=status, headers=self.headers)


def add_web_routes(app: FastAPI, answers: Callable[[], Answers], settings: Settings) -> None:
    """Add ``GET /`` and ``GET /sugerencias`` to ``app``; ``answers`` gives the served release's answers."""
    page = WebPage(settings)
    router = APIRouter()

    @router.get(
        "/sugerencias",
        response_model=Sugerencias,
        response_description=OK,
        tags=["películas"],
        summary="Sugerencias de títulos",
        description="Hasta 10 películas cuyo título empieza como el texto o se le parece (admite errores "
        "de escritura), para sugerir mientras se escribe. Sin coincidencias, la lista está vacía.",
        responses=responses({422: {"model": s.ErrorValidacion, "description": "Texto vacío o demasiado largo."}}),
        openapi_extra=parameters(search_text(settings.max_input_chars)),
    )
    async def sugerencias(request: Request) -> Response:
        query = request.query_params.get("q", "")
        check_query(query, settings)
        films = await run_in_threadpool(suggested_films, answers().catalog, query, SUGGESTIONS)
        body: dict[str, object] = {
            "consulta": query,
            "sugerencias": [{"id": f.id, "titulo": f.title, **other_titles(f), "anio": f.year} for f in films],
        }
        return Response(json_bytes(body), media_type="application/json")

    @router.get("/", include_in_schema=False)
    async def pagina(request: Request) -> Response:
        catalog = answers().catalog
        query = request.query_params.get("q", "")
        film_id = request.query_params.get("id", "")
        try:
            if film_id.strip():
                return page.html_response(
                    catalog, query=query, card=card_context(catalog, film_row(catalog, film_id), settings)
                )
            if query.strip():
                check_query(query, settings)
                results = await run_in_threadpool(suggested_films, catalog, query, RESULTS)
                return page.html_response(catalog, query=query, results=results)
        except ApiError as error:
            if "text/html" not in request.headers.get("accept", ""):
                raise  # the app's handler answers Spanish JSON, as for the API
            return page.html_response(
                catalog, status=error.status, query=query[: settings.max_input_chars], error=str(error.body["detail"])
            )
        return page.html_response(catalog, query=query)

    app.include_router(router)
