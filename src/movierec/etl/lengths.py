"""Over-long text cut to its cap (:mod:`movierec.raw.caps`), column-wide, with an account of the rows cut.

Nothing upstream bounds a title or a name, and one 10-million-character title once cost the
server 400 MB. Every text column the ETL keeps is cut here by the rule of
:meth:`FieldCaps.clip <movierec.raw.caps.FieldCaps.clip>` (its cap, the last character "…"),
as Polars expressions: a length per value, and a slice only in the columns where some value is
too long. A row with a cut value stays in its table; the account moves it from ``kept`` to
``repaired`` (``fixes`` counts the rows per field) and the quarantine lists it as repaired, with
the reason "field too long: " and the fields cut (as the raw file names them, e.g. ``title``,
``cast.character``).

>>> caps = FieldCaps(name=20, text=100)
>>> frame = pl.DataFrame({"id": [1, 2], "title": ["Heat", "x" * 30]})
>>> clipped, cuts = clip_columns(frame, caps, {"title": "title"}, "id")
>>> clipped["title"].to_list() == ["Heat", caps.clip("title", "x" * 30)], cuts.rows()
(True, [(2, 'title')])
"""

from __future__ import annotations

import polars as pl

from movierec.etl.quarantine import quarantine_rows
from movierec.raw.caps import ELLIPSIS, FieldCaps

TOO_LONG = "field too long"
CUTS_SCHEMA = {"id": pl.Int64, "field": pl.String}

# The text columns the ETL keeps, by output table: {column: the field as the raw file names it}.
MOVIE_FIELDS = {
    "movies": {
        "title": "title",
        "original_title": "original_title",
        "original_language": "original_language",
        "overview": "overview",
        "tagline": "tagline",
        "status": "status",
        "collection": "belongs_to_collection.name",
    },
    "genres": {"genre": "genres.name"},
    "companies": {"company": "production_companies.name"},
    "countries": {"iso_3166_1": "production_countries.iso_3166_1", "country": "production_countries.name"},
    "languages": {"iso_639_1": "spoken_languages.iso_639_1", "language": "spoken_languages.name"},
}
CHILD_FIELDS = {
    "cast": {"name": "cast.name", "character": "cast.character"},
    "crew": {"name": "crew.name", "job": "crew.job", "department": "crew.department"},
    "keywords": {"keyword": "keywords.name"},
}


def clip_expr(column: str, limit: int) -> pl.Expr:
    """:func:`movierec.raw.caps.clip` over a whole text column."""
    value = pl.col(column)
    return (
        pl.when(value.str.len_chars() > limit)
        .then(pl.concat_str(value.str.slice(0, limit - 1), pl.lit(ELLIPSIS)))
        .otherwise(value)
        .alias(column)
    )


def clip_columns(
    frame: pl.DataFrame, caps: FieldCaps, fields: dict[str, str], key: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``frame`` with each column of ``fields`` cut to its cap (a column's cap is
    ``caps.limit(column)``), and the (``key`` value, field) of every value cut."""
    present = [c for c in fields if c in frame.columns]
    flags = frame.select((pl.col(c).str.len_chars() > caps.limit(c)).fill_null(False).alias(c) for c in present)
    long = [c for c in present if flags[c].any()]
    if not long:  # the usual case: one length per value, nothing rebuilt
        return frame, pl.DataFrame(schema=CUTS_SCHEMA)
    # Filtering the key alone: filtering the whole frame copies the kept text (+1 GB for one 500 MB title).
    keys = frame.select(pl.col(key).cast(pl.Int64).alias("id"))
    cuts = pl.concat([keys.filter(flags[c]).with_columns(pl.lit(fields[c]).alias("field")) for c in long])
    return frame.with_columns(clip_expr(c, caps.limit(c)) for c in long), cuts


def clip_tables(
    tables: dict[str, pl.DataFrame], caps: FieldCaps, fields: dict[str, dict[str, str]], key: str
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """:func:`clip_columns` over several tables keyed by the same film id column ``key``."""
    out, cuts = dict(tables), [pl.DataFrame(schema=CUTS_SCHEMA)]
    for name, table_fields in fields.items():
        if name in out:
            out[name], found = clip_columns(out[name], caps, table_fields, key)
            cuts.append(found)
    return out, pl.concat(cuts)


def cut_reasons(cuts: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    """(id, reason naming the fields cut) per film, and the films cut per field (for ``fixes``)."""
    distinct = cuts.unique(maintain_order=True)
    reasons = distinct.group_by("id", maintain_order=True).agg(
        pl.concat_str(pl.lit(f"{TOO_LONG}: "), pl.col("field").str.join(", ")).alias("_cut")
    )
    per_field = {f"{TOO_LONG}: {field}": n for field, n in distinct.group_by("field").len().sort("field").iter_rows()}
    return reasons, per_field


def repaired_entries(
    rows: pl.DataFrame,
    id_column: str,
    cuts: pl.DataFrame,
    source: str,
    raw_columns: list[str],
    fields_limit: int | None,
    caps: FieldCaps,
    where: pl.Expr | None = None,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Quarantine entries (outcome "repaired") for the raw ``rows`` (which carry ``_record``,
    ``_line``, ``id`` and the parsed film id ``id_column``; those matching ``where``) of the films
    with a cut value, and the films cut per field. The entries' raw fields are each cut to the
    prose cap: a 500 MB title kept whole there cost 1.5 GB more (the raw file at the entry's line
    holds it)."""
    reasons, per_field = cut_reasons(cuts)
    wanted = pl.col(id_column).is_in(reasons["id"].implode())
    mask = rows.select(wanted if where is None else wanted & where).to_series()
    # Cut first, then filter: a filter copies the text of the rows it keeps.
    cut_rows = (
        rows.select("_record", "_line", id_column, *(clip_expr(c, caps.text) for c in raw_columns))
        .filter(mask)
        .join(reasons.rename({"id": id_column}), on=id_column, how="left", maintain_order="left")
    )
    entries = quarantine_rows(
        cut_rows, source, pl.col("_cut"), raw_columns, outcome="repaired", fields_limit=fields_limit
    )
    return entries, per_field
