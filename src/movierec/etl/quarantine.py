"""Quarantine entries: what the ETL keeps of every row it did not keep as it was.

Each entry names the row (source file, record number, first physical line, raw id), the reason
and the outcome ("quarantined" or "repaired"), and holds the row's raw fields for the first
``fields_limit`` rows of each (source, reason): a pathological file of one row repeated a million
times gives a million short entries, not a million copies of the row. The raw file, at the
entry's line, holds the fields of the rest.
"""

from __future__ import annotations

import polars as pl

from movierec.raw.csv_table import Ragged, parse_record

QUARANTINE_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "record": pl.Int64(),  # 0-based record number, as pandas numbers rows
        "line": pl.Int64(),  # 1-based physical line the record starts on
        "raw_id": pl.String(),
        "reason": pl.String(),
        "outcome": pl.String(),  # "quarantined" or "repaired"
        "fields": pl.List(pl.String()),
    }
)


def quarantine_rows(
    frame: pl.DataFrame,
    source: str,
    reason: pl.Expr | str,
    columns: list[str],
    outcome: str = "quarantined",
    fields_limit: int | None = None,
) -> pl.DataFrame:
    """Quarantine entries for the rows of ``frame`` (which carries _record, _line and id).

    Every row gets its identity (source, record, line, raw id, reason, outcome); its raw
    ``fields`` only when it is among the first ``fields_limit`` rows of its reason (by record; None:
    every row). The rest get null fields: a file of one row repeated a million times costs a
    million short identities, not a million copies of the row (the raw file at ``line`` has them).
    Capped, the rows with fields come first (the caller sorts the quarantine).
    """
    reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
    identity = [
        pl.lit(source).alias("source"),
        pl.col("_record").cast(pl.Int64).alias("record"),
        pl.col("_line").cast(pl.Int64).alias("line"),
        pl.col("id").alias("raw_id"),
        reason_expr.alias("reason"),
        pl.lit(outcome).alias("outcome"),
    ]
    fields = pl.concat_list(pl.col(c).fill_null("") for c in columns).alias("fields")
    if fields_limit is None or frame.height <= fields_limit:
        return frame.select(*identity, fields).cast(QUARANTINE_SCHEMA)
    first = frame.select(pl.col("_record").rank("ordinal").over(reason_expr) <= fields_limit).to_series()
    # The fields are built for the first rows only: building them all and then nulling most is
    # what made a repeated row cost gigabytes.
    return pl.concat(
        [
            frame.filter(first).select(*identity, fields).cast(QUARANTINE_SCHEMA),
            frame.select(*identity).filter(~first).with_columns(pl.lit(None).alias("fields")).cast(QUARANTINE_SCHEMA),
        ]
    )


def entries_frame(
    source: str, items: list[tuple[int, int, str | None, str | None, str, str]], fields_limit: int | None = None
) -> pl.DataFrame:
    """Quarantine entries for records kept as their text: (record, line, raw id, text or None,
    reason, outcome); the fields of only the first ``fields_limit`` of a reason (see
    :func:`quarantine_rows`) and only of a text that was kept."""
    seen: dict[str, int] = {}
    fields: list[list[str] | None] = []
    for _, _, _, text, reason, _ in items:
        seen[reason] = seen.get(reason, 0) + 1
        within = fields_limit is None or seen[reason] <= fields_limit
        fields.append(parse_record(text) if within and text is not None else None)
    return pl.DataFrame(
        {
            "source": [source] * len(items),
            "record": [item[0] for item in items],
            "line": [item[1] for item in items],
            "raw_id": [item[2] for item in items],
            "reason": [item[4] for item in items],
            "outcome": [item[5] for item in items],
            "fields": fields,
        },
        schema=QUARANTINE_SCHEMA,
    )


def repair_broken_records(
    ragged: list[Ragged], width: int
) -> tuple[list[tuple[int, int, list[str]]], list[tuple[int, int, str | None, str | None, str, str]]]:
    """Join records that a bare line break split in two; everything else ragged is quarantined.

    ``ragged`` holds the records with a wrong field count in file order (each pair that may be
    joined with its text). Two physically adjacent records whose fields, the first one's last
    field continued by the second one's first, make exactly ``width`` fields form one record again
    (the break is kept in the text). Returns (joined records as (record, line, fields), entries as
    (record, line, raw id, text, reason, outcome)) where the entries cover both halves of every
    joined record.

    >>> halves = [Ragged(7, 9, 1, 2, "1", "1,a"), Ragged(8, 10, 1, 2, "b", "b,2")]
    >>> joined, entries = repair_broken_records(halves, 3)
    >>> joined
    [(7, 9, ['1', 'a\\nb', '2'])]
    >>> [e[4] for e in entries]
    ['broken record joined with the next line', 'broken record joined with the next line']
    """
    joined: list[tuple[int, int, list[str]]] = []
    entries: list[tuple[int, int, str | None, str | None, str, str]] = []
    i = 0
    while i < len(ragged):
        first = ragged[i]
        if i + 1 < len(ragged):
            second = ragged[i + 1]
            if second.line == first.line + first.lines and first.width + second.width - 1 == width:
                head, tail = first.fields(), second.fields()
                joined.append((first.record, first.line, [*head[:-1], head[-1] + "\n" + tail[0], *tail[1:]]))
                reason = "broken record joined with the next line"
                entries.append((first.record, first.line, first.key, first.text, reason, "repaired"))
                entries.append((second.record, second.line, second.key, second.text, reason, "repaired"))
                i += 2
                continue
        entries.append((first.record, first.line, first.key, first.text, malformed(first.width, width), "quarantined"))
        i += 1
    return joined, entries


def malformed(found: int, expected: int) -> str:
    """The quarantine reason of a record with a wrong field count."""
    return f"malformed record: {found} fields, expected {expected}"


def omitted_fields(quarantine: pl.DataFrame) -> dict[str, dict[str, int]]:
    """{source: {reason: entries whose fields were left out}} of a quarantine frame."""
    counts = quarantine.filter(pl.col("fields").is_null()).group_by("source", "reason").len()
    out: dict[str, dict[str, int]] = {}
    for source, reason, n in counts.sort("source", "reason").iter_rows():
        out.setdefault(source, {})[reason] = n
    return out
