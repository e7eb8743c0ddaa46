"""The FastAPI application: the endpoints in Spanish over the published release.

``create_app(data_dir, settings)`` returns an app whose lifespan maps ``DATA/current`` into a
:class:`~movierec.catalog.indexes.Catalog` (and, with ``follow_current``, every release ``current``
later points to: :mod:`movierec.api.follow`); every route is one call into the
:class:`~movierec.api.answers.Answers` of the release served. Routes are ``async def`` on purpose:
an answer is a few microseconds of look-ups, cheaper than a hop to the thread pool.

Each route declares its pydantic model (``response_model``), its error responses and its
parameters (``openapi_extra``) for the OpenAPI schema, but is a :class:`DirectRoute`: it reads the
raw parameters from the request and returns the JSON that ``Answers`` rendered, and validation
(with Spanish messages) is ``Answers``' job. FastAPI's per-request parameter machinery and
response re-validation cost about 40 µs a request on a slow core, more than the answer itself
and more than the 20% of a bare endpoint's time the routes may spend. The property test checks
that what the routes accept and answer matches the schema they publish.

Titles and names are ``{…:path}`` parameters, so a title with a raw '/' ("Face/Off") reaches the
route whole; '?', '#' and '%' must be percent-encoded by the client, as in any URL.
"""

# No `from __future__ import annotations`: FastAPI inspects the endpoints' annotations.
import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from movierec.api import schemas as s
from movierec.api.answers import MAX_ID, MAX_LIKED, Answers, ApiError
from movierec.api.docs import add_docs, add_report
from movierec.api.edge import EdgeMiddleware
from movierec.api.follow import Served, State, follow, load_state
from movierec.api.novedades import add_novedades
from movierec.api.observability import CONTENT_TYPE as METRICS_CONTENT_TYPE
from movierec.api.observability import Metrics, Observability
from movierec.api.openapi_responses import ALWAYS, LOOKUP, PERSONAL
from movierec.api.web import add_web_routes
from movierec.catalog.indexes import Catalog, ReleaseError
from movierec.config import Settings, get_settings
from movierec.release.store import ReleaseStore

log = logging.getLogger("movierec.api")

DESCRIPTION = """
API de recomendación de películas sobre la versión publicada del catálogo (The Movies Dataset).

* Los títulos y nombres se comparan sin distinguir mayúsculas, tildes ni espacios repetidos:
  «TOY STORY», « toy story» y «Toy Story» son la misma película; «Amelie» encuentra «Amélie».
* Un título compartido por varias películas responde la de más votos (luego la más popular) y
  lista las demás en `coincidencias`; `?anio=AAAA` elige una.
* Los títulos con '/' pueden enviarse tal cual («Face/Off») o codificados (`Face%2FOff`);
  '?', '#' y '%' deben codificarse (`%3F`, `%23`, `%25`).
* Un título o nombre desconocido responde 404 con `detail` y hasta {suggestions} `sugerencias` parecidas.
* Un mes o día inválido, o un texto de más de {max_chars} caracteres, responde 422 con un mensaje en español.
* `/health` informa la versión publicada que se sirve (`version`) y el tamaño del catálogo.
* Una petición que no cumple HTTP/1.1 (400), que no llega completa a tiempo (408), con una URL o cabeceras
  demasiado largas (414, 431) o con un método desconocido (501), y un error interno (500), responden
  `{{"detail": …}}` en español.
"""

JSON = "application/json"

_TYPE_MESSAGES = {
    "int_parsing": "debe ser un número entero",
    "int_type": "debe ser un número entero",
    "missing": "es obligatorio",
    "string_type": "debe ser un texto",
}


def _spanish(error: dict[str, object]) -> tuple[str, str]:
    """(parameter, Spanish message) of one pydantic validation error."""
    loc = [str(part) for part in error.get("loc", ()) if part not in ("path", "query", "body", "header")]
    field = ".".join(loc) or "petición"
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    assert isinstance(ctx, dict)
    if kind == "string_too_long":
        text = f"admite como máximo {ctx.get('max_length')} caracteres"
    elif kind == "string_too_short":
        n = ctx.get("min_length")
        text = f"debe tener al menos {n} {'carácter' if n == 1 else 'caracteres'}"
    elif kind in ("greater_than_equal", "greater_than"):
        text = f"debe ser mayor o igual que {ctx.get('ge', ctx.get('gt'))}"
    elif kind in ("less_than_equal", "less_than"):
        text = f"debe ser menor o igual que {ctx.get('le', ctx.get('lt'))}"
    else:
        text = _TYPE_MESSAGES.get(kind, "tiene un valor inválido")
    return field, f"El parámetro «{field}» {text}."


class DirectRoute(APIRoute):
    """A route whose endpoint takes the bare ``Request`` and returns a ``Response``.

    FastAPI's documented extension point (a custom ``route_class`` overriding
    ``get_route_handler``): the route keeps everything FastAPI gives it for the OpenAPI schema
    (``response_model``, ``responses``, ``openapi_extra``) and the app's exception handlers, but
    skips the per-request dependency solving and response re-validation, which cost more than
    the answer itself.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.endpoint  # type: ignore[return-value]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # A request tries the routes in turn; most are rejected here, by the path's static
        # prefix, before the regex and FastAPI's per-route bookkeeping.
        if scope["type"] == "http" and self._prefix not in scope["path"]:
            return Match.NONE, {}
        return super().matches(scope)

    @cached_property
    def _prefix(self) -> str:
        return self.path.split("{", 1)[0]


def create_app(
    data_dir: Path | None = None,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    *,
    follow_current: bool = False,
    log_requests: bool = False,
) -> FastAPI:
    """The API over ``data_dir/current``; pass ``catalog`` to serve an already loaded one. With
    ``follow_current``, the app switches to the release ``current`` points to whenever it
    changes (:mod:`movierec.api.follow`). ``log_requests``: an access log line per request, with
    its request id."""
    settings = settings or get_settings()
    data_dir = data_dir or settings.data_dir
    served = Served(State(Answers(catalog, settings, defer_suggestions=True), None) if catalog is not None else None)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if served.state is None:
            release = ReleaseStore(data_dir).current()
            if release is None:
                raise ReleaseError(f"no release in {data_dir}: run `movierec pipeline --data {data_dir}` first")
            served.state = load_state(release, settings)
            log.info("serving release %s", served.state.answers.catalog.version)
        _freeze()
        # The suggestion indexes (needed only by a 404) are built in a thread while the server
        # already answers, so that they do not delay the start.
        warming = asyncio.get_running_loop().run_in_executor(None, served.state.answers.catalog.warm_up)
        warming.add_done_callback(_report_warm_up)
        watcher = (
            asyncio.create_task(follow(served, data_dir, settings, settings.reload_interval))
            if follow_current
            else None
        )
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()

    app = FastAPI(
        title="movierec: API de películas",
        version=_package_version(),
        description=DESCRIPTION.format(suggestions=settings.suggestions, max_chars=settings.max_input_chars),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,  # /docs from the installed package's files (api/docs.py)
        openapi_tags=[
            {"name": "estrenos", "description": "Cantidad de estrenos por mes o día de la semana."},
            {"name": "películas", "description": "Popularidad y valoraciones de una película."},
            {"name": "personas", "description": "Actores y directores, con el retorno de sus películas."},
            {
                "name": "recomendaciones",
                "description": "Las 5 películas más parecidas a una, o 10 para una persona "
                "según las que le gustaron, según el modelo publicado.",
            },
            {"name": "servicio", "description": "Estado del servicio."},
        ],
    )

    def answers() -> Answers:
        """The answers of the release served now: read once per request (see api/follow.py)."""
        state = served.state
        if state is None:  # only without a lifespan (a bare ASGI call); uvicorn always runs it
            raise ApiError(503, {"detail": "El catálogo todavía no está cargado."})
        return state.answers

    router = APIRouter(route_class=DirectRoute)
    ok = {"response_description": "Respuesta correcta."}
    text = {"type": "string", "minLength": 1, "maxLength": settings.max_input_chars}

    def params(*specs: dict[str, object]) -> dict[str, object]:
        return {"parameters": list(specs)}

    def in_path(name: str, description: str, *examples: str) -> dict[str, object]:
        return {
            "name": name,
            "in": "path",
            "required": True,
            "description": description,
            "schema": text,
            "examples": {e: {"value": e} for e in examples},
        }

    titulo = in_path(
        "titulo",
        "Título de la película, sin distinguir mayúsculas, tildes ni espacios repetidos.",
        "Toy Story",
        "Face/Off",
    )
    anio = {
        "name": "anio",
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "description": "Año de estreno, para elegir entre películas con el mismo título.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 9999},
        "examples": {"1995": {"value": 1995}},
    }

    @router.get(
        "/cantidad_filmaciones_mes/{mes}",
        response_model=s.CantidadMes,
        responses=LOOKUP,
        **ok,
        tags=["estrenos"],
        summary="Estrenos de un mes",
        description="Películas del catálogo estrenadas en ese mes, sumando todos los años.",
        openapi_extra=params(
            in_path(
                "mes",
                "Mes en español: enero … diciembre (también «setiembre»), sin distinguir mayúsculas.",
                "enero",
                "Setiembre",
            )
        ),
    )
    async def cantidad_filmaciones_mes(request: Request) -> Response:
        return Response(answers().month(request.path_params["mes"]), media_type=JSON)

    @router.get(
        "/cantidad_filmaciones_dia/{dia}",
        response_model=s.CantidadDia,
        responses=LOOKUP,
        **ok,
        tags=["estrenos"],
        summary="Estrenos de un día de la semana",
        description="Películas del catálogo estrenadas ese día de la semana, en todas las fechas.",
        openapi_extra=params(
            in_path(
                "dia",
                "Día en español: lunes … domingo, con o sin tilde, sin distinguir mayúsculas.",
                "lunes",
                "miércoles",
            )
        ),
    )
    async def cantidad_filmaciones_dia(request: Request) -> Response:
        return Response(answers().weekday(request.path_params["dia"]), media_type=JSON)

    @router.get(
        "/score_titulo/{titulo:path}",
        response_model=s.ScoreTitulo,
        responses=LOOKUP,
        **ok,
        tags=["películas"],
        summary="Popularidad de una película",
        description="Título, año de estreno y popularidad de TMDB.",
        openapi_extra=params(titulo, anio),
    )
    async def score_titulo(request: Request) -> Response:
        body = answers().score(request.path_params["titulo"], _query(request, "anio"))
        return Response(body, media_type=JSON)

    @router.get(
        "/votos_titulo/{titulo:path}",
        response_model=s.VotosTitulo,
        responses=LOOKUP,
        **ok,
        tags=["películas"],
        summary="Valoraciones de una película",
        description="Cantidad de valoraciones y su promedio; el promedio solo se informa con al menos "
        f"{settings.min_votes} valoraciones.",
        openapi_extra=params(titulo, anio),
    )
    async def votos_titulo(request: Request) -> Response:
        body = answers().votes(request.path_params["titulo"], _query(request, "anio"))
        return Response(body, media_type=JSON)

    @router.get(
        "/get_actor/{nombre_actor:path}",
        response_model=s.Actor,
        responses=LOOKUP,
        **ok,
        tags=["personas"],
        summary="Retorno de un actor",
        description="Películas en cuyo reparto figura la persona (no cuentan sus créditos de equipo, "
        "tampoco la dirección), y la suma y el promedio de su retorno.",
        openapi_extra=params(in_path("nombre_actor", "Nombre del actor o actriz.", "Tom Hanks")),
    )
    async def get_actor(request: Request) -> Response:
        return Response(answers().actor(request.path_params["nombre_actor"]), media_type=JSON)

    @router.get(
        "/get_director/{nombre_director:path}",
        response_model=s.Director,
        responses=LOOKUP,
        **ok,
        tags=["personas"],
        summary="Películas y retorno de un director",
        description="Películas en las que la persona figura con el puesto «Director», por fecha de estreno.",
        openapi_extra=params(in_path("nombre_director", "Nombre del director o directora.", "John Lasseter")),
    )
    async def get_director(request: Request) -> Response:
        return Response(answers().director(request.path_params["nombre_director"]), media_type=JSON)

    @router.get(
        "/recomendacion/{titulo:path}",
        response_model=s.Recomendacion,
        responses=LOOKUP,
        **ok,
        tags=["recomendaciones"],
        summary="5 películas parecidas a una película",
        description="Las 5 mejores vecinas según el modelo de la versión publicada, la mejor primero.",
        openapi_extra=params(titulo, anio),
    )
    async def recomendacion(request: Request) -> Response:
        body = answers().recommend_title(request.path_params["titulo"], _query(request, "anio"))
        return Response(body, media_type=JSON)

    @router.get(
        "/peliculas/{id}/recomendaciones",
        response_model=s.Recomendacion,
        responses=LOOKUP,
        **ok,
        tags=["recomendaciones"],
        summary="5 películas parecidas, por id de TMDB",
        openapi_extra=params(
            {
                "name": "id",
                "in": "path",
                "required": True,
                "description": "Id de TMDB de la película.",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                "examples": {"toy story": {"value": 862}},
            }
        ),
    )
    async def recomendaciones_por_id(request: Request) -> Response:
        return Response(answers().recommend_id(request.path_params["id"]), media_type=JSON)

    def repeated(name: str, description: str, items: dict[str, object], example: list[object]) -> dict[str, object]:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "style": "form",
            "explode": True,
            "schema": {"type": "array", "items": items, "maxItems": MAX_LIKED},
            "examples": {"ejemplo": {"value": example}},
        }

    @router.get(
        "/recomendacion_usuario",
        response_model=s.RecomendacionUsuario,
        responses=PERSONAL,
        **ok,
        tags=["recomendaciones"],
        summary="10 películas para una persona, según las que le gustaron",
        description=f"De 1 a {MAX_LIKED} películas que le gustaron (`titulo=` e `id=`, repetibles): las 10 "
        "películas que el modelo recomienda, sin repetir las indicadas, cada una con la indicada "
        "que más aportó (`porque`). Las entradas no encontradas van en `no_encontrados` con "
        "sugerencias (las de títulos parecidos, solo para las primeras "
        f"{settings.fuzzy_per_request}); 404 solo si no se encontró ninguna.",
        openapi_extra=params(
            repeated(
                "titulo",
                "Título de una película que le gustó, con las mismas reglas que "
                "`/recomendacion`; «Heat (1995)» elige el año.",
                text,
                ["Toy Story", "Heat (1995)"],
            ),
            repeated(
                "id",
                "Id de TMDB de una película que le gustó.",
                {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                [862, 949],
            ),
        ),
    )
    async def recomendacion_usuario(request: Request) -> Response:
        current, query = answers(), request.scope["query_string"]
        body = current.personal_cached(query)
        if body is None:  # title look-ups, fuzzy searches, scoring: milliseconds, off the event loop
            body = await run_in_threadpool(current.personal_query, query)
        return Response(body, media_type=JSON)

    @router.get(
        "/health",
        response_model=s.Salud,
        responses=ALWAYS,
        **ok,
        tags=["servicio"],
        summary="Estado y versión servida",
        description="`ok` cuando el catálogo está cargado, con la versión publicada que se sirve y la "
        "cantidad de películas del catálogo.",
    )
    async def health(request: Request) -> JSONResponse:
        return JSONResponse(answers().health())

    def served_release() -> tuple[str, str | None]:
        catalog = served.state.answers.catalog if served.state is not None else None
        if catalog is None:
            return "", None
        created = catalog.manifest.get("created_at")
        return catalog.version, created if isinstance(created, str) else None

    metrics = Metrics(served_release)

    @router.get("/metrics", include_in_schema=False)
    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    add_report(router, answers, ok)  # GET /reporte, /reporte.json (api/docs.py)
    app.include_router(add_novedades(router, answers))  # GET /novedades (api/novedades.py)
    add_web_routes(app, answers, settings)  # GET / and /sugerencias: the page for people (api/web.py)
    add_docs(app)  # GET /docs, Swagger UI from the installed package (api/docs.py)
    origins = settings.cors_origin_list()
    if origins:  # a web front end of the client's, on another origin, calls the API
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "HEAD"],
            allow_headers=["*"],
            expose_headers=["x-request-id"],
            max_age=600,
        )
    app.add_middleware(EdgeMiddleware)  # HEAD, relative redirects, control characters (api/edge.py)
    app.add_middleware(Observability, metrics=metrics, log_requests=log_requests)  # outermost: sees all
    # The API's routes first, the documentation's after: a request tries the routes in order.
    app.router.routes.sort(key=lambda route: not isinstance(route, DirectRoute))

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        if exc.pending is not None:  # suggestions whose indexes are still being built
            exc.body["sugerencias"] = await run_in_threadpool(exc.pending)
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_spanish(e) for e in exc.errors()]
        body = s.ErrorValidacion(
            detail=" ".join(message for _, message in errors) or "Petición inválida.",
            errores=[s.ErrorCampo(campo=field, mensaje=message) for field, message in errors],
        )
        return JSONResponse(body.model_dump(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            body: dict[str, object] = {"detail": "Ruta no encontrada. Consulte /docs.", "sugerencias": []}
        elif exc.status_code == 405:
            body = {"detail": "Método no permitido: esta API solo responde a GET (y HEAD)."}
        else:
            body = {"detail": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def server_error(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse({"detail": "Error interno del servidor."}, status_code=500)

    return app


def _freeze() -> None:
    """Exempt everything allocated so far (the imported modules, the suggestion indexes, the
    answer caches) from the cyclic garbage collector, so that a full collection does not walk
    them on some unlucky request. A release switched away from is still freed: its objects hold
    no reference cycle, so reference counting frees them (frozen or not) once no request holds
    them. (Loading leaves no cyclic garbage to collect first.)"""
    gc.freeze()


def _report_warm_up(done: "asyncio.Future[int]") -> None:
    if done.cancelled():
        return
    if (error := done.exception()) is not None:
        log.error("building the suggestion indexes failed; 404s will build them", exc_info=error)
    else:
        _freeze()
        log.info("suggestion indexes ready: %d titles and names", done.result())


def _query(request: Request, name: str) -> str | None:
    """A query parameter's value (the last one if repeated), without parsing an empty query."""
    return request.query_params.get(name) if request.scope["query_string"] else None


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("movierec")
    except PackageNotFoundError:
        return "0"
