"""What the OpenAPI schema (and ``/docs``) says of the API as a whole: its title, version and
description, in Spanish."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from movierec.config import Settings

TITLE = "movierec: API de películas"

DESCRIPTION = """
API de recomendación de películas sobre la versión publicada del catálogo (The Movies Dataset).

* Los títulos y nombres se comparan sin distinguir mayúsculas, tildes ni espacios repetidos:
  «TOY STORY», « toy story» y «Toy Story» son la misma película; «Amelie» encuentra «Amélie».
* Un título compartido por varias películas responde la de más votos (luego la más popular) y
  lista las demás en `coincidencias`; `?anio=AAAA` elige una.
* Los títulos con '/' pueden enviarse tal cual («Face/Off») o codificados (`Face%2FOff`);
  '?', '#' y '%' deben codificarse (`%3F`, `%23`, `%25`).
* Un título o nombre desconocido responde 404 con `detail` y hasta {suggestions} `sugerencias` parecidas.
* Un mes o día inválido, o un texto de más de {max_chars} caracteres, responde 422 con un mensaje en español.
* `/health` informa la versión publicada que se sirve (`version`) y el tamaño del catálogo.
* Una petición que no cumple HTTP/1.1 (400), que no llega completa a tiempo (408), con una URL o cabeceras
  demasiado largas (414, 431) o con un método desconocido (501), y un error interno (500), responden
  `{{"detail": …}}` en español.
"""


def description(settings: Settings) -> str:
    """The API's description, with the settings' limits."""
    return DESCRIPTION.format(suggestions=settings.suggestions, max_chars=settings.max_input_chars)


def package_version() -> str:
    """The installed package's version ("0" when run from a source tree without installing it)."""
    try:
        return version("movierec")
    except PackageNotFoundError:
        return "0"
