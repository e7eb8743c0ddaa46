"""Metrics, pure functions over row arrays; ``top`` is (films, ≥k) recommended rows, -1 = none.

* precision@k — for every (evaluation user, liked film q) pair, the share of q's top k that the
  same user also liked; the mean over all pairs. Always divided by k.
* coverage — distinct films appearing in any film's top k, over the catalogue size.
* collection recall — for every film whose collection has at least 2 films in the catalogue, the
  share of the other members (at most k of them count) found in its top k; the mean over those
  films.
"""

from __future__ import annotations

import numpy as np

METRICS = ("precision_at_k", "coverage", "collection_recall")


def precision_at_k(top: np.ndarray, users: np.ndarray, rows: np.ndarray, k: int) -> float:
    """Mean over the liked pairs (users[i], rows[i]) of |top k of rows[i] ∩ liked by users[i]| / k.
    0.0 when there are no pairs."""
    if rows.size == 0:
        return 0.0
    n = top.shape[0]
    users = users.astype(np.int64)
    liked = np.unique(users * n + rows)
    recommended = top[rows, :k]
    keys = users[:, None] * n + recommended
    position = np.minimum(np.searchsorted(liked, keys), liked.size - 1)
    hits = (liked[position] == keys) & (recommended >= 0)
    return float(hits.sum(axis=1).mean() / k)


def coverage(top: np.ndarray, k: int) -> float:
    """Distinct films in any film's top k / number of films."""
    n = top.shape[0]
    if n == 0:
        return 0.0
    shown = top[:, :k]
    return float(np.count_nonzero(np.bincount(shown[shown >= 0], minlength=n)) / n)


def collection_recall(top: np.ndarray, collection: np.ndarray, k: int) -> float | None:
    """Mean over films in a collection of ≥ 2 catalogue films of (other members in the film's
    top k) / min(other members, k); None when no film qualifies. ``collection``: code per film,
    -1 for none."""
    in_one = collection >= 0
    codes, counts = np.unique(collection[in_one], return_counts=True)
    size = np.zeros(collection.size, dtype=np.int64)
    size[in_one] = counts[np.searchsorted(codes, collection[in_one])]
    films = np.flatnonzero(size >= 2)
    if films.size == 0:
        return None
    recommended = top[films, :k]
    same = (collection[np.maximum(recommended, 0)] == collection[films][:, None]) & (recommended >= 0)
    same &= recommended != films[:, None]
    return float((same.sum(axis=1) / np.minimum(size[films] - 1, k)).mean())


def metrics(top: np.ndarray, users: np.ndarray, rows: np.ndarray, collection: np.ndarray, k: int) -> dict[str, float | None]:
    return {
        "precision_at_k": precision_at_k(top, users, rows, k),
        "coverage": coverage(top, k),
        "collection_recall": collection_recall(top, collection, k),
    }
