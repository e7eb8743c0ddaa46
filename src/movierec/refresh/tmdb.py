"""``movierec tmdb-sync``: the films TMDB changed in a date range, as a batch in the Kaggle format.

1. ``GET /movie/changes`` for every window of at most 14 days between ``since`` and ``until``
   (the API refuses longer ranges), every page; ids flagged ``adult`` are skipped.
2. ``GET /movie/{id}?append_to_response=credits,keywords`` for every other id, at most
   ``concurrency`` requests in flight. A film answering 404 (TMDB ``status_code`` 34) was deleted
   and goes to ``deleted_ids.txt``; one that keeps failing goes to ``failed_ids.txt``.
3. The batch folder receives ``movies_metadata.csv``, ``credits.csv`` and ``keywords.csv`` (see
   :mod:`movierec.refresh.kaggle_format`), the two id lists and ``sync.json``. Everything is
   written in ``OUT/.tmp-*`` and renamed into place at the end, ``sync.json`` last, so a
   failed sync leaves the folder as it was.

Public API: :func:`sync`, :class:`SyncResult`, :class:`TmdbError` (and :class:`RetryPolicy`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from movierec.config import Settings
from movierec.refresh.client import (
    DEFAULT_BASE_URL,
    KEY_VARIABLE,
    RequestFailed,
    RetryPolicy,
    TmdbClient,
    TmdbError,
    status_code,
    status_message,
)
from movierec.refresh.kaggle_format import BatchWriter

__all__ = ["MAX_CONCURRENCY", "RetryPolicy", "SyncResult", "TmdbError", "sync", "sync_async", "windows"]

log = logging.getLogger("movierec.tmdb")

MAX_CONCURRENCY = 20
WINDOW_DAYS = 14  # the longest range /movie/changes accepts, both ends included
NOT_FOUND = 34  # TMDB's status_code for "The resource you requested could not be found."
DELETED_FILE = "deleted_ids.txt"
FAILED_FILE = "failed_ids.txt"
SYNC_FILE = "sync.json"

T = TypeVar("T")


@dataclass(frozen=True)
class SyncResult:
    """What a sync did. ``changed`` counts distinct ids in the change lists; every one of them
    ends in exactly one of ``adult_skipped``, ``fetched``, ``deleted`` and ``failed``."""

    since: date
    until: date
    windows: tuple[tuple[date, date], ...]
    changed: int
    adult_skipped: int
    fetched: int
    deleted: int
    failed: int
    files: tuple[Path, ...]
    seconds: float

    @property
    def counts(self) -> dict[str, int]:
        return {"changed": self.changed, "adult_skipped": self.adult_skipped,
                "fetched": self.fetched, "deleted": self.deleted, "failed": self.failed}

    def summary(self) -> str:
        """One line for the CLI."""
        return (
            f"{self.changed:,} changed films from {self.since} to {self.until}: {self.fetched:,} fetched, "
            f"{self.deleted:,} deleted, {self.adult_skipped:,} adult skipped, {self.failed:,} failed "
            f"in {self.seconds:.1f} s"
        )


def windows(since: date, until: date, days: int = WINDOW_DAYS) -> list[tuple[date, date]]:
    """Consecutive ranges of at most ``days`` days (both ends included) covering since..until.

    >>> windows(date(2024, 1, 1), date(2024, 1, 30))  # doctest: +NORMALIZE_WHITESPACE
    [(datetime.date(2024, 1, 1), datetime.date(2024, 1, 14)),
     (datetime.date(2024, 1, 15), datetime.date(2024, 1, 28)),
     (datetime.date(2024, 1, 29), datetime.date(2024, 1, 30))]
    """
    spans = []
    start = since
    while start <= until:
        end = min(start + timedelta(days=days - 1), until)
        spans.append((start, end))
        start = end + timedelta(days=1)
    return spans


@dataclass
class _Tally:
    """Outcome of every changed id, filled in as the answers arrive."""

    fetched: int = 0
    adult: set[int] = field(default_factory=set)
    deleted: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


async def _all(coroutines: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Run concurrently, results in order; the first error cancels the rest and is raised as is
    (not wrapped in an ExceptionGroup, so that callers can catch TmdbError)."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks: list[asyncio.Task[T]] = [group.create_task(c) for c in coroutines]
    except BaseExceptionGroup as errors:
        first = errors.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    return [task.result() for task in tasks]


async def _changes_page(client: TmdbClient, window: tuple[date, date], page: int) -> dict[str, Any]:
    """One page of /movie/changes; anything but a JSON answer with results stops the sync."""
    start, end = window
    path = "/movie/changes"
    try:
        response = await client.get(path, {"start_date": start.isoformat(),
                                           "end_date": end.isoformat(), "page": page})
    except RequestFailed as exc:
        raise TmdbError(f"TMDB {path} ({start}..{end}, page {page}) failed: {exc}") from None
    if response.status_code != 200:
        raise TmdbError(
            f"TMDB {path} ({start}..{end}, page {page}) answered HTTP {response.status_code}: "
            f"{client.redact(status_message(response))}"
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise TmdbError(f"TMDB {path} ({start}..{end}, page {page}) answered something else than a change list")
    return body


def _total_pages(body: dict[str, Any]) -> int:
    pages = body.get("total_pages")
    return pages if isinstance(pages, int) and pages > 0 else 1


async def _changed_ids(client: TmdbClient, spans: list[tuple[date, date]]) -> tuple[list[int], set[int]]:
    """Distinct changed ids in window, page and list order, and the ids flagged adult."""
    firsts = await _all([_changes_page(client, span, 1) for span in spans])
    wanted = [(span, page) for span, first in zip(spans, firsts)
              for page in range(2, _total_pages(first) + 1)]
    rest = await _all([_changes_page(client, span, page) for span, page in wanted])
    pages = {(span, 1): first for span, first in zip(spans, firsts)}
    pages.update({key: body for key, body in zip(wanted, rest)})
    ids: dict[int, None] = {}
    adult: set[int] = set()
    for key in sorted(pages):
        for item in pages[key]["results"]:
            if not isinstance(item, dict) or not isinstance(item.get("id"), int):
                continue  # a change list entry without an id names nothing to fetch
            ids.setdefault(item["id"], None)
            if item.get("adult") is True:
                adult.add(item["id"])
    return list(ids), adult


class _Reporter:
    """A progress bar on a terminal; elsewhere a log line every ``log_every`` films."""

    def __init__(self, total: int, tally: _Tally, *, bar: bool, log_every: int) -> None:
        self.total, self.tally, self.log_every = total, tally, max(1, log_every)
        self.started = time.perf_counter()
        self.done = 0
        self._bar: Any = None
        self._task: Any = None
        if bar and total:
            from rich.console import Console
            from rich.progress import Progress

            self._bar = Progress(console=Console(stderr=True), transient=True)
            self._task = self._bar.add_task("fetching films", total=total)

    def __enter__(self) -> _Reporter:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self) -> None:
        """One more film answered (fetched, deleted, failed or found adult)."""
        self.done += 1
        if self._bar is not None:
            self._bar.advance(self._task)
        elif self.done % self.log_every == 0 or self.done == self.total:
            rate = self.done / max(time.perf_counter() - self.started, 1e-9)
            log.info("films %d/%d: %d fetched, %d deleted, %d failed, %.1f films/s", self.done,
                     self.total, self.tally.fetched, len(self.tally.deleted), len(self.tally.failed), rate)


async def _fetch_film(client: TmdbClient, movie_id: int, writer: BatchWriter, tally: _Tally) -> None:
    path = f"/movie/{movie_id}"
    try:
        response = await client.get(path, {"append_to_response": "credits,keywords"})
    except RequestFailed as exc:
        log.warning("GET %s failed: %s", path, exc)
        tally.failed.append(movie_id)
        return
    if response.status_code == 404 and status_code(response) == NOT_FOUND:
        tally.deleted.append(movie_id)
        return
    if response.status_code != 200:
        log.warning("GET %s: HTTP %d: %s", path, response.status_code, client.redact(status_message(response)))
        tally.failed.append(movie_id)
        return
    try:
        detail = response.json()
        if detail.get("adult") is True:  # flagged since the change list was read
            tally.adult.add(movie_id)
            return
        writer.add({**detail, "id": movie_id})
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        log.warning("GET %s: unusable answer: %s: %s", path, type(exc).__name__, exc)
        tally.failed.append(movie_id)
        return
    tally.fetched += 1


async def _fetch_films(client: TmdbClient, ids: list[int], writer: BatchWriter, tally: _Tally,
                       reporter: _Reporter, workers: int) -> None:
    """``workers`` tasks share the id list: one film in progress each, so at most ``workers``
    answers are held in memory at once."""
    queue = iter(ids)

    async def worker() -> None:
        for movie_id in queue:  # one shared iterator: each id is taken once
            await _fetch_film(client, movie_id, writer, tally)
            reporter.advance()

    await _all([worker() for _ in range(max(1, min(workers, len(ids))))])


@contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A private folder inside ``out`` that disappears on failure (with ``out`` if we made it)."""
    created = not out.exists()
    if out.exists() and not out.is_dir():
        raise TmdbError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created and not any(out.iterdir()):
            out.rmdir()
        raise


def _publish(tmp: Path, out: Path, names: list[str]) -> tuple[Path, ...]:
    """Move the files into ``out``. sync.json goes last and an old one goes first, so that a
    sync.json always describes the data files beside it."""
    (out / SYNC_FILE).unlink(missing_ok=True)
    for name in [*names, SYNC_FILE]:
        os.replace(tmp / name, out / name)
    tmp.rmdir()
    return tuple(out / name for name in [*names, SYNC_FILE])


def _resolve_key(api_key: str | None) -> str:
    key = (api_key if api_key is not None else os.environ.get(KEY_VARIABLE, "")).strip()
    if not key:
        raise TmdbError(
            f"{KEY_VARIABLE} is not set: export a TMDB v3 API key or a v4 read access token "
            "(https://www.themoviedb.org/settings/api)"
        )
    return key


async def sync_async(
    since: date, out: Path, *, until: date | None = None, api_key: str | None = None,
    base_url: str | None = None, concurrency: int = MAX_CONCURRENCY, progress: bool | None = None,
    retry: RetryPolicy | None = None, log_every: int = 500,
) -> SyncResult:
    """:func:`sync` for callers already inside an event loop."""
    started = datetime.now(UTC)
    # typer parses --since with formats=[...] into a datetime, which does not compare with a date.
    since = since.date() if isinstance(since, datetime) else since
    until = until.date() if isinstance(until, datetime) else (until or started.date())
    if since > until:
        raise TmdbError(f"--since {since} is after --until {until}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise TmdbError(f"concurrency must be between 1 and {MAX_CONCURRENCY}, not {concurrency}")
    key = _resolve_key(api_key)
    # the one settings object reads MOVIEREC_TMDB_URL (validated, listed by `movierec config`)
    base = (base_url or Settings.from_env().tmdb_url or DEFAULT_BASE_URL).rstrip("/")
    retry = retry or RetryPolicy()
    plan = _Plan(since, until, tuple(windows(since, until)), Path(out), key, base, concurrency,
                 sys.stderr.isatty() if progress is None else progress, retry, log_every, started)
    try:
        return await _run(plan)
    except OSError as exc:  # the batch folder, not TMDB: unwritable, full disk
        raise TmdbError(f"cannot write the batch into {out}: {exc}") from None


@dataclass(frozen=True)
class _Plan:
    """The checked arguments of one sync."""

    since: date
    until: date
    spans: tuple[tuple[date, date], ...]
    out: Path
    key: str
    base: str
    concurrency: int
    bar: bool
    retry: RetryPolicy
    log_every: int
    started: datetime


async def _run(plan: _Plan) -> SyncResult:
    clock = time.perf_counter()
    since, until, spans, out, concurrency = plan.since, plan.until, plan.spans, plan.out, plan.concurrency
    with _staging(out) as tmp:
        async with TmdbClient(plan.base, plan.key, concurrency=concurrency, retry=plan.retry) as client:
            log.info("TMDB changes %s..%s: %d window(s) from %s", since, until, len(spans), client.redact(plan.base))
            ids, adult = await _changed_ids(client, list(spans))
            to_fetch = [i for i in ids if i not in adult]
            log.info("%d changed films, %d adult skipped, %d to fetch", len(ids), len(adult), len(to_fetch))
            tally = _Tally(adult=set(adult))
            with BatchWriter(tmp) as writer, \
                    _Reporter(len(to_fetch), tally, bar=plan.bar, log_every=plan.log_every) as reporter:
                await _fetch_films(client, to_fetch, writer, tally, reporter, concurrency)
        (tmp / DELETED_FILE).write_text("".join(f"{i}\n" for i in sorted(tally.deleted)))
        (tmp / FAILED_FILE).write_text("".join(f"{i}\n" for i in sorted(tally.failed)))
        seconds = round(time.perf_counter() - clock, 3)
        result = SyncResult(
            since=since, until=until, windows=spans, changed=len(ids),
            adult_skipped=len(tally.adult), fetched=tally.fetched, deleted=len(tally.deleted),
            failed=len(tally.failed), files=(), seconds=seconds,
        )
        names = [*BatchWriter.FILES, DELETED_FILE, FAILED_FILE]
        report = {
            "since": since.isoformat(), "until": until.isoformat(),
            "windows": [[a.isoformat(), b.isoformat()] for a, b in spans],
            "counts": result.counts,
            "started": plan.started.isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": seconds, "base_url": client.redact(plan.base), "auth": client.auth,
            "concurrency": concurrency, "files": names,
        }
        (tmp / SYNC_FILE).write_text(json.dumps(report, indent=2) + "\n")
        files = _publish(tmp, out, names)
    log.info("%s", result.summary())
    return dataclasses.replace(result, files=files)


def sync(
    since: date, out: Path, *, until: date | None = None, api_key: str | None = None,
    base_url: str | None = None, concurrency: int = MAX_CONCURRENCY, progress: bool | None = None,
    retry: RetryPolicy | None = None, log_every: int = 500,
) -> SyncResult:
    """Fetch the films TMDB changed from ``since`` to ``until`` (default: today, UTC) into ``out``.

    ``api_key`` defaults to ``$TMDB_API_KEY`` (a v3 key, or a v4 token sent as Bearer),
    ``base_url`` to ``$MOVIEREC_TMDB_URL`` or the public API. ``progress`` None shows a bar when
    stderr is a terminal; otherwise a log line every ``log_every`` films. Raises
    :class:`TmdbError` (one-line message) when the sync cannot be done; then ``out`` is unchanged.
    """
    return asyncio.run(sync_async(
        since, out, until=until, api_key=api_key, base_url=base_url, concurrency=concurrency,
        progress=progress, retry=retry, log_every=log_every,
    ))
