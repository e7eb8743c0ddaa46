"""The pieces several response models share: their examples, and the fields (with their Spanish
descriptions) that more than one model declares alike (:mod:`movierec.api.schemas`, and the
models of :mod:`movierec.api.novedades` and :mod:`movierec.api.web`).

>>> with_examples({"detail": "…"})["json_schema_extra"]
{'examples': [{'detail': '…'}]}
"""

from __future__ import annotations

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict


def with_examples(*examples: JsonDict) -> ConfigDict:
    """A model's ``model_config`` showing ``examples`` in the OpenAPI schema."""
    return ConfigDict(json_schema_extra={"examples": list(examples)})


def sentence_field() -> str:
    """``mensaje``: the answer in one Spanish sentence."""
    text = "La respuesta en una frase en español (con los números redondeados)."
    return Field(description=text)


def original_title_field() -> str | None:
    """``titulo_original``, absent when it is the title itself."""
    text = (
        "Título original, cuando difiere de `titulo` (ausente si es el mismo). La película también se encuentra por él."
    )
    return Field(default=None, description=text)


def spanish_title_field() -> str | None:
    """``titulo_es``, absent when no Spanish title is known."""
    text = (
        "Título en español, cuando se conoce (ausente si no): una traducción es-ES, luego es-MX, luego otra "
        "traducción al español, luego un título alternativo de un país hispanohablante. La película también "
        "se encuentra por él y por sus demás títulos en español."
    )
    return Field(default=None, description=text)
