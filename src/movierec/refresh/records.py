"""Raw CSV files as keyed records, for merging: read with the ETL's reader, written back as CSV.

A file is read by :func:`movierec.raw.csv_table.read_table` (the reader the ETL uses), so a record is
what the ETL will see: the well-formed records as text columns, and the records with a wrong field
count (``ragged``) as their fields. Each record gets the TMDB id it belongs to (``key``), parsed by
the ETL's rule for ids; a record whose id is not a positive integer has no key and is never matched.
In movies_metadata.csv the two halves of a record broken over two lines (which the ETL joins again)
share the key of the joined record, so they are replaced or removed together.

Writing keeps every record's fields exactly as read (Polars' CSV writer for the well-formed ones,
Python's for the ragged ones, quoting what must be quoted), in the order given, with ``\\n`` line
ends: reading the written file gives back the same records, and the ETL applies the same rules.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import polars as pl

from movierec.etl.quarantine import repair_broken_records
from movierec.raw.csv_table import read_table

# ASCII digits only: "\d" also matches "٣" or "３", which int() accepts and the ETL does not.
ID_PATTERN = re.compile(r"[0-9]{1,18}")
RECORD = "_record"
KEY = "_key"


def record_key(text: str | None) -> int | None:
    """The TMDB id a raw ``id`` field designates, by the ETL's rule (a positive integer, spaces
    around allowed), else None.

    >>> record_key(" 862 "), record_key("1997-08-20"), record_key("0"), record_key(None)
    (862, None, None, None)
    """
    if text is None:
        return None
    stripped = text.strip()
    return int(stripped) if ID_PATTERN.fullmatch(stripped) and int(stripped) > 0 else None


def key_expr(column: str = "id") -> pl.Expr:
    """:func:`record_key` over a whole text column."""
    text = pl.col(column).str.strip_chars()
    value = text.cast(pl.Int64, strict=False)
    return pl.when(text.str.contains(r"^[0-9]{1,18}$") & (value > 0)).then(value)


@dataclass(frozen=True)
class Ragged:
    """A record with a wrong field count: its number in its file, fields, and key."""

    record: int
    fields: list[str]
    key: int | None


@dataclass(frozen=True)
class Records:
    """One raw file as records: ``frame`` holds the well-formed ones (the ``header`` columns as
    text, ``_record`` their number in the file, ``_key``), ``ragged`` the others."""

    name: str  # the file's name without compression suffix, e.g. movies_metadata.csv
    header: list[str]
    frame: pl.DataFrame
    ragged: list[Ragged] = field(default_factory=list)
    # Records broken over two lines as the ETL joins them: (first half's number, joined fields).
    joined: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.frame.height + len(self.ragged)

    def keys(self) -> set[int]:
        """Every key held, well-formed or ragged."""
        found = set(self.frame[KEY].drop_nulls().to_list())
        return found | {r.key for r in self.ragged if r.key is not None}


def plain_name(path: Path) -> str:
    return path.name.removesuffix(".gz").removesuffix(".zip")


def read_records(
    data: bytes, path: Path, expected: tuple[str, ...], *, rejoin: bool = False, key: str = "id"
) -> Records:
    """The records of one raw file's CSV bytes, keyed by the film id in column ``key`` (titles.csv:
    ``movie_id``). ``rejoin``: records broken over two lines share the key of the record the ETL
    joins them into (movies_metadata.csv)."""
    table = read_table(data, path, expected, key=key)  # every ragged record's text kept: it is merged
    header = [c for c in table.frame.columns if not c.startswith("_")]
    frame = table.frame.select(*header, RECORD).with_columns(key_expr(key).alias(KEY))
    id_index = header.index(key)
    keys: dict[int, int | None] = {}
    joined: list[tuple[int, int, list[str]]] = []
    if rejoin:
        joined, _ = repair_broken_records(table.ragged, len(header))
        following = {r.record: table.ragged[i + 1].record for i, r in enumerate(table.ragged[:-1])}
        for record, _, fields in joined:
            keys[record] = keys[following[record]] = record_key(fields[id_index])
    ragged = []
    for r in table.ragged:
        fields = r.fields()
        ragged.append(
            Ragged(
                r.record,
                fields,
                keys[r.record]
                if r.record in keys
                else record_key(fields[id_index])
                if len(fields) > id_index
                else None,
            )
        )
    return Records(plain_name(path), header, frame, ragged, [(record, fields) for record, _, fields in joined])


def reorder(records: Records, header: list[str]) -> Records:
    """``records`` with the columns of another file's ``header`` (missing ones empty, extra ones
    dropped). Ragged records keep their fields: their count is wrong whatever the order."""
    if records.header == header:
        return records
    frame = records.frame.select(
        *(pl.col(c) if c in records.header else pl.lit("").alias(c) for c in header), RECORD, KEY
    )
    return Records(records.name, header, frame, records.ragged)


def write_records(out: BinaryIO, header: list[str], parts: list[Records]) -> None:
    """Write ``header`` then the records of every part, each part in its own record order (its
    ragged records where they were). Every part must have ``header`` as its header."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(header)
    out.write(text.getvalue().encode())
    for part in parts:
        if part.header != header:
            raise ValueError(f"{part.name}: columns {part.header} differ from {header} (reorder it first)")
        frame = part.frame.sort(RECORD)
        position = 0
        numbers = frame[RECORD]
        for ragged in sorted(part.ragged, key=lambda r: r.record):
            before = int(numbers.search_sorted(ragged.record))
            _write_frame(out, frame.slice(position, before - position), header)
            position = before
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerow(ragged.fields)
            out.write(text.getvalue().encode())
        _write_frame(out, frame.slice(position), header)


def _write_frame(out: BinaryIO, frame: pl.DataFrame, header: list[str]) -> None:
    if frame.height:
        frame.select(header).write_csv(out, include_header=False, quote_style="necessary", line_terminator="\n")
