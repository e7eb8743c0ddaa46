"""`movierec evaluate`: how well a release's recommendations match what real users liked.

Metrics: :mod:`movierec.protocol.metrics`. Evaluation users are userId % 5 == 0
(:mod:`movierec.protocol.split`); this module alone asks for their ratings
(:func:`read_build_likes` splits a build's one read of the ratings file in two: the model is handed
the training half only), and the model never trains on them. Two tables, each scoring the release beside the field's anchors in the same
run, on the same users:

* film to film (``table``): for every (evaluation user, liked film q), q's top 5 — the model,
  random, most popular (TMDB votes), the seed's method (TF-IDF cosine re-sorted by vote average),
  and co-occurrence of the training users' likes (count and Jaccard, as SAR's item similarity);
  plain and popularity-stratified precision, nDCG, coverage, generic share, collection recall
  and adjacent collection recall (:func:`~movierec.protocol.metrics.film_metrics`);
* personal (``personal``): for every evaluation user with ≥ 5 likes, the earliest 80% of their
  likes in, 10 films out, the latest 20% the truth (:mod:`movierec.evaluation.personal`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from movierec.evaluation.baselines import artifact_top, popular_top, random_top, seed_top
from movierec.evaluation.cooccurrence import cooccurrence_tops, like_matrix
from movierec.evaluation.goals import Row, check, relative
from movierec.evaluation.personal import PersonalAnchors, personal_anchors, personal_table
from movierec.model.scorer import WeightLists, neighbour_weight_of, neighbours_k_of
from movierec.protocol.metrics import Films, film_metrics, liked_keys
from movierec.protocol.split import evaluation_users, split_description, training_users
from movierec.raw.files import InputError
from movierec.raw.ratings import Likes, SplitLikes, catalogue_rows, ratings_inputs, read_split_likes
from movierec.release.layout import MODEL, NEIGHBOURS_FILE, PERSONAL_FILE, TABLES, read_manifest

#: The goals (issue 18's Targets), checked and reported on every evaluation. Film to film: the
#: constraints (generic share, coverage, adjacent collection recall), then the objective
#: (stratified precision ≥ ratio × the best of the anchors named). Personal: nDCG ≥ ratio × the
#: best of the anchors, stratified recall ≥ the best anchor's, coverage ≥ ALS's.
GOALS = {
    "film_to_film": {
        "generic_share": 0.30,
        "coverage": 0.60,
        "adjacent_collection_recall": 0.95,
        "stratified_ratio": 1.1,
        "anchors": ("co-occurrence count", "co-occurrence Jaccard", "most popular"),
    },
    "personal": {
        "ndcg_ratio": 1.1,
        "anchors": ("most popular", "SAR (affinity × Jaccard)", "ALS (implicit)"),
        "coverage_anchor": "ALS (implicit)",
    },
}


def read_build_likes(raw_dir: Path, tables: Path, ratings: str = "auto", *, held_out: bool = True) -> SplitLikes | None:
    """The likes of a build, RAW's ratings file (``ratings``: auto | small | full, see
    :func:`~movierec.raw.ratings.ratings_inputs`) read once, in the rows of ``tables``' movies:
    the training users' (what the model and the anchors learn from) and, with ``held_out``, the
    evaluation users' (what this module alone measures against). None when RAW has no ratings."""
    inputs = ratings_inputs(raw_dir, ratings) if raw_dir.is_dir() else None
    if inputs is None:
        return None
    row_index = catalogue_rows(pl.read_parquet(tables / "movies.parquet", columns=["id"])["id"])
    return read_split_likes(inputs, row_index, training_users, evaluation_users if held_out else None)


def needed_likes(raw_dir: Path, tables: Path, ratings: str = "auto") -> SplitLikes:
    """:func:`read_build_likes`, or an InputError when RAW has no ratings to evaluate with."""
    if ratings_inputs(raw_dir, ratings) is None:  # (a forced choice whose files are missing raises there)
        raise InputError(
            f"evaluation needs ratings.csv or ratings_small.csv, and links.csv (plain, .gz or .zip) in {raw_dir}"
        )
    likes = read_build_likes(raw_dir, tables, ratings)
    assert likes is not None
    return likes


@dataclass(frozen=True)
class Anchored:
    """What the evaluation measures without the release's model: the evaluation users' liked
    pairs, the anchors' rows of both tables. :func:`measure_anchors` needs only the tables and
    the likes, so the pipeline measures it while the model trains."""

    ratings: str  # the ratings file's name
    likes: Likes  # the training users' likes the anchors learnt from (the cold-start models train on them)
    n: int
    users: np.ndarray
    rows: np.ndarray
    liked_pairs: np.ndarray
    films: Films  # collection, training likes, votes, release date, id of every film
    popular: np.ndarray  # rows by TMDB votes (the personal scorer's fill)
    tops: dict[str, np.ndarray]  # every anchor's (films, k) top rows
    training_users: int
    table: list[dict[str, object]]
    personal: PersonalAnchors
    seconds: float


def measure_anchors(tables: Path, likes: SplitLikes, k: int = 5, seed: int = 0) -> Anchored:
    """The anchors of both tables on a release's ``tables`` against the build's ``likes`` (read
    with their held-out half: :func:`read_build_likes`)."""
    started = time.perf_counter()
    if likes.held_out is None:
        raise ValueError("the anchors need the evaluation users' likes (read_build_likes(..., held_out=True))")
    movies = pl.read_parquet(
        tables / "movies.parquet", columns=["id", "title", "overview", "vote_average", "vote_count", "collection_id"]
    )
    release = release_order(tables / "movies.parquet")
    genres = pl.read_parquet(tables / "genres.parquet", columns=["movie_id", "genre"])
    n = movies.height
    liked = likes.held_out.frame  # (user_id, row, timestamp, rating): the evaluation users' liked films
    training = likes.training.frame  # the training users' likes as the model read them
    users, rows = liked["user_id"].to_numpy(), liked["row"].to_numpy()
    collection = movies["collection_id"].fill_null(-1).to_numpy()
    popularity = movies["vote_count"].fill_null(0).to_numpy().astype(np.float64)
    # the training users' likes per film: the popularity of the stratified metrics (one per user and film)
    films = Films(
        collection, np.bincount(training["row"].to_numpy(), minlength=n), popularity, release, movies["id"].to_numpy()
    )
    cooccurring = cooccurrence_tops(like_matrix(training["user_id"].to_numpy(), training["row"].to_numpy(), n), k)
    methods = {
        "random": random_top(n, k, seed),
        "most popular": popular_top(popularity, k),
        "seed (tf-idf)": seed_top(movies, genres, k),
        "co-occurrence count": cooccurring["count"],
        "co-occurrence Jaccard": cooccurring["jaccard"],
    }
    liked_pairs = liked_keys(users, rows, n)
    table: list[dict[str, object]] = [
        {"method": name, **film_metrics(top, users, rows, films, k, liked_pairs)} for name, top in methods.items()
    ]
    personal = personal_anchors(
        training, liked.select("user_id", "row", "timestamp"), liked.select("user_id", "row", "rating"), n, seed
    )
    return Anchored(
        likes.training.source,
        likes.training,
        n,
        users,
        rows,
        liked_pairs,
        films,
        np.argsort(-popularity, kind="stable"),
        methods,
        int(training["user_id"].n_unique()),
        table,
        personal,
        time.perf_counter() - started,
    )


def evaluate_release(
    release: Path,
    raw_dir: Path | None,
    k: int = 5,
    seed: int = 0,
    ratings: str = "auto",
    anchored: Anchored | None = None,
) -> dict[str, object]:
    """The evaluation of a release folder (tables/, model/, manifest.json): ``anchored``, its
    anchors when already measured (:func:`measure_anchors`, same ``k`` and ``seed``), else
    measured here on RAW's ratings (``raw_dir``, ``ratings``)."""
    started = time.perf_counter()
    tables = release / TABLES
    if anchored is None:
        if raw_dir is None:
            raise ValueError("evaluate_release needs its anchors or the raw folder of the ratings")
        anchored = measure_anchors(tables, needed_likes(raw_dir, tables, ratings), k, seed)
    row_index = catalogue_rows(pl.read_parquet(tables / "movies.parquet", columns=["id"])["id"])
    neighbours = pl.read_parquet(release / MODEL / NEIGHBOURS_FILE)
    n = anchored.n
    model = artifact_top(neighbours, row_index, n, k)
    table = [
        {
            "method": "model",
            **film_metrics(model, anchored.users, anchored.rows, anchored.films, k, anchored.liked_pairs),
        },
        *anchored.table,
    ]
    manifest = read_manifest(release) or {}
    personal = personal_table(
        anchored.personal,
        read_personal_lists(release / MODEL / PERSONAL_FILE, row_index, n),
        artifact_top(neighbours, row_index, n, neighbours_k_of(manifest)),
        neighbour_weight_of(manifest),
        anchored.popular,
    )
    evaluation: dict[str, object] = {
        "k": k,
        "films": n,
        "users": int(np.unique(anchored.users).size),
        "pairs": int(anchored.rows.size),
        "table": table,
        "personal": personal,
        "ratings": anchored.ratings,
        "split": split_description(),
        "training_users": anchored.training_users,
    }
    evaluation["goals"] = goals(evaluation)
    evaluation["seconds"] = round(anchored.seconds + time.perf_counter() - started, 3)
    return evaluation


def release_order(movies: Path) -> np.ndarray:
    """The films' release dates (datetime64; the year where a table has no date column, else
    missing): the order of a collection's members."""
    columns = pl.read_parquet_schema(movies)
    name: str | None = next((c for c in ("release_date", "release_year") if c in columns), None)
    if name is None:
        return np.full(pl.scan_parquet(movies).select(pl.len()).collect().item(), np.nan)
    values = pl.read_parquet(movies, columns=[name])[name]
    return values.to_numpy() if name == "release_date" else values.cast(pl.Float64).fill_null(np.nan).to_numpy()


def goals(evaluation: Mapping[str, object]) -> dict[str, object]:
    """Whether the model meets each goal of :data:`GOALS` (with the figures compared): per table,
    ``met`` (all of them) and ``checks``."""
    rows, film = by_method(evaluation["table"]), GOALS["film_to_film"]
    model, k = rows["model"], evaluation["k"]
    film_checks = [
        check("generic share", model["generic_share"], "≤", film["generic_share"], share=True),
        check("coverage", model["coverage"], "≥", film["coverage"], share=True),
        check(
            "adjacent collection recall", model["adjacent_collection_recall"], "≥", film["adjacent_collection_recall"]
        ),
        relative(
            f"stratified precision@{k}",
            model["stratified_precision_at_k"],
            [rows[name] for name in _names(film["anchors"]) if name in rows],
            "stratified_precision_at_k",
            film["stratified_ratio"],
        ),
    ]
    table = evaluation["personal"]
    assert isinstance(table, Mapping)
    personal, wanted, p = by_method(table["table"]), GOALS["personal"], table["k"]
    mine = personal["model"]
    anchors = [personal[name] for name in _names(wanted["anchors"]) if name in personal]
    personal_checks = (
        [
            relative(f"nDCG@{p}", mine["ndcg_at_k"], anchors, "ndcg_at_k", wanted["ndcg_ratio"]),
            relative(f"stratified recall@{p}", mine["stratified_recall_at_k"], anchors, "stratified_recall_at_k", 1.0),
        ]
        if anchors
        else []
    )
    if (als := personal.get(str(wanted["coverage_anchor"]))) is not None:
        personal_checks.append(relative("coverage", mine["coverage"], [als], "coverage", 1.0))
    return {
        "film_to_film": {"met": all(c["met"] for c in film_checks), "checks": film_checks},
        "personal": {"met": all(c["met"] for c in personal_checks), "checks": personal_checks},
    }


def by_method(table: object) -> dict[str, Row]:
    """A table's rows (a list of mappings, each naming its ``method``) by method."""
    assert isinstance(table, list)
    return {str(row["method"]): row for row in table}


def _names(value: object) -> tuple[str, ...]:
    assert isinstance(value, tuple)
    return tuple(str(name) for name in value)


def read_personal_lists(path: Path, row_index: pl.DataFrame, n: int) -> WeightLists:
    """The release's EASE lists (empty for a release without them)."""
    if not path.is_file():
        return WeightLists.empty(n)
    frame = (
        pl.read_parquet(path)
        .join(row_index, left_on="movie_id", right_on="id")
        .join(row_index.rename({"row": "other"}), left_on="neighbour_id", right_on="id")
    )
    return WeightLists.from_rows(
        frame["row"].to_numpy(), frame["other"].to_numpy(), frame["score"].to_numpy(), frame["rank"].to_numpy(), n
    )
