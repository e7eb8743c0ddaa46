"""Stage 2: one exact value per signal for every (film, candidate) pair, blended and ranked.

The blend's weights move with how much collaborative evidence the QUERY film has. A film no
training user liked is ranked by its ``tail`` weights (content); a film many liked by its
``head`` weights (who liked what, and what everyone likes); in between, by the mixture
``(1 − c)·tail + c·head`` with the confidence ``c = likes / (likes + evidence × users)``. The
reason is where each kind of evidence pays: precision is earned on the films people like (the
pairs users make), coverage on the long tail of films nobody rated, whose lists a popularity
prior would fill with the same blockbusters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from movierec.model.cf import lookup_pairs
from movierec.model.features import ContentFeatures

#: The signals the ranking blends, in this order everywhere (weights, signal stacks, manifest).
RANKING_SIGNALS = (
    "text",
    "genres",
    "keywords",
    "cast",
    "director",
    "collection",
    "adjacent",
    "language",
    "era",
    "cf",
    "cf_content",
    "popularity",
    "quality",
    "likes",
)

#: The tail weights' starting point (films without likes; every film when RAW has no ratings, cf
#: and likes being 0 then): content weights chosen on the real sample's validation users
#: (userId % 5 == 1) with the collaborative weight held at 0, and the borrowed signal of the
#: warm films alike. Never chosen on the evaluation users.
DEFAULT_WEIGHTS: dict[str, float] = {
    "text": 0.0,
    "genres": 0.0,
    "keywords": 0.25,
    "cast": 0.0,
    "director": 0.3,
    "collection": 2.0,
    "adjacent": 0.0,
    "language": 0.1,
    "era": 0.1,
    "cf": 0.0,
    "cf_content": 1.0,
    "popularity": 0.3,
    "quality": 0.1,
    "likes": 0.0,
}

#: The head weights' starting point: who liked what (the debiased collaborative signal), the
#: adjacent collection members, a little of the rest. The tuning moves them.
HEAD_START: dict[str, float] = {
    **{name: 0.0 for name in DEFAULT_WEIGHTS},
    "cf": 1.0,
    "adjacent": 1.0,
    "collection": 0.1,
    "popularity": 0.1,
}

#: The weights that express how much everyone likes a candidate, rather than how alike it is.
PRIORS = ("popularity", "quality", "likes")

#: What a film is about, and how much each part counts when a new film looks for the warm films it
#: resembles (:mod:`movierec.model.borrow`): the specifics (director, keywords, collection) first.
CONTENT: dict[str, float] = {
    "text": 0.5,
    "genres": 0.5,
    "keywords": 1.0,
    "cast": 0.5,
    "director": 1.0,
    "collection": 1.0,
}


def content_score(signals: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Σ CONTENT weight × signal of every pair, from the stack of :func:`pair_signals` with
    ``names=CONTENT`` (0 for padding)."""
    weights = np.array(list(CONTENT.values()), dtype=np.float32)
    return np.where(pool >= 0, np.tensordot(weights, signals, axes=1), 0.0).astype(np.float32)


@dataclass(frozen=True)
class Blend:
    """The ranking's weights: ``tail`` for films no training user liked, ``head`` for films many
    liked, mixed by :func:`confidence` with ``evidence`` (see the module docstring)."""

    tail: Mapping[str, float]
    head: Mapping[str, float]
    evidence: float = 0.01

    def with_part(self, part: str, weights: Mapping[str, float]) -> Blend:
        """This blend with its ``part`` ("tail" or "head") weights replaced by ``weights``."""
        return replace(self, tail=weights) if part == "tail" else replace(self, head=weights)

    def record(self) -> dict[str, object]:
        """What the manifest shows."""
        return {
            "tail": {name: round(float(self.tail.get(name, 0.0)), 6) for name in RANKING_SIGNALS},
            "head": {name: round(float(self.head.get(name, 0.0)), 6) for name in RANKING_SIGNALS},
            "evidence": round(self.evidence, 6),
        }


def confidence(support: np.ndarray | None, users: int, evidence: float, n: int) -> np.ndarray:
    """How far each film's ranking moves from the tail weights to the head weights:
    ``likes / (likes + evidence × users)``, 0 for a film nobody liked (or without ratings).

    >>> confidence(np.array([0.0, 1.0, 3.0]), users=100, evidence=0.01, n=3).tolist()
    [0.0, 0.5, 0.75]
    """
    if support is None or users == 0:
        return np.zeros(n, dtype=np.float32)
    return (support / (support + max(evidence, 1e-12) * users)).astype(np.float32)


def likes_prior(support: np.ndarray | None, n: int) -> np.ndarray:
    """log(1 + training users who liked the film) scaled to [0, 1] (0 without ratings): how much
    the people the model learns from like it, where TMDB's vote count says how many rated it."""
    if support is None or support.size == 0 or support.max() <= 0:
        return np.zeros(n, dtype=np.float32)
    logs = np.log1p(support.astype(np.float64))
    return (logs / logs.max()).astype(np.float32)


def pair_dot_dense(matrix: np.ndarray, pool: np.ndarray, chunk_rows: int = 2048) -> np.ndarray:
    """(n, width) products of every film's row with its candidates' rows (0 for padding)."""
    out = np.zeros(pool.shape, dtype=np.float32)
    if matrix.shape[1] == 0:
        return out
    safe = np.maximum(pool, 0)
    for start in range(0, pool.shape[0], chunk_rows):
        stop = start + chunk_rows
        out[start:stop] = np.einsum("rd,rwd->rw", matrix[start:stop], matrix[safe[start:stop]])
    return np.where(pool >= 0, out, 0.0).astype(np.float32)


def pair_dot_sparse(matrix: sp.csr_matrix, pool: np.ndarray, chunk_pairs: int = 1 << 19) -> np.ndarray:
    """Like :func:`pair_dot_dense` for sparse rows."""
    n, width = pool.shape
    rows = np.repeat(np.arange(n), width)
    cols = np.maximum(pool.ravel(), 0)
    out = np.zeros(rows.size, dtype=np.float32)
    if matrix.nnz:
        for start in range(0, rows.size, chunk_pairs):
            stop = start + chunk_pairs
            product = matrix[rows[start:stop]].multiply(matrix[cols[start:stop]])
            out[start:stop] = np.asarray(product.sum(axis=1)).ravel()
    return np.where(pool >= 0, out.reshape(n, width), 0.0).astype(np.float32)


def pair_dot_by_code(matrix: np.ndarray, codes: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """:func:`pair_dot_dense` for rows that depend only on a code (the era rows on the year):
    the products of the distinct codes' rows, looked up for every pair."""
    _, first, index = np.unique(codes, return_index=True, return_inverse=True)
    table = matrix[first] @ matrix[first].T
    out = table[index[:, None], index[np.maximum(pool, 0)]]
    return np.where(pool >= 0, out, 0.0).astype(np.float32)


def pair_equal(codes: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """1 where a film and its candidate share a known code (language, collection), else 0."""
    mine = codes[:, None]
    theirs = codes[np.maximum(pool, 0)]
    return ((mine == theirs) & (mine >= 0) & (pool >= 0)).astype(np.float32)


def cf_signal(cf: sp.csr_matrix | None, pool: np.ndarray) -> np.ndarray:
    """The collaborative similarity of every (film, candidate) pair (0 when none is stored)."""
    n, width = pool.shape
    if cf is None:
        return np.zeros((n, width), dtype=np.float32)
    values = lookup_pairs(cf, np.repeat(np.arange(n), width), np.maximum(pool, 0).ravel())
    return np.where(pool >= 0, values.reshape(n, width), 0.0).astype(np.float32)


def pair_adjacent(adjacent: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """1 where the candidate is the film's previous or next collection member by release date."""
    return ((pool[:, :, None] == adjacent[:, None, :]).any(axis=2) & (pool >= 0)).astype(np.float32)


def pair_signals(
    features: ContentFeatures,
    cf: sp.csr_matrix | None,
    priors: Mapping[str, np.ndarray],
    pool: np.ndarray,
    borrowed: sp.csr_matrix | None = None,
    names: Mapping[str, float] | tuple[str, ...] = RANKING_SIGNALS,
) -> np.ndarray:
    """The (len(RANKING_SIGNALS), n, width) exact signal values of every (film, candidate) pair, 0 for
    padding. Filled one signal at a time into one array (the largest the training holds).
    ``borrowed``: the cold-start signal ``cf_content`` (:mod:`movierec.model.borrow`); ``names``:
    the signals to compute, in that order (default all)."""
    safe = np.maximum(pool, 0)
    compute: dict[str, Callable[[], np.ndarray]] = {
        "text": lambda: pair_dot_dense(features.text, pool),
        "genres": lambda: pair_dot_dense(features.genres, pool),
        "keywords": lambda: pair_dot_sparse(features.keywords, pool),
        "cast": lambda: pair_dot_sparse(features.cast, pool),
        "director": lambda: pair_dot_sparse(features.director, pool),
        "collection": lambda: pair_equal(features.collection, pool),
        "adjacent": lambda: pair_adjacent(features.adjacent, pool),
        "language": lambda: pair_equal(features.language, pool),
        "era": lambda: pair_dot_by_code(features.era, features.year, pool),
        "cf": lambda: cf_signal(cf, pool),
        "cf_content": lambda: cf_signal(borrowed, pool),
        "popularity": lambda: np.where(pool >= 0, priors["popularity"][safe], 0.0),
        "quality": lambda: np.where(pool >= 0, priors["quality"][safe], 0.0),
        "likes": lambda: (
            np.where(pool >= 0, priors["likes"][safe], 0.0)
            if "likes" in priors
            else np.zeros(pool.shape, dtype=np.float32)
        ),
    }
    signals = np.empty((len(names), *pool.shape), dtype=np.float32)
    for index, name in enumerate(names):
        signals[index] = compute[name]()
    return signals


def _vector(weights: Mapping[str, float]) -> np.ndarray:
    return np.array([weights.get(name, 0.0) for name in RANKING_SIGNALS], dtype=np.float32)


def blend(
    signals: np.ndarray, pool: np.ndarray, weights: Mapping[str, float] | Blend, confidence: np.ndarray | None = None
) -> np.ndarray:
    """Blended score Σ weight × signal of every (film, candidate) pair; -inf for padding. With a
    :class:`Blend`, film i's weights are ``tail + confidence[i] · (head − tail)`` (two products,
    never a second signal stack)."""
    n, width = pool.shape
    flat = signals.reshape(signals.shape[0], n * width)
    if isinstance(weights, Blend):
        tail, head = _vector(weights.tail), _vector(weights.head)
        scores = (tail @ flat).reshape(n, width)
        if confidence is not None and confidence.any() and not np.array_equal(tail, head):
            scores += confidence[:, None] * ((head - tail) @ flat).reshape(n, width)
    else:
        scores = (_vector(weights) @ flat).reshape(n, width)
    np.copyto(scores, np.float32(-np.inf), where=pool < 0)
    return scores


def rank_pool(pool: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best candidates of every film (rows, scores), best first; -1 / -inf when fewer.

    k passes of a row-wise argmax (for the small k of a ranking, faster than a partition of every
    row). ``argmax`` takes the first maximum and the pool lists each film's candidates in
    increasing row order (:func:`merge_pools`), so ties go to the lower row.
    """
    n = pool.shape[0]
    remaining = scores.copy()
    everyone = np.arange(n)
    rows = np.full((n, k), -1, dtype=np.int64)
    values = np.full((n, k), -np.inf, dtype=np.float32)
    for rank in range(min(k, pool.shape[1])):
        best = remaining.argmax(axis=1)
        value = remaining[everyone, best]
        found = value > -np.inf
        rows[found, rank] = pool[everyone[found], best[found]]
        values[found, rank] = value[found]
        remaining[everyone, best] = -np.inf
    return rows, values
