"""The report in the release flow: the pipeline writes it into every release, `movierec report`
writes it anywhere, the API serves the current release's at /reporte and /reporte.json, and a
report that fails never blocks a release."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.helpers import copy_data, write_small_raw
from typer.testing import CliRunner

from movierec.api.app import create_app
from movierec.cli import app
from movierec.config import Settings
from movierec.pipeline import publish
from movierec.release.store import ReleaseStore

MONTHS = (
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
)


def test_every_published_release_carries_its_report(sample_data: Path) -> None:
    release = (sample_data / "current").resolve()
    figures = json.loads((release / "report" / "report.json").read_text())
    assert figures["peliculas"] == 2993
    html = (release / "report" / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html>") and "2.993" in html
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["report"] == {"html": "report/report.html", "json": "report/report.json"}
    assert manifest["durations"]["report"] > 0


def test_the_report_header_shows_the_releases_creation_date(sample_data: Path) -> None:
    """Issue 17: a release built by the pipeline wrote its report before its manifest had
    created_at, so the header read «publicada el —»."""
    release = (sample_data / "current").resolve()
    created = json.loads((release / "manifest.json").read_text())["created_at"]
    day = datetime.fromisoformat(created).date()
    spanish = f"{day.day} de {MONTHS[day.month - 1]} de {day.year}"
    html = (release / "report" / "report.html").read_text()
    header = html.split("<header", 1)[1].split("</header>", 1)[0]
    assert f"publicada el {spanish} ·" in header and "publicada el —" not in html
    assert f"Versión {release.name} del catálogo, publicada el {spanish}." in html  # the summary's line
    assert json.loads((release / "report" / "report.json").read_text())["creada"] == created


def test_the_api_serves_the_current_releases_report(sample_data: Path) -> None:
    release = (sample_data / "current").resolve()
    with TestClient(create_app(sample_data, Settings(data_dir=sample_data))) as client:
        page = client.get("/reporte")
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.content == (release / "report" / "report.html").read_bytes()
        numbers = client.get("/reporte.json")
        assert numbers.status_code == 200 and numbers.json()["peliculas"] == 2993
        assert "/reporte" in client.get("/openapi.json").json()["paths"]


def test_a_release_without_report_answers_404_in_spanish(small_release: Path, tmp_path: Path) -> None:
    data = copy_data(small_release, tmp_path / "data")
    shutil.rmtree(ReleaseStore(data).current() / "report", ignore_errors=True)
    with TestClient(create_app(data, Settings(data_dir=data))) as client:
        response = client.get("/reporte")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("La versión ") and "no tiene reporte" in response.json()["detail"]


@pytest.mark.slow
def test_a_failing_report_is_recorded_and_the_release_still_published(
    sample_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a chart could not be drawn")

    monkeypatch.setattr("movierec.report.build.write_report", broken)
    data = tmp_path / "data"
    manifest = publish(
        write_small_raw(tmp_path / "raw", sample_raw, films=60),
        data,
        Settings(data_dir=data, evaluate_on_publish=False),
    )
    assert manifest["report"] == {"error": "ValueError: a chart could not be drawn"}
    assert ReleaseStore(data).current().name == manifest["release"]
    with TestClient(create_app(data, Settings(data_dir=data))) as client:
        detail = client.get("/reporte").json()["detail"]
    assert detail.endswith("no tiene reporte (falló al generarse: ValueError: a chart could not be drawn).")


def test_cli_report_writes_html_and_json_anywhere(small_release: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / "informe.html"
    result = CliRunner().invoke(app, ["report", "--data", str(small_release), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.with_suffix(".json").read_text())["peliculas"] == 200
    assert "report of release" in result.output
    missing = CliRunner().invoke(app, ["report", "--data", str(tmp_path / "nothing"), "--out", str(out)])
    assert missing.exit_code == 2 and "no release" in missing.output
