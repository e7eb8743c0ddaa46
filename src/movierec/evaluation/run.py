"""`movierec evaluate`: how well a release's recommendations match what real users co-liked.

Metrics: :mod:`movierec.evaluation.metrics`. Evaluation users are userId % 5 == 0
(:mod:`movierec.evaluation.split`); this module is the only reader of their ratings, and the model
never trains on them. The same run scores, on the same users, the release's model and three baselines: random,
most popular (TMDB vote count) and the seed's method (TF-IDF cosine, re-sorted by vote average).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import polars as pl

from movierec.evaluation.baselines import artifact_top, popular_top, random_top, seed_top
from movierec.evaluation.metrics import metrics
from movierec.raw.files import InputError
from movierec.raw.ratings import liked_rows, ratings_inputs, read_ratings
from movierec.evaluation.split import describe, evaluation_users


def evaluate_release(release: Path, raw_dir: Path, k: int = 5, seed: int = 0, ratings: str = "auto") -> dict[str, object]:
    """The evaluation table of a release folder (tables/, model/) against RAW's ratings
    (``ratings``: auto | small | full, see :func:`~movierec.raw.ratings.ratings_inputs`)."""
    started = time.perf_counter()
    inputs = ratings_inputs(raw_dir, ratings)
    if inputs is None:
        raise InputError(f"evaluation needs ratings.csv or ratings_small.csv, and links.csv (plain, .gz or .zip) "
                         f"in {raw_dir}")
    tables = release / "tables"
    movies = pl.read_parquet(tables / "movies.parquet",
                             columns=["id", "title", "overview", "vote_average", "vote_count", "collection_id"])
    genres = pl.read_parquet(tables / "genres.parquet", columns=["movie_id", "genre"])
    neighbours = pl.read_parquet(release / "model" / "neighbours.parquet")
    n = movies.height
    row_index = pl.DataFrame({"id": movies["id"], "row": np.arange(n, dtype=np.int64)})
    liked = liked_rows(read_ratings(*inputs, users=evaluation_users), row_index)
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
        "split": describe(),
        "seconds": round(time.perf_counter() - started, 3),
    }


def format_table(evaluation: dict[str, object]) -> str:
    """A plain-text (markdown) table of an evaluation."""
    k = evaluation["k"]
    lines = [f"| method | precision@{k} | coverage | collection recall |", "|---|---:|---:|---:|"]
    for row in evaluation["table"]:  # type: ignore[attr-defined]
        recall = row["collection_recall"]
        lines.append(f"| {row['method']} | {row['precision_at_k']:.3f} | {row['coverage']:.1%} | "
                     f"{'n/a' if recall is None else f'{recall:.3f}'} |")
    lines.append(f"\n{evaluation['users']} evaluation users ({evaluation.get('split', describe())}), {evaluation['pairs']} "
                 f"(user, liked film) pairs, {evaluation['films']} films.")
    return "\n".join(lines)
