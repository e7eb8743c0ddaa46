"""Top-k selection: the k best of every row, blockwise, never an N×N matrix in memory."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp


def select_top_k(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns and values of the k largest finite values of every row, best first.

    Ties go to the lower column, so results are deterministic. Rows with fewer than k finite
    values are padded with column -1 and value -inf. ``np.partition`` finds each row's k-th value
    (several times faster than ``argpartition`` on wide rows); the few values at or above it are
    then sorted.
    """
    n_rows, width = block.shape
    columns = np.full((n_rows, k), -1, dtype=np.int64)
    values = np.full((n_rows, k), -np.inf, dtype=np.float32)
    if k == 0 or width == 0 or n_rows == 0:
        return columns, values
    kth = min(k, width)
    threshold = np.partition(block, width - kth, axis=1)[:, width - kth]
    flat = np.flatnonzero(block >= threshold[:, None])
    vals = block.ravel()[flat]
    finite = vals > -np.inf  # a row with fewer than k finite values has threshold -inf
    flat, vals = flat[finite], vals[finite]
    rows, cols = np.divmod(flat, width)
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, rows)
    keep = rank < k
    columns[rows[keep], rank[keep]] = cols[keep]
    values[rows[keep], rank[keep]] = vals[keep]
    return columns, values


def top_k_similar(
    features: sp.csr_matrix | np.ndarray,
    k: int,
    block_rows: int = 2048,
    prior: np.ndarray | None = None,
    workers: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """For every row, the k other rows with the largest ``features @ features.T`` (+ ``prior``),
    as (rows, scores) arrays of shape (n, k), best first, padded with -1 / -inf.

    Computed one block of rows at a time: the product of a block (a sparse product when
    ``features`` is sparse) is at most ``block_rows × n``; the film itself is never a neighbour.
    ``workers`` blocks at a time in threads (the products and the partition release the GIL;
    each holds its block).
    """
    n = features.shape[0]
    k = min(k, max(n - 1, 0))
    top = np.full((n, k), -1, dtype=np.int64)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    if k == 0:
        return top, scores
    dense = not sp.issparse(features)
    right = np.ascontiguousarray(features.T) if dense else sp.csr_matrix(features.T)

    def one(start: int) -> None:
        stop = min(start + block_rows, n)
        product = features[start:stop] @ right
        block = np.asarray(product if dense else product.toarray(), dtype=np.float32)
        if prior is not None:
            block += prior[None, :].astype(np.float32)
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # never the film itself
        top[start:stop], scores[start:stop] = select_top_k(block, k)

    starts = range(0, n, block_rows)
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one, starts))
    else:
        for start in starts:
            one(start)
    return top, scores


def top_k_sparse(features: sp.csr_matrix, k: int, block_rows: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`top_k_similar` for sparse rows, but only among the pairs whose product is
    non-zero: the block's product stays sparse, so the cost follows the shared features, not n²."""
    n = features.shape[0]
    top = np.full((n, k), -1, dtype=np.int64)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    if k == 0 or n == 0:
        return top, scores
    right = features.T.tocsr()
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        product = (features[start:stop] @ right).tocoo()
        rows, cols, vals = product.row.astype(np.int64), product.col.astype(np.int64), product.data
        keep = (cols != rows + start) & (vals > 0)
        top[start:stop], scores[start:stop] = top_k_of_pairs(
            rows[keep], cols[keep], vals[keep].astype(np.float32), stop - start, k
        )
    return top, scores


def top_k_of_pairs(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n_rows: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k best (col, value) of every row from a list of (row, col, value), best first, ties to
    the lower col; padded with -1 / -inf."""
    top = np.full((n_rows, k), -1, dtype=np.int64)
    scores = np.full((n_rows, k), -np.inf, dtype=np.float32)
    if rows.size == 0 or k == 0:
        return top, scores
    keep = at_least_kth(rows, values, n_rows, k)
    rows, cols, values = rows[keep], cols[keep], values[keep]
    order = pair_order(rows, cols, values)
    rows, cols, values = rows[order], cols[order], values[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, rows)
    keep = rank < k
    top[rows[keep], rank[keep]] = cols[keep]
    scores[rows[keep], rank[keep]] = values[keep]
    return top, scores


def at_least_kth(rows: np.ndarray, values: np.ndarray, n_rows: int, k: int, bins: int = 256) -> np.ndarray:
    """Mask of the (row, value) pairs that may be among their row's k largest: those whose value
    falls in or above the histogram bin holding the row's k-th largest value. Exact (it never
    drops a top-k pair) and linear, so only a few pairs per row are left to sort."""
    if values.size == 0:
        return np.ones(0, dtype=bool)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.ones(values.size, dtype=bool)
    scale = (bins - 1) / (high - low)
    binned = np.minimum(((values.astype(np.float64) - low) * scale).astype(np.int64), bins - 1)
    counts = np.bincount(rows * bins + binned, minlength=n_rows * bins).reshape(n_rows, bins)
    at_or_above = np.cumsum(counts[:, ::-1], axis=1)[:, ::-1]  # values in bin j or higher
    enough = at_or_above >= k
    # the highest bin j with at least k values at or above it holds the k-th largest value
    threshold = np.where(enough.any(axis=1), bins - 1 - np.argmax(enough[:, ::-1], axis=1), 0)
    return binned >= threshold[rows]


def pair_order(rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The order of (row, col, value) triples by row, then value descending, then col.

    One stable sort by (row, −value) after one by col: for the millions of pairs of a sparse
    product this is about three times faster than ``np.lexsort`` on the three keys.
    """
    by_col = np.argsort(cols, kind="stable")
    values = values[by_col].astype(np.float64)
    span = float(values.max() - values.min()) if values.size else 0.0
    # rows apart by more than the span of the values, so the key sorts by row first
    key = rows[by_col].astype(np.float64) * (span + 1.0) + (values.max() - values if values.size else 0.0)
    return by_col[np.argsort(key, kind="stable")]


def top_k_of_csr(matrix: sp.csr_matrix, k: int) -> np.ndarray:
    """The k largest stored entries of every row of a sparse matrix, as padded columns."""
    coo = matrix.tocoo()
    return top_k_of_pairs(coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data, matrix.shape[0], k)[0]
