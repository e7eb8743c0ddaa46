"""Every title a film is found by: its catalogue title, its original title and its Spanish titles.

The ETL keeps ``original_title`` in ``movies.parquet`` and writes ``titles.parquet`` (the Spanish
translations and alternative titles TMDB knows; see the README's "Data"). A release published
before either has neither: its films are then found by their catalogue title only.

Rules (applied when the catalog artifact is built, so a request only probes a hash table):

* One index over every title: a normalized title (:func:`movierec.catalog.text.normalize`) owns
  every film that bears it *under any kind*, in the order a shared title prefers them (most votes,
  most popular, lowest id). So «Hamlet» answers the most voted of the films called so, whether it
  is their English, original or Spanish title, and ``coincidencias`` lists the others.
* A key is shown (in suggestions) as the text of its preferred film, catalogue title first, then
  original title, then Spanish titles in the order below.
* The Spanish title a film is shown under, when it has several: a translation for Spain (es-ES),
  then for Mexico (es-MX), then any other Spanish translation, then the alternative titles of
  Spain, Mexico and the other Spanish-speaking countries; within one of those, by country code
  then title (so the choice does not depend on the order of the rows).
* ``titulo_original`` is the original title when it is not the catalogue title, character for
  character (a film whose original title only differs in case shows it too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import polars as pl

from movierec.catalog.keys import KeyIndex, Strings
from movierec.catalog.text import normalize_many

TITLES_TABLE = "titles.parquet"


def spanish_rank() -> pl.Expr:
    """The order in which a film's Spanish titles are preferred for display (lower first)."""
    country = pl.col("iso_3166_1").fill_null("")
    translation = pl.col("kind") == "translation"
    return (
        pl.when(translation & (country == "ES"))
        .then(0)
        .when(translation & (country == "MX"))
        .then(1)
        .when(translation)
        .then(2)
        .when(country == "ES")
        .then(3)
        .when(country == "MX")
        .then(4)
        .otherwise(5)
    )


def read_titles(tables: Path, rows: Callable[[pl.Series], np.ndarray]) -> pl.DataFrame:
    """``titles.parquet``'s Spanish titles of the catalogue's films as (row, title), each film's
    in display order (its first is the one shown); empty when the release has no such table."""
    path = tables / TITLES_TABLE
    if not path.is_file():
        return pl.DataFrame({"row": [], "title": []}, schema={"row": pl.Int64, "title": pl.String})
    table = pl.read_parquet(path, columns=["movie_id", "iso_639_1", "iso_3166_1", "title", "kind"])
    table = (
        table.filter(pl.col("iso_639_1").str.to_lowercase() == "es")
        .with_columns(pl.col("title").str.strip_chars())
        .filter(pl.col("title").is_not_null() & (pl.col("title") != ""))
    )
    table = table.with_columns(pl.Series("row", rows(table["movie_id"].cast(pl.Int64)), dtype=pl.Int64))
    return (
        table.filter(pl.col("row") >= 0)
        .with_columns(spanish_rank().alias("rank"), pl.col("iso_3166_1").fill_null(""))
        .sort("row", "rank", "iso_3166_1", "title")
        .unique(["row", "title"], keep="first", maintain_order=True)
        .select("row", "title")
    )


def originals(movies: pl.DataFrame) -> list[str | None]:
    """Each film's original title when it differs from its catalogue title (else None)."""
    if "original_title" not in movies.columns:
        return [None] * movies.height
    original = movies["original_title"].cast(pl.String).str.strip_chars()
    keep = original.is_not_null() & (original != "") & (original != movies["title"]).fill_null(True)
    return original.zip_with(keep, pl.Series([None] * movies.height, dtype=pl.String)).to_list()


def title_arrays(
    titles: Sequence[str | None], original: Sequence[str | None], spanish: pl.DataFrame, preferred: Sequence[int]
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """The arrays of the title index over every title (prefix ``title_``, with ``title_label_*``
    the text each key is shown as), ``film_title_key`` (the key of each film's catalogue title,
    -1 when it has none), each film's shown Spanish and original titles (``film_es_*``,
    ``film_original_*``; "" when unknown); and the counts /health and the report tell."""
    count = len(titles)
    es_rows = spanish["row"].to_list()
    es_titles = spanish["title"].to_list()
    others: list[list[str]] = [[] for _ in range(count)]
    for row, title in zip(es_rows, es_titles, strict=True):
        others[row].append(title)
    first_es = [t[0] if t else "" for t in others]

    texts = [titles, original, es_titles]
    keys_of = normalize_many([t or "" for part in texts for t in part])
    title_keys, original_keys, es_keys = keys_of[:count], keys_of[count : 2 * count], keys_of[2 * count :]
    per_film: list[list[tuple[str, str]]] = [[] for _ in range(count)]
    for row in range(count):
        if title_keys[row]:
            per_film[row].append((title_keys[row], titles[row] or ""))
        if original_keys[row]:
            per_film[row].append((original_keys[row], original[row] or ""))
    for row, title, key in zip(es_rows, es_titles, es_keys, strict=True):
        if key:
            per_film[row].append((key, title))

    members: dict[str, list[int]] = {}
    labels: dict[str, str] = {}
    for row in preferred:
        for key, text in per_film[row]:
            owners = members.get(key)
            if owners is None:
                members[key], labels[key] = [row], text
            elif owners[-1] != row:  # a film with two titles of one key counts once
                owners.append(row)
    arrays = KeyIndex.pack(list(members), list(members.values()), prefix="title_")
    arrays["title_label_blob"], arrays["title_label_offsets"] = Strings.pack(list(labels.values()))
    position = {key: i for i, key in enumerate(members)}
    arrays["film_title_key"] = np.array([position[k] if k else -1 for k in title_keys], dtype=np.int32)
    arrays["film_es_blob"], arrays["film_es_offsets"] = Strings.pack(first_es)
    arrays["film_original_blob"], arrays["film_original_offsets"] = Strings.pack([t or "" for t in original])
    counts = {
        "titulos_es": sum(1 for t in first_es if t),
        "titulos_originales": sum(1 for t in original if t),
        "titulos_clave": len(members),
    }
    return arrays, counts
