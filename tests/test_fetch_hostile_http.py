"""`movierec fetch` against hostile servers (issue 19, items 5 and 16): a total deadline (a server
dripping a byte at a time, in the body or in the headers), the store's lock left free while
downloading, one-line errors (redirect loop, HTTP errors), and SIGTERM leaving no folder behind.
The servers are raw sockets on loopback."""

from __future__ import annotations

import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.servers import HostileHandler
from typer.testing import CliRunner

from movierec.cli import app
from movierec.config import REPO_ROOT, Settings
from movierec.refresh.fetch import FetchError, fetch_release
from movierec.release.store import ReleaseStore


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    socketserver.ThreadingTCPServer.daemon_threads = True
    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), HostileHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def leftovers(data: Path) -> list[str]:
    return sorted(p.name for p in [*data.glob(".fetch-*"), *data.glob("releases/.tmp-*")]) if data.exists() else []


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_dripping_server_is_cut_at_the_budget_without_holding_the_lock(
    server: str, tmp_path: Path, path: str
) -> None:
    data = tmp_path / "data"
    outcome: list[BaseException] = []

    def fetch() -> None:
        try:
            fetch_release(server + path, data, Settings(data_dir=data, fetch_budget=2))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=fetch)
    worker.start()
    while not leftovers(data) and worker.is_alive():  # the download has begun
        time.sleep(0.01)
    with ReleaseStore(data).lock(wait=0):  # free: the download does not hold it
        assert leftovers(data)
    worker.join(60)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], FetchError)
    assert str(outcome[0]) == (
        f"{server}{path}: the download took longer than MOVIEREC_FETCH_BUDGET (2 s); nothing published"
    )
    assert leftovers(data) == [] and ReleaseStore(data).current() is None


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/loop", "download failed (more than 5 redirects)"),
        ("/error", r"download failed (HTTP 500 Internal\x09Error)"),
        ("/huge", "the archive is larger than MOVIEREC_RELEASE_MAX_BYTES (8,589,934,592 bytes)"),
    ],
)
def test_http_failures_are_one_line_and_exit_2(server: str, tmp_path: Path, path: str, message: str) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(app, ["fetch", server + path, "--data", str(data)])
    assert result.exit_code == 2
    assert result.output == f"error: {server}{path}: {message}\n"
    assert leftovers(data) == []


@pytest.mark.slow
def test_sigterm_during_a_fetch_leaves_no_folder(server: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "movierec", "fetch", f"{server}/drip", "--data", str(data)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MOVIEREC_FETCH_BUDGET": "120"},
    )
    try:
        deadline = time.monotonic() + 60
        while not list(data.glob(".fetch-*")):  # downloading
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert list(data.iterdir()) == []  # the fetch folder gone; nothing else was written
