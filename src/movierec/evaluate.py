"""`movierec evaluate`: how well a release's recommendations match what real users co-liked.

Metrics (pure functions over row arrays; ``top`` is (films, ≥k) recommended rows, -1 = none):

* precision@k — for every (evaluation user, liked film q) pair, the share of q's top k that the
  same user also liked; the mean over all pairs. Always divided by k.
* coverage — distinct films appearing in any film's top k, over the catalogue size.
* collection recall — for every film whose collection has at least 2 films in the catalogue, the
  share of the other members (at most k of them count) found in its top k; the mean over those
  films.

Evaluation users are userId % 5 == 0 (:mod:`movierec.ratings`); the model never trains on their
ratings. The same run scores, on the same users, the release's model and three baselines: random,
most popular (TMDB vote count) and the seed's method (TF-IDF cosine, re-sorted by vote average).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import polars as pl

from movierec.model import select_top_k, tfidf_features, top_k_similar
from movierec.ratings import liked_rows, ratings_inputs, read_ratings
from movierec.raw import InputError
from movierec.release import MANIFEST, write_manifest

METRICS = ("precision_at_k", "coverage", "collection_recall")


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


def precision_at_k(top: np.ndarray, users: np.ndarray, rows: np.ndarray, k: int) -> float:
    """Mean over the liked pairs (users[i], rows[i]) of |top k of rows[i] ∩ liked by users[i]| / k.
    0.0 when there are no pairs."""
    if rows.size == 0:
        return 0.0
    n = top.shape[0]
    users = users.astype(np.int64)
    liked = np.unique(users * n + rows)
    recommended = top[rows, :k]
    keys = users[:, None] * n + recommended
    position = np.minimum(np.searchsorted(liked, keys), liked.size - 1)
    hits = (liked[position] == keys) & (recommended >= 0)
    return float(hits.sum(axis=1).mean() / k)


def coverage(top: np.ndarray, k: int) -> float:
    """Distinct films in any film's top k / number of films."""
    n = top.shape[0]
    if n == 0:
        return 0.0
    shown = top[:, :k]
    return float(np.count_nonzero(np.bincount(shown[shown >= 0], minlength=n)) / n)


def collection_recall(top: np.ndarray, collection: np.ndarray, k: int) -> float | None:
    """Mean over films in a collection of ≥ 2 catalogue films of (other members in the film's
    top k) / min(other members, k); None when no film qualifies. ``collection``: code per film,
    -1 for none."""
    in_one = collection >= 0
    codes, counts = np.unique(collection[in_one], return_counts=True)
    size = np.zeros(collection.size, dtype=np.int64)
    size[in_one] = counts[np.searchsorted(codes, collection[in_one])]
    films = np.flatnonzero(size >= 2)
    if films.size == 0:
        return None
    recommended = top[films, :k]
    same = (collection[np.maximum(recommended, 0)] == collection[films][:, None]) & (recommended >= 0)
    same &= recommended != films[:, None]
    return float((same.sum(axis=1) / np.minimum(size[films] - 1, k)).mean())


def metrics(top: np.ndarray, users: np.ndarray, rows: np.ndarray, collection: np.ndarray, k: int) -> dict[str, float | None]:
    return {
        "precision_at_k": precision_at_k(top, users, rows, k),
        "coverage": coverage(top, k),
        "collection_recall": collection_recall(top, collection, k),
    }


# --------------------------------------------------------------------------------------------
# Baselines
# --------------------------------------------------------------------------------------------


def random_top(n: int, k: int, seed: int = 0) -> np.ndarray:
    """k distinct other films per film, uniformly at random (seeded)."""
    rng = np.random.default_rng(seed)
    k = min(k, max(n - 1, 0))
    top = np.empty((n, k), dtype=np.int64)
    for row in range(n):
        picks = rng.choice(n - 1, size=k, replace=False)
        top[row] = picks + (picks >= row)  # skip the film itself
    return top


def popular_top(popularity: np.ndarray, k: int) -> np.ndarray:
    """The k most popular other films for every film (ties to the lower row)."""
    n = popularity.size
    k = min(k, max(n - 1, 0))
    ranking = np.argsort(-popularity, kind="stable")[: k + 1]
    top = np.broadcast_to(ranking, (n, ranking.size))
    itself = top == np.arange(n)[:, None]
    # a stable sort moves the film itself (if listed) to the end; the first k are the others
    order = np.argsort(itself, axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)[:, :k].astype(np.int64)


def seed_top(movies: pl.DataFrame, genres: pl.DataFrame, k: int) -> np.ndarray:
    """The seed's method: the k nearest films by TF-IDF cosine, re-sorted by vote average."""
    top, _ = top_k_similar(tfidf_features(movies, genres), k)
    votes = movies["vote_average"].fill_null(0.0).to_numpy().astype(np.float32)
    by_votes = np.where(top >= 0, votes[np.maximum(top, 0)], -np.inf)
    order, _ = select_top_k(by_votes, top.shape[1])
    return np.take_along_axis(top, np.maximum(order, 0), axis=1)


def artifact_top(neighbours: pl.DataFrame, row_index: pl.DataFrame, n: int, k: int) -> np.ndarray:
    """(n, k) rows of the artifact's first k neighbours of every film (-1 where fewer)."""
    top = np.full((n, k), -1, dtype=np.int64)
    rows = (
        neighbours.filter(pl.col("rank") <= k)
        .join(row_index, left_on="movie_id", right_on="id", how="inner")
        .join(row_index.rename({"row": "neighbour_row"}), left_on="neighbour_id", right_on="id", how="inner")
    )
    top[rows["row"].to_numpy(), rows["rank"].to_numpy() - 1] = rows["neighbour_row"].to_numpy()
    return top


# --------------------------------------------------------------------------------------------
# The run (I/O at the edges)
# --------------------------------------------------------------------------------------------


def evaluate_release(release: Path, raw_dir: Path, k: int = 5, seed: int = 0) -> dict[str, object]:
    """The evaluation table of a release folder (tables/, model/) against RAW's ratings."""
    started = time.perf_counter()
    inputs = ratings_inputs(raw_dir)
    if inputs is None:
        raise InputError(f"evaluation needs ratings_small.csv and links.csv (plain, .gz or .zip) in {raw_dir}")
    tables = release / "tables"
    movies = pl.read_parquet(tables / "movies.parquet",
                             columns=["id", "title", "overview", "vote_average", "vote_count", "collection_id"])
    genres = pl.read_parquet(tables / "genres.parquet", columns=["movie_id", "genre"])
    neighbours = pl.read_parquet(release / "model" / "neighbours.parquet")
    n = movies.height
    row_index = pl.DataFrame({"id": movies["id"], "row": np.arange(n, dtype=np.int64)})
    liked = liked_rows(read_ratings(*inputs, evaluation=True), row_index)
    users, rows = liked["user_id"].to_numpy(), liked["row"].to_numpy()
    collection = movies["collection_id"].fill_null(-1).to_numpy()
    methods = {
        "model": artifact_top(neighbours, row_index, n, k),
        "random": random_top(n, k, seed),
        "most popular": popular_top(movies["vote_count"].fill_null(0).to_numpy().astype(np.float64), k),
        "seed (tf-idf)": seed_top(movies, genres, k),
    }
    table = [{"method": name, **metrics(top, users, rows, collection, k)} for name, top in methods.items()]
    return {
        "k": k,
        "films": n,
        "users": int(np.unique(users).size),
        "pairs": int(rows.size),
        "table": table,
        "ratings": inputs[0].name,
        "seconds": round(time.perf_counter() - started, 3),
    }


def release_raw_dir(release: Path, fallback: Path) -> Path:
    """The raw folder a release was built from (its manifest's raw_dir) when it still exists,
    else ``fallback``."""
    manifest = json.loads((release / MANIFEST).read_text())
    recorded = manifest.get("raw_dir")
    return Path(recorded) if recorded and Path(recorded).is_dir() else fallback


def record_evaluation(release: Path, evaluation: dict[str, object]) -> None:
    """Write the table into the release's manifest under "evaluation"."""
    manifest = json.loads((release / MANIFEST).read_text())
    manifest["evaluation"] = evaluation
    write_manifest(release, manifest)


def format_table(evaluation: dict[str, object]) -> str:
    """A plain-text (markdown) table of an evaluation."""
    k = evaluation["k"]
    lines = [f"| method | precision@{k} | coverage | collection recall |", "|---|---:|---:|---:|"]
    for row in evaluation["table"]:  # type: ignore[attr-defined]
        recall = row["collection_recall"]
        lines.append(f"| {row['method']} | {row['precision_at_k']:.3f} | {row['coverage']:.1%} | "
                     f"{'n/a' if recall is None else f'{recall:.3f}'} |")
    lines.append(f"\n{evaluation['users']} evaluation users (userId % 5 == 0), {evaluation['pairs']} "
                 f"(user, liked film) pairs, {evaluation['films']} films.")
    return "\n".join(lines)
