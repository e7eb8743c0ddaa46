"""The edge where raw Kaggle files come in: finding them, decompressing them, checksums, CSV records.

Everything here does I/O; the cleaning rules live in :mod:`movierec.etl` as pure functions.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import re
import zipfile
import zlib
from pathlib import Path
from typing import Protocol

MOVIES_NAMES = ("movies_metadata.csv", "movies_dataset.csv")
MOVIES_COLUMNS = (
    "adult",
    "belongs_to_collection",
    "budget",
    "genres",
    "homepage",
    "id",
    "imdb_id",
    "original_language",
    "original_title",
    "overview",
    "popularity",
    "poster_path",
    "production_companies",
    "production_countries",
    "release_date",
    "revenue",
    "runtime",
    "spoken_languages",
    "status",
    "tagline",
    "title",
    "video",
    "vote_average",
    "vote_count",
)
CREDITS_COLUMNS = ("cast", "crew", "id")
KEYWORDS_COLUMNS = ("id", "keywords")
TITLES_NAMES = ("titles.csv",)  # optional: the films' Spanish titles (tmdb-sync), see movierec.etl.titles
TITLES_COLUMNS = ("movie_id", "iso_639_1", "iso_3166_1", "title", "kind")


class InputError(Exception):
    """Raw input that cannot be used at all (missing file, missing columns, not CSV text, too
    large): exit code 2 with this one line."""


CHUNK = 1 << 20
HEAD_BYTES = 1 << 16  # a real header line is about 300 bytes; one this long is no header
QUOTE_CHARS = 200  # the most of the input an error message quotes
# Bytes that no cp1252 text holds (NUL, and the five the code page leaves undefined): binary data.
_NOT_CP1252 = re.compile(rb"[\x00\x81\x8d\x8f\x90\x9d]")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` for an error message: at most ``limit`` characters, control characters escaped,
    so that the message stays one short line whatever the input holds.

    >>> quote("tab\\there")
    'tab\\\\x09here'
    >>> quote("x" * 300, 4)
    'xxxx… (300 characters)'
    """
    cut = text if len(text) <= limit else text[:limit]
    cut = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", cut)
    return cut if len(text) <= limit else f"{cut}… ({len(text):,} characters)"


def find_input(raw_dir: Path, names: tuple[str, ...], *, required: bool = True) -> Path | None:
    """The first of ``names`` present in ``raw_dir`` as plain, .gz or .zip."""
    for name in names:
        for candidate in (raw_dir / name, raw_dir / f"{name}.gz", raw_dir / f"{name}.zip"):
            if candidate.is_file():
                return candidate
    if required:
        expected = " or ".join(f"{n}[.gz|.zip]" for n in names)
        raise InputError(f"missing input file in {raw_dir}: expected {expected}")
    return None


def read_stored(path: Path, max_bytes: int) -> bytes:
    """The file's bytes as stored (compressed or not), refused when larger than ``max_bytes``."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"{path.name}: {size:,} bytes, more than the {max_bytes:,} accepted (MOVIEREC_MAX_INPUT_BYTES)"
            )
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None


def decompress(path: Path, data: bytes, max_bytes: int) -> bytes:
    """The CSV bytes of a raw file's content: as is, gunzipped, or the first .csv of a zip.

    Decompression streams: it stops as soon as the output would exceed ``max_bytes`` (a zip bomb
    costs at most that much memory and time), and the first bytes are checked to be a CSV header
    (:func:`check_head`) before the rest is inflated. Not gzip, not zip, a truncated or corrupt
    archive: :class:`InputError` naming the file. Plain files are returned as they are (their size
    was checked by :func:`read_stored`, their text is checked by :func:`read_table`).
    """
    if path.suffix not in (".gz", ".zip"):
        return data
    kind = "gzip" if path.suffix == ".gz" else "zip"
    try:
        if kind == "gzip":
            return _inflate(path, gzip.GzipFile(fileobj=io.BytesIO(data)), max_bytes)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if m.filename.endswith(".csv")] or archive.infolist()
            if not members:
                raise InputError(f"{path.name}: the zip archive is empty")
            if members[0].file_size > max_bytes:  # the size it records is the most zipfile inflates
                raise _too_large(path, max_bytes)
            with archive.open(members[0]) as member:
                return _inflate(path, member, max_bytes)
    except InputError:
        raise
    except EOFError:
        raise InputError(f"{path.name}: the {kind} file is truncated (it ends before its end marker)") from None
    except (OSError, zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, ValueError) as exc:
        raise InputError(f"{path.name}: not a valid {kind} file ({quote(str(exc))})") from None


class _Stream(Protocol):
    """What is inflated: a gzip file or a zip member, read a chunk at a time."""

    def read(self, size: int = -1, /) -> bytes: ...


def _inflate(path: Path, stream: _Stream, max_bytes: int) -> bytes:
    # BytesIO grows in place and getvalue() hands its buffer over: no second copy of the output.
    out = io.BytesIO()
    checked = False
    while chunk := stream.read(CHUNK):
        if out.tell() + len(chunk) > max_bytes:
            raise _too_large(path, max_bytes)
        out.write(chunk)
        if not checked and out.tell() >= HEAD_BYTES:
            check_head(path, out.getbuffer()[:HEAD_BYTES].tobytes(), at_end=False)
            checked = True
    data = out.getvalue()
    if not checked:
        check_head(path, data, at_end=True)
    return data


def _too_large(path: Path, max_bytes: int) -> InputError:
    return InputError(
        f"{path.name}: more than {max_bytes:,} bytes once decompressed, the most accepted (MOVIEREC_MAX_INPUT_BYTES)"
    )


def check_head(path: Path, head: bytes, *, at_end: bool) -> None:
    """Refuse, from its first bytes, a file that is no CSV text: binary data, a first line longer
    than ``HEAD_BYTES`` (a NUL-filled or line-less file), CR-only line endings."""
    if b"\x00" in head:
        raise InputError(
            f"{path.name}: binary data, not CSV text (a NUL byte on line {_line_of(head, head.index(0)):,})"
        )
    end = head.find(b"\n")
    if end < 0 and not at_end:
        raise InputError(
            f"{path.name}: no line break in its first {HEAD_BYTES:,} bytes: not a CSV file "
            f"(it starts with {quote(head[:QUOTE_CHARS].decode('utf-8', 'replace'))!r})"
        )
    first_line = head[: end if end >= 0 else len(head)].rstrip(b"\r")
    if b"\r" in first_line:
        raise InputError(
            f"{path.name}: its lines end with CR only (classic Mac OS); save it with LF or CRLF line endings"
        )


def check_text(path: Path, data: bytes) -> None:
    """Refuse binary data anywhere in the file (a NUL byte): found at C speed, before any parse."""
    at = data.find(b"\x00")
    if at >= 0:
        raise InputError(f"{path.name}: binary data, not CSV text (a NUL byte on line {_line_of(data, at):,})")


def to_utf8(path: Path, data: bytes) -> tuple[bytes, str]:
    """``data`` as UTF-8, and the encoding it was read in: UTF-8 as is, else cp1252 (Windows'
    Western code page, a superset of latin-1's printable characters, what Excel writes).

    A file that is UTF-8 up to some bytes that are not (mixed encodings), or that holds bytes no
    cp1252 text has (binary data), is refused, naming the line.
    """
    at = _first_invalid_utf8(data)
    if at is None:
        return data, "utf-8"
    if _NON_ASCII.search(data, 0, at):
        raise InputError(
            f"{path.name}: invalid UTF-8 on line {_line_of(data, at):,} (byte 0x{data[at]:02x}) "
            "in a file that is UTF-8 before it: mixed encodings; re-export it as UTF-8"
        )
    if bad := _NOT_CP1252.search(data):
        raise InputError(
            f"{path.name}: neither UTF-8 nor cp1252 text (byte 0x{data[bad.start()]:02x} on line "
            f"{_line_of(data, bad.start()):,}): binary data?"
        )
    out = io.BytesIO()
    for start in range(0, len(data), CHUNK):  # one byte is one character: any cut is safe
        out.write(data[start : start + CHUNK].decode("cp1252").encode("utf-8"))
    return out.getvalue(), "cp1252"


def _first_invalid_utf8(data: bytes) -> int | None:
    """Offset of the first byte that is not UTF-8, decoding 1 MB at a time (no copy of the file)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), CHUNK):
        pending = len(decoder.getstate()[0])  # bytes of a character cut by the previous chunk
        try:
            decoder.decode(data[start : start + CHUNK], final=start + CHUNK >= len(data))
        except UnicodeDecodeError as exc:
            return start - pending + exc.start
    return None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    """A raw file's CSV bytes (decompressed), at most ``max_bytes`` (default: the default of the
    ``max_input_bytes`` setting; callers with settings pass theirs)."""
    if max_bytes is None:
        from movierec.config import Settings

        max_bytes = Settings().max_input_bytes
    return decompress(path, read_stored(path, max_bytes), max_bytes)


def declared_size(path: Path) -> int | None:
    """The bytes a raw file declares it holds once decompressed, without decompressing it: a plain
    file's size, a zip member's recorded size (which :mod:`zipfile` enforces: a member that
    inflates to more fails its check), a gzip trailer's size (modulo 4 GiB, so trusted only when
    at least the stored size). None when unknown or unreadable (:func:`decompress` then says why).
    """
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.infolist() if m.filename.endswith(".csv")] or archive.infolist()
                return members[0].file_size if members else None
        size = path.stat().st_size
        if path.suffix == ".gz":
            with path.open("rb") as handle:
                handle.seek(max(size - 4, 0))
                declared = int.from_bytes(handle.read(4), "little")
            return declared if declared >= size else None
        return size
    except (OSError, zipfile.BadZipFile, ValueError):
        return None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_columns(path: Path, header: list[str], expected: tuple[str, ...]) -> None:
    missing = [c for c in expected if c not in header]
    if missing:
        raise InputError(f"{path.name}: missing columns {', '.join(missing)} (found: {quote(', '.join(header))})")
