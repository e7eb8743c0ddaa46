"""Publishing a release downloaded as an archive: what a host that keeps no disk does at start.

``MOVIEREC_RELEASE_URL`` points at a ``.tar.gz`` of one release folder (what the scheduled
workflow publishes: ``tar -czf release.tar.gz -C data/releases <name>``). :func:`fetch_release`
trusts nothing in it:

* the download and the unpacking together end within ``MOVIEREC_FETCH_BUDGET`` seconds (a
  server sending one byte every few seconds is cut at the budget, headers included), and happen
  in a private folder of DATA without the store's lock, so a slow server never holds it;
* the archive stays within ``MOVIEREC_RELEASE_MAX_BYTES``, and :mod:`movierec.release.archive`
  checks every member before it writes any (count, names, types, sizes, the manifest's name and
  date) and again while it writes them, counting the bytes;
* releases are ordered by their manifests' ``created_at``: one fetched older than ``current`` is
  kept beside it and ``current`` stays;
* it loads as the API will load it.

Only then, under the lock, is it renamed into ``releases/`` and ``current`` moved to it. Any
refusal leaves ``current`` and every release as they were and nothing outside the private folder,
which is removed when the fetch ends (SIGTERM included; a SIGKILLed fetch's folder is removed by
the next prune).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from movierec.config import Settings
from movierec.raw.files import quote
from movierec.refresh import terminable
from movierec.release.archive import Budget, FetchError, Limits, unpack
from movierec.release.layout import MANIFEST, age
from movierec.release.store import ReleaseStore

__all__ = ["Budget", "FetchError", "Fetched", "download", "fetch_release"]

log = logging.getLogger("movierec.refresh")

_CHUNK = 1 << 20
READ_TIMEOUT = 30.0  # seconds a server may stay silent (the budget bounds the whole download)
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Fetched:
    """What a fetch did: the release it brought, where ``current`` points after it."""

    release: Path
    current: Path
    moved: bool  # whether ``current`` moved to the fetched release
    kept: bool = True  # False when the fetched release was pruned at once (older than those kept)

    def summary(self) -> str:
        name = self.release.name
        if self.moved:
            return f"release {name} in {self.release.parent}; current → {name}"
        if self.current.name == name:
            return f"release {name} already current; nothing changed"
        pruned = "" if self.kept else f"; {name} not kept (older than the releases kept)"
        return f"kept current {self.current.name} (newer than the fetched {name}){pruned}"


def fetch_release(url: str, data_dir: Path, settings: Settings) -> Fetched:
    """Download the release archive at ``url`` into DATA/releases/ and point ``current`` at it
    unless the current release is newer (by ``created_at``)."""
    from movierec.catalog.check import CatalogCheckError, check_catalog

    where = quote(url, 120)
    budget = Budget(settings.fetch_budget, where)
    store = ReleaseStore(data_dir)
    store.check_link()
    with store.fetching() as work:
        archive = work / "release.archive"
        download(url, archive, settings.release_max_bytes, budget)
        root, name = unpack(
            archive,
            work / "unpacked",
            Limits(bytes=settings.release_max_bytes, files=settings.release_max_files),
            budget,
        )
        archive.unlink()
        try:
            check_catalog(root, settings)
        except CatalogCheckError as exc:
            raise FetchError(f"{where}: release {name} cannot be served: {exc}") from None
        with store.lock(wait=settings.lock_wait):
            return _publish(store, root, name, settings.keep_releases, where)


def _publish(store: ReleaseStore, root: Path, name: str, keep: int, where: str) -> Fetched:
    store.check_link()
    target = store.releases / name
    if not (target / MANIFEST).is_file():
        store.releases.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)  # an incomplete folder of that name: debris the prune would remove
        elif target.exists() or target.is_symlink():
            raise FetchError(f"{target} is in the way and is not a release folder; move it away")
        root.rename(target)  # complete, under its own name, in one rename
        log.info("fetched release %s from %s", name, where)
    current = store.current()
    moved = current is None or (current != target.resolve() and age(current) < age(target))
    if moved:
        store.switch(target)
    store.prune(keep)
    now = store.current()
    return Fetched(release=target, current=now if now is not None else target, moved=moved, kept=target.is_dir())


# -- downloading ------------------------------------------------------------------------------


def download(url: str, target: Path, limit: int, budget: Budget) -> None:
    """``url`` into ``target``: at most ``limit`` bytes, within the budget."""
    if url.startswith("file://"):
        try:
            with open(urllib.request.url2pathname(url.removeprefix("file://")), "rb") as source:
                _save(source.read, target, limit, budget)
        except OSError as exc:
            raise FetchError(f"{budget.where}: cannot copy it ({exc.strerror or type(exc).__name__})") from None
    elif url.startswith(("https://", "http://")):
        terminable.run(_download_http(url, target, limit, budget))
    else:
        raise FetchError(f"MOVIEREC_RELEASE_URL must be an http(s) or file URL, got {quote(url, 80)}")


async def _download_http(url: str, target: Path, limit: int, budget: Budget) -> None:
    import httpx

    where = budget.where
    quiet = _NoRequestLines()  # httpx logs each URL at INFO; a signed URL's token would be in it
    logging.getLogger("httpx").addFilter(quiet)
    try:
        # The whole exchange (connection, headers, body) under one deadline: a per-read timeout
        # alone lets a server that drips a byte now and then hold the fetch for ever.
        async with asyncio.timeout(max(budget.remaining(), 0.001)):
            async with (
                httpx.AsyncClient(
                    follow_redirects=True,
                    max_redirects=MAX_REDIRECTS,
                    timeout=httpx.Timeout(READ_TIMEOUT),
                    headers={"Accept-Encoding": "identity"},
                ) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    raise FetchError(
                        f"{where}: download failed (HTTP {response.status_code} {quote(response.reason_phrase, 60)})"
                    )
                declared = response.headers.get("content-length", "")
                if declared.isascii() and declared.isdigit() and int(declared) > limit:
                    raise _too_large(where, limit)
                # The raw bytes: an archive is compressed already, and inflating a Content-Encoding
                # would be a bomb outside the cap.
                with open(target, "wb") as out:
                    written = 0
                    async for chunk in response.aiter_raw(_CHUNK):
                        written += len(chunk)
                        if written > limit:
                            raise _too_large(where, limit)
                        out.write(chunk)
    except TimeoutError:  # the deadline's (an OSError: caught before the next clause)
        raise budget.exceeded("the download") from None
    except httpx.TooManyRedirects:
        raise FetchError(f"{where}: download failed (more than {MAX_REDIRECTS} redirects)") from None
    except (httpx.HTTPError, OSError) as exc:
        raise FetchError(f"{where}: download failed ({type(exc).__name__}: {quote(str(exc), 160)})") from None
    finally:
        logging.getLogger("httpx").removeFilter(quiet)


class _NoRequestLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("HTTP Request")


def _save(read: Callable[[int], bytes], target: Path, limit: int, budget: Budget) -> None:
    written = 0
    with open(target, "wb") as out:
        while chunk := read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise _too_large(budget.where, limit)
            budget.check("the download")
            out.write(chunk)


def _too_large(where: str, limit: int) -> FetchError:
    return FetchError(f"{where}: the archive is larger than MOVIEREC_RELEASE_MAX_BYTES ({limit:,} bytes)")
