"""Who liked what: item–item collaborative filtering over the training users' likes.

The signal of films i and j is built from integers, so that two engines (this one and the Spark
one, :mod:`movierec.model.spark_cf`) can be checked to agree exactly:

* likes: one per (user, film), capped per user (:func:`cap_likes`);
* ``n_i``: the users who liked i (after the cap), ``co(i, j)``: the users who liked both;
* score ``(co(i, j) · left[i]) · right[j]`` in float64, with the per-film factors of
  :func:`cf_factors`, i.e. the asymmetric cosine ``co / ((n_i + shrink)^alpha (n_j + shrink)^(1 − alpha))``;
* each film keeps its ``neighbours`` best films: score descending, ties to the lower row.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import numpy as np
import polars as pl
import scipy.sparse as sp

from movierec.model.topk import at_least_kth

T = TypeVar("T")

#: Likes kept per user: a user's most recent ones (by the rating's timestamp, ties to the lower
#: row). The co-like work grows with the sum over users of (likes per user)², so one heavy user
#: (or a bot) with 20,000 likes would cost as much as 1,600 users with 500; 500 keeps every
#: like of 99 % of the MovieLens users (ratings_small: 7 of 671 users have more).
MAX_LIKES_PER_USER = 500


class ItemCF:
    """Item–item collaborative filtering on likes (scikit-learn style).

    ``fit(users, items, n_items, times=None)`` takes one (user, film row) pair per like (repeats
    count once) and, when given, each like's time. ``alpha = 1`` makes the score the conditional
    probability P(like j | like i) (shrunk), which favours popular films; ``alpha = 0.5`` the cosine.

    Co-like counts come blockwise (``block_entries`` ≈ films per block × catalogue size): the
    rows of a block of films times the like matrix, then the block's top ``neighbours`` per film;
    nothing N × N is ever held. A progress bar shows on a terminal.

    Fitted attributes: ``similarity_`` (sparse float32 scores, top ``neighbours`` per row),
    ``co_counts_`` (the same entries' integer co-like counts), ``support_`` (likes per film,
    float32), ``users_`` (users with a like), ``likes_`` (likes after the cap).

    >>> cf = ItemCF(shrink=0.0, neighbours=1).fit(np.array([1, 1, 2, 2]), np.array([0, 1, 0, 2]), 3)
    >>> cf.co_counts_.toarray().tolist(), cf.similarity_.toarray().tolist()
    ([[0, 1, 0], [1, 0, 0], [1, 0, 0]], [[0.0, 0.5, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    """

    def __init__(
        self,
        alpha: float = 1.0,
        shrink: float = 10.0,
        neighbours: int = 30,
        max_likes_per_user: int = MAX_LIKES_PER_USER,
        block_entries: int = 1 << 23,
    ) -> None:
        self.alpha = alpha
        self.shrink = shrink
        self.neighbours = neighbours
        self.max_likes_per_user = max_likes_per_user
        self.block_entries = block_entries

    def fit(self, users: np.ndarray, items: np.ndarray, n_items: int, times: np.ndarray | None = None) -> ItemCF:
        return self.fit_nested(users, items, n_items, times, None)[1]

    def fit_nested(
        self, users: np.ndarray, items: np.ndarray, n_items: int, times: np.ndarray | None, in_subset: np.ndarray | None
    ) -> tuple[ItemCF | None, ItemCF]:
        """Two models in one pass: one on the users ``in_subset`` (a mask over the likes, constant
        per user) marks, and this one on every user. Their co-like counts add up, so each
        block's product is computed once per group of users, not once per model."""
        user_index, items, keep = cap_likes(
            np.asarray(users), np.asarray(items, dtype=np.int64), times, self.max_likes_per_user, positions=True
        )
        groups = (
            [np.ones(items.size, dtype=bool)]
            if in_subset is None
            else [np.asarray(in_subset)[keep], ~np.asarray(in_subset)[keep]]
        )
        n_users = int(user_index.max()) + 1 if user_index.size else 0
        parts = [
            sp.csr_matrix((np.ones(int(g.sum()), dtype=np.int32), (user_index[g], items[g])), shape=(n_users, n_items))
            for g in groups
        ]
        supports = [np.bincount(items[g], minlength=n_items) for g in groups]
        signals: dict[str, tuple[list[int], np.ndarray]] = {"all": (list(range(len(parts))), np.sum(supports, axis=0))}
        if in_subset is not None:
            signals["subset"] = ([0], supports[0])
        kept = colike_top_k(parts, signals, self._k(n_items), self.alpha, self.shrink, self.block_entries)
        whole = self._set(*kept["all"], signals["all"][1], users=int(np.unique(user_index).size), likes=int(items.size))
        if in_subset is None:
            return None, whole
        subset = ItemCF(self.alpha, self.shrink, self.neighbours, self.max_likes_per_user, self.block_entries)
        subset._set(
            *kept["subset"], supports[0], users=int(np.unique(user_index[groups[0]]).size), likes=int(groups[0].sum())
        )
        return subset, whole

    @classmethod
    def from_colikes(
        cls,
        rows: np.ndarray,
        cols: np.ndarray,
        counts: np.ndarray,
        support: np.ndarray,
        users: int,
        likes: int,
        **params: Any,
    ) -> ItemCF:
        """The fitted model from co-like counts computed elsewhere (the Spark engine): the kept
        (row, neighbour row, co-like count) triples and the likes per film."""
        model = cls(**params)
        return model._set(
            np.asarray(rows, dtype=np.int64),
            np.asarray(cols, dtype=np.int64),
            np.asarray(counts, dtype=np.int64),
            np.asarray(support, dtype=np.int64),
            users=users,
            likes=likes,
        )

    def colikes(self, ids: np.ndarray) -> pl.DataFrame:
        """The kept pairs as the collaborative stage's table (movie_id, rank, neighbour_id,
        co_count, score), ranked best first per film; ``ids`` maps rows to TMDB ids."""
        coo = self.co_counts_.tocoo()
        rows, cols, counts = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(np.int64)
        left, right = cf_factors(self._support, self.alpha, self.shrink)
        values = scores(counts, rows, cols, left, right)
        order, rank = top_k_exact(rows, cols, values, self.co_counts_.shape[0], max(self.neighbours, 1))
        return pl.DataFrame(
            {
                "movie_id": ids[rows[order]],
                "rank": (rank + 1).astype(np.int32),
                "neighbour_id": ids[cols[order]],
                "co_count": counts[order],
                "score": values[order],
            },
            schema=COLIKES_SCHEMA,
        )

    def _k(self, n_items: int) -> int:
        return min(self.neighbours, max(n_items - 1, 0))

    def _set(
        self, rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, support: np.ndarray, users: int, likes: int
    ) -> ItemCF:
        n = support.size
        left, right = cf_factors(support, self.alpha, self.shrink)
        self.co_counts_ = sp.csr_matrix((counts, (rows, cols)), shape=(n, n), dtype=np.int64)
        self.co_counts_.sort_indices()
        self.similarity_ = sp.csr_matrix(
            (scores(counts, rows, cols, left, right).astype(np.float32), (rows, cols)), shape=(n, n), dtype=np.float32
        )
        self.similarity_.sort_indices()
        self.support_ = support.astype(np.float32)
        self._support = support  # exact: float32 holds counts only up to 2^24
        self.users_ = users
        self.likes_ = likes
        return self


def colike_top_k(
    parts: list[sp.csr_matrix],
    signals: dict[str, tuple[list[int], np.ndarray]],
    k: int,
    alpha: float,
    shrink: float,
    block_entries: int,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Every signal's kept (row, neighbour row, co-like count) triples, blockwise.

    ``parts`` are user × film like matrices of disjoint groups of users; a signal sums the
    co-like counts of some parts (``signals``: name → (parts, likes per film)). For each block
    of films (about ``block_entries`` / films of them) each part's product is computed once,
    then each signal keeps its top ``k`` per film (:func:`top_k_exact`).
    """
    n_items = parts[0].shape[1]
    by_item = [part.T.tocsr() for part in parts]
    factors = {name: cf_factors(support, alpha, shrink) for name, (_, support) in signals.items()}
    rated = np.flatnonzero(sum(support for _, support in signals.values()) > 0)
    # a block's co-like counts can be dense (popular films share users with almost every film)
    step = max(1, block_entries // max(n_items, 1))
    none = np.zeros(0, dtype=np.int64)
    kept: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {name: [(none, none, none)] for name in signals}
    for start in progress(range(0, rated.size, step), "co-likes", -(-rated.size // step)):
        block = rated[start : start + step]
        products = [by_item[p][block] @ parts[p] for p in range(len(parts))]
        for name, (members, _) in signals.items():
            co = sum((products[p] for p in members[1:]), products[members[0]]).tocoo()
            local, cols, counts = co.row.astype(np.int64), co.col.astype(np.int64), co.data.astype(np.int64)
            other = (cols != block[local]) & (counts > 0)
            local, cols, counts = local[other], cols[other], counts[other]
            rows = block[local]
            chosen, _ = top_k_exact(local, cols, scores(counts, rows, cols, *factors[name]), block.size, k)
            kept[name].append((rows[chosen], cols[chosen], counts[chosen]))
    return {
        name: (
            np.concatenate([rows for rows, _, _ in parts_]),
            np.concatenate([cols for _, cols, _ in parts_]),
            np.concatenate([counts for _, _, counts in parts_]),
        )
        for name, parts_ in kept.items()
    }


COLIKES_SCHEMA = {
    "movie_id": pl.Int64,
    "rank": pl.Int32,
    "neighbour_id": pl.Int64,
    "co_count": pl.Int64,
    "score": pl.Float64,
}


def cf_factors(support: np.ndarray, alpha: float, shrink: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-film float64 factors (left, right) of the score ``(co · left[i]) · right[j]``: with
    ``norm = n + shrink``, ``left = norm^-alpha`` and ``right = norm^(alpha − 1)``. Films nobody
    liked have no pairs (their factors are 1). Both engines use these very numbers.

    >>> [f.tolist() for f in cf_factors(np.array([0, 2, 6]), alpha=1.0, shrink=2.0)]
    [[1.0, 0.25, 0.125], [1.0, 1.0, 1.0]]
    """
    support = np.asarray(support, dtype=np.float64)
    norm = np.where(support > 0, support + shrink, 1.0)
    return norm**-alpha, norm ** (alpha - 1.0)


def scores(counts: np.ndarray, rows: np.ndarray, cols: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``(co · left[row]) · right[col]`` in float64, multiplied in that order (as Spark does)."""
    return (counts.astype(np.float64) * left[rows]) * right[cols]


def cap_likes(
    users: np.ndarray, items: np.ndarray, times: np.ndarray | None, cap: int, positions: bool = False
) -> tuple[np.ndarray, ...]:
    """(user index, item) of the likes kept: one per (user, item) — its latest time — and at most
    ``cap`` per user, the most recent first, ties to the lower item. Without times every like is
    equally recent, so the lower items are kept. User indexes are 0… in the users' sorted order;
    sorted by user, then item. ``positions``: also each kept like's position in the input.

    >>> cap_likes(np.array([7, 7, 7, 3]), np.array([5, 1, 2, 4]), np.array([10, 30, 20, 0]), cap=2)
    (array([0, 1, 1]), array([4, 1, 2]))
    """
    _, user_index = np.unique(users, return_inverse=True)
    user_index = user_index.astype(np.int64).ravel()
    times = np.zeros(items.size, dtype=np.int64) if times is None else np.asarray(times, dtype=np.int64)
    # by user, then most recent first, then lower item: a repeat's first copy is its latest
    order = np.lexsort((items, -times, user_index))
    if items.size:
        pair = user_index[order] * (int(items.max()) + 1) + items[order]
        order = order[np.sort(np.unique(pair, return_index=True)[1])]  # the first copy of each pair
    ranked_users = user_index[order]
    rank = np.arange(order.size) - np.searchsorted(ranked_users, ranked_users)
    order = order[rank < cap]
    order = order[np.lexsort((items[order], user_index[order]))]
    kept = (user_index[order], items[order])
    return (*kept, order) if positions else kept


def top_k_exact(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n_rows: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of each row's ``k`` best (col, value) pairs (rows in 0…n_rows − 1), ordered by
    row, value descending, then the lower col — compared exactly, in float64 — and their
    0-based rank. The few pairs that may make a top k are found first (:func:`at_least_kth`).

    >>> top_k_exact(np.array([0, 0, 0, 1]), np.array([3, 1, 2, 0]), np.array([0.5, 0.5, 0.9, 0.1]), 2, 2)
    (array([2, 1, 3]), array([0, 1, 0]))
    """
    if rows.size == 0 or k == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    candidates = (
        np.flatnonzero(at_least_kth(rows, values, n_rows, k)) if rows.size > n_rows * k else np.arange(rows.size)
    )
    order = candidates[np.lexsort((cols[candidates], -values[candidates], rows[candidates]))]
    sorted_rows = rows[order]
    rank = np.arange(order.size) - np.searchsorted(sorted_rows, sorted_rows)
    keep = rank < k
    return order[keep], rank[keep]


def progress(items: Iterable[T], description: str, total: int) -> Iterator[T]:
    """``items``, with a progress bar on stderr when it is a terminal (silent in logs and tests)."""
    if not sys.stderr.isatty():
        yield from items
        return
    from rich.progress import track  # only on a terminal: rich costs a tenth of a second to import

    yield from track(items, description=description, total=total, transient=True)


def lookup_pairs(
    matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, dtype: type[np.floating] = np.float32
) -> np.ndarray:
    """``matrix[rows[i], cols[i]]`` for every i (0 where nothing is stored), vectorized: the stored
    entries' keys row·n + col are sorted in a CSR with sorted indices, so a binary search finds them."""
    n_cols = matrix.shape[1]
    out = np.zeros(rows.size, dtype=dtype)
    if matrix.nnz == 0:
        return out
    stored_rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    keys = stored_rows * n_cols + matrix.indices
    wanted = rows.astype(np.int64) * n_cols + cols
    position = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    hit = keys[position] == wanted
    out[hit] = matrix.data[position[hit]]
    return out
