"""The error answers each route documents in the OpenAPI schema, with their Spanish JSON shapes.

Every status the server can answer on a route is listed there, so that a client (or a schema
checker such as schemathesis) finds none undocumented:

* the HTTP edge's (:mod:`movierec.api.protocol`, before any route sees the request): 400 for a
  malformed request, 408 for a head that did not arrive in time, 414 for a request line (the URL)
  over the head limit, 431 for headers over it, 501 for an unknown method;
* the app's (:mod:`movierec.api.app`): 500 for an unexpected error; 404 and 422 where a route has
  parameters (a path parameter holding '/' leaves its route: 404 "Ruta no encontrada").

No 413: the API reads no request body. No 405 on a documented operation: every one is a GET
(HEAD answers as GET), and other methods are other operations.
"""

from __future__ import annotations

from typing import Any

from movierec.api import schemas as s
from movierec.api.protocol import HEAD_TIMEOUT, MAX_HEAD_BYTES

JSON = "application/json"
Responses = dict[int | str, dict[str, Any]]

#: Every route's 200 description.
OK = "Respuesta correcta."


def _error(description: str, example: str) -> dict[str, Any]:
    return {"model": s.ErrorHttp, "description": description, "content": {JSON: {"example": {"detail": example}}}}


#: What the HTTP edge answers, before routing, on any route (api/protocol.py's messages).
EDGE: Responses = {
    400: _error(
        "Petición HTTP inválida (la línea de la petición, la URL o las cabeceras no cumplen HTTP/1.1, "
        "o dos longitudes de cuerpo); se cierra la conexión.",
        "La URL de la petición no es válida.",
    ),
    408: _error(
        f"La línea de la petición y sus cabeceras no llegaron completas a tiempo ({HEAD_TIMEOUT:g} s por "
        "omisión, `--header-timeout`); se cierra la conexión.",
        f"La petición no llegó completa en {HEAD_TIMEOUT:g} segundos.",
    ),
    414: _error(
        f"La URL supera el límite del servidor ({MAX_HEAD_BYTES} bytes por omisión, `--max-header-bytes`, "
        "para la línea de la petición y las cabeceras juntas); se cierra la conexión.",
        f"La URL supera los {MAX_HEAD_BYTES} bytes que admite el servidor.",
    ),
    431: _error(
        "Las cabeceras superan el límite del servidor (junto con la línea de la petición); se cierra la conexión.",
        f"Las cabeceras de la petición superan los {MAX_HEAD_BYTES} bytes que admite el servidor.",
    ),
    501: _error(
        "Método HTTP desconocido; se cierra la conexión.", "Método HTTP desconocido: esta API responde a GET y HEAD."
    ),
}

#: An unexpected error of the app (logged with its traceback).
SERVER_ERROR: Responses = {500: _error("Error interno del servidor.", "Error interno del servidor.")}

#: Every route: the edge's answers and the server error.
ALWAYS: Responses = EDGE | SERVER_ERROR

NOT_FOUND: Responses = {
    404: {"model": s.ErrorNoEncontrado, "description": "No se encontró (o la ruta no existe); incluye sugerencias."}
}
INVALID: Responses = {
    422: {"model": s.ErrorValidacion, "description": "Parámetro inválido; el mensaje explica por qué."}
}
NONE_FOUND: Responses = {
    404: {
        "model": s.ErrorNingunaEncontrada,
        "description": "No se encontró ninguna de las películas indicadas; incluye sugerencias.",
    }
}
NO_REPORT: Responses = {
    404: {
        "description": "La versión no tiene reporte.",
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/ErrorNoEncontrado"}}},
    }
}


def responses(*extra: Responses) -> Responses:
    """The error answers of a route: ``extra`` (its own 404, 422) and those of every route."""
    out: Responses = {}
    for part in extra:
        out |= part
    return out | ALWAYS


def json_errors(documented: Responses) -> Responses:
    """``documented`` for a route whose own answer is not JSON (an HTML page): FastAPI files a
    response's ``model`` under the route's media type, so the JSON errors name their schema
    themselves (registered in the components by the JSON routes, which use the same models)."""
    out: Responses = {}
    for status, response in documented.items():
        response = {key: value for key, value in response.items() if key != "model"}
        if "model" in documented[status]:
            content = dict(response.get("content", {}).get(JSON, {}))
            content["schema"] = {"$ref": f"#/components/schemas/{documented[status]['model'].__name__}"}
            response["content"] = {JSON: content}
        out[status] = response
    return out


#: A route that looks something up by its parameters; the personal recommendations; the report
#: (JSON, and the HTML page).
LOOKUP = responses(NOT_FOUND, INVALID)
PERSONAL = responses(NONE_FOUND, INVALID)
REPORT = responses(NO_REPORT)
REPORT_PAGE = json_errors(REPORT)
