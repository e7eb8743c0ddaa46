"""Cold start: a film nobody liked borrows the collaborative signal of the warm films it resembles.

MovieLens ratings are a fixed file, so every film a refresh adds has no like, ever. Its content
(text, genres, keywords, cast, director, collection) is known, and so is who liked the films
most like it. With ``S`` the films' content neighbours among the warm films (each film's ``k``
best by the content blend, weights summing to 1) and ``C`` the collaborative similarity (films
with likes only), the *borrowed* signal is

    B = S · C + C · S̃ᵀ

* a cold film i: ``(S·C)[i, j]`` is the mean collaborative similarity to j of the warm films like
  i — its own list is what people who liked films like it liked (``C·Sᵀ`` is 0: i has no row in C);
* a warm film i and a cold candidate j: ``(C·S̃ᵀ)[i, j]`` is how much i's co-liked films resemble
  j (S̃: S's rows scaled to a maximum of 1, so that the value stays on C's scale), and a new film
  enters the lists of the films whose audience likes its neighbours (``S·C`` is 0: j has no
  column in C);
* two warm films: both terms, a smoothed co-like signal the blend weighs like any other.

Both terms are weighted sums of ``C``'s values on its scale.
It is the "co-like neighbours of the nearest warm films" of the issue, in two sparse products:
at most ``k`` × the collaborative neighbours stored per film entries per row, linear in films.

>>> import scipy.sparse as sp
>>> C = sp.csr_matrix(np.array([[0, .5, 0], [.5, 0, 0], [0, 0, 0]], dtype=np.float32))  # film 2 is cold
>>> S = content_neighbours(np.array([[1, 2], [0, 2], [0, 1]]),
...                        np.array([[.9, .1], [.9, .2], [.8, .4]], dtype=np.float32), np.array([1., 1., 0.]), k=1)
>>> S.toarray().round(2).tolist()
[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
>>> borrowed(S, C, np.array([1.0, 1.0, 0.0]), shrink=1.0).toarray().round(2).tolist()  # film 2 borrows
[[0.0, 0.0, 0.0], [0.0, 0.0, 0.5], [0.0, 0.5, 0.0]]
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from movierec.model.cf import ItemCF
from movierec.model.scorer import WeightLists
from movierec.model.topk import select_top_k, top_k_of_pairs

#: Warm films each film borrows from: enough to average out one odd neighbour, few enough that
#: they stay alike (measured on validation users: see the README's cold-start section).
BORROW_FROM = 20
#: Entries of the borrowed signal kept per film: its candidates (the best 30) and the signal's
#: value for most of the film's other candidates.
BORROWED_KEPT = 60
#: Films a warm film lends its audience to, at most (the films most like it).
LENDS_TO = 50


def content_neighbours(
    pool: np.ndarray, content: np.ndarray, support: np.ndarray, k: int = BORROW_FROM
) -> sp.csr_matrix:
    """(n, n) sparse: each film's ``k`` best warm candidates (``support`` > 0) by ``content`` (the
    content blend of every (film, candidate) pair of ``pool``), weights proportional to that score
    and summing to 1 per row; a film never borrows from itself; rows without a positive score are
    empty."""
    n = pool.shape[0]
    usable = (pool >= 0) & (pool != np.arange(n)[:, None])
    usable &= support[np.maximum(pool, 0)] > 0
    scores = np.where(usable & (content > 0), content, -np.inf).astype(np.float32)
    columns, values = select_top_k(scores, min(k, pool.shape[1]))
    found = columns >= 0
    rows = np.repeat(np.arange(n), columns.shape[1]).reshape(columns.shape)[found]
    neighbours = np.take_along_axis(pool, np.maximum(columns, 0), axis=1)[found]
    matrix = sp.csr_matrix((values[found].astype(np.float64), (rows, neighbours)), shape=(n, n))
    totals = np.asarray(matrix.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(np.where(totals > 0, 1.0 / np.where(totals > 0, totals, 1.0), 0.0)) @ matrix)


def borrowed(
    neighbours: sp.csr_matrix,
    cf: sp.csr_matrix,
    support: np.ndarray,
    shrink: float,
    keep: int = BORROWED_KEPT,
    lends: int = LENDS_TO,
    block_rows: int = 4096,
) -> sp.csr_matrix:
    """``S·C + C·S̃ᵀ`` (see the module docstring; S̃: S's rows scaled to a maximum of 1) with every
    entry scaled by the newness of the
    newer film of its pair (:func:`newness`), each row's ``keep`` largest entries (float32,
    sorted indices). A warm film lends to at most ``lends`` films (the ones most like it), so a
    film many resemble (a hub) does not blow up a row of ``C·Sᵀ``. Computed a block of rows at a
    time, so that only the kept entries are held."""
    n = neighbours.shape[0]
    cf = sp.csr_matrix(cf, dtype=np.float32)
    neighbours = sp.csr_matrix(neighbours, dtype=np.float32)
    # C·Sᵀ with S's rows scaled to a maximum of 1: how much film i's co-liked films resemble new
    # film c relative to c's closest warm film, on C's own scale (a mean over c's neighbours,
    # most of which i's audience did not co-like, kept new films out of warm films' lists)
    peak = np.asarray(neighbours.max(axis=1).todense(), dtype=np.float64).ravel()
    lending = sp.csr_matrix(
        sp.diags(np.where(peak > 0, 1.0 / np.where(peak > 0, peak, 1.0), 0.0)) @ neighbours, dtype=np.float32
    )
    lenders = lending.T.tocoo()
    columns, values = top_k_of_pairs(lenders.row.astype(np.int64), lenders.col.astype(np.int64), lenders.data, n, lends)
    found = columns >= 0
    transposed = sp.csr_matrix((values[found], (np.nonzero(found)[0], columns[found])), shape=(n, n))
    fresh = newness(support, shrink).astype(np.float32)
    rows, cols, kept_values = [], [], []
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        block = (neighbours[start:stop] @ cf + cf[start:stop] @ transposed).tocoo()
        row, col = block.row.astype(np.int64) + start, block.col.astype(np.int64)
        value = block.data * np.maximum(fresh[row], fresh[col])
        useful = (row != col) & (value > 0)
        top, scores = top_k_of_pairs(row[useful] - start, col[useful], value[useful], stop - start, keep)
        found = top >= 0
        rows.append(np.nonzero(found)[0] + start)
        cols.append(top[found])
        kept_values.append(scores[found])
    out = sp.csr_matrix((np.concatenate(kept_values), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    out.sort_indices()
    return out


def newness(support: np.ndarray, shrink: float) -> np.ndarray:
    """ν = shrink / (shrink + likes): 1 for a film nobody liked, ½ at ``shrink`` likes. The
    borrowed signal of a pair is scaled by its newer film's ν: it speaks fully where a film has
    no likes and fades as its own likes arrive, so that between two well-liked films the
    collaborative signal itself decides.

    >>> newness(np.array([0.0, 30.0, 270.0]), 30.0).tolist()
    [1.0, 0.5, 0.1]
    """
    return shrink / (shrink + np.maximum(np.asarray(support, dtype=np.float64), 0.0))


@dataclass(frozen=True)
class BorrowedWeights:
    """Films without likes added to the personal recommender's lists (:func:`borrowed_weights`):
    entries (list's film, new film, calibrated weight, rank after the list's own), and γ."""

    src: np.ndarray
    dst: np.ndarray
    weights: np.ndarray
    rank: np.ndarray
    gamma: float

    def into(self, lists: WeightLists, scale: float = 1.0) -> WeightLists:
        """``lists`` with these entries, their weights times ``scale`` (0: ``lists`` as they are)."""
        if scale == 0 or self.src.size == 0:
            return lists
        counts = np.diff(lists.indptr)
        own = np.arange(lists.cols.size) - np.repeat(lists.indptr[:-1], counts)
        return WeightLists.from_rows(
            np.r_[np.repeat(np.arange(lists.n), counts), self.src],
            np.r_[lists.cols.astype(np.int64), self.dst],
            np.r_[lists.weights, self.weights * np.float32(scale)],
            np.r_[own, self.rank],
            lists.n,
        )


def borrowed_weights(
    lists: WeightLists, neighbours: sp.csr_matrix, keep: int = 50, block_rows: int = 512
) -> BorrowedWeights:
    """For each of the personal recommender's lists, the ``keep`` films without likes it weighs
    most, ``γ · B̂[i, c]`` with ``B̂[i, c] = Σ_w S[c, w] · B[i, w]``: what film i's EASE weights say
    of the warm films new film c resembles (``neighbours``: S, rows of the films without likes).
    Calibrated against the EASE weights: a mean over ~20 neighbours is far smaller than one
    film's weight, so γ sets the median over lists of their largest borrowed weight to the median
    of their largest own weight — a new film then competes on the weights' own scale and is one
    of a person's 10 when the films it resembles are what their films point to. Only positive
    weights; ranks follow the list's own.

    >>> lists = WeightLists(np.array([0, 1, 1, 1]), np.array([1], dtype=np.int32), np.array([0.5], dtype=np.float32))
    >>> S = sp.csr_matrix(([0.5], ([2], [1])), shape=(3, 3))  # film 2 (new) is like film 1
    >>> borrowed = borrowed_weights(lists, S)
    >>> borrowed.gamma, borrowed.into(lists).cols.tolist(), borrowed.into(lists, 0.5).weights.tolist()
    (2.0, [1, 2], [0.5, 0.25])
    """
    n = lists.n
    counts = np.diff(lists.indptr)
    listed = sp.csr_matrix((lists.weights.astype(np.float32), lists.cols, lists.indptr), shape=(n, n))
    towards = sp.csr_matrix(neighbours.T, dtype=np.float32)  # warm film w → the new films like it
    src, dst, weights, rank = [], [], [], []
    rows = np.flatnonzero(counts)
    for block in np.array_split(rows, max(1, rows.size // block_rows)):
        product = (listed[block] @ towards).tocoo()  # the block's lists × new films
        positive = product.data > 0
        top, values = top_k_of_pairs(
            product.row[positive].astype(np.int64),
            product.col[positive].astype(np.int64),
            product.data[positive],
            block.size,
            keep,
        )
        local, position = np.nonzero(top >= 0)
        src.append(block[local])
        dst.append(top[local, position])
        weights.append(values[local, position])
        rank.append(counts[block[local]] + position)
    src_all, dst_all, weight_all, rank_all = (
        np.concatenate(part) if part else np.zeros(0, dtype=np.int64) for part in (src, dst, weights, rank)
    )
    own_best = np.maximum.reduceat(lists.weights, lists.indptr[:-1][counts > 0]) if lists.cols.size else np.zeros(0)
    borrowed_best = weight_all[rank_all == counts[src_all]]  # each list's first (largest) borrowed weight
    gamma = float(np.median(own_best) / np.median(borrowed_best)) if own_best.size and borrowed_best.size else 1.0
    gamma = gamma if np.isfinite(gamma) and gamma > 0 else 1.0
    return BorrowedWeights(
        src_all.astype(np.int64),
        dst_all.astype(np.int64),
        (weight_all * gamma).astype(np.float32),
        rank_all.astype(np.int64),
        gamma,
    )


def hidden_films(ids: np.ndarray, support: np.ndarray, share: float, min_likes: int, salt: str) -> np.ndarray:
    """Boolean mask: the films the tuning treats as new (``share`` of the films with at least
    ``min_likes`` likes, chosen by a hash of the TMDB id and ``salt``, so the choice is stable
    across runs and independent of the catalogue's order).

    >>> hidden_films(np.arange(1, 9), np.array([9, 9, 9, 9, 9, 9, 9, 1]), 0.5, 8, "t").tolist()
    [False, False, False, False, False, False, True, False]
    """
    digests = np.array(
        [int.from_bytes(hashlib.blake2b(f"{salt}:{int(i)}".encode(), digest_size=8).digest(), "big") for i in ids],
        dtype=np.uint64,
    )
    return (support >= min_likes) & (digests < np.uint64(share * float(2**64 - 1)))


def without(cf: sp.csr_matrix, films: np.ndarray) -> sp.csr_matrix:
    """``cf`` with the rows and columns of ``films`` (a mask) removed: exactly the similarity their
    likes' removal would leave for every other pair (a pair's score depends only on its two films'
    likes and co-likes)."""
    keep = sp.diags((~films).astype(np.float32))
    out = sp.csr_matrix(keep @ cf @ keep, dtype=np.float32)
    out.eliminate_zeros()
    out.sort_indices()
    return out


@dataclass(frozen=True)
class Lent:
    """The borrowed signal as the tuning sees it (the ``hidden`` films' likes hidden: ``tune_*``)
    and as the release's (every training user's likes), and, for the personal lists, the content
    neighbours of every film nobody liked in each (``new_films``, ``tuning_new_films``)."""

    hidden: np.ndarray
    tune_cf: sp.csr_matrix
    tune_support: np.ndarray
    tune_borrowed: sp.csr_matrix
    all_borrowed: sp.csr_matrix
    new_films: sp.csr_matrix
    tuning_new_films: sp.csr_matrix


def lend(
    pool: np.ndarray, content: np.ndarray, fitted: ItemCF, release: ItemCF, hidden: np.ndarray, shrink: float
) -> Lent:
    """The borrowed signals of both collaborative signals (``fitted``: the fit users', whose
    ``hidden`` films the tuning treats as new; ``release``: every training user's), the content
    neighbours coming from the ``content`` blend of every (film, candidate) pair of ``pool``."""
    tune_cf, tune_support = without(fitted.similarity_, hidden), np.where(hidden, 0.0, fitted.support_)
    tune_alike = content_neighbours(pool, content, tune_support)
    alike = content_neighbours(pool, content, release.support_)
    return Lent(
        hidden=hidden,
        tune_cf=tune_cf,
        tune_support=tune_support,
        tune_borrowed=borrowed(tune_alike, tune_cf, tune_support, shrink),
        all_borrowed=borrowed(alike, release.similarity_, release.support_, shrink),
        new_films=_rows_of(alike, release.support_ == 0),
        tuning_new_films=_rows_of(tune_alike, tune_support == 0),
    )


def _rows_of(matrix: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """``matrix`` with the rows ``keep`` does not mark emptied."""
    return sp.csr_matrix(sp.diags(keep.astype(np.float64)) @ matrix)
