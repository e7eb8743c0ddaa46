"""`movierec serve`: a real uvicorn process over DATA/current, and its refusal without a release."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers import free_port

from movierec.config import REPO_ROOT

pytestmark = pytest.mark.slow  # `movierec serve` in subprocesses


def get(port: int, path: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_serve_answers_over_http(sample_data: Path, tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    env = {**os.environ, "PORT": str(port)}  # the port comes from $PORT, as on Render
    proc = subprocess.Popen(
        [sys.executable, "-m", "movierec", "serve", "--data", str(sample_data)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                status, health = get(port, "/health")
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.1)
        manifest = json.loads((sample_data / "current" / "manifest.json").read_text())
        assert status == 200 and health["version"] == manifest["release"] and health["peliculas"] == 2993
        status, film = get(port, "/score_titulo/Face/Off")
        assert status == 200 and film["id"] == 754
        status, missing = get(port, "/get_actor/Tom%20Hnaks")
        assert status == 404 and missing["sugerencias"][0] == "Tom Hanks"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
        log.close()
    assert proc.returncode == 0
    assert "serving release" in (tmp_path / "serve.log").read_text()


def test_serve_refuses_a_data_folder_without_release(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "movierec", "serve", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"no release in {tmp_path}: run `movierec pipeline --data {tmp_path}` first" in result.stderr
