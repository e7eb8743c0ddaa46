"""Every error path of the API: 404 with suggestions, 422 in Spanish, unknown routes, 500."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import Query
from fastapi.testclient import TestClient

from movierec.api import schemas as s
from movierec.api.answers import Answers
from movierec.api.app import create_app
from movierec.catalog.indexes import ReleaseError
from movierec.config import Settings

MONTHS = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]
TEXT_ENDPOINTS = [
    "cantidad_filmaciones_mes",
    "cantidad_filmaciones_dia",
    "score_titulo",
    "votos_titulo",
    "get_actor",
    "get_director",
    "recomendacion",
]


def error(client: TestClient, path: str, status: int) -> dict:
    response = client.get(path)
    assert response.status_code == status, (path, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    if status == 404 and body.get("sugerencias") is not None:
        s.ErrorNoEncontrado.model_validate(body)
    if status == 422:
        s.ErrorValidacion.model_validate(body)
    return body


# -- 404 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ["score_titulo", "votos_titulo", "recomendacion"])
def test_unknown_title_suggests_close_titles(client: TestClient, endpoint: str) -> None:
    body = error(client, f"/{endpoint}/Toy%20Stori", 404)
    assert body["detail"] == "No se encontró la película «Toy Stori»."
    assert body["sugerencias"][0] == "Toy Story"
    assert 1 <= len(body["sugerencias"]) <= 5 and body["coincidencias"] == []


@pytest.mark.parametrize(
    ("query", "suggestion"),
    [
        ("the mumy", "The Mummy"),
        ("jumanj", "Jumanji"),
        ("godfather", "The Godfather"),
        ("hamlte", "Hamlet"),
        ("star wa", "Star Wars"),
    ],
)
def test_more_suggestions(client: TestClient, query: str, suggestion: str) -> None:
    body = error(client, f"/score_titulo/{quote(query)}", 404)
    assert suggestion in body["sugerencias"]
    assert len(body["sugerencias"]) <= 5


def test_nothing_close_suggests_nothing(client: TestClient) -> None:
    assert error(client, "/score_titulo/qqqqqqqqqqqqzzzzzzzzz", 404)["sugerencias"] == []


def test_unknown_actor_and_director(client: TestClient) -> None:
    actor = error(client, "/get_actor/Tom%20Hnaks", 404)
    assert actor["detail"] == "No se encontró ningún actor o actriz llamado «Tom Hnaks»."
    assert actor["sugerencias"][0] == "Tom Hanks"
    director = error(client, "/get_director/Jon%20Lasseter", 404)
    assert director["detail"] == "No se encontró ningún director o directora llamado «Jon Lasseter»."
    assert director["sugerencias"][0] == "John Lasseter"


def test_a_director_who_never_acted_is_no_actor(client: TestClient) -> None:
    body = error(client, "/get_actor/John%20Lasseter", 404)
    assert body["detail"] == (
        "No se encontró ningún actor o actriz llamado «John Lasseter». Figura como director, "
        "pero no en el reparto de ninguna película."
    )


def test_an_actor_who_never_directed_is_no_director(client: TestClient) -> None:
    body = error(client, "/get_director/Don%20Rickles", 404)
    assert "Figura en el reparto, pero no como director" in body["detail"]


def test_year_without_that_title(client: TestClient) -> None:
    body = error(client, "/score_titulo/The%20Mummy?anio=2001", 404)
    assert body["detail"] == (
        "No hay ninguna película «The Mummy» estrenada en 2001; los años con ese título son: 1932, 1959, 1999."
    )
    assert body["sugerencias"] == ["The Mummy"]
    assert [(c["id"], c["anio"]) for c in body["coincidencias"]] == [(15849, 1932), (18990, 1959), (564, 1999)]


def test_unknown_film_id(client: TestClient) -> None:
    body = error(client, "/peliculas/999999999/recomendaciones", 404)
    assert body == {
        "detail": "No hay ninguna película con id 999999999 en el catálogo.",
        "sugerencias": [],
        "coincidencias": [],
    }
    error(client, "/peliculas/0/recomendaciones", 404)


@pytest.mark.parametrize(
    "path",
    [
        "/score_titulo/100%25",
        "/score_titulo/%23hashtag",
        "/score_titulo/a%3Fb%3Dc",
        "/votos_titulo/%22quoted%22",
        "/get_actor/%25%25%25",
        "/recomendacion/..%2F..",
        "/score_titulo/%FF%FE",
        "/get_director/%00",
    ],
)
def test_reserved_and_odd_characters_are_just_unknown(client: TestClient, path: str) -> None:
    assert "No se encontró" in error(client, path, 404)["detail"]


# -- 422 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("month", ["marz", "january", "13", "0", "enero2"])
def test_invalid_month_lists_the_valid_ones(client: TestClient, month: str) -> None:
    body = error(client, f"/cantidad_filmaciones_mes/{month}", 422)
    assert body["detail"] == (
        f"«{month}» no es un mes válido. Valores válidos: enero, febrero, marzo, abril, "
        "mayo, junio, julio, agosto, septiembre (o setiembre), octubre, noviembre, diciembre."
    )
    assert body["valores_validos"] == [*MONTHS, "setiembre"]
    assert body["errores"] == [{"campo": "mes", "mensaje": body["detail"]}]


@pytest.mark.parametrize("day", ["lunez", "monday", "1", "finde"])
def test_invalid_day_lists_the_valid_ones(client: TestClient, day: str) -> None:
    body = error(client, f"/cantidad_filmaciones_dia/{day}", 422)
    assert body["detail"] == (
        f"«{day}» no es un día de la semana válido. Valores válidos: lunes, martes, "
        "miércoles, jueves, viernes, sábado, domingo (con o sin tilde)."
    )
    assert body["valores_validos"] == ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]


@pytest.mark.parametrize("endpoint", TEXT_ENDPOINTS)
def test_input_over_200_characters(client: TestClient, endpoint: str) -> None:
    body = error(client, f"/{endpoint}/{'a' * 201}", 422)
    field = {
        "cantidad_filmaciones_mes": "mes",
        "cantidad_filmaciones_dia": "dia",
        "get_actor": "nombre_actor",
        "get_director": "nombre_director",
    }.get(endpoint, "titulo")
    assert body["detail"] == f"El parámetro «{field}» admite como máximo 200 caracteres (tiene 201)."
    assert body["errores"][0]["campo"] == field


@pytest.mark.parametrize("endpoint", ["score_titulo", "get_actor", "get_director", "recomendacion"])
def test_input_of_200_characters_is_looked_up(client: TestClient, endpoint: str) -> None:
    body = error(client, f"/{endpoint}/{'a' * 200}", 404)
    assert body["sugerencias"] == []


def test_long_input_is_counted_in_characters_not_bytes(client: TestClient) -> None:
    error(client, f"/score_titulo/{quote('é' * 200)}", 404)
    error(client, f"/score_titulo/{quote('é' * 201)}", 422)


@pytest.mark.parametrize("endpoint", TEXT_ENDPOINTS)
def test_blank_input(client: TestClient, endpoint: str) -> None:
    body = error(client, f"/{endpoint}/%20%20", 422)
    assert "está vacío" in body["detail"]


@pytest.mark.parametrize("endpoint", ["score_titulo", "votos_titulo", "recomendacion", "get_actor", "get_director"])
def test_empty_path_parameter(client: TestClient, endpoint: str) -> None:
    assert "está vacío" in error(client, f"/{endpoint}/", 422)["detail"]


@pytest.mark.parametrize("year", ["abc", "0", "10000", "-1", "1995.5", "1e3", "١٩٩٥", "19 95"])
def test_invalid_anio(client: TestClient, year: str) -> None:
    body = error(client, f"/score_titulo/Toy%20Story?anio={quote(year)}", 422)
    expected = f"El parámetro «anio» debe ser un número entero entre 1 y 9999 (se recibió «{year}»)."
    assert body["detail"] == expected
    assert body["errores"] == [{"campo": "anio", "mensaje": body["detail"]}]


@pytest.mark.parametrize("film_id", ["abc", "-5", "1.5", "99999999999999999999", "%20"])
def test_invalid_film_id(client: TestClient, film_id: str) -> None:
    body = error(client, f"/peliculas/{film_id}/recomendaciones", 422)
    assert body["detail"].startswith("El parámetro «id» debe ser un número entero entre 0 y 9223372036854775807")


# -- routes, methods, server errors, start-up --------------------------------------------------------
def test_unknown_route_and_method(client: TestClient) -> None:
    assert error(client, "/peliculas", 404) == {"detail": "Ruta no encontrada. Consulte /docs.", "sugerencias": []}
    assert error(client, "/cantidad_filmaciones_mes/", 404)["detail"] == "Ruta no encontrada. Consulte /docs."
    response = client.post("/health")
    assert response.status_code == 405
    assert response.json() == {"detail": "Método no permitido: esta API solo responde a GET (y HEAD)."}


def test_fastapi_validation_errors_are_in_spanish_too(sample_data: Path) -> None:
    """A route validated by FastAPI itself (none of ours is) answers 422 in Spanish too."""
    app = create_app(sample_data, Settings(data_dir=sample_data))

    @app.get("/validado")
    async def validado(n: int = Query(ge=1), texto: str = Query(max_length=3)) -> dict[str, int]:
        return {"n": n}

    with TestClient(app) as c:
        missing = c.get("/validado")
        assert missing.status_code == 422
        assert missing.json()["detail"] == "El parámetro «n» es obligatorio. El parámetro «texto» es obligatorio."
        wrong = c.get("/validado?n=x&texto=abcd").json()
        assert wrong["errores"] == [
            {"campo": "n", "mensaje": "El parámetro «n» debe ser un número entero."},
            {"campo": "texto", "mensaje": "El parámetro «texto» admite como máximo 3 caracteres."},
        ]
        assert c.get("/validado?n=0&texto=a").json()["detail"] == "El parámetro «n» debe ser mayor o igual que 1."


def test_an_unexpected_failure_is_a_spanish_500(sample_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Answers, titulo: str, anio: str | None = None) -> bytes:
        raise RuntimeError("boom")

    monkeypatch.setattr(Answers, "score", broken)
    with TestClient(create_app(sample_data, Settings(data_dir=sample_data)), raise_server_exceptions=False) as c:
        response = c.get("/score_titulo/Toy%20Story")
    assert response.status_code == 500
    assert response.json() == {"detail": "Error interno del servidor."}


def test_no_release_no_start(tmp_path: Path) -> None:
    app = create_app(tmp_path, Settings(data_dir=tmp_path))
    with pytest.raises(ReleaseError, match="no release in"), TestClient(app):
        pass


def test_a_request_before_the_catalog_is_loaded(sample_data: Path) -> None:
    client = TestClient(create_app(sample_data, Settings(data_dir=sample_data)))  # no `with`: no lifespan
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"detail": "El catálogo todavía no está cargado."}
