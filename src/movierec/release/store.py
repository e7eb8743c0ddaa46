"""The release store: DATA/releases/ and the DATA/current pointer (TensorFlow Serving's model
versions and moving pointer, on a file system).

* A release is built aside in ``releases/.tmp-<name>/`` and renamed into place only when complete
  (:meth:`ReleaseStore.staging`, :meth:`ReleaseStore.publish`); a run killed at any moment leaves
  only a ``.tmp-`` folder, which the next run's :meth:`~ReleaseStore.prune` removes.
* ``current`` is a relative symlink replaced with one rename, so a reader sees the old release or
  the new one, never neither.
* One writer at a time: :meth:`ReleaseStore.lock` holds an exclusive ``flock`` on ``DATA/.lock``
  (released by the kernel when the process dies, so a killed run never leaves a stale lock).
* Published releases are never modified. Their order is their manifests' ``created_at`` (the
  name breaking ties), never their names: pruning keeps the newest by that order and ``current``,
  rollback goes to the one just before ``current``.
* A fetch downloads and unpacks into ``DATA/.fetch-*/`` (:meth:`ReleaseStore.fetching`) without
  the lock, so a slow server never holds it; the folder is removed when the fetch ends, and by
  :meth:`~ReleaseStore.prune` when its fetch was killed.
"""

from __future__ import annotations

import builtins
import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from movierec.release.layout import EVALUATION, MANIFEST, age, new_name, read_json, read_manifest

log = logging.getLogger("movierec.release")

STAGING_PREFIX = ".tmp-"
LINK_PREFIX = ".current-"
FETCH_PREFIX = ".fetch-"
_OWNER = ".owner"  # inside a fetch's folder: flocked while the fetch runs


class StoreError(Exception):
    """The store cannot do what was asked (busy, nothing to roll back to, a foreign file in the way)."""


@dataclass(frozen=True)
class ReleaseInfo:
    name: str
    created: str | None
    films: int | None
    precision: float | None  # the model's precision@k in the release's evaluation, when measured
    current: bool
    built_on: str | None


class ReleaseStore:
    """The releases of one data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.releases = self.data_dir / "releases"
        self.link = self.data_dir / "current"

    # -- reading -----------------------------------------------------------------------------

    def current(self) -> Path | None:
        """The folder ``current`` points to, or None when nothing is published (or it dangles)."""
        if not self.link.is_symlink():
            return None
        target = self.link.resolve()
        return target if (target / MANIFEST).is_file() else None

    def complete(self) -> list[Path]:
        """Every published release, oldest first (by ``created_at``, then name)."""
        if not self.releases.is_dir():
            return []
        return sorted(
            (
                p
                for p in self.releases.iterdir()
                if not p.name.startswith(".") and p.is_dir() and (p / MANIFEST).is_file()
            ),
            key=age,
        )

    def list(self) -> list[ReleaseInfo]:
        current = self.current()
        infos = []
        for folder in self.complete():
            manifest = read_manifest(folder) or {}
            tables = manifest.get("tables")
            films = tables.get("movies") if isinstance(tables, dict) else None
            evaluation = read_json(folder / EVALUATION)
            infos.append(
                ReleaseInfo(
                    name=folder.name,
                    created=_str(manifest.get("created_at")),
                    films=films if isinstance(films, int) else None,
                    precision=_model_precision(evaluation),
                    current=folder.resolve() == current,
                    built_on=_str(manifest.get("built_on")),
                )
            )
        return infos

    # -- writing (callers hold the lock) -----------------------------------------------------

    @contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[None]:
        """Exclusive use of the store; waits up to ``wait`` seconds, then raises StoreError."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / ".lock"
        handle = open(path, "a+")
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        handle.seek(0)
                        holder = handle.read().strip() or "another process"
                        raise StoreError(
                            f"{self.data_dir} is busy: a pipeline run ({holder}) holds {path}; "
                            "wait for it to finish and run again"
                        ) from None
                    time.sleep(0.2)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            yield
        finally:
            handle.close()  # closing releases the flock

    def check_link(self) -> None:
        """Refuse to touch a ``current`` that is not the symlink this store manages."""
        if (self.link.exists() or self.link.is_symlink()) and not self.link.is_symlink():
            raise StoreError(
                f"{self.link} is a real {'folder' if self.link.is_dir() else 'file'}, not the "
                "link movierec manages; move it away and run again"
            )

    def staging(self) -> tuple[str, Path]:
        """A new release's name and the hidden folder to build it in."""
        self.check_link()
        self.releases.mkdir(parents=True, exist_ok=True)
        name = new_name()
        folder = self.releases / f"{STAGING_PREFIX}{name}"
        folder.mkdir()
        return name, folder

    def publish(self, staging: Path, name: str, keep: int) -> Path:
        """Rename a complete staging folder into place, point ``current`` at it, prune."""
        if not (staging / MANIFEST).is_file():
            raise StoreError(f"{staging} has no {MANIFEST}: not a complete release")
        folder = self.releases / name
        staging.rename(folder)
        self.switch(folder)
        self.prune(keep)
        log.info("published %s", folder)
        return folder

    def switch(self, folder: Path) -> None:
        """Point ``current`` at ``folder`` with one rename, so readers see the old or the new."""
        self.check_link()
        tmp = self.data_dir / f"{LINK_PREFIX}{os.getpid()}"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(folder.relative_to(self.data_dir))
        tmp.replace(self.link)

    def prune(self, keep_count: int) -> builtins.list[str]:  # builtins: `list` here is the method above
        """Remove abandoned staging and fetch folders, incomplete folders, leftover link files, and
        all but the newest ``keep_count`` releases (by ``created_at``); never ``current``, never the
        newest. Returns what was removed."""
        removed: list[str] = []
        current = self.current()
        if self.releases.is_dir():
            for folder in self.releases.iterdir():
                if (folder.is_dir() and not (folder / MANIFEST).is_file()) or folder.name.startswith(STAGING_PREFIX):
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder.name)
        for leftover in self.data_dir.glob(f"{LINK_PREFIX}*"):
            leftover.unlink(missing_ok=True)
            removed.append(leftover.name)
        for folder in self.data_dir.glob(f"{FETCH_PREFIX}*"):
            if _abandoned(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        complete = self.complete()
        for old in complete[: max(len(complete) - max(keep_count, 1), 0)]:
            if old.resolve() != current:
                shutil.rmtree(old, ignore_errors=True)
                removed.append(old.name)
        return removed

    @contextmanager
    def fetching(self) -> Iterator[Path]:
        """A private folder of the data folder (so a release unpacked there is renamed into
        releases/ in one step) for a fetch working without the lock; removed when it ends."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=FETCH_PREFIX, dir=self.data_dir))
        try:
            with open(folder / _OWNER, "w") as owner:
                fcntl.flock(owner, fcntl.LOCK_EX)  # released when this process ends, however
                yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def rollback(self) -> Path:
        """Point ``current`` at the newest release older than it."""
        current = self.current()
        if current is None:
            raise StoreError(f"nothing is published in {self.data_dir}: nothing to roll back")
        previous = self.before(current)
        if previous is None:
            raise StoreError(f"{current.name} is the oldest release kept in {self.releases}: nothing to roll back to")
        self.switch(previous)
        return previous

    def before(self, release: Path) -> Path | None:
        """The release made just before ``release`` (by ``created_at``, then name), if any kept."""
        older = [p for p in self.complete() if age(p) < age(release)]
        return older[-1] if older else None


def _abandoned(folder: Path) -> bool:
    """Whether a fetch's folder was left by a fetch that no longer runs (its owner file is not
    locked, or was never created)."""
    if not folder.is_dir():
        return False
    try:
        with open(folder / _OWNER, "r+") as owner:
            fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except FileNotFoundError:
        return True
    return True


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _model_precision(evaluation: dict[str, object] | None) -> float | None:
    table = evaluation.get("table") if evaluation else None
    if not isinstance(table, list):
        return None
    for row in table:
        if isinstance(row, dict) and row.get("method") == "model":
            value = row.get("precision_at_k")
            return float(value) if isinstance(value, int | float) else None
    return None
