"""``estrenos``: how many films of the catalog were released in a month, or on a weekday."""

# No `from __future__ import annotations`: FastAPI inspects the endpoints' annotations.
from fastapi import APIRouter, Request
from fastapi.responses import Response

from movierec.api import schemas as s
from movierec.api.direct_route import JSON, direct_router
from movierec.api.follow import Served
from movierec.api.openapi_parameters import in_path, parameters
from movierec.api.openapi_responses import LOOKUP, OK
from movierec.config import Settings

TAG = {"name": "estrenos", "description": "Cantidad de estrenos por mes o día de la semana."}


def router(settings: Settings, served: Served) -> APIRouter:
    """``GET /cantidad_filmaciones_mes/{mes}`` and ``GET /cantidad_filmaciones_dia/{dia}``."""
    router = direct_router(TAG["name"])
    answers = served.answers
    max_chars = settings.max_input_chars

    @router.get(
        "/cantidad_filmaciones_mes/{mes}",
        response_model=s.CantidadMes,
        responses=LOOKUP,
        response_description=OK,
        summary="Estrenos de un mes",
        description="Películas del catálogo estrenadas en ese mes, sumando todos los años.",
        openapi_extra=parameters(
            in_path(
                "mes",
                "Mes en español: enero … diciembre (también «setiembre»), sin distinguir mayúsculas.",
                max_chars,
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
        response_description=OK,
        summary="Estrenos de un día de la semana",
        description="Películas del catálogo estrenadas ese día de la semana, en todas las fechas.",
        openapi_extra=parameters(
            in_path(
                "dia",
                "Día en español: lunes … domingo, con o sin tilde, sin distinguir mayúsculas.",
                max_chars,
                "lunes",
                "miércoles",
            )
        ),
    )
    async def cantidad_filmaciones_dia(request: Request) -> Response:
        return Response(answers().weekday(request.path_params["dia"]), media_type=JSON)

    return router
