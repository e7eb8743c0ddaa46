"""The route class of the API's routes, and what their endpoints share.

Each route declares its pydantic model (``response_model``), its error responses and its
parameters (``openapi_extra``) for the OpenAPI schema, but is a :class:`DirectRoute`: it reads the
raw parameters from the request and returns the JSON that :class:`~movierec.api.answers.Answers`
rendered, and validation (with Spanish messages) is ``Answers``' job. FastAPI's per-request
parameter machinery and response re-validation cost about 40 µs a request on a slow core, more
than the answer itself and more than the 20% of a bare endpoint's time the routes may spend. The
property test checks that what the routes accept and answer matches the schema they publish.

Endpoints are ``async def`` on purpose: an answer is a few microseconds of look-ups, cheaper than
a hop to the thread pool.
"""

# No `from __future__ import annotations`: FastAPI inspects the endpoints' annotations.
from collections.abc import Callable, Coroutine
from functools import cached_property
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

JSON = "application/json"


class DirectRoute(APIRoute):
    """A route whose endpoint takes the bare ``Request`` and returns a ``Response``.

    FastAPI's documented extension point (a custom ``route_class`` overriding
    ``get_route_handler``): the route keeps everything FastAPI gives it for the OpenAPI schema
    (``response_model``, ``responses``, ``openapi_extra``) and the app's exception handlers, but
    skips the per-request dependency solving and response re-validation, which cost more than
    the answer itself.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.endpoint  # it takes the request and returns the response itself

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # A request tries the routes in turn; most are rejected here, by the path's static
        # prefix, before the regex and FastAPI's per-route bookkeeping.
        if scope["type"] == "http" and self._prefix not in scope["path"]:
            return Match.NONE, {}
        return super().matches(scope)

    @cached_property
    def _prefix(self) -> str:
        return self.path.split("{", 1)[0]


def direct_router(tag: str) -> APIRouter:
    """A router of :class:`DirectRoute` routes, all under the OpenAPI ``tag``."""
    return APIRouter(route_class=DirectRoute, tags=[tag])


def query_value(request: Request, name: str) -> str | None:
    """A query parameter's value (the last one if repeated), without parsing an empty query."""
    return request.query_params.get(name) if request.scope["query_string"] else None
