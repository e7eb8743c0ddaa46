"""Fuzzy "did you mean" over a fixed list of normalized keys, at a bounded cost per query.

Two channels, merged by score:

* prefix: keys that start with the query (``"star wa"`` → ``"star wars"``), found by bisection
  in the sorted keys and scored at least ``PREFIX_SCORE``;
* typo: ``rapidfuzz.fuzz.ratio`` (normalized Indel similarity, 0–100) ≥ ``cutoff`` (70), computed
  only on the keys whose length allows that score (the keys are grouped by length).

Memory and time do not depend on the longest key: the index holds each key's first
``KEY_CHARS`` (64) characters only, and compares a query's first ``KEY_CHARS`` with them (the
longest real names are about 30 characters; a longer title is suggested by its start). At 200
characters a search over 82,000 padded names took 125 ms; at 64, 30–40 ms. The labels are not held at all: ``labels`` is read (lazily, say from a memory-mapped
artifact) for the few keys a query returns. One 10-million-character title once made this index
hold one Python int per character of it, and every suggestion answer 10 MB.

The cost is one bisection plus one ``rapidfuzz.process.cdist`` over that length window, at most
one pass over the keys (about 10 ms for 45,000 titles on a slow core), without the GIL.

>>> s = Suggester(["toy story", "toy story 2", "the mummy", "hamlet"],
...               ["Toy Story", "Toy Story 2", "The Mummy", "Hamlet"])
>>> s.suggest("toy stori", 3)
['Toy Story', 'Toy Story 2']
>>> s.suggest("toy", 5)
['Toy Story', 'Toy Story 2']
>>> s.suggest("zzzzzz", 5)
[]
"""

from __future__ import annotations

import math
import os
import threading
from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import islice
from typing import Protocol, TypeVar

import numpy as np
from rapidfuzz import fuzz, process

PREFIX_SCORE = 85.0
# The fuzzy pass runs in C++ without the GIL (``cdist``; ``extract`` held it, and a worker
# thread's search then stalled the event loop as if it ran there), at most on all cores but one
# at a time, so that the event loop keeps a core whatever the number of searches asked for.
_SEARCHING = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) - 1))
T = TypeVar("T")
KEY_CHARS = 64  # characters of a key (and of a query) compared: every real name, all but a few titles


class Lazy(Sequence[T]):
    """``count`` values (strings, say) computed by ``get(i)`` when read, never held.

    >>> Lazy(3, lambda i: "ab"[:i])[2], len(Lazy(3, str))
    ('ab', 3)
    """

    __slots__ = ("_count", "_get")

    def __init__(self, count: int, get: Callable[[int], T]) -> None:
        self._count, self._get = count, get

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i: int) -> T:  # type: ignore[override]
        if not 0 <= i < self._count:
            raise IndexError(i)
        return self._get(i)


class Texts(Protocol):
    """What the suggester reads of its keys and labels: their number and the i-th."""

    def __len__(self) -> int: ...

    def __getitem__(self, i: int, /) -> str: ...


class Suggester:
    """Closest labels to a query among ``keys`` (normalized, unique), shown as ``labels``.

    Both are read by index: ``keys`` once, here; ``labels`` only for the keys a query returns.
    """

    __slots__ = ("_by_key", "_by_length", "_key_rows", "_labels", "_length_rows", "_length_starts", "_owners", "cutoff")

    def __init__(self, keys: Texts, labels: Texts, cutoff: float = 70.0, owners: Sequence[int] | None = None) -> None:
        if len(keys) != len(labels):
            raise ValueError("keys and labels differ in length")
        self._labels = labels
        # keys of one owner (a film's several titles) are suggested once, by the best of them;
        # read, like the labels, only for the keys a query finds
        self._owners = owners
        cut = [keys[i][:KEY_CHARS] for i in range(len(keys))]
        order = sorted(range(len(cut)), key=cut.__getitem__)
        self._by_key = [cut[i] for i in order]
        self._key_rows = np.array(order, dtype=np.int64)  # sorted position → index in keys and labels
        del cut, order
        # The same keys grouped by length (a stable sort keeps each group in key order), and
        # _length_starts[n] = index of the first key of length >= n (n ≤ KEY_CHARS + 1).
        lengths = np.fromiter(map(len, self._by_key), dtype=np.int64, count=len(self._by_key))
        by_length = np.argsort(lengths, kind="stable")
        self._by_length = [self._by_key[i] for i in by_length.tolist()]
        self._length_rows = self._key_rows[by_length]
        longest = int(lengths.max(initial=0))
        self._length_starts = np.searchsorted(lengths[by_length], np.arange(longest + 2)).tolist()
        self.cutoff = cutoff

    def __len__(self) -> int:
        return len(self._by_key)

    def suggest(self, query: str, limit: int) -> list[str]:
        """Up to ``limit`` labels, best first; ``query`` must already be normalized."""
        if not query or limit <= 0 or not self._by_key:
            return []
        scores: dict[int, tuple[float, int, str]] = {}  # by owner: two keys may show one label
        best_row: dict[int, int] = {}
        owners = self._owners

        def offer(key: str, row: int, score: float) -> None:
            owner = owners[row] if owners is not None else row
            best = scores.get(owner)
            candidate = (score, -len(key), key)
            if best is None or candidate > best:
                scores[owner] = candidate
                best_row[owner] = row

        query = query[:KEY_CHARS]
        start = bisect_left(self._by_key, query)
        for i in islice(range(start, len(self._by_key)), limit * 4):
            key = self._by_key[i]
            if not key.startswith(query):
                break
            offer(key, int(self._key_rows[i]), max(PREFIX_SCORE, fuzz.ratio(query, key)))

        # ratio = 200·matches / (len(a) + len(b)) ≤ 200·min / (len(a) + len(b)): only keys within
        # these lengths can reach the cutoff, so the window loses no match.
        n, cut = len(query), self.cutoff
        shortest = math.ceil(n * cut / (200 - cut))
        longest = math.floor(n * (200 - cut) / cut) if cut > 0 else len(self._length_starts)
        starts = self._length_starts
        lo = starts[min(shortest, len(starts) - 1)]
        hi = starts[min(longest + 1, len(starts) - 1)]  # the last entry is len(keys)
        if hi > lo:
            with _SEARCHING:
                found = process.cdist(
                    [query],
                    self._by_length[lo:hi],
                    scorer=fuzz.ratio,
                    score_cutoff=self.cutoff,
                    dtype=np.float32,
                    workers=1,
                )[0]
            hits = np.flatnonzero(found)  # below the cutoff a score is 0
            for index in hits[np.argsort(-found[hits], kind="stable")[: limit * 2]].tolist():
                offer(self._by_length[lo + index], int(self._length_rows[lo + index]), float(found[index]))

        ranked = sorted(scores.items(), key=lambda item: (-item[1][0], -item[1][1], item[1][2]))
        labels = list(dict.fromkeys(self._labels[best_row[owner]] for owner, _ in ranked))  # a label once, at its best
        return labels[:limit]
