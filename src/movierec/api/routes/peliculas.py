"""``películas``: a film's popularity and votes.

Also in this tag: ``GET /novedades`` (:mod:`movierec.api.routes.novedades`) and ``GET /sugerencias``
(the web page's: :mod:`movierec.api.web`).
"""

# No `from __future__ import annotations`: FastAPI inspects the endpoints' annotations.
from fastapi import APIRouter, Request
from fastapi.responses import Response

from movierec.api import schemas as s
from movierec.api.direct_route import JSON, direct_router, query_value
from movierec.api.follow import Served
from movierec.api.openapi_parameters import ANIO, parameters, titulo
from movierec.api.openapi_responses import LOOKUP, OK
from movierec.config import Settings

TAG = {"name": "películas", "description": "Popularidad y valoraciones de una película."}


def router(settings: Settings, served: Served) -> APIRouter:
    """``GET /score_titulo/{titulo}`` and ``GET /votos_titulo/{titulo}``."""
    router = direct_router(TAG["name"])
    answers = served.answers
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
        body = answers().score(request.path_params["titulo"], query_value(request, "anio"))
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
        body = answers().votes(request.path_params["titulo"], query_value(request, "anio"))
        return Response(body, media_type=JSON)

    return router
