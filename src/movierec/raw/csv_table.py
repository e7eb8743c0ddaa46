"""Raw CSV text read into columns, with every record's number and first line, and the records
whose field count does not fit the header kept aside (:class:`Ragged`).

I/O-free but bound to the raw files' bytes; the checks on the bytes (binary data, encodings, line
breaks) are in :mod:`movierec.raw.files`.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import NamedTuple

import polars as pl

from movierec.raw.files import HEAD_BYTES, InputError, check_columns, check_head, check_text, quote, to_utf8


class Ragged(NamedTuple):
    """A record whose field count does not match the header: where it is, its key, and its text
    when kept (see :func:`read_table`); never a Python string per field, so that a file of a
    million such records costs at most its text."""

    record: int  # 0-based record number
    line: int  # 1-based physical line it starts on
    lines: int  # physical lines it spans
    width: int  # its field count
    key: str | None  # its field in the key column's position, when it has one
    text: str | None  # the record as in the file, without its final line break; None: not kept

    def fields(self) -> list[str]:
        assert self.text is not None, "the text of this record was not kept"
        return parse_record(self.text)


class _RaggedList:
    """Ragged records in file order, keeping the text of those a reader may need: the first
    ``keep`` of each field count (all when None) and both halves of a possibly broken record (two
    adjacent records whose field counts add up to the header's plus one)."""

    def __init__(self, width: int, keep: int | None) -> None:
        self.width, self.keep = width, keep
        self.records: list[Ragged] = []
        self.seen: dict[int, int] = {}
        self.last_needed = False

    def add(self, record: Ragged) -> None:
        self.seen[record.width] = self.seen.get(record.width, 0) + 1
        needed = self.keep is None or self.seen[record.width] <= self.keep
        if self.records:
            last = self.records[-1]
            if record.line == last.line + last.lines and last.width + record.width - 1 == self.width:
                needed = True  # and the last one keeps its text too
            elif not self.last_needed:
                self.records[-1] = last._replace(text=None)
        self.records.append(record)
        self.last_needed = needed

    def done(self) -> list[Ragged]:
        if self.records and not self.last_needed:
            self.records[-1] = self.records[-1]._replace(text=None)
        return self.records


def _ragged(record: int, line: int, text: str, key_index: int | None) -> Ragged:
    fields = parse_record(text)
    key = fields[key_index] if key_index is not None and key_index < len(fields) else None
    return Ragged(record, line, text.count("\n") + 1, len(fields), key, text)


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


def read_table(
    data: bytes,
    path: Path,
    expected: tuple[str, ...],
    max_lines: int | None = None,
    *,
    key: str | None = None,
    ragged_texts: int | None = None,
) -> Table:
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

    Each ragged record keeps its field in the ``key`` column's position (e.g. its id), and its text
    when it is among the first ``ragged_texts`` of its field count (None: all) or may be half of a
    record a line break split (:class:`_RaggedList`).
    """
    check_head(path, data[:HEAD_BYTES], at_end=len(data) <= HEAD_BYTES)
    check_text(path, data)
    if max_lines is not None and (lines := data.count(b"\n")) > max_lines:
        raise InputError(
            f"{path.name}: {lines:,} lines, more than the {max_lines:,} accepted (MOVIEREC_MAX_INPUT_LINES)"
        )
    header_end = data.find(b"\n")
    header_line = data[: header_end if header_end >= 0 else len(data)].decode("utf-8", "replace")
    header = parse_record(header_line.removeprefix("\ufeff"))
    if not header or header == [""]:
        raise InputError(f"{path.name}: the file is empty, expected a CSV header with {', '.join(expected)}")
    check_columns(path, header, expected)
    frame: pl.DataFrame | None = None
    not_utf8 = False
    try:
        frame = pl.read_csv(data, infer_schema=False, empty_string_is_null=False)
    except pl.exceptions.ComputeError as exc:
        not_utf8 = "utf-8" in str(exc).lower()
    # Out of the except block: its traceback holds Polars' frames, and they hold the bytes.
    if frame is None:
        if not_utf8:
            text, encoding = to_utf8(path, data)
            if encoding != "utf-8":
                del data  # the UTF-8 copy replaces it (freed here when the caller kept no reference)
                return replace(
                    read_table(text, path, expected, max_lines, key=key, ragged_texts=ragged_texts), encoding=encoding
                )
        return _read_with_arrow(data, path, header, key, ragged_texts)
    frame = frame.select(pl.col(c).cast(pl.String) for c in header)
    breaks = frame.select(_line_breaks(header)).to_series()
    frame = frame.with_columns(_record=pl.int_range(frame.height, dtype=pl.Int64), _line=_start_lines(breaks))
    suspect = frame[header[-1]] == ""
    if not suspect.any():
        return Table(frame, [])
    # Only three small columns are filtered, and turned into Python tuples a slice at a time:
    # when (in a hostile file) every record is a suspect, anything more costs as much as the frame.
    spans = frame.select("_record", "_line", breaks.alias("n")).filter(suspect)
    del suspect, breaks
    key_index = header.index(key) if key in header else None
    kept = _RaggedList(len(header), ragged_texts)
    rows = chain.from_iterable(part.rows() for part in spans.iter_slices(1 << 16))
    for record, line, start, end in _spans(data, rows):
        parsed = _ragged(record, line, data[start:end].decode("utf-8", "replace"), key_index)
        if parsed.width != len(header):
            kept.add(parsed)
    del spans
    ragged = kept.done()
    if ragged:
        # A record's number is its row here; a mask built by position costs a bit a row (is_in
        # over a million numbers costs hundreds of MB).
        positions = pl.Series([r.record for r in ragged], dtype=pl.Int64)
        frame = frame.filter(pl.repeat(True, frame.height, eager=True).scatter(positions, False))
    return Table(frame, ragged)


def _spans(data: bytes, spans: Iterable[tuple[int, int, int]]) -> Iterator[tuple[int, int, int, int]]:
    """(record, first line, start, end): the bytes of each (record, first line, inner line breaks)
    of ``spans`` (in file order), without its final line break; one forward walk over the lines."""
    line, offset = 1, 0  # `offset` is where physical line `line` starts (past the end: len + 1)

    def advance(to: int) -> int:
        nonlocal line, offset
        while line < to and offset <= len(data):
            found = data.find(b"\n", offset)
            offset = found + 1 if found >= 0 else len(data) + 1
            line += 1
        return offset

    for record, first, breaks in spans:
        start = advance(first)
        yield record, first, start, min(advance(first + breaks + 1) - 1, len(data))


def _line_breaks(columns: list[str]) -> pl.Expr:
    return pl.sum_horizontal(pl.col(c).str.count_matches("\n", literal=True) for c in columns)


def _start_lines(breaks: pl.Series) -> pl.Series:
    """1-based physical line each record starts on, from the line breaks inside each record:
    after the header, 1 + its inner line breaks."""
    return ((breaks + 1).cum_sum().shift(1, fill_value=0).cast(pl.Int64) + 2).alias("_line")


def _read_with_arrow(data: bytes, path: Path, header: list[str], key: str | None, ragged_texts: int | None) -> Table:
    """Read with the Arrow reader, which reports every record whose field count is wrong."""
    # Imported here: pyarrow costs a third of a second, and well-formed files never need it.
    import pyarrow as pa  # type: ignore[import-untyped]  # it ships no type hints
    import pyarrow.csv as pacsv  # type: ignore[import-untyped]

    ragged_text: list[str] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        ragged_text.append(row.text)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            # One thread: the invalid rows then reach the handler in file order, which _locate's
            # single forward pass needs (with threads, blocks report out of order).
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in header}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowException, ValueError) as exc:
        raise InputError(f"{path.name}: cannot be read as CSV ({quote(str(exc))})") from None
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.select(pl.col(c).cast(pl.String) for c in header)
    kept = _RaggedList(len(header), ragged_texts)
    return _locate(frame, data, ragged_text, header.index(key) if key in header else None, kept)


def _locate(
    frame: pl.DataFrame, data: bytes, ragged_text: list[str], key_index: int | None, kept: _RaggedList
) -> Table:
    """Give every record its record number and first physical line.

    Well-formed records advance the line by 1 + the line breaks inside their fields; the few
    ragged records are found by their text in the raw bytes and spliced in by line. Linear in the
    file: the line breaks are counted from one ragged record to the next, and every well-formed
    record's shift is found by a binary search (a file of ragged records is no slower per record
    than a file with a handful).
    """
    lines = _start_lines(frame.select(_line_breaks(frame.columns)).to_series())
    found: list[Ragged] = []
    start, at, line = 0, 0, 1  # `line` is the physical line of byte `at`
    for text in ragged_text:
        raw = text.encode("utf-8")
        # Most often a ragged record follows the previous one: a comparison, not a search.
        offset = start if data.startswith(raw, start) else data.find(raw, start)
        if offset < 0:
            offset = max(data.find(raw), 0)
        if offset < at:  # not after the previous one: count from the start again
            at, line = 0, 1
        line += data.count(b"\n", at, offset)
        at, start = offset, offset + len(raw) + (data[offset + len(raw) : offset + len(raw) + 2] == b"\r\n") + 1
        found.append(_ragged(-1, line, text, key_index))
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
    for i, record in enumerate(found):
        kept.add(record._replace(record=int(before[i]) + i))
    frame = frame.with_columns(_record=records.cast(pl.Int64), _line=lines)
    return Table(frame, kept.done())
