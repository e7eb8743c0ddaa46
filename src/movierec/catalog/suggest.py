"""Fuzzy "did you mean" over a fixed list of normalized keys, at a bounded cost per query.

Two channels, merged by score:

* prefix: keys that start with the query (``"star wa"`` → ``"star wars"``), found by bisection
  in the sorted keys and scored at least ``PREFIX_SCORE``;
* typo: ``rapidfuzz.fuzz.ratio`` (normalized Indel similarity, 0–100) ≥ ``cutoff`` (70), computed
  only on the keys whose length allows that score (the keys are grouped by length).

The cost is one bisection plus one ``rapidfuzz.process.extract`` over that length window, at most
one pass over the keys (about 10 ms for 45,000 titles on a slow core); the API caps the query at
200 characters.

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
from bisect import bisect_left
from collections.abc import Sequence
from itertools import islice

import numpy as np
from rapidfuzz import fuzz, process

PREFIX_SCORE = 85.0


class Suggester:
    """Closest labels to a query among ``keys`` (normalized, unique), shown as ``labels``."""

    __slots__ = ("_by_key", "_labels_by_key", "_by_length", "_labels_by_length", "_length_starts", "cutoff")

    def __init__(self, keys: Sequence[str], labels: Sequence[str], cutoff: float = 70.0) -> None:
        if len(keys) != len(labels):
            raise ValueError("keys and labels differ in length")
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self._by_key = [keys[i] for i in order]
        self._labels_by_key = [labels[i] for i in order]
        # The same keys grouped by length (a stable sort keeps each group in key order), and
        # _length_starts[n] = index of the first key of length >= n.
        lengths = np.fromiter(map(len, self._by_key), dtype=np.int64, count=len(self._by_key))
        by_length = np.argsort(lengths, kind="stable")
        self._by_length = [self._by_key[i] for i in by_length.tolist()]
        self._labels_by_length = [self._labels_by_key[i] for i in by_length.tolist()]
        longest = int(lengths.max(initial=0))
        self._length_starts = np.searchsorted(lengths[by_length], np.arange(longest + 2)).tolist()
        self.cutoff = cutoff

    def __len__(self) -> int:
        return len(self._by_key)

    def suggest(self, query: str, limit: int) -> list[str]:
        """Up to ``limit`` labels, best first; ``query`` must already be normalized."""
        if not query or limit <= 0 or not self._by_key:
            return []
        scores: dict[str, tuple[float, int, str]] = {}

        def offer(key: str, label: str, score: float) -> None:
            best = scores.get(label)
            candidate = (score, -len(key), key)
            if best is None or candidate > best:
                scores[label] = candidate

        start = bisect_left(self._by_key, query)
        for i in islice(range(start, len(self._by_key)), limit * 4):
            key = self._by_key[i]
            if not key.startswith(query):
                break
            offer(key, self._labels_by_key[i], max(PREFIX_SCORE, fuzz.ratio(query, key)))

        # ratio = 200·matches / (len(a) + len(b)) ≤ 200·min / (len(a) + len(b)): only keys within
        # these lengths can reach the cutoff, so the window loses no match.
        n, cut = len(query), self.cutoff
        shortest = math.ceil(n * cut / (200 - cut))
        longest = math.floor(n * (200 - cut) / cut) if cut > 0 else len(self._length_starts)
        starts = self._length_starts
        lo = starts[min(shortest, len(starts) - 1)]
        hi = starts[min(longest + 1, len(starts) - 1)]  # the last entry is len(keys)
        if hi > lo:
            for key, score, index in process.extract(
                query, self._by_length[lo:hi], scorer=fuzz.ratio, limit=limit * 2, score_cutoff=self.cutoff
            ):
                offer(key, self._labels_by_length[lo + index], score)

        ranked = sorted(scores.items(), key=lambda item: (-item[1][0], -item[1][1], item[1][2]))
        return [label for label, _ in ranked[:limit]]
