"""Persons of one role (actors, directors): aggregates over their films, found by any spelling of their name."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import polars as pl

from movierec.catalog.keys import FilmKeys, factorize
from movierec.catalog.suggest import Suggester
from movierec.catalog.text import normalize, normalize_many


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
    """Persons of one role (cast or directing), indexed 0…n-1: aggregates in numpy arrays, display
    names in a list, and ``by_key``: normalized name → the person's index, or a tuple of indexes
    (preferred first) when several persons share the name. Lean on purpose: the full data set
    credits about 200,000 actors."""

    def __init__(self, person_ids: np.ndarray, names: list[str], films: np.ndarray, totals: np.ndarray,
                 film_rows: list[tuple[int, ...]] | None, by_key: dict[str, int | tuple[int, ...]]) -> None:
        self.person_ids = person_ids
        self.names = names
        self.films = films
        self.totals = totals
        self.film_rows = film_rows
        self.by_key = by_key

    @cached_property
    def suggester(self) -> Suggester:
        """Built on the first unknown name, not at start-up."""
        return Suggester(list(self.by_key), [self.names[first_of(found)] for found in self.by_key.values()])

    def __len__(self) -> int:
        return len(self.names)

    def person(self, i: int) -> Person:
        rows = self.film_rows[i] if self.film_rows is not None else ()
        return Person(int(self.person_ids[i]), self.names[i], int(self.films[i]), float(self.totals[i]), rows)

    def match(self, key: str) -> PersonMatch | None:
        """The person a normalized name designates, and the other persons with that name."""
        found = self.by_key.get(key)
        if found is None:
            return None
        if isinstance(found, int):
            return PersonMatch(self.person(found), [])
        return PersonMatch(self.person(found[0]), [self.person(i) for i in found[1:]])

    def find(self, text: str) -> PersonMatch | None:
        """:meth:`match` for a name as the client wrote it."""
        return self.match(normalize(text))


def first_of(found: int | tuple[int, ...]) -> int:
    return found if isinstance(found, int) else found[0]


def build_people(credits: pl.DataFrame, films: FilmKeys, *, keep_films: bool) -> People:
    """Aggregate credits (movie_id, person_id, name) per person over the catalogue's films."""
    credits = credits.drop_nulls()
    rows = films.rows(credits["movie_id"])
    keep = rows >= 0
    credits = credits.filter(pl.Series(keep))
    rows = rows[keep]
    person_ids, person_index = factorize(credits["person_id"].to_numpy())

    # One entry per (person, film), sorted by person then by the film's release date.
    pairs = np.sort((person_index << 32) | films.date_rank[rows])
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]
    owner = pairs >> 32
    film_rows = films.by_date[pairs & 0xFFFFFFFF]
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    ends = np.r_[starts[1:], len(pairs)]
    counts = (ends - starts).astype(np.int32)
    returns = films.returns[film_rows]
    totals = returns[starts]  # a person with one film: that film's return
    for person in np.flatnonzero(counts > 1).tolist():
        totals[person] = math.fsum(returns[starts[person]:ends[person]].tolist())
    per_person_films = None
    if keep_films:
        all_rows = film_rows.tolist()
        per_person_films = [tuple(all_rows[a:b]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]

    # Every spelling a person is credited under finds them; the most used one is displayed.
    spellings = credits.group_by("person_id", "name").len().sort(
        ["person_id", "len", "name"], descending=[False, True, False]
    )
    spelling_owner = np.searchsorted(person_ids, spellings["person_id"].to_numpy()).tolist()
    names: list[str] = [""] * len(person_ids)
    by_key: dict[str, int | list[int]] = {}
    previous = -1
    spelled = spellings["name"].to_list()
    for i, name, key in zip(spelling_owner, spelled, normalize_many(spelled), strict=True):
        if i != previous:
            names[i] = name
            previous = i
        if not key:
            continue
        owners = by_key.get(key)
        if owners is None:
            by_key[key] = i
        elif isinstance(owners, int):
            if owners != i:
                by_key[key] = [owners, i]
        elif i not in owners:
            owners.append(i)
    for key, owners in by_key.items():
        if isinstance(owners, list):  # homonyms: most films, then highest total, then lowest id
            by_key[key] = tuple(sorted(owners, key=lambda i: (-counts[i], -totals[i], person_ids[i])))
    return People(person_ids, names, counts, totals, per_person_films, by_key)  # type: ignore[arg-type]
