"""Servers the test modules share: `movierec serve` started on a free port (for the browser tests),
and a raw-socket HTTP server that misbehaves on purpose (for the fetch tests)."""

from __future__ import annotations

import http.client
import shutil
import socketserver
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.helpers import free_port

SHOTS = Path("/tmp/web-shots")  # the browser tests' screenshots of every state
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's package; `make test` installs it


@contextmanager
def serving(data: Path) -> Iterator[str]:
    """`movierec serve --data DATA` on a free port until /health answers; its URL, then terminated."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "movierec", "serve", "--data", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("movierec serve did not answer /health within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


DRIP_EVERY = 0.2  # seconds between two bytes


class HostileHandler(socketserver.StreamRequestHandler):
    """Answers by path: /drip (headers, then one body byte at a time), /drip-headers (the status
    line, then one header byte at a time), /loop (a redirect to itself), /error (a 500 whose
    reason and body span lines), /huge (declares 1 TB)."""

    def handle(self) -> None:
        path = self.rfile.readline().split()[1].decode()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        try:
            if path == "/drip":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n")
                self._drip(b"\x1f" * 10_000)
            elif path == "/drip-headers":
                self._drip(b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10_000)
            elif path == "/loop":
                self.wfile.write(
                    b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            elif path == "/error":
                body = b"Traceback (most recent call last):\n  boom\n"
                self.wfile.write(b"HTTP/1.1 500 Internal\tError\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            elif path == "/huge":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n")
        except OSError:
            pass  # the client gave up: what these servers are for

    def _drip(self, data: bytes) -> None:
        for i in range(len(data)):
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            time.sleep(DRIP_EVERY)
