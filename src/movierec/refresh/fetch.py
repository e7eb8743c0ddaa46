"""Publishing a release downloaded as an archive: what a host that keeps no disk does at start.

``MOVIEREC_RELEASE_URL`` points at a ``.tar.gz`` of one release folder (what the scheduled
workflow publishes: ``tar -czf release.tar.gz -C data/releases <name>``). :func:`fetch_release`
downloads it (at most ``max_input_bytes``), unpacks it safely (no absolute paths, no ``..``, no
links out of the folder: tarfile's ``data`` filter) into a staging folder of the store, checks it
as the API will load it, and publishes it under its own name, so ``current`` moves only to a
complete, loadable release. A release already present is only switched to; one older than the
current release is not (the current one was built later).
"""

from __future__ import annotations

import logging
import re
import shutil
import tarfile
import urllib.request
from pathlib import Path

from movierec.config import Settings
from movierec.release.layout import MANIFEST, read_manifest
from movierec.release.store import ReleaseStore, StoreError

log = logging.getLogger("movierec.refresh")

NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
_CHUNK = 1 << 20


class FetchError(StoreError):
    """The archive could not be downloaded, unpacked or checked; nothing was published."""


def fetch_release(url: str, data_dir: Path, settings: Settings, timeout: float = 120.0) -> Path:
    """Download the release archive at ``url`` into DATA/releases/ and point ``current`` at it
    (unless the current release is newer); returns the downloaded release's folder."""
    from movierec.catalog.check import CatalogCheckError, check_catalog

    store = ReleaseStore(data_dir)
    with store.lock(wait=settings.lock_wait):
        store.prune(settings.keep_releases)
        _, staging = store.staging()
        try:
            archive = staging / "release.tar.gz"
            _download(url, archive, settings.max_input_bytes, timeout)
            root = _unpack(archive, staging / "unpacked")
            name = str((read_manifest(root) or {}).get("release", ""))
            if not NAME.match(name):
                raise FetchError(f"{url}: the release's manifest names no valid release ({name[:60]!r})")
            target = store.releases / name
            if not (target / MANIFEST).is_file():
                try:
                    check_catalog(root, settings)
                except CatalogCheckError as exc:
                    raise FetchError(f"{url}: release {name} cannot be served: {exc}") from None
                root.rename(target)  # complete, under its own name, in one rename
                log.info("fetched release %s from %s", name, url)
            current = store.current()
            if current is not None and current.name > name:
                log.warning("kept the current release %s: it is newer than the fetched %s", current.name, name)
            elif current != target.resolve():
                store.switch(target)
            store.prune(settings.keep_releases)
            return target
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _download(url: str, target: Path, limit: int, timeout: float) -> None:
    if not url.startswith(("https://", "http://", "file://")):
        raise FetchError(f"MOVIEREC_RELEASE_URL must be an http(s) or file URL, got {url[:80]!r}")
    written = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:  # noqa: S310
            while chunk := response.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise FetchError(f"{url}: the archive exceeds MOVIEREC_MAX_INPUT_BYTES ({limit:,} bytes)")
                out.write(chunk)
    except OSError as exc:  # URLError, HTTPError, timeouts, a full disk
        raise FetchError(f"{url}: download failed ({exc})") from None


def _unpack(archive: Path, folder: Path) -> Path:
    """Unpack safely; the release folder is the archive's root or its one top-level folder."""
    folder.mkdir()
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise FetchError(f"{archive.name}: not a readable release archive ({exc})") from None
    if (folder / MANIFEST).is_file():
        return folder
    entries = list(folder.iterdir())
    if len(entries) == 1 and (entries[0] / MANIFEST).is_file():
        return entries[0]
    raise FetchError(f"{archive.name}: holds no release folder (no {MANIFEST} at its root or in its one folder)")
