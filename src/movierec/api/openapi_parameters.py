"""The parameters each route documents in the OpenAPI schema, with their Spanish descriptions.

The API's routes read their raw parameters themselves (:class:`~movierec.api.direct_route.DirectRoute`)
and :mod:`movierec.api.answers` validates them, so FastAPI cannot infer them from the endpoints'
signatures: each route declares them as ``openapi_extra=parameters(...)``. A text's length limit
is the settings' ``max_input_chars``, the same :mod:`movierec.api.answers` enforces.

>>> parameters(in_path("mes", "Mes.", 100, "enero"))["parameters"][0]["schema"]
{'type': 'string', 'minLength': 1, 'maxLength': 100}
"""

from __future__ import annotations

from typing import Any

from movierec.api.answers import MAX_ID, MAX_LIKED
from movierec.api.novedades import DEFAULT_LIMIT, MAX_LIMIT

Spec = dict[str, Any]  # one parameter's OpenAPI object

#: A TMDB id: a non-negative 64-bit integer.
ID_SCHEMA: Spec = {"type": "integer", "minimum": 0, "maximum": MAX_ID}

#: ``?anio=``: the year that chooses among films sharing a title.
ANIO: Spec = {
    "name": "anio",
    "in": "query",
    "required": False,
    "allowEmptyValue": True,
    "description": "Año de estreno, para elegir entre películas con el mismo título.",
    "schema": {"type": "integer", "minimum": 1, "maximum": 9999},
    "examples": {"1995": {"value": 1995}},
}

#: ``/peliculas/{id}/recomendaciones``'s id.
FILM_ID: Spec = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "Id de TMDB de la película.",
    "schema": ID_SCHEMA,
    "examples": {"toy story": {"value": 862}},
}

#: ``/novedades?limite=``.
LIMITE: Spec = {
    "name": "limite",
    "in": "query",
    "required": False,
    "description": f"Cuántas películas, como máximo (por omisión {DEFAULT_LIMIT}).",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "examples": {"5": {"value": 5}},
}


def parameters(*specs: Spec) -> dict[str, Any]:
    """A route's ``openapi_extra``: its parameters, in this order."""
    return {"parameters": list(specs)}


def text_schema(max_chars: int) -> Spec:
    """A non-empty text of at most ``max_chars`` characters."""
    return {"type": "string", "minLength": 1, "maxLength": max_chars}


def in_path(name: str, description: str, max_chars: int, *examples: str) -> Spec:
    """A required text in the path, with its example values."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": text_schema(max_chars),
        "examples": {e: {"value": e} for e in examples},
    }


def titulo(max_chars: int) -> Spec:
    """A film's title in the path (``/score_titulo/{titulo}``, ``/recomendacion/{titulo}``…)."""
    return in_path(
        "titulo",
        "Título de la película, sin distinguir mayúsculas, tildes ni espacios repetidos.",
        max_chars,
        "Toy Story",
        "Face/Off",
    )


def repeated(name: str, description: str, items: Spec, example: list[Any]) -> Spec:
    """A query parameter that may be repeated (``?titulo=…&titulo=…``), up to ``MAX_LIKED`` times."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": items, "maxItems": MAX_LIKED},
        "examples": {"ejemplo": {"value": example}},
    }


def search_text(max_chars: int) -> Spec:
    """``/sugerencias?q=``: the text typed so far."""
    return {
        "name": "q",
        "in": "query",
        "required": True,
        "description": "Texto escrito hasta ahora.",
        "schema": text_schema(max_chars),
        "examples": {"toy stor": {"value": "toy stor"}},
    }
