"""Issue 7's operability: request ids, access log (text and JSON), CORS, Prometheus metrics,
validated settings and `movierec config`."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.helpers import write_release
from typer.testing import CliRunner

from movierec.api.app import create_app
from movierec.cli import app as cli
from movierec.cli.common import JsonFormatter
from movierec.config import Settings, SettingsError


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    release = write_release(folder / "releases" / "r1")
    manifest = json.loads((release / "manifest.json").read_text())
    (release / "manifest.json").write_text(json.dumps({**manifest, "created_at": "2026-01-01T00:00:00+00:00"}))
    (folder / "current").symlink_to("releases/r1")
    return folder


def test_every_response_carries_a_request_id(data: Path) -> None:
    with TestClient(create_app(data, Settings(data_dir=data))) as client:
        seen = set()
        for path, status in [
            ("/health", 200),
            ("/score_titulo/Nada%20Parecido", 404),
            ("/cantidad_filmaciones_mes/marzoo", 422),
            ("/no/such/route", 404),
        ]:
            response = client.get(path)
            assert response.status_code == status
            assert re.fullmatch(r"[0-9a-f]{16}", response.headers["x-request-id"])
            seen.add(response.headers["x-request-id"])
        assert len(seen) == 4
        refused = client.post("/health")
        assert refused.status_code == 405 and re.fullmatch(r"[0-9a-f]{16}", refused.headers["x-request-id"])  # 405 too
        given = client.get("/health", headers={"x-request-id": "abc-123.X_y"})
        assert given.status_code == 200 and given.headers["x-request-id"] == "abc-123.X_y"
        forged = client.get("/health", headers={"x-request-id": "bad id\twith spaces"})
        assert forged.status_code == 200 and re.fullmatch(r"[0-9a-f]{16}", forged.headers["x-request-id"])


def test_access_log_names_the_request_id_in_text_and_json(data: Path, caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.INFO, logger="movierec.access"),
        TestClient(create_app(data, Settings(data_dir=data), log_requests=True)) as client,
    ):
        response = client.get("/score_titulo/Hamlet?anio=1948", headers={"x-request-id": "req-42"})
    records = [r for r in caplog.records if r.name == "movierec.access"]
    assert len(records) == 1
    assert re.fullmatch(
        r'testclient "GET /score_titulo/Hamlet\?anio=1948" 200 \d+\.\d ms request_id=req-42', records[0].getMessage()
    ), records[0].getMessage()
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["request_id"] == "req-42" and line["status"] == 200 and line["method"] == "GET"
    assert line["path"] == "/score_titulo/Hamlet?anio=1948" and line["level"] == "info"
    assert response.status_code == 200
    with TestClient(create_app(data, Settings(data_dir=data))) as client:  # off by default
        caplog.clear()
        assert client.get("/health").status_code == 200
    assert not [r for r in caplog.records if r.name == "movierec.access"]


def test_cors_allows_only_the_configured_origins(data: Path) -> None:
    settings = Settings(data_dir=data, cors_origins="https://app.example, https://admin.example")
    with TestClient(create_app(data, settings)) as client:
        ok = client.get("/health", headers={"Origin": "https://app.example"})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://app.example"
        assert "x-request-id" in ok.headers["access-control-expose-headers"]
        other = client.get("/health", headers={"Origin": "https://evil.example"})
        assert other.status_code == 200 and "access-control-allow-origin" not in other.headers  # served, not shared
        preflight = client.options(
            "/score_titulo/Hamlet", headers={"Origin": "https://admin.example", "Access-Control-Request-Method": "GET"}
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://admin.example"
    with TestClient(create_app(data, Settings(data_dir=data))) as client:  # none configured: no CORS
        plain = client.get("/health", headers={"Origin": "https://app.example"})
        assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers


def test_metrics_count_requests_per_route_template(data: Path) -> None:
    with TestClient(create_app(data, Settings(data_dir=data))) as client:
        for title, status in (("Hamlet", 200), ("Amélie", 200), ("Nothing Like It", 404)):
            assert client.get(f"/score_titulo/{title}").status_code == status
        assert client.get("/health").status_code == 200
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'movierec_requests_total{method="GET",route="/score_titulo/{titulo:path}",status="200"} 2.0' in text
    assert 'movierec_requests_total{method="GET",route="/score_titulo/{titulo:path}",status="404"} 1.0' in text
    assert 'movierec_request_duration_seconds_count{route="/score_titulo/{titulo:path}"} 3.0' in text
    assert 'movierec_release_info{version="test-release"} 1.0' in text
    age = float(re.search(r"^movierec_release_age_seconds (\S+)$", text, re.M).group(1))
    assert age > 300 * 86400  # built on 2026-01-01
    assert "Hamlet" not in text and "Nothing" not in text  # raw paths never become labels


def test_settings_are_validated_and_unknown_variables_warned(caplog: pytest.LogCaptureFixture) -> None:
    for variable, value, message in [
        ("MOVIEREC_NEIGHBOURS_K", "3", "must be at least 5"),
        ("MOVIEREC_RECOMMENDATIONS", "0", "must be between 1 and 50"),
        ("MOVIEREC_MIN_VOTES", "many", "must be an integer"),
        ("MOVIEREC_LOCK_WAIT", "nan", "must be between 0 and 86400"),
        ("MOVIEREC_EVALUATE_ON_PUBLISH", "maybe", "must be true or false"),
        ("MOVIEREC_RATINGS", "huge", "must be auto, small or full"),
    ]:
        with pytest.raises(SettingsError, match=message):
            Settings.from_env({variable: value})
    with caplog.at_level(logging.WARNING, logger="movierec.config"):
        settings = Settings.from_env({"MOVIEREC_NEIGHBOURS": "30", "MOVIEREC_LOCK_WAIT": "2.5"})
    assert settings.lock_wait == 2.5 and settings.neighbours_k == 20
    assert "unknown setting MOVIEREC_NEIGHBOURS ignored" in caplog.text


def test_cli_config_prints_values_and_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEREC_MIN_VOTES", "150")
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert lines["MOVIEREC_MIN_VOTES"].split()[1:3] == ["150", "MOVIEREC_MIN_VOTES"]
    assert lines["MOVIEREC_KEEP_RELEASES"].split()[1:3] == ["3", "default"]
    monkeypatch.setenv("MOVIEREC_KEEP_RELEASES", "0")
    bad = CliRunner().invoke(cli, ["config"])
    assert bad.exit_code == 2
    assert bad.output.strip() == "error: MOVIEREC_KEEP_RELEASES must be between 1 and 100, got '0'"
