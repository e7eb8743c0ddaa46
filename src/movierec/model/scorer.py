"""The recommenders' serving half, numpy only (the API imports it; no polars, no scipy): what a
fitted model answers, the one code the API, the evaluation, the tuning and the estimators share.

:func:`neighbours_of` is a film's first neighbours in the film-to-film ranking
(:meth:`movierec.model.estimator.NeighbourRecommender.similar_items`, the API's
``/recomendaciones``).

:func:`recommend` is the personal scorer (:meth:`movierec.model.personal.PersonalRecommender.recommend`,
the API's personal lists; :func:`recommend_many` for many people at once). A candidate film j
scores the sum, over the films i the person named, of

* i's weight for j in the release's :class:`WeightLists` (EASE, :mod:`movierec.model.ease`; the
  artifact ``model/personal.parquet``),
* plus ``neighbour_weight / log2(rank + 1)`` when j is i's film-to-film neighbour at that rank
  (``model/neighbours.parquet``), which also speaks for films nobody rated;

the 10 best films not named are the answer, each with the named film that contributed most
(``porque``). When fewer than 10 films score, the most popular films fill the list (no reason).
How the weights and the neighbour weight are chosen: :mod:`movierec.model.personal`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from movierec.config import Settings

RECOMMENDATIONS = 10
NO_REASON = -1  # ``because`` of a film that fills the list by popularity
DEFAULT_NEIGHBOUR_WEIGHT = 1.0  # without ratings (no EASE weights) the neighbours are the whole score


@dataclass(frozen=True)
class WeightLists:
    """Every film's weighted list of other films, CSR-style: film i's list is
    ``cols[indptr[i]:indptr[i+1]]`` with ``weights`` alike, largest magnitude first."""

    indptr: np.ndarray  # (n + 1,) int64
    cols: np.ndarray  # int32
    weights: np.ndarray  # float32

    @property
    def n(self) -> int:
        return self.indptr.size - 1

    def truncated(self, keep: int) -> WeightLists:
        """The first ``keep`` entries of every list."""
        counts = np.minimum(np.diff(self.indptr), keep)
        position = np.arange(self.cols.size) - np.repeat(self.indptr[:-1], np.diff(self.indptr))
        kept = position < keep
        return WeightLists(np.r_[0, np.cumsum(counts)].astype(np.int64), self.cols[kept], self.weights[kept])

    def servable(self, shown: np.ndarray | None = None) -> WeightLists:
        """These lists as the API serves them: without a film's own entry or a weight that is not
        a finite number and, given ``shown`` (whether each film can be shown), without the films
        that cannot be; every list keeps its order.

        >>> lists = WeightLists(np.array([0, 2, 3]), np.array([0, 1, 0], dtype=np.int32),
        ...                     np.array([0.5, 0.25, 0.125], dtype=np.float32))
        >>> served = lists.servable()
        >>> served.indptr.tolist(), served.cols.tolist(), served.weights.tolist()
        ([0, 1, 2], [1, 0], [0.25, 0.125])
        """
        src = np.repeat(np.arange(self.n), np.diff(self.indptr))
        keep = (src != self.cols) & np.isfinite(self.weights)
        if shown is not None:
            keep &= shown[self.cols]
        counts = np.bincount(src[keep], minlength=self.n)
        return WeightLists(np.r_[0, np.cumsum(counts)].astype(np.int64), self.cols[keep], self.weights[keep])

    @classmethod
    def from_rows(cls, src: np.ndarray, dst: np.ndarray, weights: np.ndarray, rank: np.ndarray, n: int) -> WeightLists:
        """Lists from (film row, other film row, weight, rank) entries (any order)."""
        order = np.lexsort((rank, src))
        counts = np.bincount(src, minlength=n)
        return cls(
            np.r_[0, np.cumsum(counts)].astype(np.int64), dst[order].astype(np.int32), weights[order].astype(np.float32)
        )

    @classmethod
    def empty(cls, n: int) -> WeightLists:
        return cls(np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


def neighbours_of(
    film: int, rows: np.ndarray | memoryview, scores: np.ndarray | memoryview, width: int, k: int
) -> list[tuple[int, float]]:
    """The first ``k`` (≤ ``width``) neighbours of the film at row ``film``, best first, as (row,
    score): ``rows`` and ``scores`` hold ``width`` entries per film, film after film, -1 padded.

    >>> neighbours_of(1, np.array([1, -1, 0, 2]), np.array([0.5, 0.0, 0.75, 0.25]), width=2, k=2)
    [(0, 0.75), (2, 0.25)]
    """
    first = film * width
    return [
        (row, score)
        for row, score in zip(rows[first : first + k].tolist(), scores[first : first + k].tolist(), strict=True)
        if row >= 0
    ]


class Pick(NamedTuple):
    row: int
    score: float
    because: int  # the named film's row that contributed most; NO_REASON for a popularity fill


def recommend(
    liked: Sequence[int] | np.ndarray,
    lists: WeightLists,
    neighbours: np.ndarray,
    neighbour_weight: float,
    popular: np.ndarray,
    k: int = RECOMMENDATIONS,
) -> list[Pick]:
    """The ``k`` best films for a person who liked the films ``liked`` (rows), best first (ties
    to the lower row), none of them named. ``neighbours``: (films, K) film-to-film rows, best
    first, -1 padded; ``popular``: rows by popularity, the fill. A film is a candidate when a
    named film lists it, whatever its total (a negative total ranks it low, not out).

    >>> lists = WeightLists(np.array([0, 2, 3, 3, 3]), np.array([1, 2, 3], dtype=np.int32),
    ...                     np.array([0.5, 0.25, 0.375], dtype=np.float32))
    >>> neighbours = np.array([[3, 2], [2, -1], [0, 1], [0, -1]])
    >>> [tuple(p) for p in recommend([0, 1], lists, neighbours, 0.0, np.array([3, 2, 1, 0]), k=3)]
    [(3, 0.375, 1), (2, 0.25, 0)]
    """
    n = lists.n
    named = np.unique(np.asarray(liked, dtype=np.int64))
    named = named[(named >= 0) & (named < n)]
    film, gain, source = _contributions(named, lists, neighbours, neighbour_weight)
    # Work on the entries only (a few thousand), never on arrays of the catalogue's size.
    order = np.argsort(film)
    film, gain, source = film[order], gain[order], source[order]
    # (np.r_ and np.broadcast_to cost tens of µs each here: plain arrays instead)
    new = np.empty(film.size, dtype=bool)
    new[:1] = True
    np.not_equal(film[1:], film[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1:] = film.size
    candidates = film[starts]
    totals = np.add.reduceat(gain, starts) if film.size else np.zeros(0)
    if named.size:
        unnamed = named[np.minimum(np.searchsorted(named, candidates), named.size - 1)] != candidates
        candidates, totals, starts, ends = candidates[unnamed], totals[unnamed], starts[unnamed], ends[unnamed]
    if candidates.size > k:  # the k best; a few more when the k-th value is tied
        threshold = np.partition(totals, candidates.size - k)[candidates.size - k]
        keep = totals >= threshold
        candidates, totals, starts, ends = candidates[keep], totals[keep], starts[keep], ends[keep]
    best = np.lexsort((candidates, -totals))[:k]
    picks = []
    for index in best.tolist():
        gains, sources = gain[starts[index] : ends[index]], source[starts[index] : ends[index]]
        because = int(sources[np.lexsort((sources, -gains))[0]])  # the most; the lower row on a tie
        picks.append(Pick(int(candidates[index]), float(totals[index]), because))
    if len(picks) < k:  # the most popular films neither named nor picked (among the first few)
        taken = set(named.tolist()) | {p.row for p in picks}
        fill = [row for row in popular[: k + len(taken)].tolist() if row not in taken][: k - len(picks)]
        picks.extend(Pick(int(row), 0.0, NO_REASON) for row in fill)
    return picks


def recommend_many(
    inputs: Sequence[np.ndarray],
    lists: WeightLists,
    neighbours: np.ndarray,
    neighbour_weight: float,
    popular: np.ndarray,
    k: int = RECOMMENDATIONS,
) -> np.ndarray:
    """(people, k) rows of :func:`recommend` for every input (the rows one person named), -1
    padded: what the tuning and the evaluation score many people with."""
    top = np.full((len(inputs), k), -1, dtype=np.int64)
    for person, named in enumerate(inputs):
        rows = [pick.row for pick in recommend(named, lists, neighbours, neighbour_weight, popular, k)]
        top[person, : len(rows)] = rows
    return top


def _contributions(
    named: np.ndarray, lists: WeightLists, neighbours: np.ndarray, neighbour_weight: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(film, gain, named film) of every entry the named films' lists hold."""
    starts, stops = lists.indptr[named], lists.indptr[named + 1]
    counts = stops - starts
    index = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
    film, gain, source = (
        lists.cols[index].astype(np.int64),
        lists.weights[index].astype(np.float64),
        np.repeat(named, counts),
    )
    if neighbour_weight and neighbours.size and named.size:
        near = neighbours[named].ravel()
        valid = near >= 0
        width = neighbours.shape[1]
        discount = neighbour_weight / np.log2(np.arange(2, width + 2))
        film = np.concatenate([film, near[valid].astype(np.int64)])
        gain = np.concatenate([gain, np.tile(discount, named.size)[valid]])
        source = np.concatenate([source, np.repeat(named, width)[valid]])
    return film, gain, source


def neighbour_weight_of(manifest: Mapping[str, object]) -> float:
    """The neighbour weight a release's manifest records (``model.personal.neighbour_weight``)."""
    model = manifest.get("model")
    personal = model.get("personal") if isinstance(model, Mapping) else None
    weight = personal.get("neighbour_weight") if isinstance(personal, Mapping) else None
    return float(weight) if isinstance(weight, int | float) else DEFAULT_NEIGHBOUR_WEIGHT


def neighbours_k_of(manifest: Mapping[str, object]) -> int:
    """The film-to-film neighbours a release's model stores per film, which the personal scorer
    adds (``model.k``: the training's ``Settings.neighbours_k``); the default setting for a
    manifest that does not record it."""
    model = manifest.get("model")
    k = model.get("k") if isinstance(model, Mapping) else None
    return k if isinstance(k, int) and not isinstance(k, bool) and k > 0 else Settings.neighbours_k
