"""TMDB API answers written as rows of the Kaggle "The Movies Dataset" CSVs.

The Kaggle files were written by pandas from Python objects: nested cells hold the ``repr`` of
lists of dicts (single quotes, ``None``, ``True``/``False``), floats are written by ``repr``
(``81.0``, ``21.946943``), integers as integers, missing values as empty fields, and the CSV
uses minimal quoting with doubled quotes and ``\\n`` line ends. The TMDB API of today returns
more keys than the Kaggle snapshot kept (``english_name``, ``logo_path``, ``origin_country``,
``known_for_department``...) and in another order, so every nested dict is rebuilt with exactly
the Kaggle keys in the Kaggle order; the ETL (:mod:`movierec.etl`) reads the result like the
original files.

>>> detail = {"id": 862, "genres": [{"name": "Animation", "id": 16}],
...           "keywords": {"keywords": [{"id": 931, "name": "jealousy"}]}}
>>> movie_row(detail)[MOVIES_COLUMNS.index("genres")]
"[{'id': 16, 'name': 'Animation'}]"
>>> keywords_row(detail)
['862', "[{'id': 931, 'name': 'jealousy'}]"]
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from movierec.raw.files import CREDITS_COLUMNS, KEYWORDS_COLUMNS, MOVIES_COLUMNS

MOVIES_FILE = "movies_metadata.csv"
CREDITS_FILE = "credits.csv"
KEYWORDS_FILE = "keywords.csv"

# The Kaggle headers are the ETL's (movierec.raw.files): a batch is read exactly as the raw files.

# Keys of the nested dicts, in the order the Kaggle files write them.
COLLECTION_KEYS = ("id", "name", "poster_path", "backdrop_path")
GENRE_KEYS = ("id", "name")
COMPANY_KEYS = ("name", "id")
COUNTRY_KEYS = ("iso_3166_1", "name")
LANGUAGE_KEYS = ("iso_639_1", "name")
KEYWORD_KEYS = ("id", "name")
CAST_KEYS = ("cast_id", "character", "credit_id", "gender", "id", "name", "order", "profile_path")
CREW_KEYS = ("credit_id", "department", "gender", "id", "job", "name", "profile_path")

Detail = Mapping[str, Any]


def _pick(item: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The Kaggle keys of one nested dict; a key the API left out becomes None, as in Kaggle."""
    return {key: item.get(key) for key in keys}


def _records(items: Iterable[Mapping[str, Any]] | None, keys: tuple[str, ...]) -> str:
    """``repr`` of a list of dicts, as the Kaggle nested columns; a missing list is ``[]``."""
    return repr([_pick(item, keys) for item in items or ()])


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _int(value: Any) -> str:
    return "" if value is None else str(int(value))


def _float(value: Any) -> str:
    """pandas writes a float column with ``repr``: 81 minutes is ``81.0``.

    >>> _float(81), _float(21.946943), _float(None)
    ('81.0', '21.946943', '')
    """
    return "" if value is None else repr(float(value))


def _flag(value: Any) -> str:
    return str(bool(value))


def movie_row(detail: Detail) -> list[str]:
    """One ``movies_metadata.csv`` row, in :data:`MOVIES_COLUMNS` order."""
    collection = detail.get("belongs_to_collection")
    fields = {
        "adult": _flag(detail.get("adult")),
        "belongs_to_collection": repr(_pick(collection, COLLECTION_KEYS)) if collection else "",
        "budget": _int(detail.get("budget")),
        "genres": _records(detail.get("genres"), GENRE_KEYS),
        "homepage": _text(detail.get("homepage")),
        "id": _int(detail["id"]),
        "imdb_id": _text(detail.get("imdb_id")),
        "original_language": _text(detail.get("original_language")),
        "original_title": _text(detail.get("original_title")),
        "overview": _text(detail.get("overview")),
        "popularity": _float(detail.get("popularity")),
        "poster_path": _text(detail.get("poster_path")),
        "production_companies": _records(detail.get("production_companies"), COMPANY_KEYS),
        "production_countries": _records(detail.get("production_countries"), COUNTRY_KEYS),
        "release_date": _text(detail.get("release_date")),
        "revenue": _int(detail.get("revenue")),
        "runtime": _float(detail.get("runtime")),
        "spoken_languages": _records(detail.get("spoken_languages"), LANGUAGE_KEYS),
        "status": _text(detail.get("status")),
        "tagline": _text(detail.get("tagline")),
        "title": _text(detail.get("title")),
        "video": _flag(detail.get("video")),
        "vote_average": _float(detail.get("vote_average")),
        "vote_count": _int(detail.get("vote_count")),
    }
    return [fields[column] for column in MOVIES_COLUMNS]


def credits_row(detail: Detail) -> list[str]:
    """One ``credits.csv`` row (cast, crew, id) from ``append_to_response=credits``."""
    credits = detail.get("credits") or {}
    return [
        _records(credits.get("cast"), CAST_KEYS),
        _records(credits.get("crew"), CREW_KEYS),
        _int(detail["id"]),
    ]


def keywords_row(detail: Detail) -> list[str]:
    """One ``keywords.csv`` row (id, keywords): the API nests the list one level deeper."""
    keywords = detail.get("keywords") or {}
    return [_int(detail["id"]), _records(keywords.get("keywords"), KEYWORD_KEYS)]


class BatchWriter:
    """The three Kaggle CSVs of one batch, written a film at a time as the answers come in.

    Streaming keeps memory flat: a film with its credits is tens of kilobytes of JSON, and a
    sync over a few weeks of changes fetches tens of thousands of them.
    """

    FILES = (MOVIES_FILE, CREDITS_FILE, KEYWORDS_FILE)

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._handles = []
        self._writers = []
        for name, header in zip(self.FILES, (MOVIES_COLUMNS, CREDITS_COLUMNS, KEYWORDS_COLUMNS)):
            # newline="" + lineterminator="\n" is what pandas' to_csv does on Linux; a lone
            # surrogate in an API string cannot be encoded and becomes "?" instead of failing.
            handle = open(self.folder / name, "w", encoding="utf-8", errors="replace", newline="")
            writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
            writer.writerow(header)
            self._handles.append(handle)
            self._writers.append(writer)
        self.films = 0

    def add(self, detail: Detail) -> None:
        """Write one film to the three files; a malformed answer raises before anything is written."""
        rows = (movie_row(detail), credits_row(detail), keywords_row(detail))
        for writer, row in zip(self._writers, rows):
            writer.writerow(row)
        self.films += 1

    def close(self) -> None:
        for handle in self._handles:
            handle.close()

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
