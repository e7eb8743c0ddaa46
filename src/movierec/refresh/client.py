"""HTTP access to the TMDB API v3: authentication, bounded concurrency and retries.

One :class:`TmdbClient` serves a whole sync. Every request goes through :meth:`TmdbClient.get`,
which holds one of ``concurrency`` slots while the request is on the wire (never while waiting
to retry, so a film backing off does not starve the others), and retries with exponential backoff
and jitter (``stamina``) on 429, 5xx and transport errors. When TMDB says how long to wait
(``Retry-After``: seconds or an HTTP date) that wait replaces the backoff.

The API key never leaves this module in a message: a v3 key travels in the ``api_key`` query
parameter, so URLs are never logged or put into errors, and httpx's per-request log lines are
dropped while a client is open.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
import stamina

log = logging.getLogger("movierec.tmdb")

DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
KEY_VARIABLE = "TMDB_API_KEY"


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


class _RetryableStatus(Exception):
    """A 429 or 5xx answer, raised inside the retry block so that stamina retries it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response

    def __repr__(self) -> str:  # stamina's hooks log the repr: status only, never the URL
        return f"HTTP {self.response.status_code}"


def status_message(response: httpx.Response) -> str:
    """TMDB's own explanation (``status_message`` in the JSON body), else the HTTP reason."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("status_message"), str):
        return body["status_message"]
    return response.reason_phrase or "no explanation"


def status_code(response: httpx.Response) -> int | None:
    """TMDB's error code in the JSON body (34: not found, 7: invalid key), if any."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("status_code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


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
    filters = [(logging.getLogger("httpx"), _Drop("HTTP Request")),
               (logging.getLogger("stamina"), _Drop("stamina.retry_scheduled"))]
    for logger, drop in filters:
        logger.addFilter(drop)
    try:
        yield
    finally:
        for logger, drop in filters:
            logger.removeFilter(drop)


class TmdbClient:
    """An async TMDB client; use as ``async with TmdbClient(...) as client``."""

    def __init__(self, base_url: str, api_key: str, *, concurrency: int,
                 retry: RetryPolicy) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth_mode(api_key)
        self.retry = retry
        self._key = api_key
        self._slots = asyncio.Semaphore(concurrency)
        params = {"api_key": api_key} if self.auth == "api_key" else {}
        headers = {"Accept": "application/json", "User-Agent": "movierec-tmdb-sync"}
        if self.auth == "bearer":
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url, params=params, headers=headers,
            timeout=httpx.Timeout(retry.request_timeout, connect=min(10.0, retry.request_timeout)),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self._quiet = _quiet_libraries()

    async def __aenter__(self) -> TmdbClient:
        self._quiet.__enter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
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
            response = exc.response
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if wait is None:
                log.info("GET %s: HTTP %d, retrying with backoff", path, response.status_code)
                return True
            wait = min(wait, self.retry.retry_after_max)
            log.info("GET %s: HTTP %d, retrying in %.1f s (Retry-After)", path, response.status_code, wait)
            return wait
        if isinstance(exc, httpx.TransportError):
            log.info("GET %s: %s, retrying", path, type(exc).__name__)
            return True
        return False

    async def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET ``path`` (relative to the base URL) with retries; returns the final answer.

        A 429 or 5xx that outlives the retries is returned as is, for the caller to judge.
        Raises :class:`TmdbError` on 401 (the key is wrong for every request) and when the
        server cannot be reached at all; :class:`RequestFailed` on other transport errors.
        """
        retry = self.retry
        try:
            async for attempt in stamina.retry_context(
                on=lambda exc: self._retry_wait(path, exc), attempts=retry.attempts, timeout=None,
                wait_initial=retry.wait_initial, wait_max=retry.wait_max,
                wait_jitter=retry.wait_jitter,
            ):
                with attempt:
                    async with self._slots:
                        response = await self._http.get(path, params=params)
                    if response.status_code == 429 or response.status_code >= 500:
                        raise _RetryableStatus(response)
        except _RetryableStatus as exc:
            response = exc.response
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TmdbError(
                f"cannot reach TMDB at {self.base_url} after {retry.attempts} attempts: "
                f"{type(exc).__name__}: {self.redact(str(exc)) or 'no detail'}"
            ) from None
        except httpx.TransportError as exc:
            raise RequestFailed(
                f"{type(exc).__name__} after {retry.attempts} attempts: {self.redact(str(exc)) or 'no detail'}"
            ) from None
        if response.status_code == 401:
            raise TmdbError(
                f"TMDB rejected the credentials in {KEY_VARIABLE} (HTTP 401, sent as "
                f"{'a Bearer token' if self.auth == 'bearer' else 'the api_key parameter'}): "
                f"{self.redact(status_message(response))}"
            )
        return response
