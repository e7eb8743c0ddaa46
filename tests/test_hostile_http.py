"""Hostile requests to a real `movierec serve` process on 127.0.0.1 (issue 13), over raw sockets:
limits on the request head, a head timeout, Spanish JSON for protocol errors, HEAD on every GET
route, no redirect to a forged Host, line breaks in titles."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import schemathesis
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.helpers import free_port

from movierec.api.protocol import MAX_HEAD_BYTES
from movierec.config import REPO_ROOT, Settings

pytestmark = pytest.mark.slow  # a real `movierec serve` process and its head timeouts

HEAD_TIMEOUT = 1  # seconds, for the test server: the tests that wait for it stay short


@pytest.fixture(scope="module")
def port(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    free = free_port()
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "movierec",
            "serve",
            "--data",
            str(sample_data),
            "--port",
            str(free),
            "--header-timeout",
            str(HEAD_TIMEOUT),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
        env=dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if request(free, "GET", "/health")[0] == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.1)
        yield free
        assert request(free, "GET", "/health")[0] == 200  # every hostile request left it serving
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
        log.close()


def request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def raw(port: int, data: bytes) -> bytes:
    """Send ``data`` as is and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        if data:
            sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def answer(received: bytes) -> tuple[int, dict[str, str], dict]:
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body)


def refused(received: bytes, status: int, fragment: str) -> None:
    code, headers, body = answer(received)
    assert code == status, received[:300]
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert fragment in body["detail"], body


# --- the request head: size and time ---------------------------------------------------------------


def test_headers_over_16_kb_answer_431(port: int) -> None:
    big = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n"
    refused(raw(port, big), 431, f"Las cabeceras de la petición superan los {MAX_HEAD_BYTES} bytes")
    fits = {"X-Fits": "a" * (MAX_HEAD_BYTES // 2)}
    assert request(port, "GET", "/health", fits)[0] == 200


def test_huge_header_is_cut_off_not_buffered(port: int) -> None:
    """The issue's 60–200 MB header: the server answers after 16 KB and closes, so the client
    cannot push more than a socket buffer's worth."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        with pytest.raises(OSError):  # reset by the server long before 64 MB
            while sent < 64 << 20:
                sock.sendall(b"a" * 65536)
                sent += 65536
        answered = sock.recv(65536)  # what the server sent before closing: its 431, not silence
    assert sent < 16 << 20
    refused(answered, 431, f"Las cabeceras de la petición superan los {MAX_HEAD_BYTES} bytes")


def test_url_over_16_kb_answers_414(port: int) -> None:
    refused(raw(port, b"GET /score_titulo/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"), 414, "La URL supera")


def test_partial_request_answers_408_after_the_head_timeout(port: int) -> None:
    refused(
        raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\n"),
        408,
        f"La petición no llegó completa en {HEAD_TIMEOUT} segundo",
    )


def test_silent_connection_is_closed(port: int) -> None:
    """Closed without an answer once the head timeout has passed (not at once, not never: the
    socket's own timeout is 10 s)."""
    start = time.monotonic()
    assert raw(port, b"") == b""
    assert HEAD_TIMEOUT * 0.9 <= time.monotonic() - start < 10


# --- protocol errors: Spanish JSON, not uvicorn's English text ------------------------------------


@pytest.mark.parametrize(
    ("data", "status", "fragment"),
    [
        (b"FOO /health HTTP/1.1\r\nHost: x\r\n\r\n", 501, "Método HTTP desconocido"),
        (b"GET /score_titulo/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", 400, "La URL de la petición no es válida"),
        (b"GET /score_titulo/Toy Story HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Petición HTTP inválida"),
        (
            b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
            "Petición HTTP inválida",
        ),  # request smuggling: two body lengths
        (b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400, "Petición HTTP inválida"),
        (b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n", 400, "Petición HTTP inválida"),
    ],
    ids=["unknown method", "bytes in the path", "space in the path", "smuggling", "bad header", "bad version"],
)
def test_protocol_errors_answer_spanish_json(port: int, data: bytes, status: int, fragment: str) -> None:
    refused(raw(port, data), status, fragment)


def test_other_methods_answer_405_in_spanish(port: int) -> None:
    status, _, body = request(port, "DELETE", "/health")
    assert status == 405 and "Método no permitido" in json.loads(body)["detail"]


# --- HEAD, redirects, line breaks ------------------------------------------------------------------


EXAMPLES = {
    "{mes}": "enero",
    "{dia}": "lunes",
    "{titulo}": "Toy%20Story",
    "{nombre_actor}": "Tom%20Hanks",
    "{nombre_director}": "John%20Lasseter",
    "{id}": "862",
}
QUERIES = {"/recomendacion_usuario": "?titulo=Toy%20Story&id=949", "/sugerencias": "?q=toy"}  # routes that need one


def test_head_is_answered_on_every_get_route(port: int) -> None:
    paths = [*list(json.loads(request(port, "GET", "/openapi.json")[2])["paths"]), "/docs", "/openapi.json"]
    assert len(paths) >= 10
    for template in paths:
        path = template
        for name, value in EXAMPLES.items():
            path = path.replace(name, value)
        path += QUERIES.get(template, "")
        get_status, get_headers, body = request(port, "GET", path)
        head_status, head_headers, head_body = request(port, "HEAD", path)
        assert get_status == 200, path
        assert (head_status, head_body) == (200, b""), path
        assert head_headers["content-length"] == get_headers["content-length"] == str(len(body)), path
    assert request(port, "HEAD", "/no/such/route")[0] == 404


def test_slash_redirect_never_points_at_the_host_header(port: int) -> None:
    status, headers, _ = request(port, "GET", "/health/?x=1", {"Host": "evil.example"})
    assert status == 307 and headers["location"] == "/health?x=1"
    status, headers, body = request(port, "GET", "//evil.example/", {"Host": "evil.example"})
    assert status == 404 and "location" not in headers  # no route there, and no redirect anywhere
    assert json.loads(body)["detail"].startswith("Ruta no encontrada")


def test_no_route_ends_with_a_slash(tmp_path: Path) -> None:
    """api/edge.py rewrites redirects only for paths ending in '/', which holds while no route
    ends with one (Starlette redirects to the path with its last '/' toggled)."""
    from movierec.api.app import create_app

    app = create_app(tmp_path, Settings(data_dir=tmp_path))
    paths = [*app.openapi()["paths"], *(getattr(route, "path", None) for route in app.routes)]
    assert len(paths) >= 10 and not [p for p in paths if p and p.endswith("/")]


@pytest.mark.parametrize(
    "path",
    [
        "/score_titulo/Toy%0AStory",
        "/score_titulo/Toy%20Story%0A",
        "/score_titulo/%0AToy%0D%0AStory",
        "/score_titulo/Toy%09Story",
    ],
)
def test_line_break_in_a_title_is_whitespace(port: int, path: str) -> None:
    status, _, body = request(port, "GET", path)
    assert status == 200 and json.loads(body)["id"] == 862


# --- the edge's answers are in the OpenAPI document (issue 17) --------------------------------------


@pytest.fixture(scope="module")
def api_schema(port: int) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_url(f"http://127.0.0.1:{port}/openapi.json")


def conforms(api_schema: schemathesis.schemas.BaseSchema, template: str, received: bytes, url: str) -> int:
    """The edge's raw answer checked against the document of the operation it was sent to, by
    schemathesis' checks: status documented, JSON content type, body valid against its model."""
    status, headers, _ = answer(received)
    response = httpx.Response(
        status, headers=headers, content=received.partition(b"\r\n\r\n")[2], request=httpx.Request("GET", url)
    )
    response.elapsed = timedelta(0)
    case = api_schema[template]["GET"].Case()
    case.validate_response(
        response, checks=[status_code_conformance, content_type_conformance, response_schema_conformance]
    )
    return status


def test_a_schema_valid_request_too_long_for_the_server_gets_a_documented_414(
    api_schema: schemathesis.schemas.BaseSchema,
) -> None:
    """What schemathesis found (ST103): 50 titles of 200 characters are valid by the schema, and
    their URL is more than the 16 KB the server reads: the 414 it answers is documented, in the
    documented Spanish shape (every check schemathesis runs on a response)."""
    case = api_schema["/recomendacion_usuario"]["GET"].Case(query={"titulo": ["ñ" * 200] * 50})
    response = case.call()
    assert response.status_code == 414 and "La URL supera" in response.json()["detail"]
    case.validate_response(response)


@pytest.mark.parametrize(
    ("template", "data", "status"),
    [
        (
            "/recomendacion_usuario",
            b"GET /recomendacion_usuario?titulo=" + b"a" * MAX_HEAD_BYTES + b" HTTP/1.1\r\n\r\n",
            414,
        ),
        ("/health", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n", 431),
        ("/health", b"GET /health HTTP/1.1\r\nHost: x\r\n", 408),
        ("/score_titulo/{titulo}", b"GET /score_titulo/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("/cantidad_filmaciones_mes/{mes}", b"FOO /cantidad_filmaciones_mes/enero HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        ("/sugerencias", b"GET /sugerencias?q=toy HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400),
        (
            "/cantidad_filmaciones_dia/{dia}",
            b"GET /cantidad_filmaciones_dia/lu%2Fnes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            404,
        ),  # a '/' leaves the route
    ],
)
def test_every_edge_answer_is_documented_on_its_route(
    api_schema: schemathesis.schemas.BaseSchema, port: int, template: str, data: bytes, status: int
) -> None:
    assert conforms(api_schema, template, raw(port, data), f"http://127.0.0.1:{port}/") == status
