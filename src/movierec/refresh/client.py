"""HTTP access to the TMDB API v3: authentication, bounded concurrency and retries.

One :class:`TmdbClient` serves a whole sync. Every request goes through :meth:`TmdbClient.get`,
which holds one of ``concurrency`` slots while the request is on the wire (never while waiting
to retry, so a film backing off does not starve the others), and retries with exponential backoff
and jitter (``stamina``) on 429, 5xx and transport errors. When TMDB says how long to wait
(``Retry-After``: seconds or an HTTP date) that wait replaces the backoff.

Every answer is read streaming within a byte cap, counted as sent and once inflated (gzip and
deflate are inflated here, a bounded chunk at a time), and every request has a deadline for the
whole of it: an upstream cannot make a sync hold more memory or time than the settings allow.

The API key never leaves this module in a message: a v3 key travels in the ``api_key`` query
parameter, so URLs are never logged or put into errors, and httpx's per-request log lines are
dropped while a client is open.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
import stamina

from movierec.raw.caps import clip
from movierec.refresh.names import KEY_VARIABLE

log = logging.getLogger("movierec.tmdb")

DEFAULT_BASE_URL = "https://api.themoviedb.org/3"


class TmdbError(Exception):
    """A problem that stops the whole sync: no key, a rejected key, TMDB unreachable.

    The message is one line meant for the user; the CLI prints it and exits with code 2.
    """


class RequestFailed(Exception):
    """One request that failed after every retry without a usable HTTP answer (e.g. timeouts).

    Fatal for the list of changes, not for one film: the film is counted as failed.
    """


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry one request. Tests use tiny waits; the defaults suit the real API.

    ``attempts`` counts the first try. ``retry_after_max`` caps a server's ``Retry-After``, so
    that a misbehaving proxy cannot stall the sync for hours.
    """

    attempts: int = 6
    wait_initial: float = 0.5
    wait_max: float = 30.0
    wait_jitter: float = 1.0
    retry_after_max: float = 120.0
    request_timeout: float = 30.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date; None if absent
    or unreadable. A date in the past means no wait.

    >>> parse_retry_after("3")
    3.0
    >>> now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    >>> parse_retry_after("Wed, 01 May 2024 12:00:05 GMT", now)
    5.0
    >>> parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now), parse_retry_after("soon")
    (0.0, None)
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one is read the same way
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def auth_mode(api_key: str) -> str:
    """``"bearer"`` for a v4 read access token (a JWT: ``eyJ...``), else ``"api_key"`` (v3).

    >>> auth_mode("eyJhbGciOiJIUzI1NiJ9.e30.sig"), auth_mode("0123456789abcdef0123456789abcdef")
    ('bearer', 'api_key')
    """
    return "bearer" if api_key.startswith("eyJ") else "api_key"


class TooLarge(Exception):
    """An answer over ``MOVIEREC_TMDB_MAX_RESPONSE_BYTES``, as sent or once inflated: not retried."""


class BadBody(Exception):
    """An answer whose body cannot be decoded (unknown Content-Encoding, broken gzip): not retried."""


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, its body read whole but within the byte cap."""

    status_code: int
    reason_phrase: str
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        return parse_json(self.body)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(body: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, nesting too deep for Python as a ValueError.

    >>> parse_json(b'{"budget": 1}')
    {'budget': 1}
    >>> for bad in (b'{"budget": Infinity}', b'[' * 100_000, b'\\xff'):
    ...     try:
    ...         parse_json(bad)
    ...     except ValueError as exc:
    ...         print(type(exc).__name__)
    ValueError
    ValueError
    UnicodeDecodeError
    """
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line (whitespace runs collapsed) and at most ``limit`` characters.

    >>> one_line("first\\n  second"), one_line("x" * 10, 5)
    ('first second', 'xxxx…')
    """
    return clip(" ".join(text.split()), limit)


class _Inflater:
    """Inflates a gzip or deflate body chunk by chunk, never more than the cap at once: a 0.5 MB
    gzip answer can inflate to 500 MB, and httpx's own decoders inflate a chunk whole."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._z: Any = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding in ("gzip", "x-gzip") else None

    def feed(self, data: bytes, out: bytearray, cap: int) -> None:
        if self._z is None:  # deflate: a zlib stream as the RFC says, or raw deflate as some servers send
            zlib_header = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._z = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        try:
            while data and not self._z.eof:
                out += self._z.decompress(data, cap - len(out) + 1)
                if len(out) > cap:
                    raise TooLarge(f"answer over {cap:,} bytes once inflated ({self.encoding})")
                data = self._z.unconsumed_tail
        except zlib.error as exc:
            raise BadBody(f"broken {self.encoding} body: {exc}") from None


def _decoder(header: str | None) -> _Inflater | None:
    """None for a plain body, else the inflater; an encoding we did not ask for is refused."""
    codings = [c.strip().lower() for c in (header or "").split(",") if c.strip().lower() not in ("", "identity")]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Inflater(codings[0])
    raise BadBody(f"unsupported Content-Encoding {one_line(header or '', 40)!r}")


class _RetryableStatus(Exception):
    """A 429 or 5xx answer, raised inside the retry block so that stamina retries it."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status_code)
        self.answer = answer

    def __repr__(self) -> str:  # stamina's hooks log the repr: status only, never the URL
        return f"HTTP {self.answer.status_code}"


def status_message(answer: Answer) -> str:
    """TMDB's own explanation (``status_message`` in the JSON body), else the HTTP reason; one
    short line, whatever the server sent."""
    try:
        body = answer.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("status_message"), str):
        return one_line(body["status_message"])
    return one_line(answer.reason_phrase or "no explanation")


def status_code(answer: Answer) -> int | None:
    """TMDB's error code in the JSON body (34: not found, 7: invalid key), if any."""
    try:
        body = answer.json()
    except ValueError:
        return None
    code = body.get("status_code") if isinstance(body, dict) else None
    return code if type(code) is int else None


class _Drop(logging.Filter):
    """Drops the records whose message starts with ``prefix``."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


@contextmanager
def _quiet_libraries() -> Iterator[None]:
    """Silence two library log lines while a client is open: httpx logs every request URL at
    INFO, and a v3 key is in the URL; stamina logs a bare "stamina.retry_scheduled" warning
    where :meth:`TmdbClient._retry_wait` logs the path, the status and the wait."""
    filters = [
        (logging.getLogger("httpx"), _Drop("HTTP Request")),
        (logging.getLogger("stamina"), _Drop("stamina.retry_scheduled")),
    ]
    for logger, drop in filters:
        logger.addFilter(drop)
    try:
        yield
    finally:
        for logger, drop in filters:
            logger.removeFilter(drop)


class TmdbClient:
    """An async TMDB client; use as ``async with TmdbClient(...) as client``.

    ``max_bytes`` caps every answer (as sent and once inflated), ``deadline`` the seconds one
    :meth:`get` may take in all (retries and waits included: httpx's timeout is per read, and a
    server dripping a byte every 20 s never trips it)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        concurrency: int,
        retry: RetryPolicy,
        max_bytes: int = 8 << 20,
        deadline: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth_mode(api_key)
        self.retry = retry
        self.max_bytes, self.deadline = max_bytes, deadline
        self._key = api_key
        self._slots = asyncio.Semaphore(concurrency)
        params = {"api_key": api_key} if self.auth == "api_key" else {}
        # Only what _Inflater decodes: a br or zstd body would be refused anyway.
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "User-Agent": "movierec-tmdb-sync"}
        if self.auth == "bearer":
            headers["Authorization"] = f"Bearer {api_key}"
        read = min(retry.request_timeout, deadline)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            params=params,
            headers=headers,
            timeout=httpx.Timeout(read, connect=min(10.0, read)),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self._quiet = _quiet_libraries()

    async def __aenter__(self) -> TmdbClient:
        self._quiet.__enter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._http.aclose()
        finally:
            self._quiet.__exit__(None, None, None)

    def redact(self, text: str) -> str:
        """``text`` without the key, for messages built from exceptions."""
        return text.replace(self._key, "***")

    def _retry_wait(self, path: str, exc: Exception) -> bool | float:
        """stamina's hook: whether to retry ``exc``, and how long to wait when TMDB said so."""
        if isinstance(exc, _RetryableStatus):
            answer = exc.answer
            wait = parse_retry_after(answer.headers.get("Retry-After"))
            if wait is None:
                log.info("GET %s: HTTP %d, retrying with backoff", path, answer.status_code)
                return True
            wait = min(wait, self.retry.retry_after_max)
            log.info("GET %s: HTTP %d, retrying in %.1f s (Retry-After)", path, answer.status_code, wait)
            return wait
        if isinstance(exc, httpx.TransportError):
            log.info("GET %s: %s, retrying", path, type(exc).__name__)
            return True
        return False

    async def _read(self, path: str, params: dict[str, Any] | None) -> Answer:
        """One request, its body streamed and counted: the bytes as sent and once inflated."""
        cap = self.max_bytes
        async with self._http.stream("GET", path, params=params) as response:
            announced = response.headers.get("Content-Length", "")
            if announced.isdigit() and len(announced) < 20 and int(announced) > cap:
                raise TooLarge(f"answer of {int(announced):,} bytes announced, over {cap:,}")
            inflater = _decoder(response.headers.get("Content-Encoding"))
            body, wire = bytearray(), 0
            async for chunk in response.aiter_raw():
                wire += len(chunk)
                if wire > cap:
                    raise TooLarge(f"answer over {cap:,} bytes")
                if inflater is None:
                    body += chunk
                else:
                    inflater.feed(chunk, body, cap)
            return Answer(response.status_code, response.reason_phrase, response.headers, bytes(body))

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Answer:
        """GET ``path`` (relative to the base URL) with retries; returns the final answer.

        A 429 or 5xx that outlives the retries is returned as is, for the caller to judge.
        Raises :class:`TmdbError` on 401 (the key is wrong for every request) and when the
        server cannot be reached at all; :class:`RequestFailed` on other transport errors, an
        answer over the byte cap or undecodable, and when the deadline passes.
        """
        retry = self.retry
        try:
            async with asyncio.timeout(self.deadline):
                async for attempt in stamina.retry_context(
                    on=lambda exc: self._retry_wait(path, exc),
                    attempts=retry.attempts,
                    timeout=None,
                    wait_initial=retry.wait_initial,
                    wait_max=retry.wait_max,
                    wait_jitter=retry.wait_jitter,
                ):
                    with attempt:
                        async with self._slots:
                            answer = await self._read(path, params)
                        if answer.status_code == 429 or answer.status_code >= 500:
                            raise _RetryableStatus(answer)
        except _RetryableStatus as exc:
            answer = exc.answer
        except TimeoutError:
            raise RequestFailed(
                f"no complete answer within {self.deadline:g} s (MOVIEREC_TMDB_REQUEST_DEADLINE)"
            ) from None
        except (TooLarge, BadBody) as exc:
            raise RequestFailed(self.redact(str(exc))) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TmdbError(
                f"cannot reach TMDB at {self.redact(self.base_url)} after {retry.attempts} attempts: "
                f"{type(exc).__name__}: {one_line(self.redact(str(exc))) or 'no detail'}"
            ) from None
        except httpx.TransportError as exc:
            raise RequestFailed(
                f"{type(exc).__name__} after {retry.attempts} attempts: {one_line(self.redact(str(exc))) or 'no detail'}"
            ) from None
        except httpx.HTTPError as exc:  # a redirect loop, a malformed answer httpx refuses
            raise RequestFailed(f"{type(exc).__name__}: {one_line(self.redact(str(exc))) or 'no detail'}") from None
        if answer.status_code == 401:
            raise TmdbError(
                f"TMDB rejected the credentials in {KEY_VARIABLE} (HTTP 401, sent as "
                f"{'a Bearer token' if self.auth == 'bearer' else 'the api_key parameter'}): "
                f"{self.redact(status_message(answer))}"
            )
        return answer
