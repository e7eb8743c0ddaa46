"""The release the API serves: loaded in the app's lifespan, and following ``DATA/current`` while it runs.

The app holds one reference, :attr:`Served.state`: an immutable :class:`State` (the answers of one
release, and that release's folder). A request reads it once and answers from it to the end;
switching releases replaces the reference with one assignment. So a request never sees two
releases, and a request that started on the old release finishes on it (its state stays alive as
long as the request holds it, then is freed).

:func:`follow` polls ``DATA/current`` (a symlink read, every ``interval`` seconds). When it points
elsewhere (a new release was published, or `movierec rollback` moved it back), the new release is
loaded in a worker thread beside the one served (a memory map: see
:mod:`movierec.catalog.indexes`), checked as a publish checks it, its suggestion indexes built,
and only then swapped in. A release that fails to load or to pass the check is logged and
skipped (not retried until ``current`` changes again); the old one keeps serving.

:func:`lifespan` is the app's: it loads ``DATA/current`` once (unless the app was handed a
catalog), builds the suggestion indexes in a thread while the server already answers, and runs
:func:`follow` when asked to.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

from fastapi import FastAPI

from movierec.api.answers import Answers
from movierec.api.errors import ApiError
from movierec.catalog.check import check_files, check_loaded
from movierec.catalog.indexes import ReleaseError, load_catalog
from movierec.config import Settings
from movierec.release.store import ReleaseStore

log = logging.getLogger("movierec.api")


class State(NamedTuple):
    """What one release answers; never modified, only replaced."""

    answers: Answers
    release: Path | None  # the release folder, None for a catalog handed to the app


@dataclass
class Served:
    """The app's one mutable reference."""

    state: State | None = None

    def answers(self) -> Answers:
        """The answers of the release served now: read once per request."""
        state = self.state
        if state is None:  # only without a lifespan (a bare ASGI call); uvicorn always runs it
            raise ApiError(503, {"detail": "El catálogo todavía no está cargado."})
        return state.answers

    def release(self) -> tuple[str, str | None]:
        """The version served and when it was built (``""`` and None before one is loaded)."""
        if self.state is None:
            return "", None
        catalog = self.state.answers.catalog
        created = catalog.manifest.get("created_at")
        return catalog.version, created if isinstance(created, str) else None


def load_state(release: Path, settings: Settings, *, check: bool = False, warm: bool = False) -> State:
    """Load ``release``; with ``check``, answer the publish checks from it; with ``warm``, build
    its suggestion indexes now (else the first unknown title or name builds them)."""
    started = time.perf_counter()
    if check:
        check_files(release)
    catalog = load_catalog(release, settings)
    if check:
        check_loaded(catalog)
    if warm:
        catalog.warm_up()
    log.info(
        "loaded release %s: %d films, %d actors, %d directors in %.2f s",
        catalog.version,
        len(catalog),
        len(catalog.actors),
        len(catalog.directors),
        time.perf_counter() - started,
    )
    return State(Answers(catalog, settings, defer_suggestions=True), release)


async def follow(served: Served, data_dir: Path, settings: Settings, interval: float) -> None:
    """Swap in the release ``DATA/current`` points to whenever it changes (runs until cancelled)."""
    store = ReleaseStore(data_dir)
    loop = asyncio.get_running_loop()
    skipped: Path | None = None
    while True:
        await asyncio.sleep(interval)
        try:
            target = store.current()
        except Exception as exc:  # the task must outlive any trouble with the folder
            log.warning("cannot read %s: %s", store.link, exc)
            continue
        state = served.state
        if target is None or state is None or target == state.release or target == skipped:
            continue
        log.info("DATA/current now points to %s: loading it beside %s", target.name, _name(state))
        try:
            new = await loop.run_in_executor(None, partial(load_state, target, settings, check=True, warm=True))
        except Exception as exc:  # whatever is wrong with it, the served release stays
            log.error(
                "release %s cannot be served (%s: %s); still serving %s",
                target.name,
                type(exc).__name__,
                str(exc)[:300],
                _name(state),
            )
            skipped = target
            continue
        served.state = new
        skipped = None
        del state  # the old release is freed once the requests that hold it have answered
        _freeze()  # the new state joins the objects the collector no longer walks
        log.info("now serving release %s", new.answers.catalog.version)


def _name(state: State) -> str:
    return state.answers.catalog.version


def lifespan(
    served: Served, data_dir: Path, settings: Settings, *, follow_current: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: serve ``DATA/current`` (unless ``served`` already holds a release) and,
    with ``follow_current``, every release it points to later."""

    @asynccontextmanager
    async def serving(_: FastAPI) -> AsyncIterator[None]:
        if served.state is None:
            release = ReleaseStore(data_dir).current()
            if release is None:
                raise ReleaseError(f"no release in {data_dir}: run `movierec pipeline --data {data_dir}` first")
            served.state = load_state(release, settings)
            log.info("serving release %s", served.state.answers.catalog.version)
        _freeze()
        # The suggestion indexes (needed only by a 404) are built in a thread while the server
        # already answers, so that they do not delay the start.
        warming = asyncio.get_running_loop().run_in_executor(None, served.state.answers.catalog.warm_up)
        warming.add_done_callback(_report_warm_up)
        watcher = (
            asyncio.create_task(follow(served, data_dir, settings, settings.reload_interval))
            if follow_current
            else None
        )
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()

    return serving


def _freeze() -> None:
    """Exempt everything allocated so far (the imported modules, the suggestion indexes, the
    answer caches) from the cyclic garbage collector, so that a full collection does not walk
    them on some unlucky request. A release switched away from is still freed: its objects hold
    no reference cycle, so reference counting frees them (frozen or not) once no request holds
    them. (Loading leaves no cyclic garbage to collect first.)"""
    gc.freeze()


def _report_warm_up(done: asyncio.Future[int]) -> None:
    if done.cancelled():
        return
    if (error := done.exception()) is not None:
        log.error("building the suggestion indexes failed; 404s will build them", exc_info=error)
    else:
        _freeze()
        log.info("suggestion indexes ready: %d titles and names", done.result())
