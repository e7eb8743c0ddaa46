"""Row scaling and film × code matrices shared by the features and the seed's method."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def unit_rows(matrix: np.ndarray | sp.spmatrix) -> np.ndarray | sp.csr_matrix:
    """Every non-zero row scaled to unit L2 norm, as float32 (zero rows stay zero)."""
    if sp.issparse(matrix):
        matrix = sp.csr_matrix(matrix, dtype=np.float32)
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1), dtype=np.float64).ravel())
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return sp.csr_matrix(sp.diags(scale.astype(np.float32)) @ matrix)
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


#: English function words left out of the text features (pronouns, articles, auxiliaries,
#: prepositions, conjunctions); terms in more than half the films are left out as well.


def idf_weights(matrix: sp.csr_matrix) -> np.ndarray:
    """Smoothed inverse document frequency of every column of a film × feature matrix."""
    n = matrix.shape[0]
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    return (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)


def membership_matrix(rows: np.ndarray, codes: np.ndarray, n_rows: int, n_codes: int) -> sp.csr_matrix:
    """Binary film × code matrix from (row, code) pairs; repeated pairs count once."""
    matrix = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, codes)), shape=(n_rows, n_codes), dtype=np.float32
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix
