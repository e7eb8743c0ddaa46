"""The indexes the API answers from: a :class:`Catalog` over one release's catalog artifact.

:func:`load_catalog` maps ``release/catalog/`` (built when the release was published, by
:mod:`movierec.catalog.build`): loading is a JSON parse and a memory map, not a rebuild, so two
releases fit side by side while the server switches from one to the other, and the pages of the
artifact are shared with the page cache. A release published before the artifact existed (or
built for another number of recommendations) is built in memory instead, from its tables.

Films are addressed by their *row*, their position in ``movies.parquet``. Every look-up is a hash
probe and a few array reads through memoryviews; a request never scans a table. The rules (which
film a shared title answers, how persons and their returns are counted, which neighbours are
recommended) are stated in :mod:`movierec.catalog.build`, where they are applied.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from movierec.catalog.additions import NO_DAY, day_text
from movierec.catalog.artifact import ArtifactError, drop_pages, map_arrays, read_meta
from movierec.catalog.keys import IdIndex, KeyIndex, Strings
from movierec.catalog.people import People
from movierec.catalog.personal import PersonalIndex
from movierec.catalog.suggest import Lazy, Suggester
from movierec.catalog.text import normalize
from movierec.config import Settings
from movierec.model.scorer import neighbours_of
from movierec.release.layout import CATALOG, MANIFEST

if TYPE_CHECKING:
    from movierec.catalog.cards import Cards

log = logging.getLogger("movierec.catalog")

NO_YEAR = np.iinfo(np.int32).min  # as movierec.catalog.build writes a missing release_year


class ReleaseError(RuntimeError):
    """The data folder holds no usable release."""


class Film(NamedTuple):
    """One film of the catalogue, as the API shows it (a named tuple: cheap to build per request)."""

    row: int
    id: int
    title: str | None
    year: int | None
    date: str | None  # YYYY-mm-dd
    popularity: float | None
    votes: int
    vote_average: float | None
    budget: int
    revenue: int
    ret: float  # the table's ``return``: revenue / budget, 0 when either is unknown
    original: str | None = None  # the original title, when it is not ``title``
    es: str | None = None  # the Spanish title shown (catalog/titles.py), when one is known


class Catalog:
    """Every answer of the API, from one release. Build it with :func:`load_catalog`.

    ``arrays`` are the catalog artifact's arrays (memory-mapped, or built in memory), ``meta``
    its ``catalog.json``. Immutable: the API swaps a whole catalog when a new release is served.
    """

    def __init__(
        self, *, version: str, manifest: dict[str, object], arrays: Mapping[str, np.ndarray], meta: Mapping[str, object]
    ) -> None:
        self.version = version
        self.manifest = manifest
        self.folder: Path | None = None  # the release folder, when loaded from one (its report, cards)
        self.suggestions_ready = False  # set by warm_up(), once the suggestion indexes exist
        self.arrays = arrays
        self._count = len(arrays["film_id"])
        self._ids = IdIndex.from_arrays(arrays)
        self._id = arrays["film_id"].data
        self._titles = Strings.from_arrays(arrays["film_title_blob"], arrays["film_title_offsets"])
        self._untitled = arrays["film_title_null"].data
        self._dates = Strings.from_arrays(arrays["film_date_blob"], arrays["film_date_offsets"])
        self._years = arrays["film_year"].data
        self._popularity = arrays["film_popularity"].data
        self._votes = arrays["film_votes"].data
        self._vote_average = arrays["film_vote_average"].data
        self._budget = arrays["film_budget"].data
        self._revenue = arrays["film_revenue"].data
        self._return = arrays["film_return"].data
        self._title_index = KeyIndex.from_arrays(arrays, prefix="title_")
        self._title_key = arrays["film_title_key"].data
        # Original and Spanish titles, and the text each title key is shown as; an artifact
        # published before them (issue 20) has none: every key is then a catalogue title.
        self._originals = _strings(arrays, "film_original_")
        self._spanish = _strings(arrays, "film_es_")
        self._labels = _strings(arrays, "title_label_")
        self.spanish_titles = int(meta.get("titulos_es", 0))  # type: ignore[call-overload]
        self.original_titles = int(meta.get("titulos_originales", 0))  # type: ignore[call-overload]
        self._recommended = int(meta["recommendations"])  # type: ignore[call-overload]
        self._rec_rows = arrays["rec_rows"].data
        self._rec_scores = arrays["rec_scores"].data
        # the model's reason for each recommendation (an artifact older than reasons has none)
        self._rec_reasons = arrays["rec_reasons"].data if "rec_reasons" in arrays else None
        self._reason_labels: tuple[str, ...] = tuple(meta.get("reason_labels") or ("",))  # type: ignore[arg-type]
        # The films the refresh added and each film's training likes (catalog/additions.py); an
        # artifact published before them has neither: no addition, likes unknown.
        self._new_rows = arrays["new_rows"].data if "new_rows" in arrays else None
        self._added_day = arrays["film_added_day"].data if "film_added_day" in arrays else None
        self._likes = arrays["film_likes"].data if "film_likes" in arrays else None
        self.cards: Cards | None = None  # the web page's film cards, memory-mapped; None: not in the release
        # The personal scorer's arrays; an artifact published before they were stored has none, and
        # its index is then built from the release's model files on the first personal request.
        self._personal: PersonalIndex | bool | None = PersonalIndex.from_arrays(arrays, meta)
        self._personal_lock = threading.Lock()
        self.month_counts: tuple[int, ...] = tuple(meta["month_counts"])  # type: ignore[arg-type]  # index 1–12
        self.weekday_counts: tuple[int, ...] = tuple(meta["weekday_counts"])  # type: ignore[arg-type]  # 1 (Monday) – 7
        self.actors = People(arrays, "actor_")
        self.directors = People(arrays, "director_")

    def __len__(self) -> int:
        return self._count

    def warm_up(self) -> int:
        """Build the suggestion indexes now (the app does it in a thread once it serves);
        returns the number of keys they hold."""
        keys = sum(len(s) for s in (self.titles, self.actors.suggester, self.directors.suggester))
        drop_pages(self.arrays)  # the key blobs were read once, whole: not worth counting in the RSS
        self.suggestions_ready = True
        return keys

    @cached_property
    def titles(self) -> Suggester:
        """Suggestions among the titles, built on the first unknown title, not at start-up."""
        index, labels = self._title_index, self._labels
        if labels is None:
            return Suggester(index.keys, Lazy(len(index), lambda i: self.title(index.first(i)) or ""))
        # a film found under several of its titles is suggested once, by the closest
        return Suggester(index.keys, Lazy(len(index), labels.__getitem__), owners=Lazy(len(index), index.first))

    def title(self, row: int) -> str | None:
        return None if self._untitled[row] else self._titles[row]

    def film(self, row: int) -> Film:
        year = self._years[row]
        popularity = self._popularity[row]
        average = self._vote_average[row]
        return Film(
            row,
            self._id[row],
            self.title(row),
            None if year == NO_YEAR else year,
            self._dates[row] or None,
            None if popularity != popularity else popularity,
            self._votes[row],
            None if average != average else average,
            self._budget[row],
            self._revenue[row],
            self._return[row],
            (self._originals[row] or None) if self._originals is not None else None,
            (self._spanish[row] or None) if self._spanish is not None else None,
        )

    def row_of_id(self, film_id: int) -> int | None:
        return self._ids.row(film_id)

    def title_rows(self, title: str) -> list[int]:
        """The rows of the films whose normalized title equals ``title``'s, preferred first."""
        found = self._title_index.find(normalize(title))
        return [] if found is None else self._title_index.members(found)

    def films_titled(self, title: str, limit: int | None = None) -> list[Film]:
        """The films whose normalized title equals ``title``'s, preferred first (the first ``limit``)."""
        return [self.film(row) for row in self.title_rows(title)[:limit]]

    def year(self, row: int) -> int | None:
        year = self._years[row]
        return None if year == NO_YEAR else year

    def by_year(self, rows: list[int], limit: int, *, unknown_last: bool = False) -> list[Film]:
        """The first ``limit`` films of ``rows`` by release year (unknown as 0, or after every
        year), then id; only those are built, however many rows a shared title has."""
        years, ids = self._years, self._id

        def order(row: int) -> tuple[bool, int, int]:
            year = years[row]
            return (year == NO_YEAR and unknown_last, 0 if year == NO_YEAR else year, ids[row])

        return [self.film(row) for row in sorted(rows, key=order)[:limit]]

    def known_money(self, row: int) -> bool:
        """Both the budget and the revenue of the film are known (above 0)."""
        return self._budget[row] > 0 and self._revenue[row] > 0

    def find_title(self, title: str, year: int | None = None) -> int | None:
        """The row of the film a title designates: among the films with that normalized title
        (and that release year, if given), the one with the most votes, then the most popular."""
        found = self.find_title_key(title, year)
        return None if found is None else found[0]

    def find_title_key(self, title: str, year: int | None = None) -> tuple[int, int] | None:
        """:meth:`find_title`'s row, and the title key it was found under (for :meth:`namesakes`)."""
        found = self._title_index.find(normalize(title))
        if found is None:
            return None
        if year is None:
            return self._title_index.first(found), found
        row = next((r for r in self._title_index.members(found) if self._years[r] == year), None)
        return None if row is None else (row, found)

    def namesakes(self, row: int, limit: int | None = None, key: int | None = None) -> list[Film]:
        """The other films that bear the title key ``key`` (default: ``row``'s catalogue title),
        by year then id (the first ``limit``)."""
        key = self._title_key[row] if key is None else key
        others = [r for r in self._title_index.members(key) if r != row] if key >= 0 else []
        return self.by_year(others, len(others) if limit is None else limit, unknown_last=True)

    def recommend(self, row: int) -> list[tuple[Film, float]]:
        """The film's recommendations, best first, with the model's score."""
        width = self._recommended
        return [(self.film(r), s) for r, s in neighbours_of(row, self._rec_rows, self._rec_scores, width, width)]

    def newest(self, limit: int) -> list[tuple[Film, str]]:
        """The films the latest ingests added, newest first, with the UTC date (YYYY-MM-DD) of the
        release that added each; at most ``limit`` (and the artifact's 100). Empty for a
        catalogue built without ingests."""
        if self._new_rows is None or self._added_day is None:
            return []
        rows = self._new_rows[:limit].tolist()
        return [(self.film(r), day_text(self._added_day[r]) or "") for r in rows]

    def added_on(self, row: int) -> str | None:
        """The UTC date (YYYY-MM-DD) of the release that added the film, None when no ingest did."""
        if self._added_day is None or self._added_day[row] == NO_DAY:
            return None
        return day_text(self._added_day[row])

    def likes(self, row: int) -> int | None:
        """The training users who liked the film (0: its recommendations come from its content);
        None when unknown (a model without ratings, or an older artifact)."""
        if self._likes is None or self._likes[row] < 0:
            return None
        return int(self._likes[row])

    def personal(self, rows: list[int]) -> list[tuple[Film, float, Film | None]]:
        """Personal recommendations for someone who liked the films ``rows``: 10 films, best
        first, with the model's score and the liked film that contributed most (None for a film
        that only fills the list by popularity). Empty when the release cannot give them."""
        index = self._personal_index()
        if index is None:
            return []
        return [
            (self.film(p.row), p.score, self.film(p.because) if p.because >= 0 else None) for p in index.recommend(rows)
        ]

    def _personal_index(self) -> PersonalIndex | None:
        """The personal scorer's index: the artifact's, or (an older artifact) built once from the
        release's model files (False when it has none, as a serving-only archive)."""
        if isinstance(self._personal, PersonalIndex):
            return self._personal
        with self._personal_lock:
            if self._personal is None and self.folder is not None:
                from movierec.catalog.build import personal_from_release  # polars: only for old artifacts

                self._personal = personal_from_release(
                    self.folder,
                    self.manifest,
                    titled=np.asarray(self.arrays["film_title_key"]) >= 0,
                    votes=np.asarray(self.arrays["film_votes"]),
                )
            return self._personal if isinstance(self._personal, PersonalIndex) else None

    def reasons(self, row: int) -> list[str]:
        """The model's reason for each of :meth:`recommend`'s films, in its order (signal names
        joined by commas, e.g. "collection,director"; "" when the artifact records none)."""
        first, last = row * self._recommended, (row + 1) * self._recommended
        count = sum(1 for r in self._rec_rows[first:last].tolist() if r >= 0)
        if self._rec_reasons is None:
            return [""] * count
        return [self._reason_labels[c] for c in self._rec_reasons[first : first + count].tolist()]


def _strings(arrays: Mapping[str, np.ndarray], prefix: str) -> Strings | None:
    if f"{prefix}blob" not in arrays:
        return None
    return Strings.from_arrays(arrays[f"{prefix}blob"], arrays[f"{prefix}offsets"])


def load_catalog(release: Path, settings: Settings) -> Catalog:
    """The catalog of the release folder ``release`` (``DATA/current`` resolved): its artifact
    mapped, or, for a release without one, built in memory from its tables."""
    manifest_path = release / MANIFEST
    if not manifest_path.is_file():
        raise ReleaseError(f"{release} is not a release: {MANIFEST} is missing")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"{manifest_path} is unreadable: {exc}") from None
    if not isinstance(manifest, dict):
        raise ReleaseError(f"{manifest_path} is not a JSON object")
    version = str(manifest.get("release", release.name))
    folder = release / CATALOG
    try:
        meta = read_meta(folder)
        if meta is not None and meta.get("recommendations") == settings.recommendations:
            arrays, meta = map_arrays(folder)
            return _from(release, Catalog(version=version, manifest=manifest, arrays=arrays, meta=meta))
    except (ArtifactError, KeyError, TypeError, ValueError) as exc:
        raise ReleaseError(f"the catalog artifact of {release.name} is unusable: {exc}") from None
    from movierec.catalog.build import MissingModel, build_arrays  # polars: only on this slow path

    log.warning(
        "release %s has no catalog artifact for %d recommendations: building it in memory",
        release.name,
        settings.recommendations,
    )
    try:
        arrays, meta = build_arrays(release, settings.recommendations, manifest)
    except MissingModel as exc:
        raise ReleaseError(str(exc)) from None
    return _from(release, Catalog(version=version, manifest=manifest, arrays=arrays, meta=meta))


def _from(release: Path, catalog: Catalog) -> Catalog:
    from movierec.catalog.cards import CARDS, open_cards

    catalog.folder = release
    catalog.cards = open_cards(release / CARDS)
    return catalog
