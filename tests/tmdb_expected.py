"""What a tmdb-sync batch must hold for the films the fake TMDB served (tests/fake_tmdb.py).

Written from the Kaggle format's definition, independently of :mod:`movierec.refresh`: the nested
cells with their keys in the Kaggle order, and the ETL tables per film in list order.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

Tables = dict[str, dict[int, list[tuple[Any, ...]]]]


def expected_tables(movies: list[dict[str, Any]]) -> Tables:
    """What the ETL tables must hold for the served films, per film in list order."""

    def text(value: str | None) -> str | None:
        return value if value and value.strip() else None

    def amount(v: int) -> int:
        return v if v >= 1000 else 0

    tables: Tables = {}
    for m in movies:
        collection = m["belongs_to_collection"] or {}
        rows = {
            "movies": [
                (
                    text(m["title"]),
                    m["original_language"],
                    text(m["overview"]),
                    text(m["tagline"]),
                    m["status"],
                    None if m["runtime"] is None else float(m["runtime"]),
                    date.fromisoformat(m["release_date"]),
                    amount(m["budget"]),
                    amount(m["revenue"]),
                    m["popularity"],
                    m["vote_average"],
                    m["vote_count"],
                    collection.get("id"),
                    collection.get("name"),
                )
            ],
            "genres": [(g["id"], g["name"]) for g in m["genres"]],
            "companies": [(c["id"], c["name"]) for c in m["production_companies"]],
            "countries": [(c["iso_3166_1"], c["name"]) for c in m["production_countries"]],
            "languages": [(lang["iso_639_1"], lang["name"]) for lang in m["spoken_languages"]],
            "keywords": [(k["id"], k["name"]) for k in m["keywords"]["keywords"]],
            "cast": [(c["id"], c["name"], c["character"], c["order"], c["gender"]) for c in m["credits"]["cast"]],
            "crew": [(c["id"], c["name"], c["job"], c["department"], c["gender"]) for c in m["credits"]["crew"]],
        }
        for name, values in rows.items():
            if values:
                tables.setdefault(name, {})[m["id"]] = values
    return tables


def parsed_tables(folder: Path) -> Tables:
    """The ETL tables in ``folder``, per film in file order."""
    columns = {
        "movies": [
            "title",
            "original_language",
            "overview",
            "tagline",
            "status",
            "runtime",
            "release_date",
            "budget",
            "revenue",
            "popularity",
            "vote_average",
            "vote_count",
            "collection_id",
            "collection",
        ],
        "genres": ["genre_id", "genre"],
        "companies": ["company_id", "company"],
        "countries": ["iso_3166_1", "country"],
        "languages": ["iso_639_1", "language"],
        "keywords": ["keyword_id", "keyword"],
        "cast": ["person_id", "name", "character", "order", "gender"],
        "crew": ["person_id", "name", "job", "department", "gender"],
    }
    tables: Tables = {}
    for name, wanted in columns.items():
        frame = pl.read_parquet(folder / f"{name}.parquet")
        key = "id" if name == "movies" else "movie_id"
        for movie_id, *values in frame.select(key, *wanted).iter_rows():
            tables.setdefault(name, {}).setdefault(movie_id, []).append(tuple(values))
    return tables


def kaggle_nested(m: dict[str, Any]) -> dict[str, Any]:
    """The nested cells as the Kaggle files hold them: these keys, in this order."""
    c = m["belongs_to_collection"]
    return {
        "belongs_to_collection": None
        if c is None
        else {"id": c["id"], "name": c["name"], "poster_path": c["poster_path"], "backdrop_path": c["backdrop_path"]},
        "genres": [{"id": g["id"], "name": g["name"]} for g in m["genres"]],
        "production_companies": [{"name": x["name"], "id": x["id"]} for x in m["production_companies"]],
        "production_countries": [{"iso_3166_1": x["iso_3166_1"], "name": x["name"]} for x in m["production_countries"]],
        "spoken_languages": [{"iso_639_1": x["iso_639_1"], "name": x["name"]} for x in m["spoken_languages"]],
        "cast": [
            {
                "cast_id": x["cast_id"],
                "character": x["character"],
                "credit_id": x["credit_id"],
                "gender": x["gender"],
                "id": x["id"],
                "name": x["name"],
                "order": x["order"],
                "profile_path": x["profile_path"],
            }
            for x in m["credits"]["cast"]
        ],
        "crew": [
            {
                "credit_id": x["credit_id"],
                "department": x["department"],
                "gender": x["gender"],
                "id": x["id"],
                "job": x["job"],
                "name": x["name"],
                "profile_path": x["profile_path"],
            }
            for x in m["credits"]["crew"]
        ],
        "keywords": [{"id": k["id"], "name": k["name"]} for k in m["keywords"]["keywords"]],
    }


def ordered(value: Any) -> Any:
    """Dicts as lists of pairs, so that comparisons check the key order too."""
    if isinstance(value, dict):
        return [(k, ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value
