"""Why the ranking chose a neighbour: the signals that made most of its blended score.

The blend scores a (film, candidate) pair as Σ weight × signal (:func:`movierec.model.ranking.blend`),
so each signal's part of a chosen neighbour's score is exact, not an approximation. A pair's
*reason* names the signals whose part is at least ``min_share`` of the positive parts' sum, the
largest first, at most ``most`` of them; when no signal reaches that share, the largest alone (a
score spread over many small parts is still best explained by its biggest one). A pair whose
parts are all zero or negative gets the empty reason.

*Specific signals first.* The generic signals (:data:`GENERIC`: era, language, popularity,
quality, likes) say little about why *this* film fits *that* one: they are priors that most pairs
share. When a specific signal (anything else: collection, director, cast, keywords, genres, text,
cf, and any signal a newer model adds) makes at least ``prefer_share`` (10%) of the positive
parts, the generic parts are set aside and the reason is chosen among the specific parts alone
(the same ``min_share`` of their sum, at most ``most``, the largest always). A pick that only a
prior explains keeps its prior as the reason: it is what explains it.

Reasons are the signal names joined by commas (``"collection,director"``), the artifact's
``reason`` column; the web page words them in Spanish.

>>> import numpy as np
>>> signals = np.array([[[1.0, 0.0]], [[0.75, 1.0]], [[0.0, 0.1]]], dtype=np.float32)  # 3 signals, 1 film
>>> pool = np.array([[1, 2]]); top = np.array([[2, 1]])
>>> top_reasons(signals, ("a", "b", "c"), {"a": 2.0, "b": 1.0, "c": 1.0}, pool, top).tolist()
[['b', 'a,b']]

Era makes 80% of this pick's score and the director 15%: the director explains it.

>>> signals = np.array([[[0.8]], [[0.15]], [[0.05]]], dtype=np.float32)  # era, director, popularity
>>> top_reasons(signals, ("era", "director", "popularity"), {"era": 1.0, "director": 1.0, "popularity": 1.0},
...             np.array([[7]]), np.array([[7]])).tolist()
[['director']]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

MIN_SHARE = 0.25
MOST = 2
PREFER_SHARE = 0.10
#: Signals that are priors or broad similarities rather than an explanation of the pair: a reason
#: only when no other signal makes ``PREFER_SHARE`` of the score (see the module docstring).
GENERIC = frozenset({"era", "language", "popularity", "quality", "likes"})


def pool_columns(pool: np.ndarray, top: np.ndarray) -> np.ndarray:
    """The column of ``pool`` holding each of ``top``'s rows ((n, k); -1 where ``top`` is -1 or
    the row is not among the film's candidates).

    >>> pool_columns(np.array([[4, 2, -1], [0, 3, 2]]), np.array([[2, -1], [3, 0]])).tolist()
    [[1, -1], [1, 0]]
    """
    n, width = pool.shape
    k = top.shape[1]
    if n == 0 or width == 0 or k == 0:
        return np.full(top.shape, -1, dtype=np.int64)
    # One global sort key, film × (n + 1) + candidate, so one searchsorted finds every pair.
    big = np.int64(max(int(pool.max(initial=0)), int(top.max(initial=0)), n) + 2)
    order = np.argsort(np.where(pool < 0, big - 1, pool), axis=1, kind="stable")
    ordered = np.take_along_axis(pool, order, axis=1).astype(np.int64)
    film = np.arange(n, dtype=np.int64)[:, None]
    keys = (film * big + np.where(ordered < 0, big - 1, ordered)).ravel()
    wanted = (film * big + np.where(top < 0, big - 1, top)).ravel()
    at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    found = (keys[at] == wanted) & (top.ravel() >= 0)
    columns = np.take_along_axis(order, (at % width).reshape(n, k), axis=1)
    return np.where(found.reshape(n, k), columns, -1)


def top_reasons(
    signals: np.ndarray,
    names: Sequence[str],
    weights: Mapping[str, float],
    pool: np.ndarray,
    top: np.ndarray,
    *,
    min_share: float = MIN_SHARE,
    most: int = MOST,
    prefer_share: float = PREFER_SHARE,
    chunk_rows: int = 4096,
) -> np.ndarray:
    """The reason of every chosen (film, rank): an (n, k) array of strings ("" for padding).

    Parameters
    ----------
    signals : (len(names), n, width) the ranking's signal stack over ``pool``.
    names : the signals' names, in the stack's order.
    weights : the blend's weight of each name (absent: 0).
    pool : (n, width) candidate rows, -1 padded.
    top : (n, k) the chosen rows, best first, -1 padded.
    prefer_share : the share of the positive parts a specific signal needs for the generic ones
        to be set aside (above 1: never).
    """
    n, k = top.shape
    vector = np.array([weights.get(name, 0.0) for name in names], dtype=np.float32)
    specific = np.array([name not in GENERIC for name in names], dtype=bool)[:, None, None]
    # The distinct reasons are few (combinations of at most `most` signals): code them, then map.
    codes = np.zeros((n, k), dtype=np.int64)
    base = len(names) + 1
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        cols = pool_columns(pool[start:stop], top[start:stop])  # by chunk: its sort keys are (rows, width)
        film = np.arange(start, stop)[:, None]
        parts = signals[:, film, np.maximum(cols, 0)] * vector[:, None, None]  # (signals, rows, k)
        parts = np.where(cols[None] >= 0, parts, 0.0)
        positive = np.maximum(parts, 0.0)
        positive = prefer_specific(positive, specific, prefer_share)
        total = positive.sum(axis=0)
        ranked = np.argsort(-positive, axis=0, kind="stable")[:most]  # (most, rows, k)
        share = np.take_along_axis(positive, ranked, axis=0) / np.where(total > 0, total, 1.0)
        keep = share >= min_share
        keep[0] |= share[0] > 0  # the largest part always explains a positive score
        code = np.zeros(cols.shape, dtype=np.int64)
        for position in range(ranked.shape[0]):
            code = code * base + np.where(keep[position], ranked[position] + 1, 0)
        codes[start:stop] = code
    distinct, inverse = np.unique(codes, return_inverse=True)
    labels = np.array([_label(int(c), names, base, min(most, len(names))) for c in distinct.tolist()], dtype=object)
    return labels[inverse.reshape(n, k)]


def prefer_specific(positive: np.ndarray, specific: np.ndarray, prefer_share: float) -> np.ndarray:
    """``positive`` ((signals, …) parts ≥ 0) with the generic signals' parts zeroed wherever a
    specific signal (``specific``: a mask broadcasting over the signals axis) makes at least
    ``prefer_share`` of the parts' sum.

    >>> parts = np.array([[0.8, 0.95], [0.15, 0.04], [0.05, 0.01]])  # era, director, popularity
    >>> prefer_specific(parts, np.array([[False], [True], [False]]), 0.10).tolist()
    [[0.0, 0.95], [0.15, 0.04], [0.0, 0.01]]
    """
    total = positive.sum(axis=0)
    best = np.where(specific, positive, 0.0).max(axis=0)
    strong = (best > 0) & (best >= prefer_share * total)
    return np.where(strong[None] & ~specific, 0.0, positive)


def _label(code: int, names: Sequence[str], base: int, digits: int) -> str:
    """The comma-joined names of a code built most significant (largest part) first."""
    picked: list[str] = []
    for _ in range(digits):
        code, digit = divmod(code, base)
        if digit:
            picked.append(names[digit - 1])
    return ",".join(reversed(picked))
