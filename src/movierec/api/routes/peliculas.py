"""``películas``: a film's popularity and votes, and the films the latest ingests added.

(``GET /sugerencias``, in this tag too, belongs to the web page: :mod:`movierec.api.web`.)
"""

# No `from __future__ import annotations`: FastAPI inspects the endpoints' annotations.
from fastapi import APIRouter, Request
from fastapi.responses import Response

from movierec.api import schemas as s
from movierec.api.direct_route import JSON, direct_router, query_value
from movierec.api.follow import Served
from movierec.api.novedades import MAX_LIMIT, Novedades, novedades
from movierec.api.openapi_parameters import ANIO, LIMITE, parameters, titulo
from movierec.api.openapi_responses import LOOKUP, OK, responses
from movierec.config import Settings

TAG = {"name": "películas", "description": "Popularidad y valoraciones de una película."}


def router(settings: Settings, served: Served) -> APIRouter:
    """``GET /score_titulo/{titulo}``, ``GET /votos_titulo/{titulo}`` and ``GET /novedades``."""
    router = direct_router(TAG["name"])
    title = titulo(settings.max_input_chars)

    @router.get(
        "/score_titulo/{titulo:path}",
        response_model=s.ScoreTitulo,
        responses=LOOKUP,
        response_description=OK,
        summary="Popularidad de una película",
        description="Título, año de estreno y popularidad de TMDB.",
        openapi_extra=parameters(title, ANIO),
    )
    async def score_titulo(request: Request) -> Response:
        body = served.answers().score(request.path_params["titulo"], query_value(request, "anio"))
        return Response(body, media_type=JSON)

    @router.get(
        "/votos_titulo/{titulo:path}",
        response_model=s.VotosTitulo,
        responses=LOOKUP,
        response_description=OK,
        summary="Valoraciones de una película",
        description="Cantidad de valoraciones y su promedio; el promedio solo se informa con al menos "
        f"{settings.min_votes} valoraciones.",
        openapi_extra=parameters(title, ANIO),
    )
    async def votos_titulo(request: Request) -> Response:
        body = served.answers().votes(request.path_params["titulo"], query_value(request, "anio"))
        return Response(body, media_type=JSON)

    @router.get(
        "/novedades",
        response_model=Novedades,
        response_description=OK,
        responses=responses(
            {422: {"model": s.ErrorValidacion, "description": f"«limite» no es un entero entre 1 y {MAX_LIMIT}."}}
        ),
        summary="Películas agregadas por las últimas actualizaciones",
        description="Las películas que agregaron las últimas actualizaciones del catálogo (desde TMDB), la "
        "más nueva primero, con la fecha de la versión que las agregó y sus 5 recomendaciones. "
        "Una lista vacía si el catálogo no recibió actualizaciones.",
        openapi_extra=parameters(LIMITE),
    )
    async def lista_novedades(request: Request) -> Response:
        return Response(novedades(served.answers().catalog, query_value(request, "limite")), media_type=JSON)

    return router
