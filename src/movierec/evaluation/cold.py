"""The cold-start evaluation's pure half: which films are made cold, and what is measured on them.

The protocol (`movierec evaluate --cold`; its I/O edge is :mod:`movierec.evaluation.cold_run`):

1. **Cold films.** Among the films at least ``MIN_LIKES`` (8) training users liked (rating ≥ 4),
   the ``round(fraction × catalogue films)`` ones (default 4.5%: 135 films on the sample) with
   the smallest hash ``blake2b(f"{salt}:{tmdb_id}", digest_size=8)`` (ties by id):
   :func:`select_cold`. A set chosen elsewhere can be given instead (a different, hidden set is
   checked outside the repository: tuning to this one would show).
2. **Training without them.** Every rating of the cold films is dropped as the training users'
   likes are read (``movierec.model.train.train(..., hidden=...)``), before the collaborative
   stage, the tuning's validation likes and the personal (EASE) model see them. A second model
   is trained the same way on tables where the cold films look new on TMDB
   (:func:`first_weeks`: ``vote_count`` capped at 50, ``popularity`` at the catalogue median).
3. **Measured** beside the warm model (the release's own, trained on every like):

   a. the cold films' own top 5, for the (evaluation user, liked cold film) pairs: precision@5,
      stratified precision@5 and the generic share of their lists (:func:`own_top`), beside most
      popular and the seed's content TF-IDF;
   b. exposure: the slots cold films hold in the top 5 of all the catalogue's films (:func:`exposure`);
   c. personal: every evaluation user with a like of a cold film and a like of another film
      names the other films; their cold likes are the truth: recall@10, stratified recall@10, and
      how many lists hold any cold film (:func:`cold_people`, :func:`personal_row`).

The targets (:data:`COLD_GOALS`, :func:`cold_goals`) apply to the model trained with the films
cold; the first-weeks variant is reported without one.
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from movierec.evaluation.goals import check, figure, relative
from movierec.protocol.holdout import grouped
from movierec.protocol.list_metrics import ranking_metrics
from movierec.protocol.metrics import (
    Films,
    generic_share,
    liked_keys,
    precision_per_pair,
    stratified_precision_per_pair,
)
from movierec.protocol.split import user_sample

DEFAULT_SALT = "movierec-cold-start"
DEFAULT_FRACTION = 0.045  # of the catalogue's films: 135 of the sample's 2,993
MIN_LIKES = 8  # training users who liked a film before it can be made cold
VOTE_CAP = 50  # the first weeks on TMDB: at most this many votes ...
WARM, COLD, FIRST_WEEKS = "warm model", "model, films cold", "model, first weeks"
#: The targets of the model trained with the films cold (issue 18).
COLD_GOALS = {
    "stratified_vs_warm": 0.9,
    "stratified_vs_popular": 1.1,
    "generic_share": 0.30,
    "exposure_vs_warm": 0.70,
    "recall_vs_warm": 0.5,
}


def cold_hash(ids: np.ndarray, salt: str) -> np.ndarray:
    """The 64-bit blake2b hash of ``f"{salt}:{id}"`` for each TMDB id (uint64).

    >>> cold_hash(np.array([862]), "s").tolist() == [int.from_bytes(
    ...     hashlib.blake2b(b"s:862", digest_size=8).digest(), "big")]
    True
    """
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(f"{salt}:{int(i)}".encode(), digest_size=8).digest(), "big")
            for i in np.asarray(ids).tolist()
        ],
        dtype=np.uint64,
    )


def select_cold(
    ids: np.ndarray,
    likes: np.ndarray,
    salt: str = DEFAULT_SALT,
    fraction: float = DEFAULT_FRACTION,
    min_likes: int = MIN_LIKES,
) -> np.ndarray:
    """The cold films' TMDB ids, sorted: of the films (``ids``, by row) with ≥ ``min_likes``
    training ``likes``, the ``round(fraction × films)`` with the smallest :func:`cold_hash` (ties
    by id); all of them when fewer qualify. Deterministic: the same salt, the same films.

    >>> ids, likes = np.array([10, 20, 30, 40]), np.array([8, 7, 50, 9])
    >>> select_cold(ids, likes, "s", fraction=1.0).tolist()  # 20 has too few likes
    [10, 30, 40]
    """
    ids, likes = np.asarray(ids), np.asarray(likes)
    eligible = np.flatnonzero(likes >= min_likes)
    count = min(round(fraction * ids.size), eligible.size)
    hashes = cold_hash(ids[eligible], salt)
    order = np.lexsort((ids[eligible], hashes))
    return np.sort(ids[eligible[order[:count]]])


def parse_ids(text: str) -> list[int]:
    """TMDB ids from a file's text: integers separated by blanks, commas or new lines; ``#``
    starts a comment. A ValueError names the first token that is not one.

    >>> parse_ids("862, 8844\\n# a comment\\n 15602 # Grumpier Old Men\\n")
    [862, 8844, 15602]
    """
    ids = []
    for line in text.splitlines():
        for token in line.split("#", 1)[0].replace(",", " ").split():
            try:
                ids.append(int(token))
            except ValueError:
                raise ValueError(f"{token!r} is not a TMDB id") from None
    return ids


def first_weeks(movies: pl.DataFrame, cold: np.ndarray, vote_cap: int = VOTE_CAP) -> pl.DataFrame:
    """``movies`` with the cold films (TMDB ids ``cold``) as in their first weeks on TMDB:
    ``vote_count`` capped at ``vote_cap``, ``popularity`` at the catalogue's median (every film's).

    >>> movies = pl.DataFrame({"id": [1, 2, 3], "vote_count": [900, 10, 70], "popularity": [9.0, 1.0, 2.0]})
    >>> first_weeks(movies, np.array([1, 2]), vote_cap=50).rows()
    [(1, 50, 2.0), (2, 10, 1.0), (3, 70, 2.0)]
    """
    median = movies["popularity"].median()
    is_cold = pl.col("id").is_in(np.asarray(cold).tolist())
    return movies.with_columns(  # a missing value stays missing
        vote_count=pl.when(is_cold & (pl.col("vote_count") > vote_cap))
        .then(pl.lit(vote_cap, dtype=movies["vote_count"].dtype))
        .otherwise("vote_count"),
        popularity=pl.when(is_cold & (pl.col("popularity") > median))
        .then(pl.lit(median, dtype=movies["popularity"].dtype))
        .otherwise("popularity"),
    )


def own_top(
    top: np.ndarray,
    users: np.ndarray,
    rows: np.ndarray,
    films: Films,
    cold_rows: np.ndarray,
    k: int,
    liked: np.ndarray | None = None,
) -> dict[str, float]:
    """The cold films' own top k, over the evaluation's liked pairs (users, rows) whose film is
    cold: precision@k and stratified precision@k (the best list from all the user's other liked
    films), and the generic share of the cold films' lists."""
    liked = liked_keys(users, rows, top.shape[0]) if liked is None else liked
    mine = np.isin(rows, cold_rows)
    plain = precision_per_pair(top, users, rows, k, liked)[mine]
    stratified = stratified_precision_per_pair(top, users, rows, films.likes, k, liked=liked)[mine]
    return {
        "precision_at_k": float(plain.mean()) if plain.size else 0.0,
        "stratified_precision_at_k": float(stratified.mean()) if stratified.size else 0.0,
        "generic_share": generic_share(top, films.vote_count, films.likes, k, films=cold_rows),
    }


def exposure(top: np.ndarray, cold_rows: np.ndarray, k: int) -> int:
    """The slots the cold films hold in the top k of every film (a film never lists itself).

    >>> exposure(np.array([[1, 2], [2, 0], [1, -1]]), np.array([1, 2]), k=2)
    4
    """
    shown = top[:, :k]
    return int(np.isin(shown[shown >= 0], cold_rows).sum())


def cold_people(
    users: np.ndarray, rows: np.ndarray, cold_rows: np.ndarray, most: int
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """(people, inputs, truth): the users of the liked pairs (users, rows) with ≥ 1 like of a cold
    film and ≥ 1 of another film — at most ``most`` of them (:func:`user_sample`) — their other
    films (the input) and their cold films (the truth), sorted.

    >>> people, given, truth = cold_people(np.array([1, 1, 2, 3, 3]), np.array([5, 6, 5, 7, 8]), np.array([5]), 10)
    >>> people.tolist(), [g.tolist() for g in given], [t.tolist() for t in truth]
    ([1], [[6]], [[5]])
    """
    frame = pl.DataFrame({"user_id": np.asarray(users, dtype=np.int64), "row": np.asarray(rows, dtype=np.int64)})
    frame = frame.with_columns(cold=pl.col("row").is_in(np.asarray(cold_rows).tolist()))
    both = frame.group_by("user_id").agg(pl.col("cold").any().alias("some"), (~pl.col("cold")).any().alias("other"))
    chosen = user_sample(both.filter(pl.col("some") & pl.col("other")).select("user_id"), most)
    people = np.sort(chosen["user_id"].to_numpy())
    kept = frame.join(chosen, on="user_id", how="semi")
    return people, grouped(kept.filter(~pl.col("cold")), people), grouped(kept.filter(pl.col("cold")), people)


def personal_row(
    method: str, shown: np.ndarray, truth: list[np.ndarray], cold_rows: np.ndarray, weights: np.ndarray
) -> dict[str, object]:
    """Recall@k and stratified recall@k of the cold likes, and the lists holding any cold film."""
    k = shown.shape[1]
    scores = ranking_metrics(shown, truth, k, weights)
    return {
        "method": method,
        "recall_at_k": scores["recall_at_k"],
        "stratified_recall_at_k": scores["stratified_recall_at_k"],
        "reach": int(np.isin(shown, cold_rows).any(axis=1).sum()) if shown.size else 0,
    }


def cold_goals(
    own: list[dict[str, object]], personal: list[dict[str, object]], k: int = 5, p: int = 10
) -> dict[str, object]:
    """The cold films' targets, for the model trained with them cold (:data:`COLD_GOALS`)."""
    rows, people = {row["method"]: row for row in own}, {row["method"]: row for row in personal}
    cold, warm, wanted = rows[COLD], rows[WARM], COLD_GOALS
    strat = f"own top {k}: stratified precision@{k}"
    checks = [
        relative(
            f"{strat} vs the warm model",
            cold["stratified_precision_at_k"],
            [warm],
            "stratified_precision_at_k",
            wanted["stratified_vs_warm"],
        ),
        relative(
            f"{strat} vs most popular",
            cold["stratified_precision_at_k"],
            [rows["most popular"]],
            "stratified_precision_at_k",
            wanted["stratified_vs_popular"],
        ),
        check(f"own top {k}: generic share", cold["generic_share"], "≤", wanted["generic_share"], share=True),
        check(
            f"exposure (share of the warm model's {warm['exposure']:,} slots)",
            figure(cold["exposure"]) / figure(warm["exposure"]) if warm["exposure"] else 0.0,
            "≥",
            wanted["exposure_vs_warm"],
            share=True,
        ),
    ]
    if COLD in people and WARM in people:
        checks.append(
            relative(
                f"personal: recall@{p} of cold likes",
                people[COLD]["recall_at_k"],
                [people[WARM]],
                "recall_at_k",
                wanted["recall_vs_warm"],
            )
        )
    return {"met": all(c["met"] for c in checks), "checks": checks}
