"""Property tests against the published OpenAPI schema (schemathesis + Hypothesis): for generated
inputs, valid and invalid, no endpoint answers 5xx and every answer passes every schemathesis
check, as `schemathesis run --checks all` runs them (status code documented, JSON content type,
body valid against the documented model, a valid request accepted, an invalid one rejected…),
with the project's settings (schemathesis.toml)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode

from movierec.api.app import create_app
from movierec.config import REPO_ROOT, Settings

pytestmark = pytest.mark.slow  # schemathesis generates hundreds of requests

#: The project's schemathesis settings, which `schemathesis run` reads too: what else a valid request
#: may be answered (a 422 for a value the schema cannot describe, such as a month that is none).
CONFIG = SchemathesisConfig.from_path(REPO_ROOT / "schemathesis.toml")


@pytest.fixture(scope="module")
def app(sample_data: Path) -> Iterator[FastAPI]:
    app = create_app(sample_data, Settings(data_dir=sample_data))
    with TestClient(app):  # runs the lifespan: the catalog stays loaded for the module
        yield app


@pytest.fixture(scope="module")
def api_schema(app: FastAPI) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


OPERATIONS = [
    "/cantidad_filmaciones_mes/{mes}",
    "/cantidad_filmaciones_dia/{dia}",
    "/score_titulo/{titulo}",
    "/votos_titulo/{titulo}",
    "/get_actor/{nombre_actor}",
    "/get_director/{nombre_director}",
    "/recomendacion/{titulo}",
    "/peliculas/{id}/recomendaciones",
    "/recomendacion_usuario",
    "/health",
    "/reporte",
    "/reporte.json",
    "/sugerencias",
    "/novedades",
]
WITHOUT_PARAMETERS = {"/health", "/reporte", "/reporte.json"}


def test_the_schema_lists_the_operations(api_schema: schemathesis.schemas.BaseSchema) -> None:
    assert sorted(op.ok().path for op in api_schema.get_all_operations()) == sorted(OPERATIONS)


# What `movierec serve`'s HTTP edge (api/protocol.py) can answer on any route, and the app's 500.
EDGE_STATUSES = {"400", "408", "414", "431", "501", "500"}
# Routes whose path parameter may hold a '/', which leaves the route: 404 "Ruta no encontrada".
WITH_PATH_PARAMETERS = {path for path in OPERATIONS if "{" in path}


def test_every_operation_documents_every_status_the_server_can_answer(app: FastAPI) -> None:
    """Issue 17: schemathesis found /recomendacion_usuario answering 414, which the document did
    not list (ST103). Every operation lists the edge's statuses, each as Spanish JSON
    {"detail": …}, beside its own 404 and 422."""
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    operations = {path: ops["get"] for path, ops in spec["paths"].items()}
    assert sorted(operations) == sorted(OPERATIONS)
    for path, operation in operations.items():
        documented = operation["responses"]
        assert EDGE_STATUSES <= set(documented), (path, sorted(documented))
        if path in WITH_PATH_PARAMETERS or path in ("/recomendacion_usuario", "/reporte", "/reporte.json"):
            assert "404" in documented, path
        if path not in WITHOUT_PARAMETERS:
            assert "422" in documented, path
        for status, response in documented.items():
            if status == "200":
                continue
            content = response["content"]["application/json"]
            schema = schemas[content["schema"]["$ref"].rsplit("/", 1)[1]]
            assert "detail" in schema["required"] and schema["properties"]["detail"]["type"] == "string", (path, status)
            assert response["description"], (path, status)
    edge = operations["/recomendacion_usuario"]["responses"]["414"]["content"]["application/json"]
    assert edge["example"]["detail"].startswith("La URL supera los ")  # the message api/protocol.py answers


@pytest.mark.parametrize(
    ("path", "mode"),
    [
        *((path, GenerationMode.POSITIVE) for path in OPERATIONS),
        *((path, GenerationMode.NEGATIVE) for path in OPERATIONS if path not in WITHOUT_PARAMETERS),  # none to break
    ],
)
def test_every_endpoint_conforms_to_its_schema(
    api_schema: schemathesis.schemas.BaseSchema, path: str, mode: GenerationMode
) -> None:
    """Valid inputs (positive) and inputs that break the schema (negative): never a 5xx, and every
    answer passes every check (documented, in JSON, valid against its model, a valid input accepted,
    an invalid one refused). (Driven through the operation's Hypothesis
    strategy: schemathesis' pytest plugin does not run under this pytest version.)"""
    operation = api_schema[path]["GET"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(app=api_schema.app)
        assert response.status_code < 500, (case.formatted_path, response.text)
        case.validate_response(response)  # no `checks=`: every check, as `--checks all`

    run()


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


# Any text, including '/', '?', '#', '%', quotes, controls, surrogate-free Unicode, over 200 chars.
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=260)


@given(text=ANY_TEXT, year=st.one_of(st.none(), st.integers(-10, 20_000).map(str), st.text(max_size=6)))
@settings(
    max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_text_gets_an_answer_not_a_crash(client: TestClient, text: str, year: str | None) -> None:
    """Whatever a client sends, percent-encoded, every text endpoint answers 200, 404 or 422 in JSON."""
    query = "" if year is None else f"?anio={quote(year, safe='')}"
    for endpoint in (
        "score_titulo",
        "votos_titulo",
        "recomendacion",
        "get_actor",
        "get_director",
        "cantidad_filmaciones_mes",
        "cantidad_filmaciones_dia",
    ):
        response = client.get(f"/{endpoint}/{quote(text, safe='')}{query}")
        assert response.status_code in (200, 404, 422), (endpoint, text, response.text)
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        if response.status_code != 200:
            assert isinstance(body["detail"], str) and body["detail"]
        if len(text) > 200:
            assert response.status_code == 422


@given(
    titles=st.lists(ANY_TEXT, max_size=6),
    ids=st.lists(st.one_of(st.integers(-5, 2**64).map(str), st.text(max_size=8)), max_size=4),
)
@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_list_of_titles_and_ids_gets_an_answer_not_a_crash(
    client: TestClient, titles: list[str], ids: list[str]
) -> None:
    """The personal endpoint with any repeated `titulo` and `id` values: 200, 404 or 422 in JSON,
    and never a named film among the recommendations."""
    query = "&".join([*(f"titulo={quote(t, safe='')}" for t in titles), *(f"id={quote(i, safe='')}" for i in ids)])
    response = client.get(f"/recomendacion_usuario?{query}")
    assert response.status_code in (200, 404, 422), (titles, ids, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    if response.status_code == 200:
        named = {film["id"] for film in body["peliculas_base"]}
        assert body["peliculas"] and not named & {film["id"] for film in body["peliculas"]}
    else:
        assert isinstance(body["detail"], str) and body["detail"]
    if (not titles and not ids) or any(len(t) > 200 for t in titles):
        assert response.status_code == 422
