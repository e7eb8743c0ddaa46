"""``GET /novedades`` (tag ``películas``): the films the latest ingests added (:mod:`movierec.api.novedades`).

A module of its own, not in :mod:`~movierec.api.routes.peliculas`: its route comes after the other
tags' (as it always has), so that every request is matched against the same routes before its own
(each costs a little), and the paths of ``/openapi.json`` keep their order.
"""

# No `from __future__ import annotations`: FastAPI inspects the endpoints' annotations.
from fastapi import APIRouter, Request
from fastapi.responses import Response

from movierec.api import schemas as s
from movierec.api.direct_route import JSON, direct_router, query_value
from movierec.api.follow import Served
from movierec.api.novedades import MAX_LIMIT, Novedades, novedades
from movierec.api.openapi_parameters import LIMITE, parameters
from movierec.api.openapi_responses import OK, responses
from movierec.api.routes.peliculas import TAG


def router(served: Served) -> APIRouter:
    """``GET /novedades?limite=N``."""
    router = direct_router(TAG["name"])
    answers = served.answers

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
        return Response(novedades(answers().catalog, query_value(request, "limite")), media_type=JSON)

    return router
