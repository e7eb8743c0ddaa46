"""The API's routes, one module per OpenAPI tag, in the order the schema lists the tags (and
``/novedades``, of the ``películas`` tag, last: :mod:`movierec.api.routes.novedades`).

Each module's ``router(...)`` builds its routes for one app (their documentation quotes the
settings: limits, minimum votes). :func:`api_router` gathers them into one router, so that a
request is matched against the API's routes in one pass: included one by one, each tag's router
would add a matching pass of its own to every request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from movierec.api.follow import Served
from movierec.api.observability import Metrics
from movierec.api.routes import estrenos, novedades, peliculas, personas, recomendaciones, servicio
from movierec.config import Settings

#: The tags, with their descriptions, in the order /docs shows them.
TAGS: list[dict[str, Any]] = [estrenos.TAG, peliculas.TAG, personas.TAG, recomendaciones.TAG, servicio.TAG]


def api_router(settings: Settings, served: Served, metrics: Metrics) -> APIRouter:
    """Every route of the API's tags, answering from ``served``; ``metrics`` for ``GET /metrics``."""
    by_tag = [
        estrenos.router(settings, served),
        peliculas.router(settings, served),
        personas.router(settings, served),
        recomendaciones.router(settings, served),
        servicio.router(served, metrics),
        novedades.router(served),  # tag películas, last: see its module
    ]
    return APIRouter(routes=[route for router in by_tag for route in router.routes])
