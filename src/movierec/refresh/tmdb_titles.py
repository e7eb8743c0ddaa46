"""``movierec tmdb-sync --titles``: the Spanish titles of the films already in the catalogue.

A sync of changes brings the titles of the films it fetches; the films published before it need a
back-fill. For the current release's films that have no title in ``tables/titles.parquet`` (most
voted first), at most ``limit`` a run:

1. ``GET /movie/{id}?append_to_response=translations,alternative_titles`` through the sync's
   client (``concurrency`` requests in flight, retries with backoff, TMDB's ``Retry-After``
   honoured up to ``MOVIEREC_TMDB_MAX_WAIT``, answers within ``MOVIEREC_TMDB_MAX_RESPONSE_BYTES``,
   each request within ``MOVIEREC_TMDB_REQUEST_DEADLINE``), the whole run within
   ``MOVIEREC_TMDB_BUDGET``;
2. the film's Spanish titles (:func:`movierec.refresh.kaggle_format.titles_rows`: field caps, the key
   redacted, ``MOVIEREC_MAX_TITLES_PER_FILM``) appended to ``OUT/titles.csv``, then its id to
   ``OUT/titles_done.txt``, both flushed film by film.

So a run stopped anyhow (SIGTERM, the budget, a crash) keeps every film it finished, and the next
run into the same OUT skips them: it first drops from titles.csv the rows of films not listed as
done (a film cut off while being written is fetched again). A film TMDB answers 404 for is done
with no title (a back-fill deletes nothing); a failed one is not done, and is asked again next run.
``OUT/failed_ids.txt`` and ``OUT/sync.json`` describe the last run. OUT holds a batch of titles
alone: ``movierec ingest OUT`` merges it (each film gets the titles the batch brings).
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import polars as pl

from movierec.config import Settings
from movierec.raw.caps import FieldCaps
from movierec.raw.files import TITLES_COLUMNS
from movierec.refresh import terminable
from movierec.refresh.client import DEFAULT_BASE_URL, RetryPolicy, TmdbClient, TmdbError, one_line
from movierec.refresh.kaggle_format import MOVIES_FILE, TITLES_FILE, Cleaner, titles_rows
from movierec.refresh.names import FAILED_FILE, SYNC_FILE
from movierec.refresh.tmdb import MAX_CONCURRENCY
from movierec.refresh.tmdb_batch import resolve_key
from movierec.refresh.tmdb_changes import bounded
from movierec.refresh.tmdb_films import Reporter, Tally, film_detail, unusable
from movierec.release.layout import TABLES
from movierec.release.store import ReleaseStore

log = logging.getLogger("movierec.tmdb")

DONE_FILE = "titles_done.txt"
APPEND = "translations,alternative_titles"
MAX_LIMIT = 1_000_000


@dataclass(frozen=True)
class BackfillResult:
    """What one run did: ``todo`` films lacked titles before it (done in OUT excluded), ``asked`` of
    them were taken (``limit``); each ends fetched (``titled`` of them with a Spanish title, ``titles``
    rows), deleted or failed (the budget's unasked films included); ``remaining`` still lack a run."""

    todo: int
    asked: int
    fetched: int
    titled: int
    titles: int
    deleted: int
    failed: int
    remaining: int
    budget_exhausted: bool
    seconds: float

    @property
    def complete(self) -> bool:
        return not self.failed and not self.budget_exhausted and not self.remaining

    def summary(self) -> str:
        return (
            f"{self.asked:,} of {self.todo:,} catalogue films without titles asked: {self.fetched:,} fetched "
            f"({self.titled:,} with Spanish titles, {self.titles:,} titles), {self.deleted:,} deleted, "
            f"{self.failed:,} failed in {self.seconds:.1f} s; {self.remaining:,} left"
            + ("; the sync budget ran out" if self.budget_exhausted else "")
        )


def films_without_titles(data_dir: Path) -> list[int]:
    """The current release's films with no Spanish title, most voted first."""
    release = ReleaseStore(data_dir).current()
    if release is None:
        raise TmdbError(f"no release in {data_dir}: run `movierec pipeline --data {data_dir}` first")
    movies = pl.read_parquet(release / TABLES / "movies.parquet", columns=["id", "vote_count"])
    titles = release / TABLES / "titles.parquet"  # a release built before titles existed has none
    titled = (
        pl.read_parquet(titles, columns=["movie_id"])["movie_id"] if titles.is_file() else pl.Series([], dtype=pl.Int64)
    )
    todo = movies.filter(~pl.col("id").is_in(titled.implode())).sort(["vote_count", "id"], descending=[True, False])
    return todo["id"].to_list()


class Progress:
    """``OUT/titles.csv`` and ``OUT/titles_done.txt``, appended and flushed film by film."""

    def __init__(self, out: Path) -> None:
        self.out = out
        done_path, titles_path = out / DONE_FILE, out / TITLES_FILE
        text = done_path.read_text(encoding="utf-8", errors="replace") if done_path.is_file() else ""
        # Only whole lines: a kill mid-line leaves "12" of "1234".
        self.done = {int(line) for line in text.split("\n")[:-1] if line.isascii() and line.isdigit()}
        kept = []
        if titles_path.is_file():
            with open(titles_path, encoding="utf-8", errors="replace", newline="") as handle:
                kept = [
                    row
                    for row in csv.reader(handle)
                    if len(row) == len(TITLES_COLUMNS)
                    and row[0].isascii()
                    and row[0].isdigit()
                    and int(row[0]) in self.done
                ]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([list(TITLES_COLUMNS), *kept])
        tmp = out / f".{TITLES_FILE}.tmp"
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
        os.replace(tmp, titles_path)
        done_path.write_text("".join(f"{i}\n" for i in sorted(self.done)), encoding="utf-8")
        self._titles = open(titles_path, "a", encoding="utf-8", errors="replace", newline="")
        self._writer = csv.writer(self._titles, lineterminator="\n")
        self._done = open(done_path, "a", encoding="utf-8")

    def record(self, movie_id: int, rows: list[list[str]]) -> None:
        """The film's rows, then its id: a film is done once both are on disk."""
        self._writer.writerows(rows)
        self._titles.flush()
        self._done.write(f"{movie_id}\n")
        self._done.flush()
        self.done.add(movie_id)

    def close(self) -> None:
        self._titles.close()
        self._done.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


async def _fetch(
    client: TmdbClient,
    movie_id: int,
    progress: Progress,
    tally: Tally,
    clean: Cleaner,
    max_titles: int,
    counts: dict[str, int],
) -> None:
    """One film's titles into ``progress``, or its id into the tally's lists (never an exception
    for what the server answered). A film TMDB no longer has is done, with no title."""
    deleted = len(tally.deleted)
    detail = await film_detail(client, movie_id, tally, APPEND)
    if detail is None:
        if len(tally.deleted) > deleted:
            progress.record(movie_id, [])
        return
    try:
        rows = titles_rows({**detail, "id": movie_id}, clean, max_titles)
    except Exception as exc:
        unusable(client, movie_id, tally, exc)
        return
    progress.record(movie_id, rows)
    tally.fetched += 1
    counts["titled"] += bool(rows)
    counts["titles"] += len(rows)


async def backfill_async(
    data_dir: Path,
    out: Path,
    *,
    limit: int,
    settings: Settings,
    api_key: str | None = None,
    base_url: str | None = None,
    concurrency: int = MAX_CONCURRENCY,
    progress: bool | None = None,
    retry: RetryPolicy | None = None,
    log_every: int = 500,
) -> BackfillResult:
    """:func:`backfill` for callers already inside an event loop."""
    if not 1 <= limit <= MAX_LIMIT:
        raise TmdbError(f"--limit must be between 1 and {MAX_LIMIT:,}, not {limit}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise TmdbError(f"concurrency must be between 1 and {MAX_CONCURRENCY}, not {concurrency}")
    key = resolve_key(api_key)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise TmdbError(f"{out} exists and is not a folder")
    if (out / MOVIES_FILE).exists():
        raise TmdbError(
            f"{out} holds a batch of changed films ({MOVIES_FILE}): give the titles back-fill its own folder"
        )
    todo_all = films_without_titles(data_dir)
    base = (base_url or settings.tmdb_url or DEFAULT_BASE_URL).rstrip("/")
    retry = retry or RetryPolicy()
    retry = dataclasses.replace(retry, retry_after_max=min(retry.retry_after_max, settings.tmdb_max_wait))
    clock, started = time.perf_counter(), datetime.now(UTC)
    budget_ends = asyncio.get_running_loop().time() + settings.tmdb_budget
    clean = Cleaner(FieldCaps.from_settings(settings), secrets=(key,))
    out.mkdir(parents=True, exist_ok=True)
    counts = {"titled": 0, "titles": 0}
    exhausted = False
    with Progress(out) as kept:
        todo = [i for i in todo_all if i not in kept.done]
        ids = todo[:limit]
        tally = Tally()
        pending = dict.fromkeys(ids)
        bar = sys.stderr.isatty() if progress is None else progress
        async with TmdbClient(
            base,
            key,
            concurrency=concurrency,
            retry=retry,
            max_bytes=settings.tmdb_max_response_bytes,
            deadline=settings.tmdb_request_deadline,
        ) as client:
            log.info(
                "titles back-fill: %d catalogue films without titles, %d asked this run, from %s",
                len(todo),
                len(ids),
                client.redact(base),
            )
            with Reporter(len(ids), tally, bar=bar, log_every=log_every) as reporter:

                async def one(movie_id: int) -> None:
                    await _fetch(client, movie_id, kept, tally, clean, settings.max_titles_per_film, counts)
                    del pending[movie_id]
                    reporter.advance()

                try:
                    async with asyncio.timeout_at(budget_ends):
                        await bounded(ids, one, min(concurrency, len(ids)))
                except TimeoutError:
                    log.warning(
                        "the sync budget ran out (MOVIEREC_TMDB_BUDGET): %d films not asked, the next run asks them",
                        len(pending),
                    )
                    tally.failed.extend(pending)
                    exhausted = True
            auth = client.auth
        remaining = len([i for i in todo if i not in kept.done])
    result = BackfillResult(
        todo=len(todo),
        asked=len(ids),
        fetched=tally.fetched,
        titled=counts["titled"],
        titles=counts["titles"],
        deleted=len(tally.deleted),
        failed=len(tally.failed),
        remaining=remaining,
        budget_exhausted=exhausted,
        seconds=round(time.perf_counter() - clock, 3),
    )
    (out / FAILED_FILE).write_text("".join(f"{i}\n" for i in sorted(tally.failed)))
    report = {
        "mode": "titles",
        "counts": {k: v for k, v in dataclasses.asdict(result).items() if k != "seconds"},
        "complete": result.complete,
        "budget_exhausted": exhausted,
        "limit": limit,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": result.seconds,
        "base_url": one_line(base.replace(key, "***"), 200),
        "auth": auth,
        "concurrency": concurrency,
        "files": [TITLES_FILE, DONE_FILE, FAILED_FILE],
        "limits": {
            "max_response_bytes": settings.tmdb_max_response_bytes,
            "request_deadline": settings.tmdb_request_deadline,
            "max_wait": retry.retry_after_max,
            "budget": settings.tmdb_budget,
            "max_name_chars": settings.max_name_chars,
            "max_titles_per_film": settings.max_titles_per_film,
        },
    }
    tmp = out / f".{SYNC_FILE}.tmp"
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, out / SYNC_FILE)
    log.info("%s", result.summary())
    return result


def backfill(data_dir: Path, out: Path, *, limit: int, settings: Settings, **options: object) -> BackfillResult:
    """Fetch the Spanish titles of at most ``limit`` catalogue films without titles into ``out``
    (see the module doc); the keyword options are :func:`backfill_async`'s. Raises
    :class:`TmdbError` (one line) when the back-fill cannot run."""
    try:
        return terminable.run(backfill_async(data_dir, out, limit=limit, settings=settings, **options))  # type: ignore[arg-type]
    except OSError as exc:  # the batch folder, not TMDB: unwritable, full disk
        raise TmdbError(one_line(f"cannot write the titles into {out}: {exc}", 300)) from None
