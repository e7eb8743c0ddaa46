"""Publishing a release downloaded as an archive: what a host that keeps no disk does at start.

``MOVIEREC_RELEASE_URL`` points at a ``.tar.gz`` of one release folder (what the scheduled
workflow publishes: ``tar -czf release.tar.gz -C data/releases <name>``). :func:`fetch_release`
trusts nothing in it:

* the download and the unpacking together end within ``MOVIEREC_FETCH_BUDGET`` seconds (a
  server sending one byte every few seconds is cut at the budget, headers included), and happen
  in a private folder of DATA without the store's lock, so a slow server never holds it;
* the archive, and what it unpacks to, each stay within ``MOVIEREC_RELEASE_MAX_BYTES``, counted
  as the bytes are written (a member declaring more is refused before a byte of it is written);
* it holds at most ``MOVIEREC_RELEASE_MAX_FILES`` members, each a regular file or folder (no
  link, device, fifo or sparse file) at a path a release holds (:data:`layout.FILES`);
* its manifest names it as :func:`layout.new_name` does, and says when it was made (not later
  than now): releases are ordered by that ``created_at``, so one fetched older than ``current``
  is kept beside it and ``current`` stays;
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
import tarfile
import time
import urllib.request
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from movierec.config import Settings
from movierec.raw.files import quote
from movierec.release.layout import (
    FILES, MANIFEST, age, allowed_file, allowed_folder, created_at, name_time, read_manifest,
)
from movierec.release.store import ReleaseStore, StoreError

log = logging.getLogger("movierec.refresh")

_CHUNK = 1 << 20
READ_TIMEOUT = 30.0  # seconds a server may stay silent (the budget bounds the whole download)
MAX_REDIRECTS = 5
JSON_MAX_BYTES = 16 << 20  # a manifest, catalog.json or report.json is parsed whole: tens of KB in practice
CLOCK_SKEW = timedelta(minutes=10)  # how far in the future a fetched release's dates may be


class FetchError(StoreError):
    """The archive could not be downloaded, unpacked or checked; nothing was published."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever a library's message holds


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


class Budget:
    """The deadline of one fetch."""

    def __init__(self, seconds: float, where: str) -> None:
        self.seconds, self.where = seconds, where
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def exceeded(self, doing: str) -> FetchError:
        return FetchError(f"{self.where}: {doing} took longer than MOVIEREC_FETCH_BUDGET "
                          f"({self.seconds:g} s); nothing published")

    def check(self, doing: str) -> None:
        if self.remaining() <= 0:
            raise self.exceeded(doing)


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
        root = unpack(archive, work / "unpacked", settings, budget)
        archive.unlink()
        name = _release_name(root, where)
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


def _release_name(root: Path, where: str) -> str:
    """The fetched release's name, checked with its dates against what a release says of itself."""
    manifest = read_manifest(root)
    if manifest is None:
        raise FetchError(f"{where}: the release's {MANIFEST} is not a JSON object")
    name = manifest.get("release")
    started = name_time(name) if isinstance(name, str) else None
    if started is None:
        raise FetchError(f"{where}: the release's manifest names it {quote(repr(name), 80)}, not a release "
                         "name (YYYYMMDDTHHMMSSffffffZ, the UTC time its build started)")
    assert isinstance(name, str)
    created = created_at(manifest)
    if created is None:
        raise FetchError(f"{where}: release {name}'s manifest has no created_at timestamp with a time zone")
    latest = datetime.now(UTC) + CLOCK_SKEW
    if started > latest or created > latest:
        raise FetchError(f"{where}: release {name} says it was made in the future (its name, created_at "
                         f"{quote(str(manifest.get('created_at')), 40)}; now {datetime.now(UTC):%Y-%m-%dT%H:%M:%S}Z)")
    return name


# -- downloading ------------------------------------------------------------------------------


def download(url: str, target: Path, limit: int, budget: Budget) -> None:
    """``url`` into ``target``: at most ``limit`` bytes, within the budget."""
    if url.startswith("file://"):
        with open(urllib.request.url2pathname(url.removeprefix("file://")), "rb") as source:
            _save(source.read, target, limit, budget)
    elif url.startswith(("https://", "http://")):
        asyncio.run(_download_http(url, target, limit, budget))
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
            async with httpx.AsyncClient(follow_redirects=True, max_redirects=MAX_REDIRECTS,
                                         timeout=httpx.Timeout(READ_TIMEOUT),
                                         headers={"Accept-Encoding": "identity"}) as client, \
                    client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise FetchError(f"{where}: download failed (HTTP {response.status_code} "
                                     f"{quote(response.reason_phrase, 60)})")
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


def _save(read: object, target: Path, limit: int, budget: Budget) -> None:
    written = 0
    with open(target, "wb") as out:
        while chunk := read(_CHUNK):  # type: ignore[operator]
            written += len(chunk)
            if written > limit:
                raise _too_large(budget.where, limit)
            budget.check("the download")
            out.write(chunk)


def _too_large(where: str, limit: int) -> FetchError:
    return FetchError(f"{where}: the archive is larger than MOVIEREC_RELEASE_MAX_BYTES ({limit:,} bytes)")


# -- unpacking --------------------------------------------------------------------------------


def unpack(archive: Path, folder: Path, settings: Settings, budget: Budget) -> Path:
    """Unpack ``archive`` into ``folder`` member by member, refusing it at the first member a
    release cannot hold; returns the release folder (the archive's root or its one top folder)."""
    where = budget.where
    folder.mkdir()
    limit, most = settings.release_max_bytes, settings.release_max_files
    written, count = 0, 0
    prefix: tuple[str, ...] | None = None
    try:
        with tarfile.open(archive, "r|*") as tar:  # a stream: one pass, no member list kept
            for member in tar:
                count += 1
                if count > most:
                    raise FetchError(f"{where}: the archive holds more than {most:,} members "
                                     "(MOVIEREC_RELEASE_MAX_FILES)")
                budget.check("unpacking")
                parts = _parts(member.name, where)
                if not parts:
                    continue  # the archive's "." folder
                if prefix is None:  # files at the archive's root, or all in one top folder
                    prefix = () if parts[0] in FILES or allowed_file(parts[:1]) else parts[:1]
                rel = parts[len(prefix):]
                if parts[: len(prefix)] != prefix:
                    raise FetchError(f"{where}: {quote(member.name, 100)} is outside the release folder "
                                     f"{quote('/'.join(prefix), 40)}")
                if member.isdir():
                    if rel and not allowed_folder(rel):
                        raise _foreign(where, member.name)
                    folder.joinpath(*parts).mkdir(parents=True, exist_ok=True)
                    continue
                _check_file(member, rel, limit - written, where)
                path = folder.joinpath(*parts)
                path.parent.mkdir(parents=True, exist_ok=True)
                written = _write(tar.extractfile(member), path, written, limit, budget)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise FetchError(f"{where}: not a readable release archive ({type(exc).__name__}: "
                         f"{quote(str(exc), 160)})") from None
    root = folder.joinpath(*(prefix or ()))
    if not (root / MANIFEST).is_file():
        raise FetchError(f"{where}: holds no release folder (no {MANIFEST} at its root or in its one folder)")
    return root


def _parts(name: str, where: str) -> tuple[str, ...]:
    """A member's path as parts, without "." and empty ones; absolute paths and ".." refused."""
    if name.startswith("/") or "\\" in name or "\0" in name:
        raise FetchError(f"{where}: the archive member {quote(name, 100)} has an absolute or foreign path")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise FetchError(f"{where}: the archive member {quote(name, 100)} points outside the release (..)")
    return parts


_KINDS = (("issym", "a symbolic link"), ("islnk", "a hard link"), ("ischr", "a device"), ("isblk", "a device"),
          ("isfifo", "a fifo"), ("issparse", "a sparse file"))


def _check_file(member: tarfile.TarInfo, rel: tuple[str, ...], room: int, where: str) -> None:
    """Refuse a member that is not a regular file a release holds, or declares more than is left."""
    if not member.isreg() or member.issparse():
        kind = next((text for test, text in _KINDS if getattr(member, test)()), "not a regular file")
        raise FetchError(f"{where}: the archive member {quote(member.name, 100)} is {kind}; a release "
                         "holds only regular files and folders")
    if not allowed_file(rel):
        raise _foreign(where, member.name)
    if member.size > room:
        raise FetchError(f"{where}: the archive unpacks to more than MOVIEREC_RELEASE_MAX_BYTES "
                         f"({room:,} bytes left for {quote(member.name, 100)} of {member.size:,})")
    if rel[-1].endswith(".json") and member.size > JSON_MAX_BYTES:
        raise FetchError(f"{where}: {quote(member.name, 100)} is {member.size:,} bytes; a release's JSON "
                         f"files are read whole and may hold at most {JSON_MAX_BYTES:,}")


def _foreign(where: str, name: str) -> FetchError:
    return FetchError(f"{where}: the archive member {quote(name, 100)} is not a file a release holds "
                      "(manifest.json, evaluation.json, tables/, model/, catalog/, raw/, report/)")


def _write(source: IO[bytes] | None, path: Path, written: int, limit: int, budget: Budget) -> int:
    """Copy one member, counting the bytes as they are written; returns the total so far."""
    if source is None:
        raise FetchError(f"{budget.where}: the archive member {quote(path.name, 100)} cannot be read")
    try:
        out = open(path, "xb")  # noqa: SIM115 - closed below; "x": a member twice is refused
    except FileExistsError:
        raise FetchError(f"{budget.where}: the archive holds {quote(path.name, 100)} twice") from None
    with out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise FetchError(f"{budget.where}: the archive unpacks to more than "
                                 f"MOVIEREC_RELEASE_MAX_BYTES ({limit:,} bytes)")
            budget.check("unpacking")
            out.write(chunk)
    return written
