"""`movierec evaluate`: how well a release's recommendations match what real users liked.

Metrics: :mod:`movierec.evaluation.metrics`. Evaluation users are userId % 5 == 0
(:mod:`movierec.evaluation.split`); this module is the only reader of their ratings, and the model
never trains on them. Two tables, each scoring the release beside the field's anchors in the same
run, on the same users:

* film to film (``table``): for every (evaluation user, liked film q), q's top 5 — the model,
  random, most popular (TMDB votes), the seed's method (TF-IDF cosine re-sorted by vote average),
  and co-occurrence of the training users' likes (count and Jaccard, as SAR's item similarity);
* personal (``personal``): for every evaluation user with ≥ 5 likes, the earliest 80% of their
  likes in, 10 films out, the latest 20% the truth (:mod:`movierec.evaluation.personal`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from movierec.evaluation.baselines import artifact_top, popular_top, random_top, seed_top
from movierec.evaluation.cooccurrence import cooccurrence_tops, like_matrix
from movierec.evaluation.metrics import liked_keys, metrics
from movierec.evaluation.personal import PersonalAnchors, personal_anchors, personal_table
from movierec.evaluation.split import describe, evaluation_users, training_users
from movierec.model.scorer import NEIGHBOURS, PERSONAL_ARTIFACT, WeightLists, neighbour_weight_of
from movierec.raw.files import InputError
from movierec.raw.ratings import LIKED_RATING, like_rows, liked_rows, ratings_inputs, read_likes, read_ratings
from movierec.release.layout import read_manifest

#: The issue's goals, checked (and reported) on every evaluation.
GOALS = {"film_to_film": {"coverage": 0.60, "collection_recall": 0.95, "anchor": "co-occurrence count"},
         "personal": {"ndcg_ratio": 1.1, "coverage": 0.30}}


@dataclass(frozen=True)
class Anchored:
    """What the evaluation measures without the release's model: the evaluation users' liked
    pairs, the anchors' rows of both tables. :func:`measure_anchors` needs only the tables and
    the ratings, so the pipeline measures it while the model trains."""

    ratings: str  # the ratings file's name
    n: int
    users: np.ndarray
    rows: np.ndarray
    liked_pairs: np.ndarray
    collection: np.ndarray
    popular: np.ndarray  # rows by TMDB votes (the personal scorer's fill)
    training_users: int
    table: list[dict[str, object]]
    personal: PersonalAnchors
    seconds: float


def measure_anchors(tables: Path, raw_dir: Path, k: int = 5, seed: int = 0, ratings: str = "auto") -> Anchored:
    """The anchors of both tables on a release's ``tables`` against RAW's ratings (``ratings``:
    auto | small | full, see :func:`~movierec.raw.ratings.ratings_inputs`)."""
    started = time.perf_counter()
    inputs = ratings_inputs(raw_dir, ratings)
    if inputs is None:
        raise InputError(f"evaluation needs ratings.csv or ratings_small.csv, and links.csv (plain, .gz or .zip) "
                         f"in {raw_dir}")
    movies = pl.read_parquet(tables / "movies.parquet",
                             columns=["id", "title", "overview", "vote_average", "vote_count", "collection_id"])
    genres = pl.read_parquet(tables / "genres.parquet", columns=["movie_id", "genre"])
    n = movies.height
    row_index = pl.DataFrame({"id": movies["id"], "row": np.arange(n, dtype=np.int64)})
    evaluated = read_ratings(*inputs, users=evaluation_users, with_timestamp=True)
    liked = liked_rows(evaluated, row_index)
    # the training users' likes as the model read them (streamed: the full file never held)
    training = like_rows(read_likes(*inputs, users=training_users), row_index)
    users, rows = liked["user_id"].to_numpy(), liked["row"].to_numpy()
    collection = movies["collection_id"].fill_null(-1).to_numpy()
    popularity = movies["vote_count"].fill_null(0).to_numpy().astype(np.float64)
    cooccurring = cooccurrence_tops(like_matrix(training["user_id"].to_numpy(), training["row"].to_numpy(), n), k)
    methods = {
        "random": random_top(n, k, seed),
        "most popular": popular_top(popularity, k),
        "seed (tf-idf)": seed_top(movies, genres, k),
        "co-occurrence count": cooccurring["count"],
        "co-occurrence Jaccard": cooccurring["jaccard"],
    }
    liked_pairs = liked_keys(users, rows, n)
    table = [{"method": name, **metrics(top, users, rows, collection, k, liked_pairs)} for name, top in methods.items()]
    affinity = (evaluated.filter(pl.col("rating") >= LIKED_RATING)
                .join(row_index, left_on="movie_id", right_on="id").select("user_id", "row", "rating"))
    personal = personal_anchors(training, liked, affinity, n, seed)
    return Anchored(inputs[0].name, n, users, rows, liked_pairs, collection, np.argsort(-popularity, kind="stable"),
                    int(training["user_id"].n_unique()), table, personal, time.perf_counter() - started)


def evaluate_release(release: Path, raw_dir: Path, k: int = 5, seed: int = 0, ratings: str = "auto",
                     anchored: Anchored | None = None) -> dict[str, object]:
    """The evaluation of a release folder (tables/, model/, manifest.json) against RAW's ratings;
    ``anchored``: its anchors, when already measured (:func:`measure_anchors`, same arguments)."""
    started = time.perf_counter()
    if anchored is None:
        anchored = measure_anchors(release / "tables", raw_dir, k, seed, ratings)
    ids = pl.read_parquet(release / "tables" / "movies.parquet", columns=["id"])["id"]
    row_index = pl.DataFrame({"id": ids, "row": np.arange(ids.len(), dtype=np.int64)})
    neighbours = pl.read_parquet(release / "model" / "neighbours.parquet")
    n = anchored.n
    model = artifact_top(neighbours, row_index, n, k)
    table = [{"method": "model", **metrics(model, anchored.users, anchored.rows, anchored.collection, k,
                                           anchored.liked_pairs)}, *anchored.table]
    personal = personal_table(
        anchored.personal, _personal_lists(release / "model" / PERSONAL_ARTIFACT, row_index, n),
        artifact_top(neighbours, row_index, n, NEIGHBOURS), neighbour_weight_of(read_manifest(release) or {}),
        anchored.popular)
    evaluation: dict[str, object] = {
        "k": k,
        "films": n,
        "users": int(np.unique(anchored.users).size),
        "pairs": int(anchored.rows.size),
        "table": table,
        "personal": personal,
        "ratings": anchored.ratings,
        "split": describe(),
        "training_users": anchored.training_users,
    }
    evaluation["goals"] = goals(evaluation)
    evaluation["seconds"] = round(anchored.seconds + time.perf_counter() - started, 3)
    return evaluation


def goals(evaluation: dict[str, object]) -> dict[str, object]:
    """Whether each table meets the issue's goals (with the figures compared)."""
    rows = {row["method"]: row for row in evaluation["table"]}  # type: ignore[attr-defined]
    model, anchor = rows["model"], rows[GOALS["film_to_film"]["anchor"]]  # type: ignore[index]
    film = GOALS["film_to_film"]
    film_met = (model["precision_at_k"] >= anchor["precision_at_k"] and model["coverage"] >= film["coverage"]
                and (model["collection_recall"] or 0.0) >= film["collection_recall"])
    personal = evaluation["personal"]["table"]  # type: ignore[index]
    mine = next(row for row in personal if row["method"] == "model")
    best = max((row for row in personal if row["method"] != "model"), key=lambda row: row["ndcg_at_k"])
    wanted = GOALS["personal"]
    ratio = mine["ndcg_at_k"] / best["ndcg_at_k"] if best["ndcg_at_k"] else float("inf")
    return {
        "film_to_film": {"met": bool(film_met), "anchor": film["anchor"], "coverage_wanted": film["coverage"],
                         "collection_recall_wanted": film["collection_recall"]},
        "personal": {"met": bool(ratio >= wanted["ndcg_ratio"] and mine["coverage"] >= wanted["coverage"]),
                     "best_anchor": best["method"], "ndcg_ratio": round(ratio, 4),
                     "ndcg_ratio_wanted": wanted["ndcg_ratio"], "coverage_wanted": wanted["coverage"]},
    }


def _personal_lists(path: Path, row_index: pl.DataFrame, n: int) -> WeightLists:
    """The release's EASE lists (empty for a release without them)."""
    if not path.is_file():
        return WeightLists.empty(n)
    frame = (pl.read_parquet(path)
             .join(row_index, left_on="movie_id", right_on="id")
             .join(row_index.rename({"row": "other"}), left_on="neighbour_id", right_on="id"))
    return WeightLists.from_rows(frame["row"].to_numpy(), frame["other"].to_numpy(), frame["score"].to_numpy(),
                                 frame["rank"].to_numpy(), n)
