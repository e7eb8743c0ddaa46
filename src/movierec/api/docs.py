"""What the server shows that it did not write itself: the OpenAPI page and the release's report.

* ``GET /docs``: Swagger UI (5.x: FastAPI's schema is OpenAPI 3.1) from the files of the installed
  ``swagger-ui-py`` package, served under ``/docs/`` (FastAPI's default page loads them from a CDN, without integrity hashes: a
  change there would run on our origin). Its one inline script is allowed by hash; nothing is
  requested from another origin (the CSP's ``default-src 'none'``, ``connect-src 'self'``).
  ``/redoc`` (a CDN script too) is not served.
* The report (``/reporte``) is a file of the release, and a fetched release is written by
  whoever published it: it is served with a CSP that runs no script at all (``script-src
  'none'``) and ``sandbox`` (an opaque origin: even a script could not read «mi lista» from this
  origin's storage), inline styles and ``data:`` images only (its SVG charts), and ``nosniff``.
  ``/reporte.json`` likewise, as JSON that nothing renders. (Their routes are the ``servicio``
  tag's: :mod:`movierec.api.routes.servicio`.)
"""

# No `from __future__ import annotations`: FastAPI inspects the endpoints' annotations.
import base64
import hashlib
import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from movierec.catalog.indexes import Catalog

ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")  # all the page loads
FRAMING = "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
REPORT_HEADERS = {
    "Content-Security-Policy": f"default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    f"{FRAMING}; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",  # the report follows the release being served
}
REPORT_JSON_HEADERS = {**REPORT_HEADERS, "Content-Security-Policy": f"default-src 'none'; {FRAMING}; sandbox"}


def swagger_ui_folder() -> Path:
    import swagger_ui

    return Path(swagger_ui.__file__).parent / "static"


def _script_hashes(html: str) -> str:
    """The CSP sources of the page's inline scripts (their SHA-256)."""
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    )


def add_docs(app: FastAPI) -> None:
    """``GET /docs`` and its assets (create ``app`` with ``docs_url=None, redoc_url=None``)."""
    folder = swagger_ui_folder()
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} - Swagger UI",
        swagger_js_url="/docs/swagger-ui-bundle.js",
        swagger_css_url="/docs/swagger-ui.css",
        swagger_favicon_url="/docs/favicon-32x32.png",
        oauth2_redirect_url=None,
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
    )
    html = bytes(page.body).decode()
    headers = {
        # Swagger UI sets style attributes and shows the schema's data: images
        "Content-Security-Policy": f"default-src 'none'; script-src 'self' {_script_hashes(html)}; "
        f"style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        f"{FRAMING}",
        "X-Content-Type-Options": "nosniff",
    }

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> Response:
        return HTMLResponse(html, headers=headers)

    @app.get("/docs/{asset}", include_in_schema=False)
    async def docs_asset(asset: str) -> Response:
        if asset not in ASSETS:
            return JSONResponse({"detail": "Ruta no encontrada. Consulte /docs.", "sugerencias": []}, status_code=404)
        return FileResponse(
            folder / asset, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=86400"}
        )


def report_page(catalog: Catalog) -> Response:
    """``GET /reporte``: the release's report, or a 404 saying why there is none."""
    return _report_file(catalog, "report.html", "text/html; charset=utf-8", REPORT_HEADERS)


def report_figures(catalog: Catalog) -> Response:
    """``GET /reporte.json``: every figure the report mentions, or a 404 saying why there is none."""
    return _report_file(catalog, "report.json", "application/json", REPORT_JSON_HEADERS)


def _report_file(catalog: Catalog, name: str, media_type: str, headers: dict[str, str]) -> Response:
    path = catalog.folder / "report" / name if catalog.folder is not None else None
    if path is None or not path.is_file():
        error = catalog.manifest.get("report")
        why = f" (falló al generarse: {error['error']})" if isinstance(error, dict) and "error" in error else ""
        return JSONResponse(
            {"detail": f"La versión {catalog.version} no tiene reporte{why}.", "sugerencias": []}, status_code=404
        )
    return FileResponse(path, media_type=media_type, headers=headers)
