"""One film's answer from TMDB, and the outcome of every film of a sync: shared by the change
sync (:mod:`movierec.refresh.tmdb`) and the titles back-fill (:mod:`movierec.refresh.tmdb_titles`).

:func:`film_detail` turns whatever the server answers into a film object or one entry of the
tally (deleted on TMDB's 404, failed otherwise), never an exception: a malformed film is one
failed film, not a failed sync.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from movierec.refresh.client import RequestFailed, TmdbClient, one_line, status_code, status_message

log = logging.getLogger("movierec.tmdb")

NOT_FOUND = 34  # TMDB's status_code for "The resource you requested could not be found."


@dataclass
class Tally:
    """Outcome of every changed id, filled in as the answers arrive."""

    fetched: int = 0
    adult: set[int] = field(default_factory=set)
    deleted: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


class Reporter:
    """A progress bar on a terminal; elsewhere a log line every ``log_every`` films."""

    def __init__(self, total: int, tally: Tally, *, bar: bool, log_every: int) -> None:
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

    def __enter__(self) -> Reporter:
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
            log.info(
                "films %d/%d: %d fetched, %d deleted, %d failed, %.1f films/s",
                self.done,
                self.total,
                self.tally.fetched,
                len(self.tally.deleted),
                len(self.tally.failed),
                rate,
            )


async def film_detail(client: TmdbClient, movie_id: int, tally: Tally, append: str) -> dict[str, Any] | None:
    """``GET /movie/{id}?append_to_response=append`` as a JSON object, or None with the film counted
    deleted (TMDB's 404) or failed (every other failure, logged)."""
    path = f"/movie/{movie_id}"
    try:
        answer = await client.get(path, {"append_to_response": append})
    except RequestFailed as exc:
        log.warning("GET %s failed: %s", path, exc)
        tally.failed.append(movie_id)
        return None
    if answer.status_code == 404 and status_code(answer) == NOT_FOUND:
        tally.deleted.append(movie_id)
        return None
    if answer.status_code != 200:
        log.warning("GET %s: HTTP %d: %s", path, answer.status_code, client.redact(status_message(answer)))
        tally.failed.append(movie_id)
        return None
    try:
        detail = answer.json()
    except ValueError as exc:
        unusable(client, movie_id, tally, exc)
        return None
    if not isinstance(detail, dict):
        unusable(client, movie_id, tally, ValueError(f"{type(detail).__name__} where a film object is expected"))
        return None
    return detail


def unusable(client: TmdbClient, movie_id: int, tally: Tally, exc: BaseException) -> None:
    """Count a film whose answer could not be used as failed, with the reason in the log."""
    log.warning(
        "GET /movie/%d: unusable answer: %s: %s", movie_id, type(exc).__name__, one_line(client.redact(str(exc)), 120)
    )
    tally.failed.append(movie_id)
