"""Yardstick for the ETL benchmark: the ETL as a typical notebook writes it, with pandas and
ast.literal_eval, applying the same rules as `movierec etl` and writing the same parquet tables.

Honest on purpose: vectorised pandas where pandas offers it, one ast.literal_eval per nested
cell (that is how the raw Python-repr columns are normally parsed), explode + DataFrame(list of
dicts) to unnest. No deliberately slow idioms (no apply(pd.Series), no row loops over
DataFrames) and no heroic tricks (no multiprocessing, no hand-written parsers).

Usage: python bench/pandas_etl.py RAW_DIR OUT_DIR
"""

from __future__ import annotations

import argparse
import ast
import csv
import gzip
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

N_FIELDS = 24  # columns of movies_metadata.csv
DROP_COLUMNS = ["video", "imdb_id", "adult", "original_title", "poster_path", "homepage"]
NESTED = ["genres", "production_companies", "production_countries", "spoken_languages"]
TEXT_COLUMNS = ["original_language", "overview", "status", "tagline", "title"]

# child table -> (source column, {dict key: output column})
MOVIE_CHILDREN: dict[str, tuple[str, dict[str, str]]] = {
    "genres": ("genres", {"id": "genre_id", "name": "genre"}),
    "companies": ("production_companies", {"id": "company_id", "name": "company"}),
    "countries": ("production_countries", {"iso_3166_1": "iso_3166_1", "name": "country"}),
    "languages": ("spoken_languages", {"iso_639_1": "iso_639_1", "name": "language"}),
}
CAST_FIELDS = {"id": "person_id", "name": "name", "character": "character", "order": "order", "gender": "gender"}
CREW_FIELDS = {"id": "person_id", "name": "name", "job": "job", "department": "department", "gender": "gender"}
KEYWORD_FIELDS = {"id": "keyword_id", "name": "keyword"}
INT_COLUMNS = {"genre_id", "company_id", "person_id", "order", "gender", "keyword_id"}


def find_input(raw: Path, name: str) -> Path:
    """Accept NAME.csv and NAME.csv.gz alike."""
    for candidate in (raw / name, raw / f"{name}.gz"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{name}(.gz) not found in {raw}")


def read_movies(path: Path) -> pd.DataFrame:
    """Read movies_metadata with the csv module, which (unlike pandas, which pads short rows
    silently) tells how many fields each physical record has, so broken records can be joined.

    A bare line break in an unquoted overview splits one record into a 10-field row (cols 0..9,
    overview partial) and a 15-field row (rest of overview + cols 10..23).
    """
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows: list[list[str]] = []
        pending: list[str] | None = None  # a short row waiting for its continuation
        for row in reader:
            if len(row) == N_FIELDS:
                pending = None  # a short row not followed by its continuation is dropped
                rows.append(row)
            elif len(row) > N_FIELDS:
                pending = None
            elif pending is None:
                pending = row
            else:
                if len(pending) + len(row) - 1 == N_FIELDS:
                    rows.append([*pending[:-1], pending[-1] + "\n" + row[0], *row[1:]])
                pending = None  # joined, or two short rows that do not fit: drop both
    return pd.DataFrame(rows, columns=header)


def literal(cell: str) -> Any:
    try:
        return ast.literal_eval(cell)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def literal_list(cell: str) -> list[dict[str, Any]] | None:
    """A nested cell is a list of dicts; anything else counts as unparseable (None)."""
    value = literal(cell)
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    return None


def positive_int_ids(ids: pd.Series) -> pd.Series:
    """Integer ids, NA where the raw id is not a positive integer."""
    numeric = pd.to_numeric(ids.where(ids.str.fullmatch(r"[0-9]{1,18}"), None), errors="coerce").astype("Int64")
    return numeric.where(numeric > 0)


def money(values: pd.Series) -> pd.Series:
    """Unparseable -> 0; 1..999 (budgets entered in millions) -> 0."""
    numeric = pd.to_numeric(values, errors="coerce")
    numeric = numeric.where(np.isfinite(numeric), 0)
    numeric = numeric.where((numeric < 1) | (numeric > 999), 0)
    return numeric.astype("int64")


def unnest(movie_ids: pd.Series, parsed: pd.Series, fields: dict[str, str]) -> pd.DataFrame:
    """One output row per dict of each list; keys not in fields are dropped."""
    frame = pd.DataFrame({"movie_id": movie_ids.to_numpy(), "item": parsed.to_numpy()})
    frame = frame.explode("item").dropna(subset=["item"])
    items = pd.DataFrame(frame["item"].tolist(), columns=list(fields))
    out = items.rename(columns=fields)
    out.insert(0, "movie_id", frame["movie_id"].to_numpy().astype("int64"))
    for column in out.columns:
        if column in INT_COLUMNS:
            out[column] = pd.to_numeric(out[column], errors="coerce").astype("Int64")
    return out


def transform_movies(movies: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    movies = movies.drop(columns=DROP_COLUMNS)

    movies["id"] = positive_int_ids(movies["id"])
    movies = movies.dropna(subset=["id"])
    movies = movies.drop_duplicates(subset="id", keep="first")

    iso = movies["release_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    dates = pd.to_datetime(movies["release_date"].where(iso), format="%Y-%m-%d", errors="coerce")
    movies = movies[dates.notna()].copy()
    dates = dates[dates.notna()]
    movies["release_date"] = dates.dt.date
    movies["release_year"] = dates.dt.year.astype("int32")

    movies["budget"] = money(movies["budget"])
    movies["revenue"] = money(movies["revenue"])
    both = (movies["budget"] > 0) & (movies["revenue"] > 0)
    movies["return"] = np.where(both, movies["revenue"] / movies["budget"].where(both, 1), 0.0)

    for column in ["popularity", "runtime", "vote_average"]:
        movies[column] = pd.to_numeric(movies[column], errors="coerce")
    movies["vote_count"] = pd.to_numeric(movies["vote_count"], errors="coerce").astype("Int64")
    for column in TEXT_COLUMNS:
        movies[column] = movies[column].replace("", None)

    # belongs_to_collection: empty -> null, a dict -> (id, name), anything else -> drop the row
    collection = movies["belongs_to_collection"].map(lambda s: literal(s) if s else {})
    bad = ~collection.map(lambda v: isinstance(v, dict))
    for column in NESTED:
        movies[column] = movies[column].map(literal_list)
        bad |= movies[column].isna()
    movies, collection = movies[~bad], collection[~bad]
    movies["collection_id"] = pd.to_numeric(collection.map(lambda d: d.get("id")), errors="coerce").astype("Int64")
    movies["collection"] = collection.map(lambda d: d.get("name"))

    movies["id"] = movies["id"].astype("int64")
    children = {name: unnest(movies["id"], movies[source], fields) for name, (source, fields) in MOVIE_CHILDREN.items()}
    movies = movies.drop(columns=[*NESTED, "belongs_to_collection"])
    movies = movies[["id"] + [c for c in movies.columns if c != "id"]].reset_index(drop=True)
    return movies, children


def read_related(path: Path, columns: list[str], movie_ids: pd.Series) -> pd.DataFrame:
    """credits / keywords: rows of kept movies only, first of duplicates wins, nested cells
    parsed; a row with an unparseable cell is dropped."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["id"] = positive_int_ids(frame["id"])
    frame = frame[frame["id"].isin(movie_ids)]
    frame = frame.drop_duplicates(subset="id", keep="first")
    for column in columns:
        frame[column] = frame[column].map(literal_list)
    frame = frame.dropna(subset=columns)
    frame["id"] = frame["id"].astype("int64")
    return frame


def run(raw: Path, out: Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    movies, tables = transform_movies(read_movies(find_input(raw, "movies_metadata.csv")))
    tables = {"movies": movies, **tables}

    credits = read_related(find_input(raw, "credits.csv"), ["cast", "crew"], movies["id"])
    tables["cast"] = unnest(credits["id"], credits["cast"], CAST_FIELDS)
    tables["crew"] = unnest(credits["id"], credits["crew"], CREW_FIELDS)
    del credits  # the parsed cast/crew objects are the biggest thing in memory

    keywords = read_related(find_input(raw, "keywords.csv"), ["keywords"], movies["id"])
    tables["keywords"] = unnest(keywords["id"], keywords["keywords"], KEYWORD_FIELDS)

    for name, table in tables.items():
        table.to_parquet(out / f"{name}.parquet", index=False)
    return {name: len(table) for name, table in tables.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="directory with movies_metadata, credits, keywords")
    parser.add_argument("out", type=Path, help="directory for the parquet tables")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    counts = run(args.raw, args.out)
    elapsed = time.perf_counter() - start
    print(" ".join(f"{name}={n}" for name, n in counts.items()))
    print(f"pandas_etl: {elapsed:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
