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
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from movierec.etl.titles import SPANISH_COUNTRIES
from movierec.raw.caps import FieldCaps
from movierec.raw.files import CREDITS_COLUMNS, KEYWORDS_COLUMNS, MOVIES_COLUMNS, TITLES_COLUMNS
from movierec.refresh.client import one_line

log = logging.getLogger("movierec.tmdb")

MOVIES_FILE = "movies_metadata.csv"
CREDITS_FILE = "credits.csv"
KEYWORDS_FILE = "keywords.csv"
TITLES_FILE = "titles.csv"

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

# Numbers a film may hold (inclusive bounds): outside them the answer is malformed, not a film.
_INT_RANGES = {"budget": (0, 10**15), "revenue": (0, 10**15), "vote_count": (0, 10**12), "id": (1, 10**18 - 1)}
_FLOAT_RANGES = {"popularity": (0.0, 1e12), "runtime": (0.0, 1e6), "vote_average": (0.0, 10.0)}
_NESTED_INTS = frozenset({"id", "cast_id", "gender", "order"})  # the other nested keys are text
_NESTED_INT_RANGE = (-(10**18), 10**18)
# Entries kept per nested list (cast, crew, keywords, genres...): real films have at most a few
# thousand crew; an 8 MB answer of empty entries would otherwise become ~1 GB of rebuilt dicts.
NESTED_ITEMS = 5000


class MalformedAnswer(ValueError):
    """A film answer that is not what TMDB sends (a list for a dict, text for a number,
    a number out of range): the film is counted failed, the rest of the batch is written."""


@dataclass(frozen=True)
class Cleaner:
    """What every string goes through before it is written: the secrets (the TMDB key, should
    the server echo it) replaced by ``***``, then the field's cap (:class:`FieldCaps`)."""

    caps: FieldCaps = field(default_factory=FieldCaps)
    secrets: tuple[str, ...] = ()

    def text(self, field: str, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise MalformedAnswer(f"{field}: {type(value).__name__} where text is expected")
        for secret in self.secrets:
            value = value.replace(secret, "***")
        return self.caps.clip(field, value)


PLAIN = Cleaner()


def _number(field: str, value: Any, low: float, high: float, *, integer: bool) -> int | float | None:
    """``value`` if it is a finite number within [low, high] (an integral float for an integer)."""
    if value is None:
        return None
    if type(value) not in (int, float):  # bool is an int subclass: refused too
        raise MalformedAnswer(f"{field}: {type(value).__name__} where a number is expected")
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedAnswer(f"{field}: not a finite number")
    if integer and isinstance(value, float):
        if not value.is_integer():
            raise MalformedAnswer(f"{field}: {value!r} is not an integer")
        value = int(value)
    if not low <= value <= high:
        raise MalformedAnswer(f"{field}: {one_line(repr(value), 40)} out of range [{low}, {high}]")
    return value


def _dict(field: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedAnswer(f"{field}: {type(value).__name__} where an object is expected")
    return value


def _pick(item: Any, keys: tuple[str, ...], clean: Cleaner, field: str) -> dict[str, Any]:
    """The Kaggle keys of one nested dict, checked and cleaned; a key the API left out becomes
    None, as in Kaggle."""
    if not isinstance(item, Mapping):
        raise MalformedAnswer(f"{field}: {type(item).__name__} where an object is expected")
    return {
        key: _number(f"{field}.{key}", item.get(key), *_NESTED_INT_RANGE, integer=True)
        if key in _NESTED_INTS
        else clean.text(key, item.get(key))
        for key in keys
    }


def _records(items: Any, keys: tuple[str, ...], clean: Cleaner, field: str) -> str:
    """``repr`` of a list of dicts, as the Kaggle nested columns; a missing list is ``[]``."""
    if items is None:
        return "[]"
    if not isinstance(items, list):
        raise MalformedAnswer(f"{field}: {type(items).__name__} where a list is expected")
    if len(items) > NESTED_ITEMS:
        log.warning("%s: %d entries, the first %d kept", field, len(items), NESTED_ITEMS)
    return repr([_pick(item, keys, clean, field) for item in items[:NESTED_ITEMS]])


def _text(value: str | None) -> str:
    return "" if value is None else value


def _int(field: str, value: Any) -> str:
    low, high = _INT_RANGES[field]
    number = _number(field, value, low, high, integer=True)
    return "" if number is None else str(number)


def _float(field: str, value: Any) -> str:
    """pandas writes a float column with ``repr``: 81 minutes is ``81.0``.

    >>> _float("runtime", 81), _float("popularity", 21.946943), _float("runtime", None)
    ('81.0', '21.946943', '')
    """
    low, high = _FLOAT_RANGES[field]
    number = _number(field, value, low, high, integer=False)
    return "" if number is None else repr(float(number))


def _flag(field: str, value: Any) -> str:
    if value is not None and type(value) is not bool:
        raise MalformedAnswer(f"{field}: {type(value).__name__} where true or false is expected")
    return str(bool(value))


_TEXT_COLUMNS = (
    "homepage",
    "imdb_id",
    "original_language",
    "original_title",
    "overview",
    "poster_path",
    "release_date",
    "status",
    "tagline",
    "title",
)


def movie_row(detail: Detail, clean: Cleaner = PLAIN) -> list[str]:
    """One ``movies_metadata.csv`` row, in :data:`MOVIES_COLUMNS` order; :class:`MalformedAnswer`
    when a field is not what TMDB sends."""
    collection = _dict("belongs_to_collection", detail.get("belongs_to_collection"))
    fields = {
        "adult": _flag("adult", detail.get("adult")),
        "belongs_to_collection": repr(_pick(collection, COLLECTION_KEYS, clean, "belongs_to_collection"))
        if collection
        else "",
        "budget": _int("budget", detail.get("budget")),
        "genres": _records(detail.get("genres"), GENRE_KEYS, clean, "genres"),
        "id": _int("id", detail["id"]),
        "popularity": _float("popularity", detail.get("popularity")),
        "production_companies": _records(
            detail.get("production_companies"), COMPANY_KEYS, clean, "production_companies"
        ),
        "production_countries": _records(
            detail.get("production_countries"), COUNTRY_KEYS, clean, "production_countries"
        ),
        "revenue": _int("revenue", detail.get("revenue")),
        "runtime": _float("runtime", detail.get("runtime")),
        "spoken_languages": _records(detail.get("spoken_languages"), LANGUAGE_KEYS, clean, "spoken_languages"),
        "video": _flag("video", detail.get("video")),
        "vote_average": _float("vote_average", detail.get("vote_average")),
        "vote_count": _int("vote_count", detail.get("vote_count")),
        **{column: _text(clean.text(column, detail.get(column))) for column in _TEXT_COLUMNS},
    }
    return [fields[column] for column in MOVIES_COLUMNS]


def credits_row(detail: Detail, clean: Cleaner = PLAIN) -> list[str]:
    """One ``credits.csv`` row (cast, crew, id) from ``append_to_response=credits``."""
    credits = _dict("credits", detail.get("credits"))
    return [
        _records(credits.get("cast"), CAST_KEYS, clean, "cast"),
        _records(credits.get("crew"), CREW_KEYS, clean, "crew"),
        _int("id", detail["id"]),
    ]


def keywords_row(detail: Detail, clean: Cleaner = PLAIN) -> list[str]:
    """One ``keywords.csv`` row (id, keywords): the API nests the list one level deeper."""
    keywords = _dict("keywords", detail.get("keywords"))
    return [_int("id", detail["id"]), _records(keywords.get("keywords"), KEYWORD_KEYS, clean, "keywords")]


def _code(field: str, value: Any) -> str | None:
    """A two-letter ISO code in upper case; None when missing or not two letters (not Spanish)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedAnswer(f"{field}: {type(value).__name__} where text is expected")
    return value.upper() if len(value) == 2 and value.isascii() and value.isalpha() else None


def _list(field: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedAnswer(f"{field}: {type(value).__name__} where a list is expected")
    return value[:NESTED_ITEMS]


def _title(clean: Cleaner, value: Any) -> str:
    value = value.strip() if isinstance(value, str) else value
    return _text(clean.text("title", value)).strip()


def titles_rows(detail: Detail, clean: Cleaner = PLAIN, max_titles: int = 20) -> list[list[str]]:
    """The film's Spanish titles as ``titles.csv`` rows (movie_id, iso_639_1, iso_3166_1, title,
    kind), from ``append_to_response=translations,alternative_titles``: the ``es`` translations
    (es-ES first) then the alternative titles of Spanish-speaking countries, each title once, at
    most ``max_titles``. A translation without a title (TMDB often translates only the overview)
    gives none.

    >>> detail = {"id": 238, "translations": {"translations": [
    ...     {"iso_3166_1": "MX", "iso_639_1": "es", "name": "Español", "english_name": "Spanish",
    ...      "data": {"title": "El padrino", "overview": "…", "homepage": ""}},
    ...     {"iso_3166_1": "ES", "iso_639_1": "es", "data": {"title": " El padrino "}},
    ...     {"iso_3166_1": "FR", "iso_639_1": "fr", "data": {"title": "Le Parrain"}}]},
    ...     "alternative_titles": {"titles": [{"iso_3166_1": "AR", "title": "El Padrino I", "type": ""},
    ...                                       {"iso_3166_1": "US", "title": "Godfather", "type": ""}]}}
    >>> titles_rows(detail)
    [['238', 'es', 'ES', 'El padrino', 'translation'], ['238', 'es', 'AR', 'El Padrino I', 'alternative']]
    """
    movie_id = _int("id", detail["id"])
    found: list[tuple[str, str, str]] = []
    translations = _list("translations", _dict("translations", detail.get("translations")).get("translations"))
    spanish = []
    for item in translations:
        item = _dict("translations[]", item) if item is not None else {}
        if (language := _code("translations.iso_639_1", item.get("iso_639_1"))) is None or language != "ES":
            continue
        country = _code("translations.iso_3166_1", item.get("iso_3166_1")) or ""
        spanish.append((country, _title(clean, _dict("translations.data", item.get("data")).get("title"))))
    spanish.sort(key=lambda entry: entry[0] != "ES")  # Spain's first: the title most readers know
    found.extend((country, title, "translation") for country, title in spanish)
    alternatives = _dict("alternative_titles", detail.get("alternative_titles"))
    for item in _list("alternative_titles", alternatives.get("titles")):
        item = _dict("alternative_titles[]", item) if item is not None else {}
        code = _code("alternative_titles.iso_3166_1", item.get("iso_3166_1"))
        if code is not None and code in SPANISH_COUNTRIES:
            found.append((code, _title(clean, item.get("title")), "alternative"))
    rows: list[list[str]] = []
    seen: set[str] = set()
    for country, title, kind in found:
        if title and title not in seen and len(rows) < max_titles:
            seen.add(title)
            rows.append([movie_id, "es", country, title, kind])
    return rows


class BatchWriter:
    """The Kaggle CSVs of one batch (and its titles.csv), written a film at a time as the answers come in.

    Streaming keeps memory flat: a film with its credits is tens of kilobytes of JSON, and a
    sync over a few weeks of changes fetches tens of thousands of them.
    """

    FILES = (MOVIES_FILE, CREDITS_FILE, KEYWORDS_FILE, TITLES_FILE)

    def __init__(self, folder: Path, clean: Cleaner = PLAIN, max_titles: int = 20) -> None:
        self.folder = Path(folder)
        self.clean = clean
        self.max_titles = max_titles
        self._handles = []
        self._writers = []
        for name, header in zip(
            self.FILES, (MOVIES_COLUMNS, CREDITS_COLUMNS, KEYWORDS_COLUMNS, TITLES_COLUMNS), strict=True
        ):
            # newline="" + lineterminator="\n" is what pandas' to_csv does on Linux; a lone
            # surrogate in an API string cannot be encoded and becomes "?" instead of failing.
            handle = open(self.folder / name, "w", encoding="utf-8", errors="replace", newline="")
            writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
            writer.writerow(header)
            self._handles.append(handle)
            self._writers.append(writer)
        self.films = 0

    def add(self, detail: Detail) -> None:
        """Write one film to the files; a malformed answer raises before anything is written."""
        rows = (
            [movie_row(detail, self.clean)],
            [credits_row(detail, self.clean)],
            [keywords_row(detail, self.clean)],
            titles_rows(detail, self.clean, self.max_titles),
        )
        for writer, film_rows in zip(self._writers, rows, strict=True):
            writer.writerows(film_rows)
        self.films += 1

    def close(self) -> None:
        for handle in self._handles:
            handle.close()

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
