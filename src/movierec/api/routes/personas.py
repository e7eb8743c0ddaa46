"""``personas``: an actor's or a director's films, and the return on them."""

# No `from __future__ import annotations`: FastAPI inspects the endpoints' annotations.
from fastapi import APIRouter, Request
from fastapi.responses import Response

from movierec.api import schemas as s
from movierec.api.direct_route import JSON, direct_router
from movierec.api.follow import Served
from movierec.api.openapi_parameters import in_path, parameters
from movierec.api.openapi_responses import LOOKUP, OK
from movierec.config import Settings

TAG = {"name": "personas", "description": "Actores y directores, con el retorno de sus películas."}


def router(settings: Settings, served: Served) -> APIRouter:
    """``GET /get_actor/{nombre_actor}`` and ``GET /get_director/{nombre_director}``."""
    router = direct_router(TAG["name"])
    answers = served.answers
    max_chars = settings.max_input_chars

    @router.get(
        "/get_actor/{nombre_actor:path}",
        response_model=s.Actor,
        responses=LOOKUP,
        response_description=OK,
        summary="Retorno de un actor",
        description="Películas en cuyo reparto figura la persona (no cuentan sus créditos de equipo, "
        "tampoco la dirección), y la suma y el promedio de su retorno.",
        openapi_extra=parameters(in_path("nombre_actor", "Nombre del actor o actriz.", max_chars, "Tom Hanks")),
    )
    async def get_actor(request: Request) -> Response:
        return Response(answers().actor(request.path_params["nombre_actor"]), media_type=JSON)

    @router.get(
        "/get_director/{nombre_director:path}",
        response_model=s.Director,
        responses=LOOKUP,
        response_description=OK,
        summary="Películas y retorno de un director",
        description="Películas en las que la persona figura con el puesto «Director», por fecha de estreno.",
        openapi_extra=parameters(
            in_path("nombre_director", "Nombre del director o directora.", max_chars, "John Lasseter")
        ),
    )
    async def get_director(request: Request) -> Response:
        return Response(answers().director(request.path_params["nombre_director"]), media_type=JSON)

    return router
