"""The measures of personal recommendations: a list of films per user, against the films the user
liked afterwards (the held-out likes, :mod:`.holdout`).

:func:`ranking_metrics` gives precision@k (hits / k), recall@k (hits / held-out films), nDCG@k
and, given the films' popularity weights (:func:`~.metrics.popularity_weights`),
popularity-stratified recall@k (the weights of the hits over the weights of the held-out films);
:func:`coverage_of_lists` the distinct films recommended to anyone over the catalogue size.
"""

from __future__ import annotations

import numpy as np

from movierec.protocol.metrics import rank_discounts


def stratified_recall_at_k(recommended: np.ndarray, truth: list[np.ndarray], weights: np.ndarray, k: int) -> float:
    """Popularity-stratified recall@k of per-user lists: per user, the ``weights``
    (:func:`~.metrics.popularity_weights`) of the held-out films among the first k over the weights of all
    of them; the mean over users (0.0 without users).

    >>> from movierec.protocol.metrics import popularity_weights
    >>> weights = popularity_weights(np.array([1, 4, 16, 100]))  # 1, 0.5, 0.25, 0.1
    >>> stratified_recall_at_k(np.array([[2, 0], [3, 1]]), [np.array([0, 1]), np.array([3])], weights, k=2)
    0.8333333333333333
    """
    if not truth:
        return 0.0
    return float(
        np.mean(
            [_stratified_recall(shown, held, weights) for shown, held in zip(recommended[:, :k], truth, strict=True)]
        )
    )


def _stratified_recall(shown: np.ndarray, held: np.ndarray, weights: np.ndarray) -> float:
    hits = shown[(shown >= 0) & np.isin(shown, held)]
    total = float(weights[held].sum())
    return float(weights[hits].sum()) / total if total > 0 else 0.0


def ranking_metrics(
    recommended: np.ndarray, truth: list[np.ndarray], k: int, weights: np.ndarray | None = None
) -> dict[str, float]:
    """precision@k, recall@k and nDCG@k of per-user lists: ``recommended`` (users, ≥ k) rows best
    first (-1: none), ``truth[u]`` the rows user u liked afterwards (not empty). Means over users.
    Given the films' popularity ``weights`` (:func:`~.metrics.popularity_weights`), also
    ``stratified_recall_at_k`` (:func:`stratified_recall_at_k`).

    User 0 finds 2 of {2, 9} at rank 3 (gain 1/log2(4) = 0.5, ideal 1 + 1/log2(3)); user 1 nothing:

    >>> scores = ranking_metrics(np.array([[3, 1, 2], [5, 6, -1]]), [np.array([2, 9]), np.array([7])], k=3)
    >>> {name: round(value, 4) for name, value in scores.items()}
    {'precision_at_k': 0.1667, 'recall_at_k': 0.25, 'ndcg_at_k': 0.1533}
    """
    stratified = {} if weights is None else {"stratified_recall_at_k": 0.0}
    if not truth:
        return {"precision_at_k": 0.0, "recall_at_k": 0.0, "ndcg_at_k": 0.0, **stratified}
    if weights is not None:
        stratified["stratified_recall_at_k"] = stratified_recall_at_k(recommended, truth, weights, k)
    discounts = rank_discounts(k)
    precision, recall, ndcg = [], [], []
    for shown, held in zip(recommended[:, :k], truth, strict=True):
        hits = np.isin(shown, held) & (shown >= 0)
        precision.append(hits.sum() / k)
        recall.append(hits.sum() / held.size)
        ndcg.append(float(hits @ discounts[: hits.size]) / float(discounts[: min(held.size, k)].sum()))
    return {
        "precision_at_k": float(np.mean(precision)),
        "recall_at_k": float(np.mean(recall)),
        "ndcg_at_k": float(np.mean(ndcg)),
        **stratified,
    }


def coverage_of_lists(recommended: np.ndarray, n: int) -> float:
    """Distinct films in any list / number of films."""
    shown = recommended[recommended >= 0]
    return float(np.unique(shown).size / n) if n else 0.0
