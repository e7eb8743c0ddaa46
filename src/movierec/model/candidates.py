"""Stage 1: every film's candidates, the union of its nearest films by each source."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from movierec.model.ann import top_k_clustered
from movierec.model.features import ContentFeatures
from movierec.model.topk import top_k_of_csr, top_k_sparse
from movierec.model.vectors import membership_matrix


@dataclass(frozen=True)
class PoolSizes:
    """Candidates per film from each source."""

    content: int = 30  # by text + genres (dense)
    specifics: int = 30  # by keywords, cast, director, collection (sparse)
    cf: int = 30  # by collaborative filtering
    popular: int = 20  # the most popular films


def content_about(features: ContentFeatures, text_weight: float = 0.5) -> np.ndarray:
    """Dense rows whose products are ``text_weight·text + (1 − text_weight)·genres`` cosines."""
    return np.hstack([np.sqrt(text_weight) * features.text, np.sqrt(1 - text_weight) * features.genres]).astype(
        np.float32
    )


def content_specifics(features: ContentFeatures, collection_weight: float = 2.0, max_films: int = 200) -> sp.csr_matrix:
    """Sparse rows whose products sum the keyword, cast and director cosines and
    ``collection_weight`` for the same collection. A keyword, actor or director of more than
    ``max_films`` films is too common to nominate candidates and is left out here (the ranking
    still counts it): this bounds the sparse product's work by max_films × the stored entries."""
    collection = features.collection
    members = np.flatnonzero(collection >= 0)
    codes, position = np.unique(collection[members], return_inverse=True)
    one_hot = membership_matrix(members, position, features.n, codes.size) * np.float32(np.sqrt(collection_weight))
    shared = sp.hstack([features.keywords, features.cast, features.director], format="csr", dtype=np.float32)
    common = np.bincount(shared.indices, minlength=shared.shape[1]) > max_films
    if common.any():
        shared = sp.csr_matrix(shared @ sp.diags((~common).astype(np.float32)))
        shared.eliminate_zeros()
    return sp.hstack([shared, one_hot], format="csr", dtype=np.float32)


def merge_pools(pools: Sequence[np.ndarray]) -> np.ndarray:
    """Row-wise union of candidate lists (each (n, k), -1 = none), without the film itself and
    without repeats: (n, width) with every row's candidates in increasing order, then -1s."""
    merged = np.hstack([p.astype(np.int64) for p in pools])
    n = merged.shape[0]
    missing = n  # sorts after every real row
    merged = np.where((merged < 0) | (merged == np.arange(n)[:, None]), missing, merged)
    merged.sort(axis=1)
    merged[:, 1:][merged[:, 1:] == merged[:, :-1]] = missing
    merged.sort(axis=1)
    width = int((merged < missing).sum(axis=1).max()) if n else 0
    merged = np.ascontiguousarray(merged[:, :width])
    merged[merged == missing] = -1
    return merged


def candidate_pool(
    features: ContentFeatures,
    cf: sp.csr_matrix | None,
    popularity: np.ndarray,
    sizes: PoolSizes = PoolSizes(),
    block_rows: int = 1024,
) -> np.ndarray:
    """Candidate rows of every film (n, width), -1 padded: see the module docstring."""
    n = features.n
    pools = [
        top_k_clustered(content_about(features), sizes.content, block_rows=block_rows)[0],
        top_k_sparse(content_specifics(features), sizes.specifics)[0],
    ]
    if cf is not None and sizes.cf:
        pools.append(top_k_of_csr(cf, sizes.cf))
    popular = np.argsort(-popularity, kind="stable")[: sizes.popular]
    pools.append(np.broadcast_to(popular, (n, popular.size)))
    return merge_pools(pools)


def candidate_recall(
    pool: np.ndarray, users: np.ndarray, rows: np.ndarray, max_users: int = 2000, max_likes: int = 200, seed: int = 0
) -> dict[str, float | int]:
    """How often a film that users co-liked with a film is among that film's candidates: over the
    (film q, film j) pairs that the same user liked, weighted by how many users did, the share with
    j in ``pool[q]``. Estimated on at most ``max_users`` users (drawn at random) and the first
    ``max_likes`` likes of each, so that it stays cheap on a large ratings file.

    >>> pool = np.array([[1, -1], [0, 2], [1, -1]])
    >>> candidate_recall(pool, np.array([7, 7, 7]), np.array([0, 1, 2]))
    {'users': 1, 'pairs': 6, 'recall': 0.6667}
    """
    n = pool.shape[0]
    codes, index = np.unique(users, return_inverse=True)
    if codes.size > max_users:
        picked = np.zeros(codes.size, dtype=bool)
        picked[np.random.default_rng(seed).choice(codes.size, max_users, replace=False)] = True
        keep = picked[index]
        index, rows = np.unique(index[keep], return_inverse=True)[1], rows[keep]
    matrix = membership_matrix(index, rows.astype(np.int64), int(index.max(initial=-1)) + 1, n)
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    counts = np.diff(matrix.indptr)
    if counts.size and counts.max() > max_likes:
        position = np.arange(matrix.nnz) - np.repeat(matrix.indptr[:-1], counts)
        kept = position < max_likes
        matrix = sp.csr_matrix(
            (matrix.data[kept], (np.repeat(np.arange(counts.size), counts)[kept], matrix.indices[kept])),
            shape=matrix.shape,
        )
    co = (matrix.T @ matrix).tocoo()
    off = co.row != co.col
    q, j, weight = co.row[off].astype(np.int64), co.col[off].astype(np.int64), co.data[off]
    keys = np.sort((np.arange(n, dtype=np.int64)[:, None] * (n + 1) + pool)[pool >= 0])
    wanted = q * (n + 1) + j
    found = np.zeros(wanted.size, dtype=bool)
    if keys.size:
        found = keys[np.minimum(np.searchsorted(keys, wanted), keys.size - 1)] == wanted
    total = float(weight.sum())
    return {
        "users": int(matrix.shape[0]),
        "pairs": int(q.size),
        "recall": round(float(weight[found].sum()) / total, 4) if total else 0.0,
    }


def in_pool(pool: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """Boolean (n, width): whether each candidate of ``pool`` is also in ``subset``'s row. Both
    list each row's candidates in increasing order (:func:`merge_pools`), so the keys
    row · (n + 1) + candidate of ``subset`` are sorted and a binary search finds them."""
    n = pool.shape[0]
    base = np.arange(n, dtype=np.int64)[:, None] * (n + 1)
    wanted = (base + subset)[subset >= 0]
    if wanted.size == 0:
        return np.zeros(pool.shape, dtype=bool)
    keys = base + pool
    position = np.minimum(np.searchsorted(wanted, keys), wanted.size - 1)
    return (wanted[position] == keys) & (pool >= 0)
