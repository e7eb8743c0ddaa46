"""The release the API serves, and following ``DATA/current`` while it runs.

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
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from movierec.api.answers import Answers
from movierec.catalog.check import check_files, check_loaded
from movierec.catalog.indexes import load_catalog
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
            new = await loop.run_in_executor(
                None, lambda target=target: load_state(target, settings, check=True, warm=True)
            )
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
        gc.freeze()  # the new state joins the objects the collector no longer walks (see app._freeze)
        log.info("now serving release %s", new.answers.catalog.version)


def _name(state: State) -> str:
    return state.answers.catalog.version
