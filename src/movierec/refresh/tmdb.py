"""``movierec tmdb-sync``: the films TMDB changed in a date range, as a batch in the Kaggle format.

1. ``GET /movie/changes`` for every window of at most 14 days between ``since`` and ``until``
   (the API refuses longer ranges), every page up to ``MOVIEREC_TMDB_MAX_PAGES``; ids flagged
   ``adult`` are skipped, entries without a positive integer id are counted ``invalid_ids``
   (see :mod:`movierec.refresh.tmdb_changes`).
2. ``GET /movie/{id}?append_to_response=`` :data:`APPEND` for every other id, at most
   ``concurrency`` requests in flight. A film answering 404 (TMDB ``status_code`` 34) was deleted
   and goes to ``deleted_ids.txt``; one that keeps failing, answers over the byte cap or past its
   deadline, or answers something malformed goes to ``failed_ids.txt``. When the sync's budget
   (``MOVIEREC_TMDB_BUDGET``) runs out, the films not fetched yet go there too and the sync
   stops: the batch holds what was fetched and ``sync.json`` says ``"complete": false``.
3. The batch folder receives ``movies_metadata.csv``, ``credits.csv``, ``keywords.csv`` and the
   films' Spanish titles in ``titles.csv`` (see :mod:`movierec.refresh.kaggle_format`: field caps,
   the key redacted, numbers checked), the two
   id lists and ``sync.json``. Everything is written in ``OUT/.tmp-*`` and renamed into place at
   the end, ``sync.json`` last, so a failed or interrupted (SIGTERM) sync leaves the folder as it
   was.

Public API: :func:`sync`, :class:`SyncResult`, :class:`TmdbError` (and :class:`RetryPolicy`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from movierec.config import Settings
from movierec.raw.caps import FieldCaps
from movierec.refresh import terminable
from movierec.refresh.client import DEFAULT_BASE_URL, RetryPolicy, TmdbClient, TmdbError, one_line
from movierec.refresh.kaggle_format import BatchWriter, Cleaner
from movierec.refresh.names import DELETED_FILE, FAILED_FILE, SYNC_FILE
from movierec.refresh.tmdb_batch import publish, resolve_key, staging
from movierec.refresh.tmdb_changes import MAX_RETRY_IDS, ChangeList, bounded, changed_ids, valid_id
from movierec.refresh.tmdb_films import Reporter, Tally, film_detail, unusable

__all__ = ["MAX_CONCURRENCY", "RetryPolicy", "SyncResult", "TmdbError", "sync", "sync_async", "windows"]

log = logging.getLogger("movierec.tmdb")

MAX_CONCURRENCY = 20
WINDOW_DAYS = 14  # the longest range /movie/changes accepts, both ends included
APPEND = "credits,keywords,translations,alternative_titles"  # the Spanish titles come with the film


@dataclass(frozen=True)
class SyncResult:
    """What a sync did. ``changed`` counts distinct valid ids in the change lists, ``retried`` the
    earlier failures asked for again that the lists do not hold; every one of them ends in exactly
    one of ``adult_skipped``, ``fetched``, ``deleted`` and ``failed``.
    ``invalid_ids`` counts the entries without a usable id; ``budget_exhausted`` says the
    budget ran out (the films not fetched are in ``failed``); ``pages_capped`` lists the windows
    whose pages were capped."""

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
    invalid_ids: int = 0
    budget_exhausted: bool = False
    pages_capped: tuple[dict[str, Any], ...] = ()
    retried: int = 0

    @property
    def complete(self) -> bool:
        """Every changed film fetched, found deleted or skipped as adult."""
        return not self.failed and not self.budget_exhausted

    @property
    def counts(self) -> dict[str, int]:
        return {
            "changed": self.changed,
            "adult_skipped": self.adult_skipped,
            "fetched": self.fetched,
            "deleted": self.deleted,
            "failed": self.failed,
            "invalid_ids": self.invalid_ids,
            "retried": self.retried,
        }

    def summary(self) -> str:
        """One line for the CLI."""
        extra = (
            (f", {self.invalid_ids:,} invalid ids ignored" if self.invalid_ids else "")
            + (f", {len(self.pages_capped)} window(s) with pages capped" if self.pages_capped else "")
            + (f", {self.retried:,} earlier failures asked again" if self.retried else "")
            + ("; the sync budget ran out" if self.budget_exhausted else "")
        )
        return (
            f"{self.changed:,} changed films from {self.since} to {self.until}: {self.fetched:,} fetched, "
            f"{self.deleted:,} deleted, {self.adult_skipped:,} adult skipped, {self.failed:,} failed "
            f"in {self.seconds:.1f} s{extra}"
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


async def _fetch_film(client: TmdbClient, movie_id: int, writer: BatchWriter, tally: Tally) -> None:
    """One film into the batch, or its id into one of the tally's lists: never an exception
    for what the server answered (a malformed film is one failed film, not a failed sync)."""
    detail = await film_detail(client, movie_id, tally, APPEND)
    if detail is None:
        return
    if detail.get("adult") is True:  # flagged since the change list was read
        tally.adult.add(movie_id)
        return
    try:
        writer.add({**detail, "id": movie_id})  # the id we asked for, whatever the answer says
    except OSError:
        raise  # the batch folder, not the answer: stops the sync
    except Exception as exc:
        unusable(client, movie_id, tally, exc)
        return
    tally.fetched += 1


async def _fetch_films(
    client: TmdbClient,
    ids: list[int],
    writer: BatchWriter,
    tally: Tally,
    reporter: Reporter,
    workers: int,
    budget_ends: float,
) -> bool:
    """``workers`` tasks share the id list (one film in progress each, so at most ``workers``
    answers are held in memory at once) until ``budget_ends`` (loop time). Returns whether the
    budget ran out; then the films in flight or not started are counted failed."""
    pending = dict.fromkeys(ids)

    async def fetch(movie_id: int) -> None:
        await _fetch_film(client, movie_id, writer, tally)
        del pending[movie_id]  # no await since the tally was updated: cancellation cannot split them
        reporter.advance()

    try:
        async with asyncio.timeout_at(budget_ends):
            await bounded(ids, fetch, min(workers, len(ids)))
    except TimeoutError:
        log.warning(
            "the sync budget ran out (MOVIEREC_TMDB_BUDGET): %d films not fetched, counted failed", len(pending)
        )
        tally.failed.extend(pending)
        return True
    return False


async def sync_async(
    since: date,
    out: Path,
    *,
    until: date | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    concurrency: int = MAX_CONCURRENCY,
    progress: bool | None = None,
    retry: RetryPolicy | None = None,
    log_every: int = 500,
    settings: Settings | None = None,
    retry_ids: Iterable[object] = (),
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
    key = resolve_key(api_key)
    # the one settings object reads MOVIEREC_TMDB_URL and the bounds (validated, listed by `movierec config`)
    settings = settings or Settings.from_env()
    base = (base_url or settings.tmdb_url or DEFAULT_BASE_URL).rstrip("/")
    retry = retry or RetryPolicy()
    retry = dataclasses.replace(retry, retry_after_max=min(retry.retry_after_max, settings.tmdb_max_wait))
    again = tuple(dict.fromkeys(i for i in retry_ids if valid_id(i)))[:MAX_RETRY_IDS]
    plan = _Plan(
        since,
        until,
        tuple(windows(since, until)),
        Path(out),
        key,
        base,
        concurrency,
        sys.stderr.isatty() if progress is None else progress,
        retry,
        log_every,
        started,
        settings,
        again,
    )
    try:
        return await _run(plan)
    except OSError as exc:  # the batch folder, not TMDB: unwritable, full disk
        raise TmdbError(one_line(f"cannot write the batch into {out}: {exc}", 300)) from None


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
    settings: Settings
    retry_ids: tuple[int, ...] = ()


async def _listed(client: TmdbClient, plan: _Plan, budget_ends: float) -> ChangeList:
    """The change lists within the budget; running out of it there leaves nothing to write."""
    try:
        async with asyncio.timeout_at(budget_ends):
            return await changed_ids(
                client, list(plan.spans), max_pages=plan.settings.tmdb_max_pages, workers=plan.concurrency
            )
    except TimeoutError:
        raise TmdbError(
            f"the sync budget of {plan.settings.tmdb_budget:g} s (MOVIEREC_TMDB_BUDGET) ran out "
            "while reading the change lists; nothing written"
        ) from None


async def _run(plan: _Plan) -> SyncResult:
    clock = time.perf_counter()
    since, until, spans, out, concurrency = plan.since, plan.until, plan.spans, plan.out, plan.concurrency
    settings = plan.settings
    budget_ends = asyncio.get_running_loop().time() + settings.tmdb_budget
    clean = Cleaner(FieldCaps.from_settings(settings), secrets=(plan.key,))
    with staging(out) as tmp:
        async with TmdbClient(
            plan.base,
            plan.key,
            concurrency=concurrency,
            retry=plan.retry,
            max_bytes=settings.tmdb_max_response_bytes,
            deadline=settings.tmdb_request_deadline,
        ) as client:
            log.info("TMDB changes %s..%s: %d window(s) from %s", since, until, len(spans), client.redact(plan.base))
            listed = await _listed(client, plan, budget_ends)
            adult = listed.adult
            listed_ids = set(listed.ids)
            retried = [i for i in plan.retry_ids if i not in listed_ids]
            to_fetch = [i for i in listed.ids if i not in adult] + retried
            log.info(
                "%d changed films, %d adult skipped, %d to fetch, %d invalid ids ignored",
                len(listed.ids),
                len(adult),
                len(to_fetch),
                listed.invalid,
            )
            tally = Tally(adult=set(adult))
            with (
                BatchWriter(tmp, clean, settings.max_titles_per_film) as writer,
                Reporter(len(to_fetch), tally, bar=plan.bar, log_every=plan.log_every) as reporter,
            ):
                exhausted = await _fetch_films(client, to_fetch, writer, tally, reporter, concurrency, budget_ends)
        (tmp / DELETED_FILE).write_text("".join(f"{i}\n" for i in sorted(tally.deleted)))
        (tmp / FAILED_FILE).write_text("".join(f"{i}\n" for i in sorted(tally.failed)))
        seconds = round(time.perf_counter() - clock, 3)
        result = SyncResult(
            since=since,
            until=until,
            windows=spans,
            changed=len(listed.ids),
            adult_skipped=len(tally.adult),
            fetched=tally.fetched,
            deleted=len(tally.deleted),
            failed=len(tally.failed),
            files=(),
            seconds=seconds,
            invalid_ids=listed.invalid,
            budget_exhausted=exhausted,
            pages_capped=tuple(listed.capped),
            retried=len(retried),
        )
        names = [*BatchWriter.FILES, DELETED_FILE, FAILED_FILE]
        report = {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "windows": [[a.isoformat(), b.isoformat()] for a, b in spans],
            "counts": result.counts,
            "complete": result.complete,
            "budget_exhausted": exhausted,
            "pages_capped": list(listed.capped),
            "entries_ignored": listed.skipped_entries,
            "started": plan.started.isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": seconds,
            "base_url": client.redact(plan.base),
            "auth": client.auth,
            "concurrency": concurrency,
            "files": names,
            "limits": {
                "max_response_bytes": settings.tmdb_max_response_bytes,
                "max_pages": settings.tmdb_max_pages,
                "request_deadline": settings.tmdb_request_deadline,
                "max_wait": plan.retry.retry_after_max,
                "budget": settings.tmdb_budget,
                "max_name_chars": settings.max_name_chars,
                "max_text_chars": settings.max_text_chars,
            },
        }
        (tmp / SYNC_FILE).write_text(json.dumps(report, indent=2) + "\n")
        files = publish(tmp, out, names)
    log.info("%s", result.summary())
    return dataclasses.replace(result, files=files)


def sync(
    since: date,
    out: Path,
    *,
    until: date | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    concurrency: int = MAX_CONCURRENCY,
    progress: bool | None = None,
    retry: RetryPolicy | None = None,
    log_every: int = 500,
    settings: Settings | None = None,
    retry_ids: Iterable[object] = (),
) -> SyncResult:
    """Fetch the films TMDB changed from ``since`` to ``until`` (default: today, UTC) into ``out``.

    ``api_key`` defaults to ``$TMDB_API_KEY`` (a v3 key, or a v4 token sent as Bearer),
    ``base_url`` to ``settings.tmdb_url``; ``settings`` (default :meth:`Settings.from_env`) also
    gives the bounds: answer bytes, pages, request deadline, Retry-After wait, sync budget, field
    caps. ``progress`` None shows a bar when stderr is a terminal; otherwise a log line every
    ``log_every`` films. Raises :class:`TmdbError` (one-line message) when the sync cannot be
    done; then ``out`` is unchanged. A sync whose budget ran out returns normally with
    ``budget_exhausted`` (and the films not fetched in ``failed``). ``retry_ids``: films an
    earlier sync failed to get, asked for again beside the change lists (positive integers; at most
    :data:`MAX_RETRY_IDS`; the rest ignored).
    """
    return terminable.run(
        sync_async(
            since,
            out,
            until=until,
            api_key=api_key,
            base_url=base_url,
            concurrency=concurrency,
            progress=progress,
            retry=retry,
            log_every=log_every,
            settings=settings,
            retry_ids=retry_ids,
        )
    )
