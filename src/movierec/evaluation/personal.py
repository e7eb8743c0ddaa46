"""The personal recommendations' evaluation: the release's scorer and the field's anchors, on the
same people, the same split in time (:mod:`movierec.protocol.holdout`) and the same 10 slots.

Anchors, all fitted on the training users' likes only:

* most popular — the films most training users liked, but the ones named;
* SAR (Microsoft Recommenders' defaults) — affinity (the person's rating of each film they
  named) times the Jaccard similarity of the films' likes;
* ALS — ``implicit``'s AlternatingLeastSquares, an evaluation-only (dev) dependency: the person's
  vector is solved from the named films (``recalculate_user``). Its number of factors and
  regularisation are chosen on the validation users split in time, the way the release's own
  parameters are; without ``implicit`` installed the row says so.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from movierec.evaluation.cooccurrence import affinity_scores, like_matrix
from movierec.model.scorer import RECOMMENDATIONS, WeightLists, recommend_many
from movierec.model.topk import select_top_k
from movierec.protocol.holdout import grouped, time_split
from movierec.protocol.list_metrics import coverage_of_lists, ranking_metrics
from movierec.protocol.metrics import popularity_weights
from movierec.protocol.split import fit_users, user_sample, validation_users

log = logging.getLogger("movierec.evaluate")

ALS_GRID = tuple((factors, regularization) for factors in (32, 64, 128) for regularization in (0.01, 0.1, 1.0))
ALS_ITERATIONS = 15
BLOCK_PEOPLE = (
    2000  # people scored at once by SAR (people × films float64; each block recomputes its films' similarities)
)
#: People in the table: at most this many evaluation users with enough likes, spread over the id
#: range (:func:`~movierec.protocol.split.user_sample`); 2,000 measure nDCG@10 to about ±0.007
#: (the sample has 125), while the full file's 30,000 made the anchors take minutes.
MAX_PEOPLE = 2000
#: The users an anchor is fitted on: the same bound as the release's EASE weights
#: (:class:`movierec.model.personal.PersonalParams`), so that both learn from the same people.
MAX_FIT_USERS = 50_000
MAX_VALIDATION_PEOPLE = 2000  # ALS's validation people, as many as the release's own tuning uses
MAX_GRID_USERS = 20_000  # the users each of ALS's grid trials is fitted on (the final fit: MAX_FIT_USERS)
Lists = Callable[[list[np.ndarray]], np.ndarray]  # inputs (rows per person) -> (people, k) rows


def people_split(likes: pl.DataFrame, most: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`~movierec.protocol.holdout.time_split` of at most ``most`` of the users with
    enough likes (:func:`~movierec.protocol.split.user_sample`)."""
    given, held = time_split(likes)
    chosen = user_sample(given.select("user_id").unique(), most)
    return given.join(chosen, on="user_id", how="semi"), held.join(chosen, on="user_id", how="semi")


def top_unnamed(scores: np.ndarray, inputs: list[np.ndarray], k: int) -> np.ndarray:
    """(people, k) best films of each row of ``scores`` (ties to the lower row), never a named one."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    for person, named in enumerate(inputs):
        scores[person, named] = -np.inf
    top, values = select_top_k(scores, k)
    top[~np.isfinite(values)] = -1
    return top


def scorer_lists(
    lists: WeightLists, neighbours: np.ndarray, neighbour_weight: float, popular: np.ndarray, k: int = RECOMMENDATIONS
) -> Lists:
    """The release's recommender: the API's own scorer (:func:`movierec.model.scorer.recommend_many`),
    one person at a time."""

    def make(inputs: list[np.ndarray]) -> np.ndarray:
        return recommend_many(inputs, lists, neighbours, neighbour_weight, popular, k)

    return make


def popular_lists(support: np.ndarray, k: int = RECOMMENDATIONS) -> Lists:
    """Most popular: the films most training users liked (ties to the lower row), skipping the
    ones named."""
    order = np.argsort(-support.astype(np.float64), kind="stable")

    def lists(inputs: list[np.ndarray]) -> np.ndarray:
        out = np.full((len(inputs), k), -1, dtype=np.int64)
        for person, named in enumerate(inputs):
            head = order[: k + named.size]
            picked = head[~np.isin(head, named)][:k]
            out[person, : picked.size] = picked
        return out

    return lists


def sar_lists(
    likes: sp.csr_matrix, ratings: dict[tuple[int, int], float], k: int = RECOMMENDATIONS
) -> Callable[[list[np.ndarray], np.ndarray], np.ndarray]:
    """SAR: affinity (the rating of each named film) × Jaccard; ``ratings`` maps (person, row) to
    the rating; called with the inputs and the people's ids."""
    n = likes.shape[1]

    def block(inputs: list[np.ndarray], people: np.ndarray) -> np.ndarray:
        sizes = [x.size for x in inputs]
        values = [ratings.get((int(p), int(r)), 1.0) for p, x in zip(people, inputs, strict=True) for r in x]
        affinity = sp.csr_matrix(
            (values, (np.repeat(np.arange(len(inputs)), sizes), np.concatenate(inputs))), shape=(len(inputs), n)
        )
        return top_unnamed(affinity_scores(likes, affinity, "jaccard"), inputs, k)

    def lists(inputs: list[np.ndarray], people: np.ndarray) -> np.ndarray:
        blocks = [
            block(inputs[s : s + BLOCK_PEOPLE], people[s : s + BLOCK_PEOPLE])
            for s in range(0, len(inputs), BLOCK_PEOPLE)
        ]
        return np.concatenate(blocks) if blocks else np.zeros((0, k), dtype=np.int64)

    return lists


def implicit_available() -> bool:
    return importlib.util.find_spec("implicit") is not None


def als_lists(likes: sp.csr_matrix, factors: int, regularization: float, seed: int, k: int = RECOMMENDATIONS) -> Lists:
    """ALS fitted on ``likes`` (users × films); a person's vector is solved from the named films."""
    from implicit.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # it ships no type hints

    n = likes.shape[1]
    with threadpool_limits(limits=1, user_api="blas"):
        model = AlternatingLeastSquares(
            factors=factors, regularization=regularization, iterations=ALS_ITERATIONS, random_state=seed, num_threads=0
        )  # every core: 10 fits at full size
        model.fit(likes.astype(np.float32).tocsr(), show_progress=False)

    def lists(inputs: list[np.ndarray]) -> np.ndarray:
        sizes = [x.size for x in inputs]
        named = sp.csr_matrix(
            (np.ones(sum(sizes), dtype=np.float32), (np.repeat(np.arange(len(inputs)), sizes), np.concatenate(inputs))),
            shape=(len(inputs), n),
        )
        with threadpool_limits(limits=1, user_api="blas"):
            ids, _ = model.recommend(
                np.arange(len(inputs)), named, N=k, filter_already_liked_items=True, recalculate_user=True
            )
        return np.where(np.asarray(ids) >= 0, ids, -1).astype(np.int64)

    return lists


def choose_als(training: pl.DataFrame, n: int, seed: int) -> dict[str, object]:
    """ALS's factors and regularisation with the best nDCG@10 on the validation users split in
    time (fitted on the fit users), as the release's own parameters are chosen."""
    given, held = people_split(validation_users(training), MAX_VALIDATION_PEOPLE)
    fit = user_sample(fit_users(training), MAX_GRID_USERS)
    people = np.unique(given["user_id"].to_numpy())
    if people.size == 0:
        factors, regularization = ALS_GRID[0]
        return {
            "factors": factors,
            "regularization": regularization,
            "iterations": ALS_ITERATIONS,
            "validation_users": 0,
            "grid": [],
        }
    inputs, truth = grouped(given, people), grouped(held, people)
    likes = like_matrix(fit["user_id"].to_numpy(), fit["row"].to_numpy(), n)
    trials = []
    for factors, regularization in ALS_GRID:
        shown = als_lists(likes, factors, regularization, seed)(inputs)
        trials.append(
            {
                "factors": factors,
                "regularization": regularization,
                "ndcg_at_k": round(ranking_metrics(shown, truth, RECOMMENDATIONS)["ndcg_at_k"], 4),
            }
        )
    best = max(trials, key=lambda t: t["ndcg_at_k"])  # the first of equals
    return {
        "factors": best["factors"],
        "regularization": best["regularization"],
        "iterations": ALS_ITERATIONS,
        "validation_ndcg_at_k": best["ndcg_at_k"],
        "validation_users": int(people.size),
        "grid": trials,
    }


@dataclass(frozen=True)
class PersonalAnchors:
    """The personal table's part that does not depend on the release (it can be measured while
    the release trains): the people, what they named and liked next, and the anchors' rows."""

    n: int
    people: np.ndarray
    inputs: list[np.ndarray]
    truth: list[np.ndarray]
    input_likes: int
    truth_likes: int
    table: list[dict[str, object]]
    anchors: dict[str, object]
    weights: np.ndarray  # the films' popularity weights (stratified recall), from the training users' likes


def personal_anchors(
    training: pl.DataFrame, evaluation: pl.DataFrame, ratings: pl.DataFrame, n: int, seed: int = 0
) -> PersonalAnchors:
    """``training`` (user_id, row, timestamp): the training users' likes; ``evaluation``: the
    evaluation users'; ``ratings`` (user_id, row, rating): the evaluation users' liked films (SAR's
    affinity). The people are split in time and the anchors measured on them."""
    given, held = people_split(evaluation, MAX_PEOPLE)
    people = np.unique(given["user_id"].to_numpy())
    inputs, truth = grouped(given, people), grouped(held, people)
    support = np.bincount(training["row"].to_numpy(), minlength=n)  # one like per (user, film)
    fitted = user_sample(training, MAX_FIT_USERS)
    likes = like_matrix(fitted["user_id"].to_numpy(), fitted["row"].to_numpy(), n)
    rated = {(u, r): v for u, r, v in ratings.select("user_id", "row", "rating").iter_rows()}
    methods: dict[str, Callable[[], np.ndarray]] = {
        "most popular": lambda: popular_lists(support)(inputs),
        "SAR (affinity × Jaccard)": lambda: sar_lists(likes, rated)(inputs, people),
    }
    anchors: dict[str, object] = {}
    weights = popularity_weights(support)
    if implicit_available():
        als = choose_als(training, n, seed)
        anchors["als"] = als
        factors, regularization = als["factors"], als["regularization"]
        assert isinstance(factors, int) and isinstance(regularization, float)
        methods["ALS (implicit)"] = lambda: als_lists(likes, factors, regularization, seed)(inputs)
    else:
        anchors["als"] = {"skipped": "the `implicit` package is not installed (a dev dependency: uv sync)"}
    table = [
        _row(name, make() if people.size else np.zeros((0, RECOMMENDATIONS), dtype=np.int64), truth, n, weights)
        for name, make in methods.items()
    ]
    return PersonalAnchors(n, people, inputs, truth, given.height, held.height, table, anchors, weights)


def personal_table(
    anchored: PersonalAnchors, lists: WeightLists, neighbours: np.ndarray, neighbour_weight: float, popular: np.ndarray
) -> dict[str, object]:
    """The personal table: the release's recommender (its lists, neighbours, neighbour weight and
    popularity order) on the people of ``anchored``, beside the anchors."""
    n = anchored.n
    shown = (
        scorer_lists(lists, neighbours, neighbour_weight, popular)(anchored.inputs)
        if anchored.people.size
        else np.zeros((0, RECOMMENDATIONS), dtype=np.int64)
    )
    return {
        "k": RECOMMENDATIONS,
        "users": int(anchored.people.size),
        "input_likes": anchored.input_likes,
        "truth_likes": anchored.truth_likes,
        "coverage_ceiling": min(1.0, anchored.people.size * RECOMMENDATIONS / n) if n else 0.0,
        "table": [_row("model", shown, anchored.truth, n, anchored.weights), *anchored.table],
        "anchors": anchored.anchors,
    }


def _row(method: str, shown: np.ndarray, truth: list[np.ndarray], n: int, weights: np.ndarray) -> dict[str, object]:
    return {
        "method": method,
        **ranking_metrics(shown, truth, RECOMMENDATIONS, weights),
        "coverage": coverage_of_lists(shown, n),
    }
