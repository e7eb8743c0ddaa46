"""Co-occurrence of likes, the field's standard item-to-item measure (Microsoft Recommenders' SAR):
how many users liked both films (count), or that over how many liked either (Jaccard).

Computed a block of films at a time from the sparse like matrix, so that only the pairs some
user liked together are ever held (never a films × films dense matrix).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from movierec.model.vectors import membership_matrix

MEASURES = ("count", "jaccard")


def like_matrix(users: np.ndarray, rows: np.ndarray, n: int) -> sp.csr_matrix:
    """Binary users × films matrix of the likes (users[i] liked film rows[i])."""
    _, index = np.unique(users, return_inverse=True)
    return membership_matrix(index, rows.astype(np.int64), int(index.max(initial=-1)) + 1, n)


def cooccurrence_blocks(
    likes: sp.csr_matrix, films: np.ndarray, measure: str | None, block_entries: int = 1 << 22
) -> Iterator[tuple[np.ndarray, sp.coo_matrix]]:
    """(block of films, its rows of the measure as a sparse block × films matrix), without the
    film itself; ``films`` are the rows wanted; ``measure`` None: the integer counts, as float."""
    if measure is not None and measure not in MEASURES:
        raise ValueError(f"unknown co-occurrence measure {measure!r} (known: {', '.join(MEASURES)})")
    n = likes.shape[1]
    support = np.asarray(likes.sum(axis=0)).ravel()
    by_film = likes.T.tocsr()
    step = max(1, block_entries // max(n, 1))
    for start in range(0, films.size, step):
        block = films[start : start + step]
        co = (by_film[block] @ likes).tocoo()
        keep = co.col != block[co.row]
        rows, cols, values = co.row[keep], co.col[keep], co.data[keep].astype(np.float64)
        if measure is not None:
            values = measured(values, support[block[rows]], support[cols], measure)
        yield block, sp.coo_matrix((values, (rows, cols)), shape=(block.size, n))


def measured(counts: np.ndarray, mine: np.ndarray, theirs: np.ndarray, measure: str) -> np.ndarray:
    """The measure of co-like ``counts`` between films liked ``mine`` and ``theirs`` times."""
    return counts if measure == "count" else counts / (mine + theirs - counts)


def cooccurrence_tops(likes: sp.csr_matrix, k: int, measures: tuple[str, ...] = MEASURES) -> dict[str, np.ndarray]:
    """(films, k) for each of ``measures``: every film's k films with the highest co-occurrence
    measure, best first; ties to the film more users liked, then to the lower row; -1 where fewer
    films were ever liked with it. One pass over the co-like counts for all the measures.

    >>> likes = like_matrix(np.array([1, 1, 1, 2, 2, 3, 3]), np.array([0, 1, 2, 0, 2, 0, 3]), 4)
    >>> tops = cooccurrence_tops(likes, 2)
    >>> tops["count"].tolist()  # film 0 with 2 twice, with 1 and 3 once each
    [[2, 1], [0, 2], [0, 1], [0, -1]]
    >>> tops["jaccard"][0].tolist()  # 2: 2/(3+2-2); 1: 1/(3+1-1); 3: 1/3
    [2, 1]
    """
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise ValueError(f"unknown co-occurrence measure {unknown[0]!r} (known: {', '.join(MEASURES)})")
    n = likes.shape[1]
    support = np.asarray(likes.sum(axis=0)).ravel()
    tops = {measure: np.full((n, k), -1, dtype=np.int64) for measure in measures}
    for block, matrix in cooccurrence_blocks(likes, np.arange(n), None):
        rows, cols = matrix.row.astype(np.int64), matrix.col.astype(np.int64)
        for measure in measures:
            values = measured(matrix.data, support[block[rows]], support[cols], measure)
            order = np.lexsort((cols, -support[cols], -values, rows))
            ordered_rows, ordered_cols = rows[order], cols[order]
            rank = np.arange(ordered_rows.size) - np.searchsorted(ordered_rows, ordered_rows)
            kept = rank < k
            tops[measure][block[ordered_rows[kept]], rank[kept]] = ordered_cols[kept]
    return tops


def affinity_scores(likes: sp.csr_matrix, affinity: sp.csr_matrix, measure: str = "jaccard") -> np.ndarray:
    """SAR's scores: ``affinity`` (people × films, e.g. their ratings of the films they liked)
    times the films × films similarity, as a dense people × films array."""
    people, n = affinity.shape
    scores = np.zeros((people, n))
    named = np.flatnonzero(np.diff(affinity.tocsc().indptr))
    for block, matrix in cooccurrence_blocks(likes, named, measure):
        scores += (affinity[:, block] @ matrix.tocsr()).toarray()
    return scores
