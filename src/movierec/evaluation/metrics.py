"""Metrics, pure functions over row arrays; ``top`` is (films, ≥k) recommended rows, -1 = none.

* precision@k — for every (evaluation user, liked film q) pair, the share of q's top k that the
  same user also liked; the mean over all pairs. Always divided by k.
* coverage — distinct films appearing in any film's top k, over the catalogue size.
* collection recall — for every film whose collection has at least 2 films in the catalogue, the
  share of the other members (at most k of them count) found in its top k; the mean over those
  films.
* nDCG@k — for every (user, liked film q) pair, the discounted gain of q's top k (1 / log2(rank + 1)
  for each film the user also liked) over the best possible (the user's other liked films, at
  most k, all first); the mean over all pairs.

Personal recommendations (a list of films per user, against the user's held-out liked films):
:func:`ranking_metrics` gives precision@k (hits / k), recall@k (hits / held-out films) and nDCG@k;
:func:`coverage_of_lists` the distinct films recommended to anyone over the catalogue size.
"""

from __future__ import annotations

import numpy as np

METRICS = ("precision_at_k", "coverage", "collection_recall", "ndcg_at_k")


def _discounts(k: int) -> np.ndarray:
    """1 / log2(rank + 1) for ranks 1..k."""
    return 1.0 / np.log2(np.arange(2, k + 2))


def liked_keys(users: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """The sorted keys user · n + row of the liked pairs (computed once for every method)."""
    return np.unique(users.astype(np.int64) * n + rows)


def _liked_hits(top: np.ndarray, users: np.ndarray, rows: np.ndarray, k: int,
                liked: np.ndarray | None = None) -> np.ndarray:
    """(pairs, k) booleans: whether pair i's user liked the j-th film of its film's top k."""
    n = top.shape[0]
    users = users.astype(np.int64)
    liked = liked_keys(users, rows, n) if liked is None else liked
    recommended = top[rows, :k]
    keys = users[:, None] * n + recommended
    position = np.minimum(np.searchsorted(liked, keys), liked.size - 1)
    return (liked[position] == keys) & (recommended >= 0)


def precision_at_k(top: np.ndarray, users: np.ndarray, rows: np.ndarray, k: int,
                   liked: np.ndarray | None = None) -> float:
    """Mean over the liked pairs (users[i], rows[i]) of |top k of rows[i] ∩ liked by users[i]| / k.
    0.0 when there are no pairs. ``liked``: :func:`liked_keys` of the pairs, when known."""
    if rows.size == 0:
        return 0.0
    return float(_liked_hits(top, users, rows, k, liked).sum(axis=1).mean() / k)


def ndcg_at_k(top: np.ndarray, users: np.ndarray, rows: np.ndarray, k: int, liked: np.ndarray | None = None) -> float:
    """Mean over the liked pairs (users[i], rows[i]) of DCG of rows[i]'s top k (gain 1 for each
    film users[i] liked) / the ideal DCG (min(k, the user's other liked films) gains first). Pairs
    of a user who liked nothing else count 0. 0.0 when there are no pairs."""
    if rows.size == 0:
        return 0.0
    discounts = _discounts(k)
    width = min(k, top.shape[1])
    dcg = _liked_hits(top, users, rows, width, liked) @ discounts[:width]
    codes, index, likes = np.unique(users, return_inverse=True, return_counts=True)
    ideal = np.r_[0.0, np.cumsum(discounts)][np.minimum(likes[index] - 1, k)]
    return float(np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1.0), 0.0).mean())


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


def metrics(top: np.ndarray, users: np.ndarray, rows: np.ndarray, collection: np.ndarray, k: int,
            liked: np.ndarray | None = None) -> dict[str, float | None]:
    liked = liked_keys(users, rows, top.shape[0]) if liked is None else liked
    return {
        "precision_at_k": precision_at_k(top, users, rows, k, liked),
        "coverage": coverage(top, k),
        "collection_recall": collection_recall(top, collection, k),
        "ndcg_at_k": ndcg_at_k(top, users, rows, k, liked),
    }


def ranking_metrics(recommended: np.ndarray, truth: list[np.ndarray], k: int) -> dict[str, float]:
    """precision@k, recall@k and nDCG@k of per-user lists: ``recommended`` (users, ≥ k) rows best
    first (-1: none), ``truth[u]`` the rows user u liked afterwards (not empty). Means over users.

    User 0 finds 2 of {2, 9} at rank 3 (gain 1/log2(4) = 0.5, ideal 1 + 1/log2(3)); user 1 nothing:

    >>> scores = ranking_metrics(np.array([[3, 1, 2], [5, 6, -1]]), [np.array([2, 9]), np.array([7])], k=3)
    >>> {name: round(value, 4) for name, value in scores.items()}
    {'precision_at_k': 0.1667, 'recall_at_k': 0.25, 'ndcg_at_k': 0.1533}
    """
    if not truth:
        return {"precision_at_k": 0.0, "recall_at_k": 0.0, "ndcg_at_k": 0.0}
    discounts = _discounts(k)
    precision, recall, ndcg = [], [], []
    for shown, held in zip(recommended[:, :k], truth, strict=True):
        hits = np.isin(shown, held) & (shown >= 0)
        precision.append(hits.sum() / k)
        recall.append(hits.sum() / held.size)
        ndcg.append(float(hits @ discounts[: hits.size]) / float(discounts[: min(held.size, k)].sum()))
    return {"precision_at_k": float(np.mean(precision)), "recall_at_k": float(np.mean(recall)),
            "ndcg_at_k": float(np.mean(ndcg))}


def coverage_of_lists(recommended: np.ndarray, n: int) -> float:
    """Distinct films in any list / number of films."""
    shown = recommended[recommended >= 0]
    return float(np.unique(shown).size / n) if n else 0.0
