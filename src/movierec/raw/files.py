"""The edge where raw Kaggle files come in: finding them, decompressing them, checksums, CSV records.

Everything here does I/O; the cleaning rules live in :mod:`movierec.etl` as pure functions.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import re
import sys
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, NamedTuple

import polars as pl

MOVIES_NAMES = ("movies_metadata.csv", "movies_dataset.csv")
MOVIES_COLUMNS = (
    "adult", "belongs_to_collection", "budget", "genres", "homepage", "id", "imdb_id",
    "original_language", "original_title", "overview", "popularity", "poster_path",
    "production_companies", "production_countries", "release_date", "revenue", "runtime",
    "spoken_languages", "status", "tagline", "title", "video", "vote_average", "vote_count",
)
CREDITS_COLUMNS = ("cast", "crew", "id")
KEYWORDS_COLUMNS = ("id", "keywords")


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
            raise InputError(f"{path.name}: {size:,} bytes, more than the {max_bytes:,} accepted "
                             "(MOVIEREC_MAX_INPUT_BYTES)")
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
            members = [m for m in archive.namelist() if m.endswith(".csv")] or archive.namelist()
            if not members:
                raise InputError(f"{path.name}: the zip archive is empty")
            with archive.open(members[0]) as member:
                return _inflate(path, member, max_bytes)
    except InputError:
        raise
    except EOFError:
        raise InputError(f"{path.name}: the {kind} file is truncated (it ends before its end marker)") from None
    except (OSError, zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, ValueError) as exc:
        raise InputError(f"{path.name}: not a valid {kind} file ({quote(str(exc))})") from None


def _inflate(path: Path, stream: BinaryIO, max_bytes: int) -> bytes:
    # BytesIO grows in place and getvalue() hands its buffer over: no second copy of the output.
    out = io.BytesIO()
    checked = False
    while chunk := stream.read(CHUNK):
        if out.tell() + len(chunk) > max_bytes:
            raise InputError(f"{path.name}: more than {max_bytes:,} bytes once decompressed, the most "
                             "accepted (MOVIEREC_MAX_INPUT_BYTES)")
        out.write(chunk)
        if not checked and out.tell() >= HEAD_BYTES:
            check_head(path, out.getbuffer()[:HEAD_BYTES].tobytes(), at_end=False)
            checked = True
    data = out.getvalue()
    if not checked:
        check_head(path, data, at_end=True)
    return data


def check_head(path: Path, head: bytes, *, at_end: bool) -> None:
    """Refuse, from its first bytes, a file that is no CSV text: binary data, a first line longer
    than ``HEAD_BYTES`` (a NUL-filled or line-less file), CR-only line endings."""
    if b"\x00" in head:
        raise InputError(f"{path.name}: binary data, not CSV text (a NUL byte on line {_line_of(head, head.index(0)):,})")
    end = head.find(b"\n")
    if end < 0 and not at_end:
        raise InputError(f"{path.name}: no line break in its first {HEAD_BYTES:,} bytes: not a CSV file "
                         f"(it starts with {quote(head[:QUOTE_CHARS].decode('utf-8', 'replace'))!r})")
    first_line = head[: end if end >= 0 else len(head)].rstrip(b"\r")
    if b"\r" in first_line:
        raise InputError(f"{path.name}: its lines end with CR only (classic Mac OS); save it with LF or "
                         "CRLF line endings")


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
        raise InputError(f"{path.name}: invalid UTF-8 on line {_line_of(data, at):,} (byte 0x{data[at]:02x}) "
                         "in a file that is UTF-8 before it: mixed encodings; re-export it as UTF-8")
    if bad := _NOT_CP1252.search(data):
        raise InputError(f"{path.name}: neither UTF-8 nor cp1252 text (byte 0x{data[bad.start()]:02x} on line "
                         f"{_line_of(data, bad.start()):,}): binary data?")
    out = io.BytesIO()
    for start in range(0, len(data), CHUNK):  # one byte is one character: any cut is safe
        out.write(data[start:start + CHUNK].decode("cp1252").encode("utf-8"))
    return out.getvalue(), "cp1252"


def _first_invalid_utf8(data: bytes) -> int | None:
    """Offset of the first byte that is not UTF-8, decoding 1 MB at a time (no copy of the file)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), CHUNK):
        pending = len(decoder.getstate()[0])  # bytes of a character cut by the previous chunk
        try:
            decoder.decode(data[start:start + CHUNK], final=start + CHUNK >= len(data))
        except UnicodeDecodeError as exc:
            return start - pending + exc.start
    return None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    """A raw file's CSV bytes (decompressed), at most ``max_bytes`` (default: the setting)."""
    if max_bytes is None:
        from movierec.config import get_settings

        max_bytes = get_settings().max_input_bytes
    return decompress(path, read_stored(path, max_bytes), max_bytes)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_columns(path: Path, header: list[str], expected: tuple[str, ...]) -> None:
    missing = [c for c in expected if c not in header]
    if missing:
        raise InputError(f"{path.name}: missing columns {', '.join(missing)} "
                         f"(found: {quote(', '.join(header))})")


class Ragged(NamedTuple):
    """A record whose field count does not match the header, kept as its text: a file of a
    million such records costs its text once, not a Python string per field."""

    record: int  # 0-based record number
    line: int  # 1-based physical line it starts on
    lines: int  # physical lines it spans
    width: int  # its field count
    text: str  # the record as in the file, without its final line break

    def fields(self) -> list[str]:
        return parse_record(self.text)


@dataclass(frozen=True)
class Table:
    """A CSV read as text columns, plus what a CSV reader saw that did not fit the header.

    ``frame`` holds the well-formed records in file order with ``_record`` (0-based record number,
    as pandas counts rows) and ``_line`` (1-based physical line the record starts on).
    ``ragged`` lists the records with a wrong field count, in file order.
    """

    frame: pl.DataFrame
    ragged: list[Ragged]
    encoding: str = "utf-8"  # what the file was decoded as (see :func:`to_utf8`)

    @property
    def rows_read(self) -> int:
        return self.frame.height + len(self.ragged)


def parse_record(text: str) -> list[str]:
    """The fields of one CSV record (which may span lines)."""
    csv.field_size_limit(sys.maxsize)
    return next(csv.reader(io.StringIO(text, newline="")), [])


def read_table(data: bytes, path: Path, expected: tuple[str, ...], max_lines: int | None = None) -> Table:
    """Read a raw CSV as text columns, keeping every record and where it starts.

    Polars reads it and pads a record that has too few fields with empty strings; so the records
    whose last field is empty are read again with Python's csv module to learn their true field
    count (a handful, even in the full files). A record with too many fields makes Polars stop;
    then the Arrow reader, which reports each such record, reads the file instead.

    Text that is not CSV is refused (:func:`check_head`, :func:`check_text`); a UTF-8 byte order
    mark is skipped; a file that is not UTF-8 is read as cp1252 when it is that (:func:`to_utf8`),
    which ``Table.encoding`` records. A file of more than ``max_lines`` lines is refused before it
    is parsed: in columns, every record costs memory beyond its bytes (16 bytes a field), so a
    file of many short lines would need gigabytes however few bytes it has.
    """
    check_head(path, data[:HEAD_BYTES], at_end=len(data) <= HEAD_BYTES)
    check_text(path, data)
    if max_lines is not None and (lines := data.count(b"\n")) > max_lines:
        raise InputError(f"{path.name}: {lines:,} lines, more than the {max_lines:,} accepted "
                         "(MOVIEREC_MAX_INPUT_LINES)")
    header_end = data.find(b"\n")
    header_line = data[: header_end if header_end >= 0 else len(data)].decode("utf-8", "replace")
    header = parse_record(header_line.removeprefix("\ufeff"))
    if not header or header == [""]:
        raise InputError(f"{path.name}: the file is empty, expected a CSV header with {', '.join(expected)}")
    check_columns(path, header, expected)
    try:
        frame = pl.read_csv(data, infer_schema=False, empty_string_is_null=False)
    except pl.exceptions.ComputeError as exc:
        if "utf-8" in str(exc).lower():
            text, encoding = to_utf8(path, data)
            if encoding != "utf-8":
                return replace(read_table(text, path, expected, max_lines), encoding=encoding)
        return _read_with_arrow(data, path, header)
    frame = frame.select(pl.col(c).cast(pl.String) for c in header)
    lines = _start_lines(frame)
    frame = frame.with_columns(_record=pl.int_range(frame.height, dtype=pl.Int64), _line=lines)
    suspect = frame[header[-1]] == ""
    if not suspect.any():
        return Table(frame, [])
    # Only the three small columns are filtered: copying every column of the suspects costs as
    # much as the frame when (in a hostile file) every record is one.
    spans = frame.select("_record", "_line", _line_breaks(header).alias("n")).filter(suspect).rows()
    del suspect
    ragged = []
    for (record, line, count), (start, end) in zip(spans, _spans(data, spans)):
        text = data[start:end].decode("utf-8", "replace")
        width = len(parse_record(text))
        if width != len(header):
            ragged.append(Ragged(record, line, count + 1, width, text))
    del spans
    if ragged:
        frame = frame.filter(~pl.col("_record").is_in([r.record for r in ragged]))
    return Table(frame, ragged)


def _spans(data: bytes, spans: list[tuple[int, int, int]]) -> Iterator[tuple[int, int]]:
    """(start, end) byte offsets of each (record, first line, inner line breaks) of ``spans``
    (in file order), without its final line break: one forward walk over the lines."""
    line, offset = 1, 0  # `offset` is where physical line `line` starts (past the end: len + 1)

    def advance(to: int) -> int:
        nonlocal line, offset
        while line < to and offset <= len(data):
            found = data.find(b"\n", offset)
            offset = found + 1 if found >= 0 else len(data) + 1
            line += 1
        return offset

    for _, first, breaks in spans:
        start = advance(first)
        yield start, min(advance(first + breaks + 1) - 1, len(data))


def _line_breaks(columns: list[str]) -> pl.Expr:
    return pl.sum_horizontal(pl.col(c).str.count_matches("\n", literal=True) for c in columns)


def _start_lines(frame: pl.DataFrame) -> pl.Series:
    """1-based physical line each record starts on: after the header, 1 + its inner line breaks."""
    return frame.select(
        (_line_breaks(frame.columns) + 1).cum_sum().shift(1, fill_value=0).cast(pl.Int64) + 2
    ).to_series()


def _read_with_arrow(data: bytes, path: Path, header: list[str]) -> Table:
    """Read with the Arrow reader, which reports every record whose field count is wrong."""
    # Imported here: pyarrow costs a third of a second, and well-formed files never need it.
    import pyarrow as pa
    import pyarrow.csv as pacsv

    ragged_text: list[str] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        ragged_text.append(row.text)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowException, ValueError) as exc:
        raise InputError(f"{path.name}: cannot be read as CSV ({quote(str(exc))})") from None
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return _locate(frame.select(pl.col(c).cast(pl.String) for c in header), data, ragged_text)


def _locate(frame: pl.DataFrame, data: bytes, ragged_text: list[str]) -> Table:
    """Give every record its record number and first physical line.

    Well-formed records advance the line by 1 + the line breaks inside their fields; the few
    ragged records are found by their text in the raw bytes and spliced in by line. Linear in the
    file: the line breaks are counted from one ragged record to the next, and every well-formed
    record's shift is found by a binary search (a file of ragged records is no slower per record
    than a file with a handful).
    """
    lines = _start_lines(frame)
    found: list[Ragged] = []
    start, at, line = 0, 0, 1  # `line` is the physical line of byte `at`
    for text in ragged_text:
        raw = text.encode("utf-8")
        offset = data.find(raw, start)
        if offset < 0:
            offset = max(data.find(raw), 0)
        if offset < at:  # not after the previous one: count from the start again
            at, line = 0, 1
        line += data.count(b"\n", at, offset)
        at, start = offset, offset + 1
        found.append(Ragged(-1, line, text.count("\n") + 1, len(parse_record(text)), text))
    del ragged_text
    found.sort(key=lambda item: item.line)
    ragged_lines = pl.Series([r.line for r in found], dtype=pl.Int64)
    spans = pl.Series([r.lines for r in found], dtype=pl.Int64)
    if found:
        # A well-formed record that would start on line L if no ragged record existed comes after
        # ragged record k when L >= (k's line - the lines of the ragged records before k).
        shifted = spans.cum_sum()
        thresholds = ragged_lines - (shifted - spans)
        after = thresholds.search_sorted(lines, side="right")
        lines = lines + pl.concat([pl.Series([0], dtype=pl.Int64), shifted]).gather(after)
    # A record's number counts the records before it, well-formed or ragged.
    records = pl.int_range(frame.height, dtype=pl.Int64, eager=True) + ragged_lines.search_sorted(lines)
    before = lines.search_sorted(ragged_lines) if found else pl.Series([], dtype=pl.UInt32)
    ragged = [r._replace(record=int(before[i]) + i) for i, r in enumerate(found)]
    frame = frame.with_columns(_record=records.cast(pl.Int64), _line=lines)
    return Table(frame, ragged)
