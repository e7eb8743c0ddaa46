"""Who liked what: item–item collaborative filtering over the training users' likes."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movierec.model.topk import top_k_of_pairs
from movierec.model.vectors import membership_matrix


class ItemCF:
    """Item–item collaborative filtering on likes (scikit-learn style).

    ``fit(users, items, n_items)`` takes one (user, film row) pair per like; the similarity of
    films i and j is the asymmetric cosine ``co(i, j) / ((n_i + shrink)^alpha · (n_j + shrink)^(1 − alpha))``
    where co counts the users who liked both and n_i the users who liked i. alpha = 1 is the
    conditional probability P(like j | like i), which favours popular films; alpha = 0.5 the
    cosine. Each film keeps its ``neighbours`` most similar films (``similarity_``, sparse).

    Co-like counts come from a blockwise sparse product of the like matrix, whose cost is the
    sum over users of (likes per user)²; users keep at most ``max_likes_per_user`` likes (the
    first in catalogue order) so that the heavy tail of a large ratings file stays bounded.
    """

    def __init__(self, alpha: float = 1.0, shrink: float = 10.0, neighbours: int = 30,
                 max_likes_per_user: int = 1000, block_entries: int = 1 << 23) -> None:
        self.alpha = alpha
        self.shrink = shrink
        self.neighbours = neighbours
        self.max_likes_per_user = max_likes_per_user
        self.block_entries = block_entries  # films per block × catalogue size, at most

    def fit(self, users: np.ndarray, items: np.ndarray, n_items: int) -> ItemCF:
        user_codes, user_index = np.unique(users, return_inverse=True)
        likes = membership_matrix(user_index, items.astype(np.int64), user_codes.size, n_items)
        likes = cap_row_nnz(likes, self.max_likes_per_user)
        support = np.bincount(likes.indices, minlength=n_items).astype(np.float32)
        by_item = likes.T.tocsr()
        norm = np.where(support > 0, support + self.shrink, 1.0)  # films nobody liked have no pairs
        left, right = norm ** -self.alpha, norm ** (self.alpha - 1)
        k = min(self.neighbours, max(n_items - 1, 0))
        top = np.full((n_items, k), -1, dtype=np.int64)
        scores = np.full((n_items, k), -np.inf, dtype=np.float32)
        rated = np.flatnonzero(support > 0)
        # a block's co-like counts can be dense (popular films share users with almost every film)
        step = max(1, self.block_entries // max(n_items, 1))
        for start in range(0, rated.size, step):
            block_rows = rated[start:start + step]
            co = (by_item[block_rows] @ likes).tocoo()
            rows, cols = co.row.astype(np.int64), co.col.astype(np.int64)
            keep = cols != block_rows[rows]
            rows, cols = rows[keep], cols[keep]
            values = (co.data[keep] * left[block_rows[rows]] * right[cols]).astype(np.float32)
            top[block_rows], scores[block_rows] = top_k_of_pairs(rows, cols, values, block_rows.size, k)
        self.support_ = support
        self.users_ = int(user_codes.size)
        self.likes_ = int(likes.nnz)
        self.similarity_ = padded_to_csr(top, scores, n_items)
        return self


def cap_row_nnz(matrix: sp.csr_matrix, cap: int) -> sp.csr_matrix:
    """Keep at most the first ``cap`` stored entries of every row."""
    counts = np.diff(matrix.indptr)
    if counts.size == 0 or counts.max() <= cap:
        return matrix
    position = np.arange(matrix.nnz) - np.repeat(matrix.indptr[:-1], counts)
    keep = position < cap
    rows = np.repeat(np.arange(matrix.shape[0]), counts)[keep]
    return sp.csr_matrix((matrix.data[keep], (rows, matrix.indices[keep])), shape=matrix.shape)


def padded_to_csr(top: np.ndarray, scores: np.ndarray, n_cols: int) -> sp.csr_matrix:
    """An (n, k) padded neighbour list as a sparse n × n_cols matrix (sorted indices)."""
    valid = top >= 0
    rows = np.broadcast_to(np.arange(top.shape[0])[:, None], top.shape)[valid]
    matrix = sp.csr_matrix((scores[valid], (rows, top[valid])), shape=(top.shape[0], n_cols), dtype=np.float32)
    matrix.sort_indices()
    return matrix


def lookup_pairs(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``matrix[rows[i], cols[i]]`` for every i (0 where nothing is stored), vectorized: the stored
    entries' keys row·n + col are sorted in a CSR with sorted indices, so a binary search finds them."""
    n_cols = matrix.shape[1]
    out = np.zeros(rows.size, dtype=np.float32)
    if matrix.nnz == 0:
        return out
    stored_rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    keys = stored_rows * n_cols + matrix.indices
    wanted = rows.astype(np.int64) * n_cols + cols
    position = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    hit = keys[position] == wanted
    out[hit] = matrix.data[position[hit]]
    return out
