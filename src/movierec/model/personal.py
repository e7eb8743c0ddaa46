"""Personal recommendations: the films a person will like, from the films they say they liked.

:func:`recommend` is the pure scorer the API and the evaluation both call. A candidate film j
scores the sum, over the films i the person named, of

* i's EASE weight for j (:mod:`movierec.model.ease`; the artifact ``model/personal.parquet``),
* plus ``neighbour_weight / log2(rank + 1)`` when j is i's film-to-film neighbour at that rank
  (``model/neighbours.parquet``), which also speaks for films nobody rated;

the 10 best films not named are the answer, each with the named film that contributed most
(``porque``). When fewer than 10 films score, the most popular films fill the list (no reason).

:class:`PersonalRecommender` fits the weights on the training users and chooses λ, the list
length and the neighbour weight on the validation users' likes split in time
(:mod:`movierec.evaluation.holdout`): the earliest 80% of a user's likes are the input, the
latest 20% the truth, the score nDCG@10. EASE is fitted on the fit users while choosing, on every
training user at the end (λ scales with the number of users, as the Gram matrix does).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np
import polars as pl
import scipy.sparse as sp

from movierec.evaluation.holdout import grouped, time_split
from movierec.evaluation.metrics import coverage_of_lists, ranking_metrics
from movierec.evaluation.split import fit_users, validation_users
from movierec.model.ease import WeightLists, ease_inverse, ease_lists, weight_lists
from movierec.model.topk import select_top_k

log = logging.getLogger("movierec.train")

RECOMMENDATIONS = 10
NDCG_TOLERANCE = 0.01  # relative: trials this close to the best validation nDCG count as equal
NO_REASON = -1  # ``because`` of a film that fills the list by popularity


class Pick(NamedTuple):
    row: int
    score: float
    because: int  # the named film's row that contributed most; NO_REASON for a popularity fill


def recommend(liked: Sequence[int] | np.ndarray, lists: WeightLists, neighbours: np.ndarray,
              neighbour_weight: float, popular: np.ndarray, k: int = RECOMMENDATIONS) -> list[Pick]:
    """The ``k`` best films for a person who liked the films ``liked`` (rows), best first (ties
    to the lower row), none of them named. ``neighbours``: (films, K) film-to-film rows, best
    first, -1 padded; ``popular``: rows by popularity, the fill. A film is a candidate when a
    named film lists it, whatever its total (a negative total ranks it low, not out).

    >>> lists = WeightLists(np.array([0, 2, 3, 3, 3]), np.array([1, 2, 3], dtype=np.int32),
    ...                     np.array([0.5, 0.25, 0.375], dtype=np.float32))
    >>> neighbours = np.array([[3, 2], [2, -1], [0, 1], [0, -1]])
    >>> [tuple(p) for p in recommend([0, 1], lists, neighbours, 0.0, np.array([3, 2, 1, 0]), k=3)]
    [(3, 0.375, 1), (2, 0.25, 0)]
    """
    n = lists.n
    named = np.unique(np.asarray(liked, dtype=np.int64))
    named = named[(named >= 0) & (named < n)]
    film, gain, source = _contributions(named, lists, neighbours, neighbour_weight)
    # Work on the entries only (a few thousand), never on arrays of the catalogue's size.
    order = np.argsort(film)
    film, gain, source = film[order], gain[order], source[order]
    # (np.r_ and np.broadcast_to cost tens of µs each here: plain arrays instead)
    new = np.empty(film.size, dtype=bool)
    new[:1] = True
    np.not_equal(film[1:], film[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1:] = film.size
    candidates = film[starts]
    totals = np.add.reduceat(gain, starts) if film.size else np.zeros(0)
    if named.size:
        unnamed = named[np.minimum(np.searchsorted(named, candidates), named.size - 1)] != candidates
        candidates, totals, starts, ends = candidates[unnamed], totals[unnamed], starts[unnamed], ends[unnamed]
    if candidates.size > k:  # the k best; a few more when the k-th value is tied
        threshold = np.partition(totals, candidates.size - k)[candidates.size - k]
        keep = totals >= threshold
        candidates, totals, starts, ends = candidates[keep], totals[keep], starts[keep], ends[keep]
    best = np.lexsort((candidates, -totals))[:k]
    picks = []
    for index in best.tolist():
        gains, sources = gain[starts[index]:ends[index]], source[starts[index]:ends[index]]
        because = int(sources[np.lexsort((sources, -gains))[0]])  # the most; the lower row on a tie
        picks.append(Pick(int(candidates[index]), float(totals[index]), because))
    if len(picks) < k:  # the most popular films neither named nor picked (among the first few)
        taken = set(named.tolist()) | {p.row for p in picks}
        fill = [row for row in popular[: k + len(taken)].tolist() if row not in taken][: k - len(picks)]
        picks.extend(Pick(int(row), 0.0, NO_REASON) for row in fill)
    return picks


def _contributions(named: np.ndarray, lists: WeightLists, neighbours: np.ndarray,
                   neighbour_weight: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(film, gain, named film) of every entry the named films' lists hold."""
    starts, stops = lists.indptr[named], lists.indptr[named + 1]
    counts = stops - starts
    index = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
    film, gain, source = lists.cols[index].astype(np.int64), lists.weights[index].astype(np.float64), np.repeat(named, counts)
    if neighbour_weight and neighbours.size and named.size:
        near = neighbours[named].ravel()
        valid = near >= 0
        width = neighbours.shape[1]
        discount = neighbour_weight / np.log2(np.arange(2, width + 2))
        film = np.concatenate([film, near[valid].astype(np.int64)])
        gain = np.concatenate([gain, np.tile(discount, named.size)[valid]])
        source = np.concatenate([source, np.repeat(named, width)[valid]])
    return film, gain, source


def recommend_many(inputs: list[np.ndarray], lists: WeightLists, neighbours: np.ndarray, neighbour_weight: float,
                   popular: np.ndarray, k: int = RECOMMENDATIONS) -> np.ndarray:
    """(users, k) rows of :func:`recommend` for every input, -1 padded: the same lists, computed
    for all users at once by sparse products (what the tuning scores many candidates with)."""
    n = lists.n
    users = len(inputs)
    out = np.full((users, k), -1, dtype=np.int64)
    if users == 0:
        return out
    sizes = np.array([x.size for x in inputs])
    given = sp.csr_matrix((np.ones(int(sizes.sum())), (np.repeat(np.arange(users), sizes),
                                                       np.concatenate(inputs).astype(np.int64))), shape=(users, n))
    given.data[:] = 1.0  # a film named twice counts once
    weights = sp.csr_matrix((lists.weights.astype(np.float64), lists.cols, lists.indptr), shape=(n, n))
    listed = sp.csr_matrix((np.ones(lists.cols.size), lists.cols, lists.indptr), shape=(n, n))
    if neighbour_weight and neighbours.size:
        valid = neighbours >= 0
        rows = np.broadcast_to(np.arange(n)[:, None], neighbours.shape)[valid]
        discount = np.broadcast_to(neighbour_weight / np.log2(np.arange(2, neighbours.shape[1] + 2)), neighbours.shape)
        near = sp.csr_matrix((discount[valid], (rows, neighbours[valid])), shape=(n, n))
        weights = weights + near
        listed = listed + sp.csr_matrix((np.ones(rows.size), (rows, neighbours[valid])), shape=(n, n))
    totals = (given @ weights).toarray()
    present = (given @ listed).toarray() > 0
    present[given.nonzero()] = False
    totals[~present] = -np.inf
    top, values = select_top_k(totals, k)
    top[~np.isfinite(values)] = -1
    for user in np.flatnonzero((top < 0).any(axis=1)).tolist():
        found = top[user][top[user] >= 0]
        taken = np.zeros(n, dtype=bool)
        taken[inputs[user]] = True
        taken[found] = True
        fill = popular[~taken[popular]][: k - found.size]
        top[user, found.size: found.size + fill.size] = fill
    return top


@dataclass(frozen=True)
class PersonalParams:
    penalties: tuple[float, ...] = (100.0, 200.0, 400.0)  # λ per 1,000 users
    keeps: tuple[int, ...] = (200,)  # weights kept per film
    discounts: tuple[float, ...] = (0.0, 0.1, 0.2)  # popularity discount β of the EASE weights
    neighbour_weights: tuple[float, ...] = (0.0, 0.003, 0.01)
    max_films: int = 4000
    max_validation_users: int = 3000
    seed: int = 0


@dataclass
class PersonalRecommender:
    """Fits the personal recommender's lists and chooses its parameters (see the module docstring).

    ``fit(likes, n, tuning_neighbours, popular)``: ``likes`` (user_id, row, timestamp) of the
    training users; ``tuning_neighbours`` the film-to-film neighbours as ranked with the fit
    users' signal (None: the final ones, or without validation users). Fitted: ``lists_``,
    ``neighbour_weight_``, ``info_``.
    """

    params: PersonalParams = field(default_factory=PersonalParams)

    def fit(self, likes: pl.DataFrame | None, n: int, tuning_neighbours: np.ndarray | None,
            popular: np.ndarray) -> PersonalRecommender:
        started = time.perf_counter()
        if likes is None or likes.height == 0:
            self.lists_, self.neighbour_weight_ = WeightLists.empty(n), 1.0
            self.info_ = {"used": False, "method": "film-to-film neighbours only (no ratings)",
                          "neighbour_weight": 1.0}
            return self
        params = self.params
        chosen = {"penalty": params.penalties[0], "keep": params.keeps[0], "discount": params.discounts[0],
                  "neighbour_weight": params.neighbour_weights[0]}
        tuning: dict[str, object] = {"tuned": False}
        given, held = time_split(validation_users(likes)) if "timestamp" in likes.columns else (None, None)
        if given is not None and given.height and tuning_neighbours is not None:
            chosen, tuning = self._choose(likes, n, given, held, tuning_neighbours, popular)
        users = int(likes["user_id"].n_unique())
        penalty = chosen["penalty"] * users / 1000
        self.lists_ = ease_lists(likes["user_id"].to_numpy(), likes["row"].to_numpy(), n, penalty,
                                 keep=int(chosen["keep"]), max_films=params.max_films, discount=chosen["discount"])
        self.neighbour_weight_ = float(chosen["neighbour_weight"])
        self.info_ = {
            "used": True, "method": "EASE weights of the liked films + film-to-film neighbours",
            "training_users": users, "penalty_per_1000_users": chosen["penalty"], "penalty": round(penalty, 3),
            "keep": int(chosen["keep"]), "discount": chosen["discount"], "neighbour_weight": self.neighbour_weight_,
            "films_with_lists": int((np.diff(self.lists_.indptr) > 0).sum()), "entries": int(self.lists_.cols.size),
            "params": asdict(params), "tuning": tuning, "seconds": round(time.perf_counter() - started, 3),
        }
        return self

    def _choose(self, likes: pl.DataFrame, n: int, given: pl.DataFrame, held: pl.DataFrame,
                neighbours: np.ndarray, popular: np.ndarray) -> tuple[dict[str, float], dict[str, object]]:
        """The parameters with the best validation nDCG@10 (see the comment on the choice)."""
        params = self.params
        users = np.unique(given["user_id"].to_numpy())
        if users.size > params.max_validation_users:
            users = np.sort(np.random.default_rng(params.seed).choice(users, params.max_validation_users, replace=False))
        inputs, truth = grouped(given, users), grouped(held, users)
        fit = fit_users(likes)
        fit_count = int(fit["user_id"].n_unique())
        trials: list[dict[str, float]] = []
        for penalty in params.penalties:
            inverse = ease_inverse(fit["user_id"].to_numpy(), fit["row"].to_numpy(), n, penalty * fit_count / 1000,
                                   params.max_films)
            for discount in params.discounts:
                full = weight_lists(inverse, max(params.keeps), discount) if inverse is not None else WeightLists.empty(n)
                for keep, weight in itertools.product(params.keeps, params.neighbour_weights):
                    shown = recommend_many(inputs, full.truncated(keep), neighbours, weight, popular)
                    trial = {"penalty": penalty, "discount": discount, "keep": keep, "neighbour_weight": weight,
                             **{name: round(value, 4) for name, value in ranking_metrics(shown, truth, RECOMMENDATIONS).items()},
                             "coverage": round(coverage_of_lists(shown, n), 4)}
                    trials.append(trial)
        # The best nDCG@10; among the trials within NDCG_TOLERANCE of it (differences the
        # validation users cannot tell apart), the widest coverage; then the first in the grid.
        top = max(trial["ndcg_at_k"] for trial in trials)
        close = [trial for trial in trials if trial["ndcg_at_k"] >= (1 - NDCG_TOLERANCE) * top]
        best = max(close, key=lambda trial: trial["coverage"])
        log.info("personal: validation nDCG@10 %.4f at λ %.0f per 1,000 users, %d weights per film, neighbours %.3f",
                 best["ndcg_at_k"], best["penalty"], best["keep"], best["neighbour_weight"])
        return best, {"tuned": True, "validation_users": int(users.size), "fit_users": fit_count,
                      "split": "earliest 80% of each validation user's likes (≥ 5) in, latest 20% truth",
                      "best": best, "trials": trials}
