"""Unpacking a release archive that nothing vouches for (what `movierec fetch` downloads).

Two passes over the archive as a stream (no member list kept, no seeking):

1. **Check, writing nothing.** Every member: at most ``MOVIEREC_RELEASE_MAX_FILES`` of them; a
   relative path without ``..``; a regular file or a folder (no link, device, fifo or sparse
   file); a path a release holds (:data:`layout.FILES`), all in one release folder; no file twice;
   the sizes their headers declare within ``MOVIEREC_RELEASE_MAX_BYTES`` together, and within
   :data:`MAX_RATIO` times the archive's size (a compression bomb); JSON files small enough to be
   parsed whole. The manifest is read on the way and must name the release as
   :func:`layout.new_name` does and date it (``created_at``) no later than now. A bomb, a foreign
   file or a bad manifest is refused here, before a byte is written.
2. **Unpack**, with the same checks, counting the bytes as they are written (the cap holds
   whatever the headers said) and the deadline checked between chunks.
"""

from __future__ import annotations

import json
import tarfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TypeVar

from movierec.raw.files import quote
from movierec.release.layout import FILES, MANIFEST, allowed_file, allowed_folder, created_at, name_time
from movierec.release.store import StoreError

_CHUNK = 1 << 20
JSON_MAX_BYTES = 16 << 20  # a manifest, catalog.json or report.json is parsed whole: tens of KB in practice
CLOCK_SKEW = timedelta(minutes=10)  # how far in the future a fetched release's dates may be
_KINDS = (
    ("issym", "a symbolic link"),
    ("islnk", "a hard link"),
    ("ischr", "a device"),
    ("isblk", "a device"),
    ("isfifo", "a fifo"),
    ("issparse", "a sparse file"),
)


class FetchError(StoreError):
    """The archive could not be downloaded, unpacked or checked; nothing was published."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever a library's message holds


class Budget:
    """The deadline of one fetch; ``where`` (the URL, quoted) starts its messages."""

    def __init__(self, seconds: float, where: str) -> None:
        self.seconds, self.where = seconds, where
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def exceeded(self, doing: str) -> FetchError:
        return FetchError(
            f"{self.where}: {doing} took longer than MOVIEREC_FETCH_BUDGET ({self.seconds:g} s); nothing published"
        )

    def check(self, doing: str) -> None:
        if self.remaining() <= 0:
            raise self.exceeded(doing)


@dataclass(frozen=True)
class Limits:
    bytes: int  # all files together, unpacked
    files: int  # members, folders included
    what: str = "MOVIEREC_RELEASE_MAX_BYTES"  # what sets ``bytes``, for the messages


#: A release is mostly compressed files (parquet, gzipped raw inputs): its .tar.gz unpacks to 1.1×
#: its size (the full-size release, 377 MB), 2.3× for the serving archive (no raw/ nor tables/).
#: More than 20× (beyond 64 MiB) is a compression bomb, refused before a byte is written.
MAX_RATIO = 20
RATIO_FLOOR = 64 << 20


def unpack(archive: Path, folder: Path, limits: Limits, budget: Budget) -> tuple[Path, str]:
    """Check ``archive`` whole, then unpack it into ``folder`` (created); returns the release
    folder (the archive's root or its one top folder) and the release's name."""
    where = budget.where
    ratio = max(RATIO_FLOOR, MAX_RATIO * archive.stat().st_size)
    if ratio < limits.bytes:
        limits = Limits(bytes=ratio, files=limits.files, what=f"{MAX_RATIO}× the archive's size (a bomb)")
    manifest = _read(archive, limits, budget, lambda members: _scan(members, budget))
    if manifest is None:
        raise FetchError(f"{where}: holds no release folder (no {MANIFEST} at its root or in its one folder)")
    name = release_name(manifest, where)
    folder.mkdir()
    prefix = _read(archive, limits, budget, lambda members: _extract(members, folder, limits, budget))
    return folder.joinpath(*prefix), name


T = TypeVar("T")


def _read(archive: Path, limits: Limits, budget: Budget, consume: Callable[[Iterator[Member]], T]) -> T:
    """``consume(members)`` over the archive's checked members, its read errors as one line."""
    try:
        with tarfile.open(archive, "r|*") as tar:  # a stream: one pass, no member list kept
            return consume(_checked(tar, limits, budget))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise FetchError(
            f"{budget.where}: not a readable release archive ({type(exc).__name__}: {quote(str(exc), 160)})"
        ) from None


Member = tuple[tarfile.TarFile, tarfile.TarInfo, tuple[str, ...], tuple[str, ...]]


def _checked(tar: tarfile.TarFile, limits: Limits, budget: Budget) -> Iterator[Member]:
    """Each member with its path (``parts``) and its path in the release (``rel``); refuses the
    archive at the first member a release cannot hold."""
    where = budget.where
    declared, count = 0, 0
    prefix: tuple[str, ...] | None = None
    files: set[tuple[str, ...]] = set()
    for member in tar:
        count += 1
        if count > limits.files:
            raise FetchError(
                f"{where}: the archive holds more than {limits.files:,} members (MOVIEREC_RELEASE_MAX_FILES)"
            )
        budget.check("unpacking")
        parts = _parts(member.name, where)
        if not parts:
            continue  # the archive's "." folder
        if prefix is None:  # files at the archive's root, or all in one top folder
            prefix = () if parts[0] in FILES or allowed_file(parts[:1]) else parts[:1]
        if parts[: len(prefix)] != prefix:
            raise FetchError(
                f"{where}: {quote(member.name, 100)} is outside the release folder {quote('/'.join(prefix), 40)}"
            )
        rel = parts[len(prefix) :]
        if member.isdir():
            if rel and not allowed_folder(rel):
                raise _foreign(where, member.name)
        else:
            _check_file(member, rel, limits.bytes - declared, limits.what, where)
            if rel in files:
                raise FetchError(f"{where}: the archive holds {quote(member.name, 100)} twice")
            files.add(rel)
            declared += member.size
        yield tar, member, parts, rel


def _scan(members: Iterator[Member], budget: Budget) -> dict[str, object] | None:
    """The first pass: every member checked, nothing written; returns the manifest when there is one."""
    manifest: dict[str, object] | None = None
    for tar, member, _, rel in members:
        if rel == (MANIFEST,):
            source = tar.extractfile(member)
            try:
                value = json.loads(source.read() if source else b"")
            except ValueError:
                raise FetchError(f"{budget.where}: the release's {MANIFEST} is not JSON") from None
            if not isinstance(value, dict):
                raise FetchError(f"{budget.where}: the release's {MANIFEST} is not a JSON object")
            manifest = value
    return manifest


def _extract(members: Iterator[Member], folder: Path, limits: Limits, budget: Budget) -> tuple[str, ...]:
    """The second pass: every member written; returns the release folder's path in the archive."""
    written = 0
    prefix: tuple[str, ...] = ()
    for tar, member, parts, rel in members:
        prefix = parts[: len(parts) - len(rel)]
        path = folder.joinpath(*parts)
        if member.isdir():
            path.mkdir(parents=True, exist_ok=True)  # only folders and regular files exist here: no link to follow
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        written = _write(tar.extractfile(member), path, written, limits, budget)
    return prefix


def release_name(manifest: dict[str, object], where: str) -> str:
    """The release's name, checked with its date against what a release says of itself."""
    name = manifest.get("release")
    started = name_time(name) if isinstance(name, str) else None
    if started is None or not isinstance(name, str):
        raise FetchError(
            f"{where}: the release's manifest names it {quote(repr(name), 80)}, not a release "
            "name (YYYYMMDDTHHMMSSffffffZ, the UTC time its build started)"
        )
    created = created_at(manifest)
    if created is None:
        raise FetchError(f"{where}: release {name}'s manifest has no created_at timestamp with a time zone")
    now = datetime.now(UTC)
    if started > now + CLOCK_SKEW or created > now + CLOCK_SKEW:
        raise FetchError(
            f"{where}: release {name} says it was made in the future (its name, created_at "
            f"{quote(str(manifest.get('created_at')), 40)}; now {now:%Y-%m-%dT%H:%M:%S}Z)"
        )
    return name


def _parts(name: str, where: str) -> tuple[str, ...]:
    """A member's path as parts, without "." and empty ones; absolute paths and ".." refused."""
    if name.startswith("/") or "\\" in name or "\0" in name:
        raise FetchError(f"{where}: the archive member {quote(name, 100)} has an absolute or foreign path")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise FetchError(f"{where}: the archive member {quote(name, 100)} points outside the release (..)")
    return parts


def _check_file(member: tarfile.TarInfo, rel: tuple[str, ...], room: int, cap: str, where: str) -> None:
    """Refuse a member that is not a regular file a release holds, or declares more than is left."""
    if not member.isreg() or member.issparse():
        kind = next((text for test, text in _KINDS if getattr(member, test)()), "not a regular file")
        raise FetchError(
            f"{where}: the archive member {quote(member.name, 100)} is {kind}; a release "
            "holds only regular files and folders"
        )
    if not allowed_file(rel):
        raise _foreign(where, member.name)
    if member.size > room:
        raise FetchError(
            f"{where}: the archive unpacks to more than {cap} ({room:,} bytes left for "
            f"{quote(member.name, 100)} of {member.size:,})"
        )
    if rel[-1].endswith(".json") and member.size > JSON_MAX_BYTES:
        raise FetchError(
            f"{where}: {quote(member.name, 100)} is {member.size:,} bytes; a release's JSON "
            f"files are read whole and may hold at most {JSON_MAX_BYTES:,}"
        )


def _foreign(where: str, name: str) -> FetchError:
    return FetchError(
        f"{where}: the archive member {quote(name, 100)} is not a file a release holds "
        "(manifest.json, evaluation.json, tables/, model/, catalog/, raw/, report/)"
    )


def _write(source: IO[bytes] | None, path: Path, written: int, limits: Limits, budget: Budget) -> int:
    """Copy one member, counting the bytes as they are written; returns the total so far."""
    if source is None:
        raise FetchError(f"{budget.where}: the archive member {quote(path.name, 100)} cannot be read")
    with open(path, "xb") as out:  # "x": never through a file already there
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > limits.bytes:
                raise FetchError(
                    f"{budget.where}: the archive unpacks to more than {limits.what} ({limits.bytes:,} bytes)"
                )
            budget.check("unpacking")
            out.write(chunk)
    return written
