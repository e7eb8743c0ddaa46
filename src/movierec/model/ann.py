"""Approximate nearest neighbours for dense unit rows: spherical k-means cells probed by each film."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movierec.model.topk import select_top_k, top_k_similar
from movierec.model.vectors import unit_rows


def spherical_kmeans(
    features: np.ndarray, cells: int, iterations: int = 8, sample: int = 20_000, seed: int = 0, block_rows: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """(label per row, unit centre per cell) of k-means on the cosine. The centres start at
    distinct random rows and are refined on at most ``sample`` rows (seeded): each row joins the
    centre with the largest product, each centre becomes its members' normalised mean (an empty
    cell keeps its centre). Then every row joins its nearest centre, once."""
    rng = np.random.default_rng(seed)
    n = features.shape[0]
    fitting = features[np.sort(rng.choice(n, size=sample, replace=False))] if n > sample else features
    centres = fitting[rng.choice(fitting.shape[0], size=cells, replace=False)].astype(np.float32)
    for _ in range(iterations):
        labels = nearest_centre(fitting, centres, block_rows)
        assign = sp.csr_matrix(
            (np.ones(labels.size, dtype=np.float32), (labels, np.arange(labels.size))), shape=(cells, labels.size)
        )
        sums = np.asarray(assign @ fitting)
        filled = np.linalg.norm(sums, axis=1) > 0
        centres[filled] = unit_rows(sums[filled])
    return nearest_centre(features, centres, block_rows), centres


def nearest_centre(features: np.ndarray, centres: np.ndarray, block_rows: int = 8192) -> np.ndarray:
    labels = np.empty(features.shape[0], dtype=np.int64)
    for start in range(0, features.shape[0], block_rows):
        labels[start : start + block_rows] = np.argmax(features[start : start + block_rows] @ centres.T, axis=1)
    return labels


def top_k_clustered(
    features: np.ndarray, k: int, cluster_size: int = 400, probe: int = 8, block_rows: int = 1024, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate :func:`top_k_similar` for dense unit rows in about n · probe · cluster_size
    products instead of n²: k-means cells of about ``cluster_size`` films, and every film searched
    only among the members of the ``probe`` cells whose centres are nearest its own cell's (at
    most 2 · cluster_size of each other cell, evenly spaced: a cell holding hundreds of identical
    films, such as those with no overview and one genre, would otherwise cost its size squared).
    Exact (brute force) when the catalogue has at most ``probe`` cells' worth of films."""
    n = features.shape[0]
    cells = n // cluster_size
    if cells <= probe:
        return top_k_similar(features, k, block_rows)
    labels, centres = spherical_kmeans(features, cells, seed=seed)
    nearest, _ = select_top_k(centres @ centres.T, probe)  # includes the cell itself
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(cells + 1))
    members = [order[bounds[c] : bounds[c + 1]] for c in range(cells)]
    k = min(k, n - 1)
    top = np.full((n, k), -1, dtype=np.int64)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    widest = 2 * cluster_size  # films taken from one probed cell, evenly spaced when it has more
    sampled = [m if m.size <= widest else m[np.linspace(0, m.size - 1, widest).astype(np.int64)] for m in members]
    for cell in range(cells):
        if members[cell].size == 0:
            continue
        candidates = np.unique(np.concatenate([members[cell]] + [sampled[c] for c in nearest[cell] if c >= 0]))
        right = np.ascontiguousarray(features[candidates].T)
        for start in range(0, members[cell].size, block_rows):
            rows = members[cell][start : start + block_rows]
            block = features[rows] @ right
            itself = np.searchsorted(candidates, rows)
            block[np.arange(rows.size), itself] = -np.inf  # every cell probes itself
            columns, values = select_top_k(block, k)
            top[rows] = np.where(columns >= 0, candidates[np.maximum(columns, 0)], -1)
            scores[rows] = values
    return top, scores
