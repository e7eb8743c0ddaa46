"""What a person will like next, given what they liked: EASE item–item weights over the likes.

EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019) learns the weights
B that best rebuild every user's likes from their other likes, X ≈ X·B with a zero diagonal and
an L2 penalty λ; the closed form is ``B = I − P · diag(1 / diag(P))``, ``P = (XᵀX + λI)⁻¹``. A
person's score for film j is then Σ over the films i they liked of B[i, j]. Unlike co-like
counts, the weights discount what a film's co-likes owe to the other films the same people liked.

The inverse is dense over the films it covers, so it covers at most ``max_films`` of them, the
most liked (4,000 by default: a 64 MB matrix in float32, a few seconds on one core). Each film
keeps its ``keep`` largest weights by magnitude (negative weights suppress a film); these lists
are the artifact the API scores from (:mod:`movierec.model.personal`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.linalg.lapack as lapack

from movierec.model.scorer import WeightLists
from movierec.model.vectors import membership_matrix


@dataclass(frozen=True)
class EaseGram:
    """XᵀX of the likes over the films it covers (the ``max_films`` most liked), and their likes."""

    films: np.ndarray  # the catalogue rows covered, increasing
    gram: np.ndarray  # (m, m) float32
    support: np.ndarray  # likes of each covered film
    n: int


@dataclass(frozen=True)
class EaseInverse:
    """P = (XᵀX + λI)⁻¹ over the films it covers (upper triangle only), and their likes."""

    films: np.ndarray  # the catalogue rows covered, increasing
    inverse: np.ndarray  # (m, m) float32, upper triangle valid
    support: np.ndarray  # likes of each covered film
    n: int


def ease_gram(users: np.ndarray, rows: np.ndarray, n: int, max_films: int = 4000) -> EaseGram | None:
    """The Gram matrix of the likes over the ``max_films`` most liked films (None when fewer than
    2 films were liked): the costly part (a sparse product whose cost is the sum over users of
    their likes squared), computed once for every λ tried."""
    support = np.bincount(rows, minlength=n)
    films = np.sort(np.argsort(-support, kind="stable")[:max_films])
    films = films[support[films] > 0]
    m = films.size
    if m < 2:
        return None
    local = np.full(n, -1, dtype=np.int64)
    local[films] = np.arange(m)
    kept = local[rows] >= 0
    codes, user_index = np.unique(users[kept], return_inverse=True)
    likes = membership_matrix(user_index, local[rows[kept]], codes.size, m)
    return EaseGram(films, np.asarray((likes.T @ likes).toarray(), dtype=np.float32), support[films], n)


def invert(gram: EaseGram, penalty: float) -> EaseInverse:
    """(XᵀX + λI)⁻¹ by LAPACK's Cholesky, in float32, on a copy of the Gram matrix."""
    matrix = gram.gram.copy()
    matrix[np.diag_indices(gram.films.size)] += np.float32(penalty)
    factor, info = lapack.spotrf(matrix, lower=0, clean=1, overwrite_a=1)
    if info != 0:
        raise ValueError(f"EASE: the regularised Gram matrix is not positive definite (info {info})")
    inverse, info = lapack.spotri(factor, lower=0, overwrite_c=1)
    if info != 0:
        raise ValueError(f"EASE: inversion failed (info {info})")
    return EaseInverse(gram.films, inverse, gram.support, gram.n)


def ease_inverse(
    users: np.ndarray, rows: np.ndarray, n: int, penalty: float, max_films: int = 4000
) -> EaseInverse | None:
    """The regularised inverse Gram matrix of the likes over the ``max_films`` most liked films
    (None when fewer than 2 films were liked): :func:`ease_gram` then :func:`invert`."""
    gram = ease_gram(users, rows, n, max_films)
    return None if gram is None else invert(gram, penalty)


def weight_lists(ease: EaseInverse, keep: int = 200, discount: float = 0.0, block_rows: int = 512) -> WeightLists:
    """Every covered film's ``keep`` largest EASE weights B[i, j] = −P[i, j] / P[j, j] by
    magnitude; with ``discount`` β, the weights towards film j are divided by (1 + its likes)^β,
    which favours the less popular films."""
    films, inverse, m = ease.films, ease.inverse, ease.films.size
    diagonal = inverse[np.diag_indices(m)].copy()
    scale = ((1.0 + ease.support.astype(np.float64)) ** -discount).astype(np.float32)
    width = min(keep, m - 1)
    all_src, all_dst, all_w = [], [], []
    for start in range(0, m, block_rows):
        stop = min(start + block_rows, m)
        block = np.triu(inverse[start:stop], k=start)  # row i: columns j ≥ i
        block[:, :stop] += np.tril(inverse[:stop, start:stop].T, k=start - 1)  # j < i, from the upper triangle
        weights = -block / diagonal[None, :] * scale[None, :]
        local = np.arange(stop - start)
        weights[local, local + start] = 0.0
        strength = np.abs(weights)
        strength[local, local + start] = -1.0  # never the film itself
        top = np.argpartition(-strength, width - 1, axis=1)[:, :width]
        order = np.argsort(-np.take_along_axis(strength, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        all_src.append(np.repeat(np.arange(start, stop), width))
        all_dst.append(top.ravel())
        all_w.append(np.take_along_axis(weights, top, axis=1).ravel())
    src, dst, weight = np.concatenate(all_src), np.concatenate(all_dst), np.concatenate(all_w)
    rank = np.tile(np.arange(width), src.size // max(width, 1))
    nonzero = weight != 0
    return WeightLists.from_rows(films[src[nonzero]], films[dst[nonzero]], weight[nonzero], rank[nonzero], ease.n)


def ease_lists(
    users: np.ndarray,
    rows: np.ndarray,
    n: int,
    penalty: float,
    keep: int = 200,
    max_films: int = 4000,
    discount: float = 0.0,
) -> WeightLists:
    """EASE weight lists of the likes (users[i] liked film rows[i]): :func:`ease_inverse` then
    :func:`weight_lists`. ``penalty`` is λ.

    Users 1 and 2 liked films 0 and 1, user 3 film 2. With two films, B[0, 1] = co-likes / (likes
    of film 0 + λ) = 2 / (2 + 1); film 2 shares no user, its weight is 0 and is not listed:

    >>> lists = ease_lists(np.array([1, 1, 2, 2, 3]), np.array([0, 1, 0, 1, 2]), 3, penalty=1.0)
    >>> lists.cols[lists.indptr[0]:lists.indptr[1]].tolist(), round(float(lists.weights[0]), 6)
    ([1], 0.666667)
    """
    ease = ease_inverse(users, rows, n, penalty, max_films)
    return WeightLists.empty(n) if ease is None else weight_lists(ease, keep, discount)


def lists_frame(lists: WeightLists, ids: np.ndarray) -> pl.DataFrame:
    """``lists`` as the artifact's rows (movie_id, rank, neighbour_id, score), rank 1 = largest magnitude."""
    counts = np.diff(lists.indptr)
    rank = np.arange(lists.cols.size) - np.repeat(lists.indptr[:-1], counts) + 1
    return pl.DataFrame(
        {
            "movie_id": np.repeat(ids, counts),
            "rank": rank.astype(np.int32),
            "neighbour_id": ids[lists.cols],
            "score": lists.weights,
        },
        schema={"movie_id": pl.Int64, "rank": pl.Int32, "neighbour_id": pl.Int64, "score": pl.Float32},
    )
