"""Spending the collection-recall slack where it buys the most precision.

Collection recall must stay ≥ its target (0.955), not 1: a few collection members may leave a
few films' top k. They cost precision unevenly: an unrated sequel in the list of a film many
people like displaces a film those people also like, while the same sequel in a rarely liked
film's list costs almost nothing. So, after the catalogue targets hold with every member in
(ranking A), a film may give up its weakest member in its top k — the lowest ranked, which loses
its collection bonus and is replaced by the next film of its ranking (B) — films in order of
expected precision gained per unit of collection recall lost, while collection recall and
coverage stay at their targets. A film keeps every other member: "Alien" keeps its sequel, only
the least co-liked part of a long series gives way.

The expected gain of a film uses the training users only: the users who liked it (the pairs it
will be judged on) times the change in the sum of its top k's collaborative signal (the share of
them who also liked each film). No user is held out here and none is read: it is a choice on
the artifact, like the other catalogue targets.
"""

from __future__ import annotations

import numpy as np


def pair_values(pool: np.ndarray, values: np.ndarray, top: np.ndarray) -> np.ndarray:
    """(n, k): ``values[i, position of top[i, j] in pool[i]]`` (0 where top is -1 or not in the pool).
    Both pool rows (:func:`merge_pools`) and the keys below are sorted, so a binary search finds them."""
    n = pool.shape[0]
    base = np.arange(n, dtype=np.int64)[:, None] * (n + 1)
    valid = pool >= 0
    keys = (base + pool)[valid]
    flat = values[valid]
    wanted = base + top
    out = np.zeros(top.shape, dtype=np.float64)
    if keys.size == 0:
        return out
    position = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    hit = (keys[position] == wanted) & (top >= 0)
    out[hit] = flat[position[hit]]
    return out


def without_weakest_member(scores: np.ndarray, pool: np.ndarray, top: np.ndarray, collection: np.ndarray, k: int,
                           bonus: np.ndarray) -> np.ndarray:
    """``scores`` (n, width) where each film's lowest-ranked collection member within ``top``'s
    first k has lost its collection bonus (``bonus[i]``: film i's collection weight).

    Films 0, 1, 2 are a collection (bonus 2); film 0's top 2 holds 1 then 2, film 1's 0 then 3:

    >>> pool = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])
    >>> scores = np.array([[2.5, 2.25, 0.5], [2.5, 0.25, 0.75], [2.0, 2.0, 0.0], [0.5, 0.25, 0.0]])
    >>> top = np.array([[1, 2], [0, 3], [0, 1], [0, 1]])
    >>> bonus = np.full(4, 2.0)
    >>> without_weakest_member(scores, pool, top, np.array([7, 7, 7, -1]), 2, bonus).tolist()
    [[2.5, 0.25, 0.5], [0.5, 0.25, 0.75], [2.0, 0.0, 0.0], [0.5, 0.25, 0.0]]
    """
    shown = top[:, :k]
    member = (shown >= 0) & (collection[np.maximum(shown, 0)] == collection[:, None]) & (collection[:, None] >= 0)
    has = member.any(axis=1)
    last = k - 1 - np.argmax(member[:, ::-1], axis=1)  # the lowest-ranked member's rank
    films = np.flatnonzero(has)
    weakest = shown[films, last[films]]
    position = np.argmax(pool[films] == weakest[:, None], axis=1)
    out = scores.copy()
    out[films, position] -= bonus[films]
    return out


def film_recall(top: np.ndarray, collection: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """Every film's share of its collection found in its top k (0 for films outside a collection
    of ≥ 2 catalogue films), and the number of films that count; collection recall is their mean."""
    n = collection.size
    in_one = collection >= 0
    codes, counts = np.unique(collection[in_one], return_counts=True)
    size = np.zeros(n, dtype=np.int64)
    size[in_one] = counts[np.searchsorted(codes, collection[in_one])]
    counted = size >= 2
    shown = top[:, :k]
    same = (collection[np.maximum(shown, 0)] == collection[:, None]) & (shown >= 0) & in_one[:, None]
    same &= shown != np.arange(n)[:, None]
    recall = np.where(counted, same.sum(axis=1) / np.maximum(np.minimum(size - 1, k), 1), 0.0)
    return recall, int(counted.sum())


def spend_slack(top_a: np.ndarray, top_b: np.ndarray, gain: np.ndarray, collection: np.ndarray, k: int,
                recall_target: float, coverage_target: float) -> np.ndarray:
    """Boolean (n,): the films that take ranking B. Greedy, best ratio first: films that lose no
    recall, then by recall lost / gain; a film is skipped when it would take collection recall or
    coverage (of the top k) below its target.

    >>> top_a = np.array([[1], [0], [3], [2]])  # films 0-1 and 2-3 are two collections
    >>> top_b = np.array([[2], [0], [1], [2]])
    >>> spend_slack(top_a, top_b, np.array([5.0, 0.0, 1.0, 0.0]), np.array([7, 7, 8, 8]), 1, 0.75, 0.0).tolist()
    [True, False, False, False]
    """
    n = top_a.shape[0]
    recall_a, counted = film_recall(top_a, collection, k)
    recall_b, _ = film_recall(top_b, collection, k)
    if counted == 0:
        return np.zeros(n, dtype=bool)
    loss = (recall_a - recall_b) / counted
    total = recall_a.sum() / counted
    shown = np.bincount(top_a[:, :k][top_a[:, :k] >= 0], minlength=n)
    covered = int(np.count_nonzero(shown))
    candidates = np.flatnonzero((gain > 0) & (top_a[:, :k] != top_b[:, :k]).any(axis=1))
    ratio = np.where(loss[candidates] <= 0, -np.inf, loss[candidates] / np.maximum(gain[candidates], 1e-300))
    switched = np.zeros(n, dtype=bool)
    for film in candidates[np.argsort(ratio, kind="stable")].tolist():
        if total - loss[film] < recall_target:
            continue
        leaving = top_a[film, :k][top_a[film, :k] >= 0]
        coming = top_b[film, :k][top_b[film, :k] >= 0]
        trial = shown.copy()
        np.subtract.at(trial, leaving, 1)
        np.add.at(trial, coming, 1)
        now = int(np.count_nonzero(trial))
        if now < covered and now / n < coverage_target:
            continue
        shown, covered, total = trial, now, total - loss[film]
        switched[film] = True
    return switched
