"""The tiny film tables the model's tests work out by hand (features, pair signals)."""

from __future__ import annotations

import polars as pl

from movierec.model.features import FilmTables


def tiny_films() -> FilmTables:
    """Four films: 1 and 2 share a keyword, the director and a collection; 3 and 4 do not."""
    return FilmTables(
        movies=pl.DataFrame(
            {
                "id": [1, 2, 3, 4],
                "title": ["Sky", "Sky Two", "Sea", "Land"],
                "overview": ["pilots fly planes", "pilots fly again", "sailors sail ships", None],
                "tagline": [None, "higher", None, None],
                "original_language": ["en", "en", "fr", None],
                "release_year": [1990, 1994, 2010, None],
                "vote_average": [7.0, 6.0, 8.0, None],
                "vote_count": [100, 10, 0, None],
                "collection_id": [50, 50, None, None],
            },
            schema_overrides={"release_year": pl.Int32, "vote_count": pl.Int64, "collection_id": pl.Int64},
        ),
        genres=pl.DataFrame({"movie_id": [1, 2, 3, 3], "genre_id": [10, 10, 10, 20]}),
        keywords=pl.DataFrame({"movie_id": [1, 1, 2, 9], "keyword_id": [100, 200, 100, 100]}),  # 9: not a film
        cast=pl.DataFrame({"movie_id": [1, 1, 2, 2, 3], "person_id": [7, 8, 7, 9, 8], "order": [0, 1, 5, 0, 1]}),
        crew=pl.DataFrame(
            {"movie_id": [1, 2, 3], "person_id": [70, 70, 70], "job": ["Director", "Director", "Editor"]}
        ),
    )
