"""Personal recommendations: the films a person will like, from the films they say they liked.

The scorer (:func:`movierec.model.scorer.recommend`, what the API serves with and what
:meth:`PersonalRecommender.recommend` calls) adds, for each film named, its EASE weights and its
film-to-film neighbours' discounted weight.

:class:`PersonalRecommender` fits the weights on the training users and chooses λ, the list
length and the neighbour weight on the validation users' likes split in time
(:mod:`movierec.protocol.holdout`): the earliest 80% of a user's likes are the input, the
latest 20% the truth, the score nDCG@10. EASE is fitted on the fit users while choosing (one Gram
matrix for every λ tried), on every training user at the end (λ scales with the number of users,
as the Gram matrix does). The Gram matrix holds at most ``max_users`` users (50,000, a sample
spread over the id range, :func:`movierec.protocol.split.user_sample`): its cost is the sum
over users of their likes squared, and 50,000 users' likes already count every pair of the
4,000 films it covers many times over; the full ratings file's 216,000 training users made it
minutes long.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

from movierec.model.borrow import borrowed_weights
from movierec.model.ease import ease_gram, ease_lists, invert, weight_lists
from movierec.model.scorer import (
    DEFAULT_NEIGHBOUR_WEIGHT,
    RECOMMENDATIONS,
    Pick,
    WeightLists,
    recommend,
    recommend_many,
)
from movierec.protocol.holdout import grouped, time_split
from movierec.protocol.list_metrics import coverage_of_lists, ranking_metrics
from movierec.protocol.split import fit_users, user_sample, validation_users

log = logging.getLogger("movierec.train")

NDCG_TOLERANCE = 0.01  # relative: trials this close to the best validation nDCG count as equal
NEW_FILM_COST = 0.05  # relative: the validation nDCG new films may cost in personal lists


def _best_of(trials: list[dict[str, float]]) -> dict[str, float]:
    """The best nDCG@10; among the trials within NDCG_TOLERANCE of it (differences the validation
    users cannot tell apart), the widest coverage; then the first."""
    top = max(trial["ndcg_at_k"] for trial in trials)
    close = [trial for trial in trials if trial["ndcg_at_k"] >= (1 - NDCG_TOLERANCE) * top]
    return max(close, key=lambda trial: trial["coverage"])


@dataclass(frozen=True)
class PersonalParams:
    penalties: tuple[float, ...] = (100.0, 200.0, 400.0)  # λ per 1,000 users
    keeps: tuple[int, ...] = (200,)  # weights kept per film
    discounts: tuple[float, ...] = (0.0, 0.1, 0.2)  # popularity discount β of the EASE weights
    # never 0: where EASE is silent (a person who names only films nobody liked) the film-to-film
    # neighbours still order the answer, rather than the popularity fill
    neighbour_weights: tuple[float, ...] = (0.0001, 0.003, 0.01)
    max_films: int = 4000
    max_validation_users: int = 2000
    max_users: int = 50_000  # the Gram matrix's users (its cost: the sum over users of likes²)
    new_films_per_list: int = 50  # films without likes each list borrows (model.borrow.borrowed_weights)
    new_film_scales: tuple[float, ...] = (0.0, 0.25, 0.3, 0.4)  # × the calibration, chosen on validation
    new_film_scale: float = 0.25  # without validation users (or films treated as new) to choose it
    seed: int = 0


@dataclass
class PersonalRecommender:
    """Fits the personal recommender's lists and chooses its parameters (see the module docstring).

    ``fit(likes, n, tuning_neighbours, popular, ..., neighbours=...)``: ``likes`` (user_id, row,
    timestamp) of the training users; ``tuning_neighbours`` the film-to-film neighbours as ranked
    with the fit users' signal (None: the final ones, or without validation users); ``popular``
    the rows by popularity (the fill); ``neighbours`` the final film-to-film neighbours (films, k),
    which :meth:`recommend` adds (default: ``tuning_neighbours``). Fitted: ``lists_``,
    ``neighbour_weight_``, ``neighbours_``, ``popular_``, ``info_``, and ``served_lists_``: the lists
    as the API serves them (:meth:`~movierec.model.scorer.WeightLists.servable`).

    Without ratings the lists are empty and a person's films are the neighbours of theirs:

    >>> model = PersonalRecommender().fit(None, 3, None, np.array([2, 1, 0]), neighbours=np.array([[1], [0], [0]]))
    >>> [(pick.row, pick.because) for pick in model.recommend([0], k=2)]
    [(1, 0), (2, -1)]
    """

    params: PersonalParams = field(default_factory=PersonalParams)

    def fit(
        self,
        likes: pl.DataFrame | None,
        n: int,
        tuning_neighbours: np.ndarray | None,
        popular: np.ndarray,
        new_films: sp.csr_matrix | None = None,
        tuning_new_films: sp.csr_matrix | None = None,
        hidden: np.ndarray | None = None,
        neighbours: np.ndarray | None = None,
    ) -> PersonalRecommender:
        """Fit the lists on ``likes`` and choose the parameters (see the class docstring)."""
        started = time.perf_counter()
        self.popular_ = popular
        self.neighbours_ = neighbours if neighbours is not None else tuning_neighbours
        if likes is None or likes.height == 0:
            self.lists_, self.neighbour_weight_ = WeightLists.empty(n), DEFAULT_NEIGHBOUR_WEIGHT
            self.served_lists_ = self.lists_
            self.info_ = {
                "used": False,
                "method": "film-to-film neighbours only (no ratings)",
                "neighbour_weight": DEFAULT_NEIGHBOUR_WEIGHT,
            }
            return self
        params = self.params
        chosen = {
            "penalty": params.penalties[0],
            "keep": params.keeps[0],
            "discount": params.discounts[0],
            "neighbour_weight": params.neighbour_weights[0],
        }
        tuning: dict[str, object] = {"tuned": False}
        given, held = time_split(validation_users(likes)) if "timestamp" in likes.columns else (None, None)
        if given is not None and held is not None and given.height and tuning_neighbours is not None:
            chosen, tuning = self._choose(likes, n, given, held, tuning_neighbours, popular, tuning_new_films, hidden)
        fitted = user_sample(likes, params.max_users)
        users = int(fitted["user_id"].n_unique())
        penalty = chosen["penalty"] * users / 1000
        self.lists_ = ease_lists(
            fitted["user_id"].to_numpy(),
            fitted["row"].to_numpy(),
            n,
            penalty,
            keep=int(chosen["keep"]),
            max_films=params.max_films,
            discount=chosen["discount"],
        )
        listed = int((np.diff(self.lists_.indptr) > 0).sum())
        gamma, scale = None, float(chosen.get("new_film_scale", params.new_film_scale))
        if new_films is not None and new_films.nnz and scale > 0:
            borrowed = borrowed_weights(self.lists_, new_films, params.new_films_per_list)
            self.lists_, gamma = borrowed.into(self.lists_, scale), borrowed.gamma
        self.served_lists_ = self.lists_.servable()  # what the API's index holds of them
        self.neighbour_weight_ = float(chosen["neighbour_weight"])
        self.info_ = {
            "used": True,
            "method": "EASE weights of the liked films + film-to-film neighbours",
            "training_users": int(likes["user_id"].n_unique()),
            "ease_users": users,
            "penalty_per_1000_users": chosen["penalty"],
            "penalty": round(penalty, 3),
            "keep": int(chosen["keep"]),
            "discount": chosen["discount"],
            "neighbour_weight": self.neighbour_weight_,
            "films_with_lists": listed,
            "entries": int(self.lists_.cols.size),
            "new_films_per_list": params.new_films_per_list,
            "new_film_calibration": gamma,
            "new_film_scale": scale,
            "new_films": 0 if new_films is None else int((np.diff(new_films.indptr) > 0).sum()),
            "params": asdict(params),
            "tuning": tuning,
            "seconds": round(time.perf_counter() - started, 3),
        }
        return self

    def recommend(self, liked: Sequence[int] | np.ndarray, k: int = RECOMMENDATIONS) -> list[Pick]:
        """The ``k`` best films for a person who liked the films ``liked`` (rows), best first, none
        of them named, each with the named film that contributed most: the API's answer for this
        release (:func:`movierec.model.scorer.recommend` on the fitted lists and neighbours)."""
        neighbours = self.neighbours_ if self.neighbours_ is not None else np.zeros((self.lists_.n, 0), dtype=np.int64)
        return recommend(liked, self.served_lists_, neighbours, self.neighbour_weight_, self.popular_, k)

    def _choose(
        self,
        likes: pl.DataFrame,
        n: int,
        given: pl.DataFrame,
        held: pl.DataFrame,
        neighbours: np.ndarray,
        popular: np.ndarray,
        new_films: sp.csr_matrix | None = None,
        hidden: np.ndarray | None = None,
    ) -> tuple[dict[str, float], dict[str, object]]:
        """The parameters with the best validation nDCG@10 (see the comment on the choice); then,
        with ``new_films`` (the content neighbours of the films the tuning treats as new, whose
        likes, ``hidden``, the fit users' EASE weights never see), the scale of their borrowed
        weights, on the same users."""
        params = self.params
        users = np.unique(given["user_id"].to_numpy())
        if users.size > params.max_validation_users:
            users = np.sort(
                np.random.default_rng(params.seed).choice(users, params.max_validation_users, replace=False)
            )
        inputs, truth = grouped(given, users), grouped(held, users)
        fit = user_sample(fit_users(likes), params.max_users)
        if hidden is not None and hidden.any():
            fit = fit.filter(~pl.col("row").is_in(np.flatnonzero(hidden)))
        fit_count = int(fit["user_id"].n_unique())
        gram = ease_gram(fit["user_id"].to_numpy(), fit["row"].to_numpy(), n, params.max_films)
        trials: list[dict[str, float]] = []

        def measured(lists: WeightLists, weight: float, **chosen: float) -> dict[str, float]:
            """``chosen`` and the validation metrics of ``lists`` with the neighbour ``weight``."""
            shown = recommend_many(inputs, lists, neighbours, weight, popular)
            return {
                **chosen,
                **{name: round(value, 4) for name, value in ranking_metrics(shown, truth, RECOMMENDATIONS).items()},
                "coverage": round(coverage_of_lists(shown, n), 4),
            }

        def trial(lists: WeightLists, **chosen: float) -> None:
            trials.append(measured(lists, chosen["neighbour_weight"], **chosen))

        # the EASE grid with the first neighbour weight, then the other weights on the best lists
        # (the neighbours only reorder what the weights leave close: a full grid cost 3 times more)
        grid: dict[tuple[float, float, int], WeightLists] = {}
        for penalty in params.penalties:
            inverse = invert(gram, penalty * fit_count / 1000) if gram is not None else None
            for discount in params.discounts:
                full = (
                    weight_lists(inverse, max(params.keeps), discount) if inverse is not None else WeightLists.empty(n)
                )
                for keep in params.keeps:
                    grid[penalty, discount, keep] = full.truncated(keep)
                    trial(
                        grid[penalty, discount, keep],
                        penalty=penalty,
                        discount=discount,
                        keep=keep,
                        neighbour_weight=params.neighbour_weights[0],
                    )
        first = _best_of(trials)
        for weight in params.neighbour_weights[1:]:
            trial(
                grid[first["penalty"], first["discount"], int(first["keep"])],
                penalty=first["penalty"],
                discount=first["discount"],
                keep=first["keep"],
                neighbour_weight=weight,
            )
        best = _best_of(trials)
        lists = grid[best["penalty"], best["discount"], int(best["keep"])]
        del grid
        scales: list[dict[str, float]] = []
        if new_films is not None and new_films.nnz and lists.cols.size:
            borrowed = borrowed_weights(lists, new_films, params.new_films_per_list)
            scales = [
                measured(borrowed.into(lists, scale), best["neighbour_weight"], new_film_scale=scale)
                for scale in params.new_film_scales
            ]
            # new films are the product's core: the largest scale that costs ≤ NEW_FILM_COST of the
            # best validation nDCG@10 (an exact tie would always leave them out: the validation
            # users' likes are of films that had likes)
            top = max(trial["ndcg_at_k"] for trial in scales)
            affordable = [trial for trial in scales if trial["ndcg_at_k"] >= (1 - NEW_FILM_COST) * top]
            best = {**best, "new_film_scale": max(trial["new_film_scale"] for trial in affordable)}
        log.info(
            "personal: validation nDCG@10 %.4f at λ %.0f per 1,000 users, %d weights per film, neighbours %.3f",
            best["ndcg_at_k"],
            best["penalty"],
            best["keep"],
            best["neighbour_weight"],
        )
        return best, {
            "tuned": True,
            "validation_users": int(users.size),
            "fit_users": fit_count,
            "split": "earliest 80% of each validation user's likes (≥ 5) in, latest 20% truth",
            "best": best,
            "trials": trials,
            "new_film_scales": scales,
        }
