"""TEMPORARY: stand-ins for evaluation.metrics' new functions until the eval branch lands."""

from __future__ import annotations

import numpy as np

from movierec.evaluation.metrics import _liked_hits


def like_weights(likes: np.ndarray, beta: float = 0.5) -> np.ndarray:
    return 1.0 / np.maximum(likes.astype(np.float64), 1.0) ** beta


def pair_ideal(users: np.ndarray, rows: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    order = np.lexsort((-weights[rows], users))
    u, r = users[order], rows[order]
    ideal = np.zeros(rows.size)
    starts = np.r_[0, np.flatnonzero(u[1:] != u[:-1]) + 1, u.size]
    for a, b in zip(starts[:-1], starts[1:]):
        w = weights[r[a:b]]
        top = w[: k + 1]
        best_k = top[:k].sum()
        with_next = top.sum()
        for pos in range(a, b):
            idx = pos - a
            ideal[order[pos]] = with_next - w[idx] if idx < k else best_k
    return ideal


def stratified_precision(top, users, rows, k, weights, ideal, liked=None) -> float:
    if rows.size == 0:
        return 0.0
    hits = _liked_hits(top, users, rows, k, liked)
    gained = (hits * weights[np.maximum(top[rows, :k], 0)]).sum(axis=1)
    return float(np.where(ideal > 0, gained / np.where(ideal > 0, ideal, 1), 0).mean())


def generic_share(top, most_voted, most_liked, k) -> float:
    shown = top[most_voted, :k]
    valid = shown >= 0
    return float(np.isin(shown, most_liked)[valid].sum() / max(valid.sum(), 1))


def adjacent_recall(top, adjacent, k) -> float | None:
    films = np.flatnonzero((adjacent >= 0).any(axis=1))
    if films.size == 0:
        return None
    found = (top[films, :k][:, :, None] == adjacent[films][:, None, :]).any(axis=1) & (adjacent[films] >= 0)
    return float((found.sum(axis=1) / (adjacent[films] >= 0).sum(axis=1)).mean())
