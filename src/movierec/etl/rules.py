"""Cleaning rules: raw Kaggle tables in, clean tables plus an account of every input row out.

Pure functions over dataframes (the reading is in :mod:`movierec.raw.files`, the writing in
:func:`movierec.etl.run.run_etl`). Each step returns what it kept and a quarantine frame with the
reason for every row it did not keep as it was, so that
``rows_read == kept + repaired + quarantined (+ dropped)`` holds by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from movierec.etl.lengths import MOVIE_FIELDS, clip_columns, clip_tables, repaired_entries
from movierec.etl.literals import Kind, parse_records
from movierec.etl.quarantine import quarantine_rows
from movierec.raw.caps import FieldCaps

# Nested movie columns: (raw column, output table, schema of a dict, {dict key: output column}).
MOVIE_LISTS: tuple[tuple[str, str, dict[str, Kind], dict[str, str]], ...] = (
    ("genres", "genres", {"id": "int", "name": "str"}, {"id": "genre_id", "name": "genre"}),
    ("production_companies", "companies", {"id": "int", "name": "str"}, {"id": "company_id", "name": "company"}),
    (
        "production_countries",
        "countries",
        {"iso_3166_1": "str", "name": "str"},
        {"iso_3166_1": "iso_3166_1", "name": "country"},
    ),
    (
        "spoken_languages",
        "languages",
        {"iso_639_1": "str", "name": "str"},
        {"iso_639_1": "iso_639_1", "name": "language"},
    ),
)
COLLECTION_SCHEMA: dict[str, Kind] = {"id": "int", "name": "str"}
CAST_SCHEMA: dict[str, Kind] = {"id": "int", "name": "str", "character": "str", "order": "int", "gender": "int"}
CREW_SCHEMA: dict[str, Kind] = {"id": "int", "name": "str", "job": "str", "department": "str", "gender": "int"}
KEYWORD_SCHEMA: dict[str, Kind] = {"id": "int", "name": "str"}

MOVIE_COLUMNS = (
    "id",
    "title",
    "original_title",
    "original_language",
    "overview",
    "tagline",
    "status",
    "runtime",
    "release_date",
    "release_year",
    "budget",
    "revenue",
    "return",
    "popularity",
    "vote_average",
    "vote_count",
    "collection_id",
    "collection",
)
# Amounts from 1 to 999 USD were typed in millions: a budget of 1 gives a return of 12 million.
MIN_PLAUSIBLE_AMOUNT = 1000


@dataclass
class Account:
    """What happened to the rows of one input file."""

    rows_read: int = 0
    kept: int = 0
    repaired: int = 0
    quarantined: int = 0
    dropped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    fixes: dict[str, int] = field(default_factory=dict)

    def count(self, reason: str, n: int = 1) -> None:
        if n:
            self.reasons[reason] = self.reasons.get(reason, 0) + n

    def add_quarantined(self, entries: pl.DataFrame) -> None:
        """Count rows quarantined before the rules ran (records with a wrong field count)."""
        self.rows_read += entries.height
        self.quarantined += entries.height
        for reason, n in entries.group_by("reason").len().iter_rows():
            self.count(reason, n)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "rows_read": self.rows_read,
            "kept": self.kept,
            "repaired": self.repaired,
            "quarantined": self.quarantined,
            "reasons": dict(sorted(self.reasons.items())),
        }
        if self.dropped:
            out["dropped"] = self.dropped
        if self.fixes:
            out["fixes"] = dict(sorted(self.fixes.items()))
        return out


def positive_int(column: str) -> pl.Expr:
    """The column as a positive int64, null where it is anything else (e.g. '1997-08-20')."""
    text = pl.col(column).str.strip_chars()
    value = text.cast(pl.Int64, strict=False)
    # ASCII digits: polars' "\d" is Unicode-aware ("٣", "３"), and ingest must key ids as the ETL does.
    return pl.when(text.str.contains(r"^[0-9]{1,18}$") & (value > 0)).then(value)


def _number(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().cast(pl.Float64, strict=False)


def _amount(column: str) -> pl.Expr:
    """Budget or revenue: non-numeric or missing → 0; amounts typed in millions (1–999) → 0."""
    value = _number(column)
    value = pl.when(value.is_finite() & (value >= 0)).then(value).otherwise(0.0)
    return pl.when(value >= MIN_PLAUSIBLE_AMOUNT).then(value).otherwise(0.0).round(0).cast(pl.Int64)


def _text(column: str) -> pl.Expr:
    """Empty text is missing text."""
    return pl.when(pl.col(column).str.strip_chars() == "").then(None).otherwise(pl.col(column))


def clean_movies(
    frame: pl.DataFrame, source: str, fields_limit: int | None = None, caps: FieldCaps | None = None
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame], pl.DataFrame, Account]:
    """Apply the client's rules to the raw movies records (text columns plus _record, _line).

    Returns (movies, nested tables by name, quarantine entries, account). Records that a repair
    joined carry ``_repaired`` = True so that the account counts them once kept, once repaired.
    The entries hold the raw fields of the first ``fields_limit`` rows of each reason
    (:func:`quarantine_rows`). With ``caps``, over-long text is cut and its rows counted repaired
    (:mod:`movierec.etl.lengths`).
    """
    account = Account(rows_read=frame.height)
    if "_repaired" not in frame.columns:
        frame = frame.with_columns(pl.lit(False).alias("_repaired"))
    raw_columns = [c for c in frame.columns if not c.startswith("_")]
    frame = frame.with_columns(
        _id=positive_int("id"), _date=pl.col("release_date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
    )
    reason = (
        pl.when(pl.col("_id").is_null())
        .then(pl.lit("invalid id"))
        .when(pl.col("release_date").str.strip_chars() == "")
        .then(pl.lit("missing release_date"))
        .when(pl.col("_date").is_null())
        .then(pl.lit("invalid release_date"))
    )
    frame = frame.with_columns(_reason=reason)

    # Nested cells are parsed on the rows that survived the checks above; a cell that does not
    # parse quarantines its row.
    candidates = frame.filter(pl.col("_reason").is_null())
    parsed: dict[str, pl.DataFrame] = {}
    bad_by_column: list[tuple[str, pl.Series]] = []
    for raw_col, table, schema, rename in MOVIE_LISTS:
        records, bad = parse_records(candidates, raw_col, schema)
        parsed[table] = records.select(pl.col("_row"), *[pl.col(k).alias(v) for k, v in rename.items()])
        bad_by_column.append((raw_col, bad))
    collection, bad = parse_records(candidates, "belongs_to_collection", COLLECTION_SCHEMA, "dict")
    bad_by_column.append(("belongs_to_collection", bad))
    nested_reason = pl.Series("_nested", [None] * candidates.height, dtype=pl.String)
    for raw_col, bad in reversed(bad_by_column):  # the first failing column names the reason
        nested_reason = nested_reason.scatter(bad, f"unparseable {raw_col}") if bad.len() else nested_reason
    # Only now, with validity known, does a repeated id lose: the first VALID row of an id wins.
    candidates = candidates.with_columns(nested_reason.alias("_reason")).with_columns(_reason=_duplicates_of_valid())
    keep = candidates["_reason"].is_null()
    row_to_id = candidates.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"), "_id")
    kept_rows = row_to_id.filter(keep)

    quarantined = pl.concat([frame.filter(pl.col("_reason").is_not_null()), candidates.filter(~keep)])
    for reason_name, n in quarantined.group_by("_reason").len().iter_rows():
        account.count(reason_name, n)
    account.quarantined = quarantined.height
    kept = candidates.filter(keep)
    account.kept = kept.height
    # A joined record was read as two rows: one is counted kept (or quarantined), one repaired.
    account.repaired = int(frame["_repaired"].sum())
    account.rows_read += account.repaired

    collection = collection.rename({"id": "collection_id", "name": "collection"})
    movies = (
        kept.with_row_index("_pos")
        .join(
            collection.join(kept_rows, on="_row", maintain_order="left").select("_id", "collection_id", "collection"),
            on="_id",
            how="left",
        )
        .sort("_pos")
        .select(
            pl.col("_id").alias("id"),
            _text("title").alias("title"),
            _text("original_title").alias("original_title"),
            _text("original_language").alias("original_language"),
            _text("overview").alias("overview"),
            _text("tagline").alias("tagline"),
            _text("status").alias("status"),
            _number("runtime").alias("runtime"),
            pl.col("_date").alias("release_date"),
            pl.col("_date").dt.year().cast(pl.Int32).alias("release_year"),
            _amount("budget").alias("budget"),
            _amount("revenue").alias("revenue"),
            _number("popularity").alias("popularity"),
            _number("vote_average").alias("vote_average"),
            _number("vote_count").fill_null(0).round(0).cast(pl.Int64).alias("vote_count"),
            "collection_id",
            "collection",
            _amount_fix("budget").alias("_budget_fix"),
            _amount_fix("revenue").alias("_revenue_fix"),
        )
        .with_columns(
            pl.when((pl.col("budget") > 0) & (pl.col("revenue") > 0))
            .then(pl.col("revenue") / pl.col("budget"))
            .otherwise(0.0)
            .alias("return")
        )
    )
    for name in ("budget", "revenue"):
        fixes = movies[f"_{name}_fix"].value_counts()
        for fix, n in fixes.iter_rows():
            if fix is not None:
                account.fixes[f"{name}: {fix}"] = n
    movies = movies.select(MOVIE_COLUMNS)

    tables = {
        name: records.join(kept_rows, on="_row", maintain_order="left").select(
            pl.col("_id").alias("movie_id"), pl.exclude("_row", "_id")
        )
        for name, records in parsed.items()
    }
    entries = quarantine_rows(quarantined, source, pl.col("_reason"), raw_columns, fields_limit=fields_limit)
    if caps is not None:
        movies, cuts = clip_columns(movies, caps, MOVIE_FIELDS["movies"], "id")
        tables, nested_cuts = clip_tables(tables, caps, MOVIE_FIELDS, "movie_id")
        if cuts.height or nested_cuts.height:
            found, per_field = repaired_entries(
                kept, "_id", pl.concat([cuts, nested_cuts]), source, raw_columns, fields_limit, caps
            )
            account.kept, account.repaired = account.kept - found.height, account.repaired + found.height
            account.fixes.update(per_field)
            entries = pl.concat([entries, found])
    return movies, tables, entries, account


def _amount_fix(column: str) -> pl.Expr:
    """Which repair _amount applied, for the report (null when the value was kept)."""
    raw = pl.col(column).str.strip_chars()
    value = _number(column)
    return (
        pl.when(raw == "")
        .then(pl.lit("missing → 0"))
        .when(value.is_null() | ~value.is_finite() | (value < 0))
        .then(pl.lit("unparseable → 0"))
        .when((value > 0) & (value < MIN_PLAUSIBLE_AMOUNT))
        .then(pl.lit("1–999 (typed in millions) → 0"))
    )


def parse_child(
    frame: pl.DataFrame, columns: dict[str, dict[str, Kind]], on_chunk: Callable[[int], None] | None = None
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Parse the nested ``columns`` of credits/keywords on every row with a valid id.

    Returns (records per column with ``_src`` (the row's position in ``frame``) and ``movie_id``
    first, in file order; rows holding an unparseable cell, as (_src, reason)). Which row of a
    repeated id is kept is :func:`account_child`'s decision, once validity is known. Independent
    of the movies, so that it can run while the movies are cleaned.
    """
    subset = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_src"), positive_int("id").alias("movie_id"), *columns
    ).filter(pl.col("movie_id").is_not_null())
    ids = subset.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"), "_src", "movie_id")
    parsed: dict[str, pl.DataFrame] = {}
    bad_parts = []
    for column, schema in columns.items():
        records, bad = parse_records(subset, column, schema, on_chunk=on_chunk)
        parsed[column] = records.join(ids, on="_row", maintain_order="left").select(
            "_src", "movie_id", pl.exclude("_row", "_pos", "_src", "movie_id")
        )
        bad_parts.append(
            ids.filter(pl.col("_row").is_in(bad.implode())).select(
                "_src", pl.lit(f"unparseable {column}").alias("reason")
            )
        )
    return parsed, first_reason_per_row(bad_parts)


def first_reason_per_row(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """(_src, reason) of several checks, one row each: the first check that failed names it."""
    return pl.concat(parts).unique("_src", keep="first", maintain_order=True)


def account_child(
    frame: pl.DataFrame, bad_rows: pl.DataFrame, movie_ids: pl.Series, source: str, fields_limit: int | None = None
) -> tuple[pl.Series, pl.DataFrame, Account]:
    """Decide the fate of every credits/keywords row: (kept rows as ``_src`` positions,
    quarantine entries, account).

    Rows of films outside the catalogue are dropped (counted, not listed); rows with an invalid
    id or an unparseable cell are quarantined; of the valid rows of one id, the first wins and
    the others are quarantined as duplicates. The entries hold the raw fields of the first
    ``fields_limit`` rows of each reason (:func:`quarantine_rows`).
    """
    account = Account(rows_read=frame.height)
    raw_columns = [c for c in frame.columns if not c.startswith("_")]
    frame = frame.with_columns(_src=pl.int_range(pl.len(), dtype=pl.UInt32), _id=positive_int("id")).join(
        bad_rows.rename({"reason": "_bad"}), on="_src", how="left", maintain_order="left"
    )
    reason = (
        pl.when(pl.col("_id").is_null())
        .then(pl.lit("invalid id"))
        .when(~pl.col("_id").is_in(movie_ids.implode()))
        .then(pl.lit("film not kept"))
        .otherwise(pl.col("_bad"))
    )
    frame = frame.with_columns(_reason=reason).with_columns(_reason=_duplicates_of_valid())
    for name, n in frame.group_by("_reason").len().iter_rows():
        if name is not None:
            account.count(name, n)
    dropped = frame["_reason"] == "film not kept"
    account.dropped = int(dropped.sum())
    bad = frame.filter(pl.col("_reason").is_not_null() & ~dropped)
    account.quarantined = bad.height
    kept_rows = frame.filter(pl.col("_reason").is_null())["_src"]
    account.kept = kept_rows.len()
    entries = quarantine_rows(bad, source, pl.col("_reason"), raw_columns, fields_limit=fields_limit)
    return kept_rows, entries, account


def _duplicates_of_valid() -> pl.Expr:
    """``_reason``, plus "duplicate id" for a valid row whose id an earlier VALID row holds: the
    first valid row of an id wins, whatever invalid rows come before it."""
    valid = pl.col("_reason").is_null()
    return (
        pl.when(valid & ~pl.col("_id").is_first_distinct().over(valid))
        .then(pl.lit("duplicate id"))
        .otherwise(pl.col("_reason"))
    )
