"""``GET /novedades?limite=N``: the films the latest ingests added, newest first.

Each item is ``{id, titulo, anio, agregada, recomendaciones}``: ``agregada`` is the UTC date
(YYYY-MM-DD) of the release that added the film, ``recomendaciones`` its 5 titles as
``/recomendacion`` gives them. The newest release's films come first, and within one release the
highest TMDB id first (:mod:`movierec.catalog.additions`, where the history is kept). A catalogue
built without ingests answers an empty list, not an error. ``limite`` defaults to 20 and goes up
to 100 (an empty value is the default); anything else is a 422 with a Spanish message.

Everything comes from the catalog artifact of the release served (the history is computed when
the release is published), so the list follows a rollback as every answer does. The rendered
answer is kept per catalog and ``limite``, as the API keeps its other answers
(:mod:`movierec.api.answers`): a release never changes while it is served.

The route is the ``películas`` tag's (:mod:`movierec.api.routes.peliculas`).
"""

from __future__ import annotations

import weakref

from pydantic import BaseModel, Field

from movierec.api.cache import BoundedCache
from movierec.api.errors import invalid
from movierec.api.fields import original_title_field, spanish_title_field, with_examples
from movierec.api.shapes import json_bytes, other_titles
from movierec.catalog.additions import LISTED
from movierec.catalog.indexes import Catalog

DEFAULT_LIMIT = 20
MAX_LIMIT = LISTED  # 100


class Novedad(BaseModel):
    id: int = Field(description="Id de TMDB de la película.")
    titulo: str | None = Field(description="Título de la película.")
    titulo_original: str | None = original_title_field()
    titulo_es: str | None = spanish_title_field()
    anio: int | None = Field(description="Año de estreno.")
    agregada: str = Field(description="Fecha (UTC, AAAA-MM-DD) de la versión del catálogo que la agregó.")
    recomendaciones: list[str] = Field(
        description="Las 5 películas que el modelo recomienda a partir de ella, "
        "la mejor primero (como `/recomendacion`)."
    )


class Novedades(BaseModel):
    model_config = with_examples(
        {
            "limite": 20,
            "novedades": [
                {
                    "id": 1140000,
                    "titulo": "Regreso al futuro IV",
                    "anio": 2026,
                    "agregada": "2026-12-01",
                    "recomendaciones": [
                        "Back to the Future",
                        "Back to the Future Part II",
                        "Back to the Future Part III",
                        "Who Framed Roger Rabbit",
                        "Contact",
                    ],
                }
            ],
        }
    )

    limite: int = Field(ge=1, le=MAX_LIMIT, description="La cantidad máxima pedida.")
    novedades: list[Novedad] = Field(
        description="Las películas que agregaron las últimas actualizaciones del "
        "catálogo, la más nueva primero; vacía si no se agregó ninguna."
    )


def parse_limit(value: str | None) -> int:
    """``limite`` as an integer in [1, 100] (absent or blank: 20), else a 422 in Spanish.

    >>> parse_limit(None), parse_limit(" 5 "), parse_limit("")
    (20, 5, 20)
    >>> parse_limit("0")
    Traceback (most recent call last):
    ...
    movierec.api.errors.ApiError: El parámetro «limite» debe ser un número entero entre 1 y 100 (se recibió «0»).
    """
    if value is None or not value.strip():
        return DEFAULT_LIMIT
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= MAX_LIMIT):
        raise invalid(
            f"El parámetro «limite» debe ser un número entero entre 1 y {MAX_LIMIT} (se recibió «{value[:40]}»).",
            field="limite",
        )
    return int(text)


def novedades_body(catalog: Catalog, limit: int) -> dict[str, object]:  # Novedades
    return {
        "limite": limit,
        "novedades": [
            {
                "id": film.id,
                "titulo": film.title,
                **other_titles(film),
                "anio": film.year,
                "agregada": day,
                "recomendaciones": [pick.title for pick, _ in catalog.recommend(film.row)],
            }
            for film, day in catalog.newest(limit)
        ],
    }


#: Each served catalog's rendered answers by limit; weak, so that a release switched away from is freed.
_ANSWERS: weakref.WeakKeyDictionary[Catalog, BoundedCache[int, bytes]] = weakref.WeakKeyDictionary()


def novedades(catalog: Catalog, limite: str | None) -> bytes:
    """The JSON answer of ``/novedades?limite=…`` over ``catalog``."""
    limit = parse_limit(limite)
    answer = _ANSWERS.get(catalog)
    if answer is None:
        proxy = weakref.proxy(catalog)
        fresh: BoundedCache[int, bytes] = BoundedCache(
            lambda n: json_bytes(novedades_body(proxy, n)), entries=MAX_LIMIT
        )
        answer = _ANSWERS.setdefault(catalog, fresh)
    return answer(limit)
