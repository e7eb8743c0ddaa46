"""The HTTP/1.1 protocol `movierec serve` runs: uvicorn's httptools protocol with the limits
production servers set, and Spanish JSON for the errors it answers before the app sees a request.

* **Request head size.** The request line and headers together may hold ``max_head_bytes``
  (16 KB, as uvicorn's h11 protocol and most proxies); a longer request line answers 414, longer
  headers 431, and the connection is closed. httptools alone has no limit: a 200 MB header was
  buffered whole.
* **Head timeout.** A request's line and headers must arrive within ``head_timeout`` seconds
  (10) of its first byte, or of the connection (or the previous response) when nothing came
  yet: a partial request answers 408, a silent connection is closed. uvicorn's own keep-alive
  timeout (5 s after a response) only covers connections that never send again.
* **Protocol errors** (a malformed request line, an unknown method, a bad header, an ambiguous
  body length as in request smuggling) answer 400 or 501 with ``{"detail": …}`` in Spanish
  instead of uvicorn's English text/plain, and close the connection.

One timer per connection checks the deadline, re-armed only when it fires: a request costs a
clock read and a few attribute updates, not a timer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

log = logging.getLogger("movierec.api")

MAX_HEAD_BYTES = 16 * 1024
HEAD_TIMEOUT = 10.0


def edge_protocol(max_head_bytes: int = MAX_HEAD_BYTES, head_timeout: float = HEAD_TIMEOUT) -> type[asyncio.Protocol]:
    """The protocol class for ``uvicorn.run(..., http=…)`` with these limits."""
    return type("EdgeProtocol", (EdgeProtocol,), {"max_head_bytes": max_head_bytes, "head_timeout": head_timeout})


class EdgeProtocol(HttpToolsProtocol):
    """See the module doc. Use :func:`edge_protocol` to set the limits."""

    max_head_bytes = MAX_HEAD_BYTES
    head_timeout = HEAD_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # waiting for (the rest of) a request line and headers
        self._head_bytes = 0  # bytes received of the current head
        self._line_done = False  # its request line ended (so too long means the headers)
        self._head_started = 0.0
        self._head_timer: asyncio.TimerHandle | None = None

    # -- the deadline -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_started = self.loop.time()
        self._head_timer = self.loop.call_later(self.head_timeout, self._check_deadline)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _check_deadline(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        waiting = self._in_head and (self.cycle is None or self.cycle.response_complete)
        if waiting and now - self._head_started >= self.head_timeout:
            if self._head_bytes:
                seconds = f"{self.head_timeout:g} segundo{'' if self.head_timeout == 1 else 's'}"
                self._refuse(408, f"La petición no llegó completa en {seconds}.")
            else:
                self.transport.close()
            return
        due = self._head_started + self.head_timeout if waiting else now + self.head_timeout
        self._head_timer = self.loop.call_later(max(due - now, 0.01), self._check_deadline)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_started = self.loop.time()

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes, self._line_done = True, 0, False

    def on_response_complete(self) -> None:
        self._head_started = self.loop.time()
        super().on_response_complete()

    # -- reading, with the size limit and Spanish errors -----------------------------------------

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        while data and not self.transport.is_closing():
            if self._in_head:
                room = self.max_head_bytes - self._head_bytes
                if room <= 0:
                    if self._line_done:
                        self._refuse(
                            431,
                            f"Las cabeceras de la petición superan los {self.max_head_bytes} bytes "
                            "que admite el servidor.",
                        )
                    else:
                        self._refuse(414, f"La URL supera los {self.max_head_bytes} bytes que admite el servidor.")
                    return
                piece, data = data[:room], data[room:]
                self._head_bytes += len(piece)
                self._line_done = self._line_done or b"\n" in piece
            else:
                piece, data = data, b""
            if not self._feed(piece):
                return

    def _feed(self, data: bytes) -> bool:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return False
        except httptools.HttpParserInvalidMethodError:
            self._refuse(501, "Método HTTP desconocido: esta API responde a GET y HEAD.")
            return False
        except httptools.HttpParserInvalidURLError:
            self._refuse(400, "La URL de la petición no es válida.")
            return False
        except httptools.HttpParserError:
            self._refuse(400, "Petición HTTP inválida: la línea de la petición o sus cabeceras no cumplen HTTP/1.1.")
            return False
        return True

    def send_400_response(self, msg: str) -> None:  # uvicorn's own call sites
        self._refuse(400, "Petición HTTP inválida.")

    def _refuse(self, status: int, detail: str) -> None:
        log.warning("refused a request from %s: %d %s", self.client, status, detail)
        body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\ncontent-length: ",
            str(len(body)).encode(),
            b"\r\nconnection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
