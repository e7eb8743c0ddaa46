"""The HTTP edge of the app: what every request goes through before routing (pure ASGI, cheap).

* ``HEAD`` is answered on every ``GET`` route (uptime checkers use it): the app answers the
  request as a ``GET`` and the body is not sent; the headers, ``content-length`` included, are
  those of the ``GET``.
* A redirect never points at another host: Starlette redirects ``/health/`` to ``/health`` with
  an absolute URL built from the request's ``Host`` header, which a client can forge; the
  ``Location`` is made relative (``/health``), which every client resolves against the host it
  asked.
* A line break in the path (``%0A``) is whitespace, as a tab or a space is: titles and names
  compare with runs of whitespace collapsed. Without this, Starlette's route patterns (``.*``,
  ``$``) made one inside a title miss the route (404 "Ruta no encontrada") and dropped a
  trailing one silently. Other odd characters (``%00``) reach the route and are just unknown.

Protocol errors (a malformed request line, headers too large, a request that never ends) happen
before any app sees a request; :mod:`movierec.api.protocol` answers those, in Spanish JSON too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class EdgeMiddleware:
    """See the module doc; a GET costs a character search and two comparisons more."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if "\n" in path:
            path = path.replace("\n", " ")
            scope = {**scope, "path": path}
        if scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
            send = _without_body(send)
        if path.endswith("/") and path != "/":
            # The app's routes end without '/', so only such a path can be redirected (to the
            # path without it); tests/test_hostile_http.py checks that no route ends with '/'.
            send = _relative_location(send)
        await self.app(scope, receive, send)


def _without_body(send: Send) -> Send:
    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            message = {**message, "body": b""}
        await send(message)

    return send_head


def _relative_location(send: Send) -> Send:
    async def send_relative(message: Message) -> None:
        if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
            headers = [
                (name, relative(value) if name.lower() == b"location" else value)
                for name, value in message.get("headers", [])
            ]
            message = {**message, "headers": headers}
        await send(message)

    return send_relative


def relative(location: bytes) -> bytes:
    """A Location header's path and query only.

    >>> relative(b"http://evil.example/health?x=1")
    b'/health?x=1'
    >>> relative(b"/health")
    b'/health'
    """
    parts = urlsplit(location.decode("latin-1"))
    path = "/" + parts.path.lstrip("/")  # '//evil.example' would be a host again
    return (path + (f"?{parts.query}" if parts.query else "")).encode("latin-1")
