"""``servicio``: the service's state (``/health``), the release's report, and the Prometheus
metrics (``/metrics``, outside the OpenAPI schema)."""

# No `from __future__ import annotations`: FastAPI inspects the endpoints' annotations.
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from movierec.api import schemas as s
from movierec.api.direct_route import direct_router
from movierec.api.docs import report_figures, report_page
from movierec.api.follow import Served
from movierec.api.observability import CONTENT_TYPE as METRICS_CONTENT_TYPE
from movierec.api.observability import Metrics
from movierec.api.openapi_responses import ALWAYS, OK, REPORT, REPORT_PAGE

TAG = {"name": "servicio", "description": "Estado del servicio."}


def router(served: Served, metrics: Metrics) -> APIRouter:
    """``GET /health``, ``GET /metrics``, ``GET /reporte`` and ``GET /reporte.json``."""
    router = direct_router(TAG["name"])
    answers = served.answers

    @router.get(
        "/health",
        response_model=s.Salud,
        responses=ALWAYS,
        response_description=OK,
        summary="Estado y versión servida",
        description="`ok` cuando el catálogo está cargado, con la versión publicada que se sirve y la "
        "cantidad de películas del catálogo.",
    )
    async def health(request: Request) -> JSONResponse:
        return JSONResponse(answers().health())

    @router.get("/metrics", include_in_schema=False)
    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    @router.get(
        "/reporte",
        summary="Reporte de análisis (HTML)",
        response_class=HTMLResponse,
        responses=REPORT_PAGE,
        response_description=OK,
        description="El análisis exploratorio de la versión servida, en un solo archivo HTML.",
    )
    async def reporte(request: Request) -> Response:
        return report_page(answers().catalog)

    @router.get(
        "/reporte.json",
        summary="Cifras del reporte (JSON)",
        response_description=OK,
        responses=REPORT,
        description="Cada cifra que el reporte menciona, con claves estables.",
    )
    async def reporte_json(request: Request) -> Response:
        return report_figures(answers().catalog)

    return router
