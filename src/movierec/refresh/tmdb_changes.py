"""The ids TMDB lists as changed (``GET /movie/changes``), read without trusting the list.

A change list names its page count (``total_pages``) and its ids; both come from upstream. The
page count is capped at ``MOVIEREC_TMDB_MAX_PAGES`` per window (TMDB's own limit is 500) and a
page's entries at :data:`PAGE_ENTRIES` (TMDB sends 100); pages are fetched by a fixed number of
workers from one lazy iterator, never one task per page built up front (a list claiming a billion
pages once cost 2.9 GB before the first request). Only positive integer ids are kept; the rest
are counted (``invalid_ids``) and never written anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeGuard, TypeVar

from movierec.refresh.client import RequestFailed, TmdbClient, TmdbError, status_message

log = logging.getLogger("movierec.tmdb")

PAGE_ENTRIES = 1000  # entries read per page: TMDB sends 100, a bigger page is someone else's
MAX_ID = 10**18
MAX_RETRY_IDS = 10_000  # films a sync asks for again beside the change lists (an earlier sync's failures)
T = TypeVar("T")
Span = tuple[date, date]


def valid_id(value: object) -> TypeGuard[int]:
    """A TMDB id: a positive int below 10**18, never a bool, a float or a string.

    >>> [valid_id(v) for v in (862, 0, -7, True, 7.0, "7", 10**25)]
    [True, False, False, False, False, False, False]
    """
    return type(value) is int and 1 <= value < MAX_ID


def page_count(value: Any, cap: int) -> int:
    """The pages to read of a window whose first page says ``total_pages: value``: a number
    (not a bool) rounded up and kept within 1..cap; anything else means one page.

    >>> [page_count(v, 500) for v in (3, 1e9, 2.5, -4, True, "9", None, float("inf"), float("nan"))]
    [3, 500, 3, 1, 1, 1, 1, 500, 1]
    """
    if type(value) not in (int, float) or (isinstance(value, float) and math.isnan(value)):
        return 1
    if value >= cap:
        return cap
    return max(1, math.ceil(value))


async def run_all(coroutines: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
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


async def bounded(items: Iterable[T], work: Callable[[T], Awaitable[None]], workers: int) -> None:
    """``work(item)`` for every item, by ``workers`` tasks sharing one iterator: the items are
    taken one at a time as a worker frees up, so a huge (or endless) iterable costs nothing."""
    shared = iter(items)

    async def worker() -> None:
        for item in shared:  # one shared iterator: each item is taken once
            await work(item)

    await run_all(worker() for _ in range(max(1, workers)))


@dataclass
class ChangeList:
    """What the change lists named: distinct valid ids in arrival order (True: flagged adult),
    entries without a valid id, and the windows whose pages were capped."""

    ids: dict[int, bool] = field(default_factory=dict)
    invalid: int = 0
    skipped_entries: int = 0  # entries beyond PAGE_ENTRIES on a page
    capped: list[dict[str, Any]] = field(default_factory=list)

    def take(self, results: list[Any]) -> None:
        if len(results) > PAGE_ENTRIES:
            self.skipped_entries += len(results) - PAGE_ENTRIES
        for item in results[:PAGE_ENTRIES]:
            movie_id = item.get("id") if isinstance(item, dict) else None
            if not valid_id(movie_id):
                self.invalid += 1
                continue
            adult = item.get("adult") is True
            self.ids[movie_id] = self.ids.get(movie_id, False) or adult

    @property
    def adult(self) -> set[int]:
        return {i for i, adult in self.ids.items() if adult}


async def _page(client: TmdbClient, span: Span, page: int) -> dict[str, Any]:
    """One page of /movie/changes; anything but a JSON answer with results stops the sync."""
    start, end = span
    path = "/movie/changes"
    where = f"TMDB {path} ({start}..{end}, page {page})"
    try:
        answer = await client.get(path, {"start_date": start.isoformat(), "end_date": end.isoformat(), "page": page})
    except RequestFailed as exc:
        raise TmdbError(f"{where} failed: {exc}") from None
    if answer.status_code != 200:
        raise TmdbError(f"{where} answered HTTP {answer.status_code}: {client.redact(status_message(answer))}")
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise TmdbError(f"{where} answered something else than a change list")
    return body


async def changed_ids(client: TmdbClient, spans: list[Span], *, max_pages: int, workers: int) -> ChangeList:
    """Every window's first page (which says how many pages follow), then the other pages."""
    found = ChangeList()
    pages: dict[Span, int] = {}

    async def first(span: Span) -> None:
        body = await _page(client, span, 1)
        found.take(body["results"])
        pages[span] = page_count(body.get("total_pages"), max_pages)
        announced = body.get("total_pages")
        if pages[span] == max_pages and not (type(announced) is int and announced <= max_pages):
            found.capped.append(
                {
                    "window": [span[0].isoformat(), span[1].isoformat()],
                    "total_pages": str(announced)[:40],
                    "read": max_pages,
                }
            )
            log.warning(
                "TMDB changes %s..%s: total_pages %s capped at %d (MOVIEREC_TMDB_MAX_PAGES)",
                span[0],
                span[1],
                str(announced)[:40],
                max_pages,
            )

    async def rest(key: tuple[Span, int]) -> None:
        found.take((await _page(client, *key))["results"])

    await bounded(spans, first, workers)
    await bounded(((span, page) for span in spans for page in range(2, pages[span] + 1)), rest, workers)
    if found.skipped_entries:
        log.warning("TMDB changes: %d entries beyond %d a page ignored", found.skipped_entries, PAGE_ENTRIES)
    return found
