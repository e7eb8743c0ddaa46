"""The edge where raw Kaggle files come in: finding them, decompressing them, checksums, CSV records.

Everything here does I/O; the cleaning rules live in :mod:`movierec.etl` as pure functions.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

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
    """Raw input that cannot be used at all (missing file, missing columns): exit code 2."""


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


def decompress(path: Path, data: bytes) -> bytes:
    """The CSV bytes of a raw file's content: as is, gunzipped, or the first .csv of a zip."""
    if path.suffix == ".gz":
        return gzip.decompress(data)
    if path.suffix == ".zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.namelist() if m.endswith(".csv")] or archive.namelist()
            if not members:
                raise InputError(f"{path}: the zip archive is empty")
            return archive.read(members[0])
    return data


def read_bytes(path: Path) -> bytes:
    return decompress(path, path.read_bytes())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_columns(path: Path, header: list[str], expected: tuple[str, ...]) -> None:
    missing = [c for c in expected if c not in header]
    if missing:
        raise InputError(f"{path.name}: missing columns {', '.join(missing)} (found: {', '.join(header)})")


@dataclass(frozen=True)
class Table:
    """A CSV read as text columns, plus what a CSV reader saw that did not fit the header.

    ``frame`` holds the well-formed records in file order with ``_record`` (0-based record number,
    as pandas counts rows) and ``_line`` (1-based physical line the record starts on).
    ``ragged`` lists the records with a wrong field count as (record, line, line count, fields).
    """

    frame: pl.DataFrame
    ragged: list[tuple[int, int, int, list[str]]]

    @property
    def rows_read(self) -> int:
        return self.frame.height + len(self.ragged)


def _parse_row_text(text: str) -> list[str]:
    csv.field_size_limit(sys.maxsize)
    return next(csv.reader(io.StringIO(text, newline="")), [])


def read_table(data: bytes, path: Path, expected: tuple[str, ...]) -> Table:
    """Read a raw CSV as text columns, keeping every record and where it starts.

    Polars reads it and pads a record that has too few fields with empty strings; so the records
    whose last field is empty are read again with Python's csv module to learn their true field
    count (a handful, even in the full files). A record with too many fields makes Polars stop;
    then the Arrow reader, which reports each such record, reads the file instead.
    """
    header_end = data.find(b"\n")
    header = _parse_row_text(data[: header_end if header_end >= 0 else len(data)].decode("utf-8", "replace"))
    if not header or header == [""]:
        raise InputError(f"{path.name}: the file is empty, expected a CSV header with {', '.join(expected)}")
    check_columns(path, header, expected)
    try:
        frame = pl.read_csv(data, infer_schema=False, empty_string_is_null=False)
    except pl.exceptions.ComputeError:
        return _read_with_arrow(data, header)
    frame = frame.select(pl.col(c).cast(pl.String) for c in header)
    lines = _start_lines(frame)
    frame = frame.with_columns(_record=pl.int_range(frame.height, dtype=pl.Int64), _line=lines)
    suspects = frame.filter(pl.col(header[-1]) == "")
    if not suspects.height:
        return Table(frame, [])
    spans = suspects.select("_record", "_line", _line_breaks(header).alias("n")).rows()
    # Where each suspect's lines start and where the line after it starts, in one walk.
    offsets = _line_offsets(data, sorted({b for _, line, n in spans for b in (line, line + n + 1)}))
    ragged = []
    for record, line, count in spans:
        end = min(offsets[line + count + 1] - 1, len(data))
        fields = _parse_row_text(data[offsets[line]:end].decode("utf-8", "replace"))
        if len(fields) != len(header):
            ragged.append((record, line, count + 1, fields))
    if ragged:
        frame = frame.filter(~pl.col("_record").is_in([r[0] for r in ragged]))
    return Table(frame, ragged)


def _line_offsets(data: bytes, lines: list[int]) -> dict[int, int]:
    """Byte offset where each 1-based physical line in ``lines`` (sorted) starts; past the end of
    the data a line starts at len(data) + 1."""
    offsets: dict[int, int] = {}
    line, offset = 1, 0
    for wanted in lines:
        while line < wanted and offset <= len(data):
            found = data.find(b"\n", offset)
            offset = found + 1 if found >= 0 else len(data) + 1
            line += 1
        offsets[wanted] = offset
    return offsets


def _line_breaks(columns: list[str]) -> pl.Expr:
    return pl.sum_horizontal(pl.col(c).str.count_matches("\n", literal=True) for c in columns)


def _start_lines(frame: pl.DataFrame) -> pl.Series:
    """1-based physical line each record starts on: after the header, 1 + its inner line breaks."""
    return frame.select(
        (_line_breaks(frame.columns) + 1).cum_sum().shift(1, fill_value=0).cast(pl.Int64) + 2
    ).to_series()


def _read_with_arrow(data: bytes, header: list[str]) -> Table:
    """Read with the Arrow reader, which reports every record whose field count is wrong."""
    # Imported here: pyarrow costs a third of a second, and well-formed files never need it.
    import pyarrow as pa
    import pyarrow.csv as pacsv

    ragged_text: list[str] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        ragged_text.append(row.text)
        return "skip"

    table = pacsv.read_csv(
        pa.py_buffer(data),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header}, strings_can_be_null=False
        ),
    )
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return _locate(frame.select(pl.col(c).cast(pl.String) for c in header), data, ragged_text)


def _locate(frame: pl.DataFrame, data: bytes, ragged_text: list[str]) -> Table:
    """Give every record its record number and first physical line.

    Well-formed records advance the line by 1 + the line breaks inside their fields; the few
    ragged records are found by their text in the raw bytes and spliced in by line.
    """
    lines = _start_lines(frame)
    found: list[tuple[int, int, list[str]]] = []
    start = 0
    for text in ragged_text:
        raw = text.encode("utf-8")
        offset = data.find(raw, start)
        if offset < 0:
            offset = data.find(raw)
        start = offset + 1
        found.append((data.count(b"\n", 0, offset) + 1, text.count("\n") + 1, _parse_row_text(text)))
    found.sort(key=lambda item: item[0])
    for line, count, _ in found:
        lines = lines + pl.Series((lines >= line).cast(pl.Int64) * count)
    ragged_lines = pl.Series([line for line, _, _ in found], dtype=pl.Int64)
    # A record's number counts the records before it, well-formed or ragged.
    records = pl.int_range(frame.height, dtype=pl.Int64, eager=True) + ragged_lines.search_sorted(lines)
    before = lines.search_sorted(ragged_lines) if found else pl.Series([], dtype=pl.UInt32)
    ragged = [
        (int(before[i]) + i, line, count, fields) for i, (line, count, fields) in enumerate(found)
    ]
    frame = frame.with_columns(_record=records.cast(pl.Int64), _line=lines)
    return Table(frame, ragged)
