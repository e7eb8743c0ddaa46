"""The titles table: the Spanish titles of the catalogue's films, from an optional raw ``titles.csv``.

The Kaggle download has no such file; ``movierec tmdb-sync`` writes one into its batch (the
films' TMDB translations and alternative titles) and a release keeps the merged file in raw/.
Only Spanish titles are kept: translations into ``es`` (es-ES, es-MX, …) and the alternative
titles of Spanish-speaking countries, so the table stays small (a few titles a film).

Every input row is accounted for, like the other files (:class:`movierec.etl.rules.Account`):

* kept (its title trimmed, codes in their case: ``es``, ``MX``), or **repaired** when its title
  was cut to ``MOVIEREC_MAX_NAME_CHARS``;
* **dropped** (counted, not listed): a film the movies table does not keep ("film not kept", as
  credits), or a title that is not Spanish ("not a Spanish title");
* **quarantined** with its reason: "invalid id", "invalid kind" (not ``translation`` or
  ``alternative``), "empty title", "invalid iso_639_1" / "invalid iso_3166_1" (not two letters),
  "duplicate title" (the film already has that title), and "over MOVIEREC_MAX_TITLES_PER_FILM"
  (a film's rows past the cap, in file order: an upstream cannot make one film cost more).

>>> raw = pl.DataFrame({"movie_id": ["1", "1", "1", "2", "x"], "iso_639_1": ["es", "", "fr", "es", "es"],
...                     "iso_3166_1": ["es", "MX", "FR", "", ""], "title": [" El padrino ", "El padrino", "Le parrain",
...                     "", "Y"], "kind": ["translation", "alternative", "translation", "translation", "translation"],
...                     "_record": range(5), "_line": range(2, 7)})
>>> titles, entries, account = clean_titles(raw, pl.Series([1, 2]), "titles.csv", None, FieldCaps(), 20)
>>> titles.rows()
[(1, 'es', 'ES', 'El padrino', 'translation')]
>>> sorted(account.reasons.items()), account.dropped, account.quarantined
([('duplicate title', 1), ('empty title', 1), ('invalid id', 1), ('not a Spanish title', 1)], 1, 3)
"""

from __future__ import annotations

import polars as pl

from movierec.etl.lengths import TOO_LONG, clip_expr
from movierec.etl.quarantine import QUARANTINE_SCHEMA, quarantine_rows
from movierec.etl.rules import Account, positive_int
from movierec.raw.caps import FieldCaps

TITLES_SCHEMA = {
    "movie_id": pl.Int64,
    "iso_639_1": pl.String,
    "iso_3166_1": pl.String,
    "title": pl.String,
    "kind": pl.String,
}
KINDS = ("translation", "alternative")
SPANISH = "es"
# Where Spanish is an official language: their alternative titles are Spanish titles.
SPANISH_COUNTRIES = (
    "ES",
    "MX",
    "AR",
    "CO",
    "CL",
    "PE",
    "VE",
    "EC",
    "GT",
    "CU",
    "BO",
    "DO",
    "HN",
    "PY",
    "SV",
    "NI",
    "CR",
    "PA",
    "UY",
    "PR",
    "GQ",
)
DROPPED = ("film not kept", "not a Spanish title")
OVER_CAP = "over MOVIEREC_MAX_TITLES_PER_FILM"


def empty_titles() -> pl.DataFrame:
    """The table of a release built without titles (the Kaggle files alone)."""
    return pl.DataFrame(schema=TITLES_SCHEMA)


def is_spanish(kind: str, language: str | None, country: str | None) -> bool:
    """Whether a title is kept: a translation into Spanish, or an alternative title of a
    Spanish-speaking country (the rule :func:`clean_titles` applies, for tmdb-sync's writer)."""
    return (kind == "translation" and language == SPANISH) or (kind == "alternative" and country in SPANISH_COUNTRIES)


def clean_titles(
    frame: pl.DataFrame, movie_ids: pl.Series, source: str, fields_limit: int | None, caps: FieldCaps, max_per_film: int
) -> tuple[pl.DataFrame, pl.DataFrame, Account]:
    """(titles, quarantine entries, account) of the raw titles rows (text columns plus _record,
    _line) of the films ``movie_ids``; see the module doc for the rules."""
    account = Account(rows_read=frame.height)
    raw_columns = [c for c in frame.columns if not c.startswith("_")]
    kind = pl.col("kind").str.strip_chars().str.to_lowercase()
    country = pl.col("iso_3166_1").str.strip_chars().str.to_uppercase()
    language = pl.col("iso_639_1").str.strip_chars().str.to_lowercase()
    title = pl.col("title").str.strip_chars()
    rows = (
        frame.with_columns(
            id=pl.col("movie_id"),  # the raw id, as the quarantine names it
            _id=positive_int("movie_id"),
            _kind=kind,
            _country=pl.when(country == "").then(None).otherwise(country),
            # An alternative title has a country, not a language: a Spanish-speaking country's is Spanish.
            _lang=pl.when((language == "") & (kind == "alternative")).then(pl.lit(SPANISH)).otherwise(language),
            _title=title,
        )
        .with_columns(_cut=(pl.col("_title").str.len_chars() > caps.name).fill_null(False))
        .with_columns(clip_expr("_title", caps.name))
    )
    spanish = ((pl.col("_kind") == "translation") & (pl.col("_lang") == SPANISH)) | (
        (pl.col("_kind") == "alternative") & pl.col("_country").is_in(list(SPANISH_COUNTRIES))
    )
    reason = (
        pl.when(pl.col("_id").is_null())
        .then(pl.lit("invalid id"))
        .when(~pl.col("_id").is_in(movie_ids.implode()))
        .then(pl.lit("film not kept"))
        .when(~pl.col("_kind").is_in(list(KINDS)).fill_null(False))
        .then(pl.lit("invalid kind"))
        .when(pl.col("_title").fill_null("") == "")
        .then(pl.lit("empty title"))
        .when(~pl.col("_lang").str.contains("^[a-z]{2}$").fill_null(False))
        .then(pl.lit("invalid iso_639_1"))
        .when(pl.col("_country").is_not_null() & ~pl.col("_country").str.contains("^[A-Z]{2}$").fill_null(False))
        .then(pl.lit("invalid iso_3166_1"))
        .when(~spanish)
        .then(pl.lit("not a Spanish title"))
    )
    rows = rows.with_columns(_reason=reason)
    # The same title twice (a translation and an alternative title often agree) is kept once; then
    # the per-film cap counts the distinct titles left, in file order.
    valid = pl.col("_reason").is_null()
    rows = rows.with_columns(
        _reason=pl.when(valid & ~pl.struct("_id", "_title").is_first_distinct().over(valid))
        .then(pl.lit("duplicate title"))
        .otherwise(pl.col("_reason"))
    )
    rows = rows.with_columns(_valid=pl.col("_reason").is_null())
    rows = rows.with_columns(
        _reason=pl.when(pl.col("_valid") & (pl.int_range(pl.len()).over("_id", "_valid") >= max_per_film))
        .then(pl.lit(OVER_CAP))
        .otherwise(pl.col("_reason"))
    )
    for name, n in rows.group_by("_reason").len().iter_rows():
        if name is not None:
            account.count(name, n)
    dropped = pl.col("_reason").is_in(list(DROPPED)).fill_null(False)
    bad = rows.filter(pl.col("_reason").is_not_null() & ~dropped)
    account.dropped = rows.select(dropped.sum()).item()
    account.quarantined = bad.height
    good = rows.filter(pl.col("_reason").is_null())
    cut = good.filter(pl.col("_cut"))
    account.repaired, account.kept = cut.height, good.height - cut.height
    if cut.height:
        account.fixes[f"{TOO_LONG}: title"] = cut.height
    entries = [
        quarantine_rows(bad, source, pl.col("_reason"), raw_columns, fields_limit=fields_limit),
        # the raw fields of a cut row, cut to the prose cap (see repaired_entries)
        quarantine_rows(
            cut.with_columns(clip_expr(c, caps.text) for c in raw_columns),
            source,
            f"{TOO_LONG}: title",
            raw_columns,
            outcome="repaired",
            fields_limit=fields_limit,
        ),
    ]
    titles = good.select(
        pl.col("_id").alias("movie_id"),
        pl.col("_lang").alias("iso_639_1"),
        pl.col("_country").alias("iso_3166_1"),
        pl.col("_title").alias("title"),
        pl.col("_kind").alias("kind"),
    ).cast(TITLES_SCHEMA)  # type: ignore[arg-type]
    return titles, pl.concat(entries).cast(QUARANTINE_SCHEMA), account
