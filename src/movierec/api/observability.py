"""What operators see: a request id on every response and log line, an access log (text or JSON,
see ``movierec --log-format``), and Prometheus metrics at ``GET /metrics``.

One pure ASGI middleware does all three, so a request pays a few microseconds: no
``BaseHTTPMiddleware`` (which adds a task and a stream per request), metric children looked up
once per (route, method, status) and kept, and the clock read twice.

* ``x-request-id``: the client's own (up to 64 characters of ``A-Za-z0-9._-``) or a new one.
* Metrics: ``movierec_requests_total{route,method,status}``, ``movierec_request_duration_seconds``
  (histogram per route), ``movierec_release_info{version}`` and ``movierec_release_age_seconds``.
  ``route`` is the route's template (``/score_titulo/{titulo:path}``), never the raw path, so the
  label's values stay few whatever clients send.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("movierec.access")

_VALID_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """The app's own registry (several apps in one process, as in the tests, never collide)."""

    def __init__(self, release: Callable[[], tuple[str, str | None]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "movierec_requests", "HTTP requests answered.", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "movierec_request_duration_seconds",
            "Time to answer a request.",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.release = release
        self.release_info = Gauge(
            "movierec_release_info", "The release served (value 1).", ["version"], registry=self.registry
        )
        age = Gauge(
            "movierec_release_age_seconds", "Seconds since the served release was built.", registry=self.registry
        )
        age.set_function(self._release_age)
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._version: str | None = None

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def _release_age(self) -> float:
        _, created = self.release()
        if not created:
            return float("nan")
        try:
            return max(0.0, (datetime.now(UTC) - datetime.fromisoformat(created)).total_seconds())
        except ValueError:
            return float("nan")

    def exposition(self) -> bytes:
        version, _ = self.release()
        if version != self._version:  # the served release changed (hot reload): one series
            self.release_info.clear()
            self.release_info.labels(version).set(1)
            self._version = version
        return generate_latest(self.registry)


CONTENT_TYPE = CONTENT_TYPE_LATEST


class Observability:
    """ASGI middleware: request id, access log, metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics, *, log_requests: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "(sin ruta)"
            self.metrics.observe(template, scope["method"], status, seconds)
            if self.log_requests:
                _log(scope, status, seconds, request_id.decode())


def _request_id(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            if _VALID_ID.match(value):
                return value
            break
    return os.urandom(8).hex().encode()


def _log(scope: Scope, status: int, seconds: float, request_id: str) -> None:
    path = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else "")
    client = scope.get("client")
    fields = {
        "request_id": request_id,
        "method": scope["method"],
        "path": path[:500],
        "status": status,
        "ms": round(seconds * 1000, 3),
        "client": client[0] if client else None,
    }
    access_log.info(
        '%s "%s %s" %d %.1f ms request_id=%s',
        fields["client"],
        scope["method"],
        fields["path"],
        status,
        seconds * 1000,
        request_id,
        extra={"fields": fields},
    )
