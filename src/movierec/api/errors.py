"""The API's error answers: :class:`ApiError` (what an answer other than 200 raises) and the app's
exception handlers, which turn it, FastAPI's validation errors, Starlette's 404 and 405 and any
unexpected failure into Spanish JSON.

>>> error = invalid("Indique un mes: el parámetro «mes» está vacío.", field="mes")
>>> error.status, error.body["errores"]
(422, [{'campo': 'mes', 'mensaje': 'Indique un mes: el parámetro «mes» está vacío.'}])
>>> spanish_message({"loc": ("query", "n"), "type": "greater_than_equal", "ctx": {"ge": 1}})
('n', 'El parámetro «n» debe ser mayor o igual que 1.')
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from movierec.api import schemas as s
from movierec.api.shapes import other_titles
from movierec.catalog.indexes import Film

log = logging.getLogger("movierec.api")

_TYPE_MESSAGES = {
    "int_parsing": "debe ser un número entero",
    "int_type": "debe ser un número entero",
    "missing": "es obligatorio",
    "string_type": "debe ser un texto",
}


class ApiError(Exception):
    """An answer other than 200: the HTTP status and the JSON body."""

    def __init__(self, status: int, body: dict[str, object], pending: Callable[[], list[str]] | None = None) -> None:
        super().__init__(body.get("detail"))
        self.status = status
        self.body = body
        # The suggestions still to compute (while their indexes are being built): the app's error
        # handler runs this in a worker thread, never on the event loop.
        self.pending = pending


def not_found(
    detail: str, suggestions: list[str] | Callable[[], list[str]], matches: list[Film] | None = None
) -> ApiError:
    """A 404; ``suggestions`` may be a callable, to be computed off the event loop."""
    body = s.ErrorNoEncontrado(
        detail=detail,
        sugerencias=suggestions if isinstance(suggestions, list) else [],
        coincidencias=[
            s.Coincidencia(id=f.id, titulo=f.title or "", anio=f.year, **other_titles(f)) for f in matches or []
        ],
    )
    # exclude_unset: a film's other titles are absent when unknown, as in the 200 answers
    return ApiError(404, body.model_dump(exclude_unset=True), None if isinstance(suggestions, list) else suggestions)


def invalid(detail: str, valid_values: list[str] | None = None, field: str | None = None) -> ApiError:
    """A 422 with a Spanish ``detail``, the accepted values when they are a closed list, and the
    parameter at fault."""
    errors = [s.ErrorCampo(campo=field, mensaje=detail)] if field else []
    body = s.ErrorValidacion(detail=detail, valores_validos=valid_values or [], errores=errors)
    return ApiError(422, body.model_dump())


def spanish_message(error: Mapping[str, Any]) -> tuple[str, str]:
    """(parameter, Spanish message) of one pydantic validation error."""
    loc = [str(part) for part in error.get("loc", ()) if part not in ("path", "query", "body", "header")]
    field = ".".join(loc) or "petición"
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "string_too_long":
        text = f"admite como máximo {ctx.get('max_length')} caracteres"
    elif kind == "string_too_short":
        n = ctx.get("min_length")
        text = f"debe tener al menos {n} {'carácter' if n == 1 else 'caracteres'}"
    elif kind in ("greater_than_equal", "greater_than"):
        text = f"debe ser mayor o igual que {ctx.get('ge', ctx.get('gt'))}"
    elif kind in ("less_than_equal", "less_than"):
        text = f"debe ser menor o igual que {ctx.get('le', ctx.get('lt'))}"
    else:
        text = _TYPE_MESSAGES.get(kind, "tiene un valor inválido")
    return field, f"El parámetro «{field}» {text}."


async def api_error(_: Request, exc: ApiError) -> JSONResponse:
    if exc.pending is not None:  # suggestions whose indexes are still being built
        exc.body["sugerencias"] = await run_in_threadpool(exc.pending)
    return JSONResponse(exc.body, status_code=exc.status)


async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [spanish_message(e) for e in exc.errors()]
    body = s.ErrorValidacion(
        detail=" ".join(message for _, message in errors) or "Petición inválida.",
        errores=[s.ErrorCampo(campo=field, mensaje=message) for field, message in errors],
    )
    return JSONResponse(body.model_dump(), status_code=422)


async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 404:
        body: dict[str, object] = {"detail": "Ruta no encontrada. Consulte /docs.", "sugerencias": []}
    elif exc.status_code == 405:
        body = {"detail": "Método no permitido: esta API solo responde a GET (y HEAD)."}
    else:
        body = {"detail": str(exc.detail)}
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def server_error(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse({"detail": "Error interno del servidor."}, status_code=500)


def add_error_handlers(app: FastAPI) -> None:
    """Answer every error in Spanish JSON (the ``Exception`` handler: a 500, logged)."""
    # Through the decorator: add_exception_handler's signature wants handlers of any Exception,
    # and these take their own exception type.
    app.exception_handler(ApiError)(api_error)
    app.exception_handler(RequestValidationError)(validation_error)
    app.exception_handler(StarletteHTTPException)(http_error)
    app.exception_handler(Exception)(server_error)
