"""Persons of one role (actors, directors), read from the catalog artifact: aggregates over their
films, found by any spelling of their name. The aggregates are computed when the release is
published (:func:`movierec.catalog.build.people_arrays`, which also states the rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from movierec.catalog.keys import KeyIndex, Strings
from movierec.catalog.suggest import Lazy, Suggester
from movierec.catalog.text import normalize


class Person(NamedTuple):
    """One person (a TMDB person id) with their aggregate over the films of one role."""

    person_id: int
    name: str
    films: int
    total_return: float
    film_rows: tuple[int, ...]  # sorted by release date then id; empty for actors (not kept)

    @property
    def mean_return(self) -> float:
        return self.total_return / self.films


@dataclass(frozen=True, slots=True)
class PersonMatch:
    person: Person
    homonyms: list[Person]  # other persons with the same normalized name, preferred first


class People:
    """Persons of one role, indexed 0…n-1, over the arrays ``<prefix>*`` of a catalog artifact.

    ``by_key`` finds a normalized name (``key in people.by_key``); a name shared by several
    persons lists them preferred first. Nothing here is a Python object per person: the full
    data set credits about 200,000 actors.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], prefix: str) -> None:
        self.by_key = KeyIndex.from_arrays(arrays, prefix=f"{prefix}key_")
        self._ids = arrays[f"{prefix}id"].data
        self._names = Strings.from_arrays(arrays[f"{prefix}name_blob"], arrays[f"{prefix}name_offsets"])
        self._films = arrays[f"{prefix}films"].data
        self._totals = arrays[f"{prefix}total"].data
        starts = arrays.get(f"{prefix}film_starts")
        self._film_starts = starts.data if starts is not None else None
        self._film_rows = arrays[f"{prefix}film_rows"].data if starts is not None else None

    @cached_property
    def suggester(self) -> Suggester:
        """Built on the first unknown name (or by the app's warm-up thread), not at start-up."""
        keys = self.by_key
        return Suggester(keys.keys, Lazy(len(keys), lambda i: self._names[keys.first(i)]))

    def __len__(self) -> int:
        return len(self._names)

    def person(self, i: int) -> Person:
        rows: tuple[int, ...] = ()
        if self._film_starts is not None and self._film_rows is not None:
            rows = tuple(self._film_rows[self._film_starts[i] : self._film_starts[i + 1]].tolist())
        return Person(self._ids[i], self._names[i], self._films[i], self._totals[i], rows)

    def match(self, key: str, homonyms: int | None = None) -> PersonMatch | None:
        """The person a normalized name designates, and the other persons with that name (the
        first ``homonyms`` of them)."""
        found = self.by_key.find(key)
        if found is None:
            return None
        first, *others = self.by_key.members(found)
        return PersonMatch(self.person(first), [self.person(i) for i in others[:homonyms]])

    def find(self, text: str) -> PersonMatch | None:
        """:meth:`match` for a name as the client wrote it."""
        return self.match(normalize(text))
