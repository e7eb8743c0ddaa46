"""The FastAPI application: the endpoints in Spanish over the published release.

``create_app(data_dir, settings)`` returns an app whose lifespan maps ``DATA/current`` into a
:class:`~movierec.catalog.indexes.Catalog` (and, with ``follow_current``, every release ``current``
later points to: :mod:`movierec.api.follow`); every route is one call into the
:class:`~movierec.api.answers.Answers` of the release served. The pieces:

* the routes, one module per OpenAPI tag (:mod:`movierec.api.routes`), each a
  :class:`~movierec.api.direct_route.DirectRoute` with its parameters documented apart
  (:mod:`movierec.api.openapi_parameters`, :mod:`movierec.api.openapi_responses`);
* the web page for people (:mod:`movierec.api.web`) and the Swagger UI (:mod:`movierec.api.docs`);
* the error answers in Spanish (:mod:`movierec.api.errors`);
* the middleware: CORS when configured, the HTTP edge (:mod:`movierec.api.edge`), and request
  ids, access log and metrics (:mod:`movierec.api.observability`), outermost.

Titles and names are ``{…:path}`` parameters, so a title with a raw '/' ("Face/Off") reaches the
route whole; '?', '#' and '%' must be percent-encoded by the client, as in any URL.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from movierec.api.answers import Answers
from movierec.api.docs import add_docs
from movierec.api.edge import EdgeMiddleware
from movierec.api.errors import add_error_handlers
from movierec.api.follow import Served, State, lifespan
from movierec.api.observability import Metrics, Observability
from movierec.api.openapi_info import TITLE, description, package_version
from movierec.api.routes import TAGS, api_router
from movierec.api.web import add_web_routes
from movierec.catalog.indexes import Catalog
from movierec.config import Settings


def create_app(
    data_dir: Path | None,
    settings: Settings,
    catalog: Catalog | None = None,
    *,
    follow_current: bool = False,
    log_requests: bool = False,
) -> FastAPI:
    """The API over ``data_dir/current`` (None: ``settings.data_dir``); pass ``catalog`` to serve an
    already loaded one. With ``follow_current``, the app switches to the release ``current``
    points to whenever it changes (:mod:`movierec.api.follow`). ``log_requests``: an access log
    line per request, with its request id."""
    data_dir = data_dir or settings.data_dir
    served = Served(State(Answers(catalog, settings, defer_suggestions=True), None) if catalog is not None else None)
    metrics = Metrics(served.release)
    app = FastAPI(
        title=TITLE,
        version=package_version(),
        description=description(settings),
        lifespan=lifespan(served, data_dir, settings, follow_current=follow_current),
        docs_url=None,
        redoc_url=None,  # /docs from the installed package's files (api/docs.py)
        openapi_tags=TAGS,
    )
    # A request tries the routes in order: the API's first, then the page's, then the documentation's.
    app.include_router(api_router(settings, served, metrics))
    add_web_routes(app, served.answers, settings)  # GET / and /sugerencias: the page for people (api/web.py)
    add_docs(app)  # GET /docs, Swagger UI from the installed package (api/docs.py)
    add_error_handlers(app)
    _add_middleware(app, settings, metrics, log_requests)
    return app


def _add_middleware(app: FastAPI, settings: Settings, metrics: Metrics, log_requests: bool) -> None:
    """Each middleware added wraps those added before: the last one sees every request first."""
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
