"""``recomendaciones``: 5 films like one (by title or TMDB id), or 10 for someone, by the films they liked."""

# No `from __future__ import annotations`: FastAPI inspects the endpoints' annotations.
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from movierec.api import schemas as s
from movierec.api.answers import MAX_LIKED
from movierec.api.direct_route import JSON, direct_router, query_value
from movierec.api.follow import Served
from movierec.api.openapi_parameters import ANIO, FILM_ID, ID_SCHEMA, parameters, repeated, text_schema, titulo
from movierec.api.openapi_responses import LOOKUP, OK, PERSONAL
from movierec.config import Settings

TAG = {
    "name": "recomendaciones",
    "description": "Las 5 películas más parecidas a una, o 10 para una persona "
    "según las que le gustaron, según el modelo publicado.",
}


def router(settings: Settings, served: Served) -> APIRouter:
    """``GET /recomendacion/{titulo}``, ``GET /peliculas/{id}/recomendaciones`` and
    ``GET /recomendacion_usuario``."""
    router = direct_router(TAG["name"])
    answers = served.answers

    @router.get(
        "/recomendacion/{titulo:path}",
        response_model=s.Recomendacion,
        responses=LOOKUP,
        response_description=OK,
        summary="5 películas parecidas a una película",
        description="Las 5 mejores vecinas según el modelo de la versión publicada, la mejor primero.",
        openapi_extra=parameters(titulo(settings.max_input_chars), ANIO),
    )
    async def recomendacion(request: Request) -> Response:
        body = answers().recommend_title(request.path_params["titulo"], query_value(request, "anio"))
        return Response(body, media_type=JSON)

    @router.get(
        "/peliculas/{id}/recomendaciones",
        response_model=s.Recomendacion,
        responses=LOOKUP,
        response_description=OK,
        summary="5 películas parecidas, por id de TMDB",
        openapi_extra=parameters(FILM_ID),
    )
    async def recomendaciones_por_id(request: Request) -> Response:
        return Response(answers().recommend_id(request.path_params["id"]), media_type=JSON)

    @router.get(
        "/recomendacion_usuario",
        response_model=s.RecomendacionUsuario,
        responses=PERSONAL,
        response_description=OK,
        summary="10 películas para una persona, según las que le gustaron",
        description=f"De 1 a {MAX_LIKED} películas que le gustaron (`titulo=` e `id=`, repetibles): las 10 "
        "películas que el modelo recomienda, sin repetir las indicadas, cada una con la indicada "
        "que más aportó (`porque`). Las entradas no encontradas van en `no_encontrados` con "
        "sugerencias (las de títulos parecidos, solo para las primeras "
        f"{settings.fuzzy_per_request}); 404 solo si no se encontró ninguna.",
        openapi_extra=parameters(
            repeated(
                "titulo",
                "Título de una película que le gustó, con las mismas reglas que "
                "`/recomendacion`; «Heat (1995)» elige el año.",
                text_schema(settings.max_input_chars),
                ["Toy Story", "Heat (1995)"],
            ),
            repeated("id", "Id de TMDB de una película que le gustó.", ID_SCHEMA, [862, 949]),
        ),
    )
    async def recomendacion_usuario(request: Request) -> Response:
        current, query = answers(), request.scope["query_string"]
        body = current.personal_cached(query)
        if body is None:  # title look-ups, fuzzy searches, scoring: milliseconds, off the event loop
            body = await run_in_threadpool(current.personal_query, query)
        return Response(body, media_type=JSON)

    return router
