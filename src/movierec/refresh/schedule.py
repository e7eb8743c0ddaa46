"""The refresh: TMDB's changes since the last sync, as a batch, ingested into a new release; and
running it on a schedule beside the server (`movierec serve --refresh-every 24h`).

Where the last sync ended is recorded in the release itself (``manifest.ingest.sync.until``), so
the next sync starts there wherever the release travels (a CI artifact, a fresh container). A
release without one (built by `movierec pipeline`) starts the day before it was built. Windows
overlap by a day at most, which is harmless: a film fetched twice replaces itself.

An incomplete sync (films failed, or its budget ran out) still publishes what it fetched, moves
the window on, and records the films it did not get (``retry_ids``, at most
:data:`~movierec.refresh.tmdb_changes.MAX_RETRY_IDS`) and why (``incomplete``): the next refresh asks for
them again beside the new changes, so a film TMDB failed to give us is retried rather than
skipped, and a film that always fails costs one request per refresh instead of holding the
window back for ever.

The TMDB client is :func:`movierec.refresh.tmdb.sync` (``sync(since: date, out: Path)`` writes a
batch in the Kaggle format, reading TMDB_API_KEY); it is imported only when a refresh runs.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from movierec.config import Settings
from movierec.refresh.names import FAILED_FILE, KEY_VARIABLE
from movierec.release.layout import read_manifest
from movierec.release.store import ReleaseStore, StoreError

if TYPE_CHECKING:  # the pipeline is imported only when a refresh runs
    from movierec.pipeline import Manifest

log = logging.getLogger("movierec.refresh")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RefreshError(Exception):
    """A refresh cannot run (no credential, no TMDB client in this build)."""


def parse_every(text: str) -> float:
    """Seconds of an interval written ``90s``, ``30m``, ``24h``, ``1d`` or a number of seconds.

    >>> parse_every("24h"), parse_every("30m"), parse_every("1d"), parse_every("45")
    (86400.0, 1800.0, 86400.0, 45.0)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{text[:40]!r} is not an interval such as 24h, 30m, 1d or 3600")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def last_synced(release: Path) -> date:
    """The day the release's TMDB sync ended, else the day before it was built (else yesterday)."""
    manifest = read_manifest(release) or {}
    ingest = manifest.get("ingest")
    sync = ingest.get("sync") if isinstance(ingest, dict) else None
    for value, back in ((sync.get("until") if isinstance(sync, dict) else None, 0), (manifest.get("created_at"), 1)):
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value).date() - timedelta(days=back)
            except ValueError:
                continue
    return datetime.now(UTC).date() - timedelta(days=1)


def tmdb_sync() -> Callable[..., Any]:
    """The TMDB client's ``sync(since, out)``, or RefreshError when this build has none."""
    try:
        from movierec.refresh.tmdb import sync  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise RefreshError(
            f"tmdb-sync is not available in this build (movierec.refresh.tmdb.sync: {exc}); the refresh did not run"
        ) from None
    return sync


def refresh_once(
    data_dir: Path,
    settings: Settings,
    *,
    since: date | None = None,
    allow_shrink: bool = False,
    evaluate: bool | None = None,
) -> Manifest | None:
    """Sync TMDB's changes since ``since`` (default :func:`last_synced` of the current release)
    into a temporary batch and ingest it; returns the new release's manifest, or None when
    nothing changed."""
    from movierec.refresh.client import TmdbError
    from movierec.refresh.ingest import ingest

    if not os.environ.get(KEY_VARIABLE):
        raise RefreshError(f"{KEY_VARIABLE} is not set: the TMDB sync needs an API key (v3 key or read-access token)")
    sync = tmdb_sync()
    current = ReleaseStore(data_dir).current()
    if current is None:
        raise StoreError(f"no release in {data_dir}: run `movierec pipeline --data {data_dir}` first")
    start = since or last_synced(current)
    until = datetime.now(UTC).date()
    log.info("syncing TMDB changes from %s to %s", start, until)
    with tempfile.TemporaryDirectory(prefix="movierec-batch-") as batch:
        try:
            # it reads the same settings (Settings.from_env)
            result = sync(start, Path(batch), retry_ids=retry_ids(current))
        except TmdbError as exc:  # one line, exit 2, like `movierec tmdb-sync`
            raise RefreshError(f"the TMDB sync failed: {exc}") from None
        record: dict[str, object] = {"since": start.isoformat(), "until": until.isoformat()}
        if not getattr(result, "complete", True):
            failed = _failed_ids(Path(batch) / FAILED_FILE)
            why = f"{result.failed} films failed" + (", the sync budget ran out" if result.budget_exhausted else "")
            log.warning(
                "incomplete TMDB sync (%s): publishing what was fetched; the next refresh asks for "
                "the %d films not fetched again",
                why,
                len(failed),
            )
            record.update(incomplete=why, retry_ids=failed)
        return ingest(Path(batch), data_dir, settings, allow_shrink=allow_shrink, evaluate=evaluate, sync=record)


def retry_ids(release: Path) -> list[int]:
    """The films the release's TMDB sync did not get (``ingest.sync.retry_ids``), to ask again."""
    from movierec.refresh.tmdb_changes import MAX_RETRY_IDS, valid_id

    ingest = (read_manifest(release) or {}).get("ingest")
    sync = ingest.get("sync") if isinstance(ingest, dict) else None
    ids = sync.get("retry_ids") if isinstance(sync, dict) else None
    return [i for i in ids if valid_id(i)][:MAX_RETRY_IDS] if isinstance(ids, list) else []


def _failed_ids(path: Path) -> list[int]:
    from movierec.refresh.tmdb_changes import MAX_RETRY_IDS

    try:
        lines = path.read_text().split()
    except OSError:
        return []
    return [int(v) for v in lines if v.isascii() and v.isdigit()][:MAX_RETRY_IDS]


def first_delay(release: Path | None, every: float, now: datetime, minimum: float = 60.0) -> float:
    """Seconds until the first scheduled refresh: ``every`` after the current release was built,
    but not sooner than ``minimum`` after the server starts (its start stays fast)."""
    created = (read_manifest(release) or {}).get("created_at") if release is not None else None
    try:
        built = datetime.fromisoformat(created) if isinstance(created, str) else None
    except ValueError:
        built = None
    if built is None or built.tzinfo is None:
        return max(minimum, every)
    return max(minimum, (built + timedelta(seconds=every) - now).total_seconds())


class Refresher(threading.Thread):
    """Runs `movierec refresh` every ``every`` seconds, in a child process (niced): the ETL and training
    need far more memory than the server (about 2 GB at the full size) and give it all back when
    the child exits. The server picks the new release up by following DATA/current."""

    def __init__(self, data_dir: Path, every: float, command: list[str] | None = None, minimum: float = 60.0) -> None:
        super().__init__(name="movierec-refresh", daemon=True)
        self.data_dir = data_dir
        self.every = every
        # At a lower priority than the server: answering requests comes first.
        nice = ["nice", "-n", "10"] if shutil.which("nice") else []
        self.command = command or [*nice, sys.executable, "-m", "movierec", "refresh", "--data", str(data_dir)]
        self.minimum = minimum
        self.stopped = threading.Event()

    def run(self) -> None:
        delay = first_delay(ReleaseStore(self.data_dir).current(), self.every, datetime.now(UTC), self.minimum)
        log.info("scheduled refresh every %.0f s; the next one in %.0f s", self.every, delay)
        while not self.stopped.wait(delay):
            delay = self.every
            log.info("refresh: %s", " ".join(self.command))
            try:
                done = subprocess.run(self.command, capture_output=True, text=True, timeout=6 * 3600)
            except (OSError, subprocess.SubprocessError) as exc:
                log.error("refresh could not run: %s", exc)
                continue
            output = (done.stdout + done.stderr).strip().splitlines()
            if done.returncode == 0:
                log.info("refresh done: %s", output[0] if output else "")
            else:
                log.error("refresh failed (exit %d): %s", done.returncode, " | ".join(output[-3:]))

    def stop(self) -> None:
        self.stopped.set()
