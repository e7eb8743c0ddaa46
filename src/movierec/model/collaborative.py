"""The collaborative stage: training users' likes in, two fitted signals and the tuning's truth out.

Two engines compute it: the local one (:func:`fit_collaborative`, NumPy/SciPy on this machine)
and Spark (:mod:`movierec.model.spark_cf`, for likes that outgrow one machine). Their output is
one contract, a folder of parquet files (Spark writes each as a folder of part files):

=====================  ================================================================
``colikes.parquet``    signal ("fit" | "training"), movie_id, rank, neighbour_id, co_count,
                       score — every film's best ``neighbours`` films (rank 1 = best), with
                       the integer co-like count and the float64 score of :mod:`movierec.model.cf`
``support.parquet``    signal, movie_id, likes — the films at least one of the signal's users liked
``validation.parquet`` user_id, movie_id — the likes (no cap) of the validation users of
                       the tuning sample (:func:`tuning_sample`): the truth the weights are tuned on
``stage.json``         {"fit": {"users", "likes"}, "training": {"users", "likes"}, "engine", "params"}
=====================  ================================================================

``fit`` is the signal of the fit users (tuning), ``training`` of every training user (the
release's). Users come from :mod:`movierec.protocol.split`; evaluation users never appear.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from movierec.model.cf import ItemCF
from movierec.protocol.split import fit_users, user_sample, validation_users

#: The two co-like signals the stage fits, named by their users: the fit users' (tuning) and every
#: training user's (the release's). Not the ranking's signals (:data:`movierec.model.ranking.RANKING_SIGNALS`).
COLIKE_SIGNALS = ("fit", "training")
#: The tuning's truth: the likes of at most this many validation users. Each weight trial scores
#: every validation like; 5,000 users (~150,000 likes) estimate precision@5 to about ±0.003
#: while the full file's 54,000 validation users made the tuning 30 times slower.
MAX_TUNING_USERS = 5_000
COLIKES = "colikes.parquet"
SUPPORT = "support.parquet"
VALIDATION = "validation.parquet"
STAGE = "stage.json"


@dataclass
class CollaborativeStage:
    """The stage's output in memory: ``fit`` and ``training`` signals, and ``validation`` likes
    (user_id, row) of the validation users."""

    fit: ItemCF
    training: ItemCF
    validation: pl.DataFrame
    engine: str = "local"

    def signal(self, name: str) -> ItemCF:
        return self.fit if name == "fit" else self.training


def fit_collaborative(likes: pl.DataFrame, n_items: int, params: dict[str, Any]) -> CollaborativeStage:
    """The local engine: ``likes`` (user_id, row[, timestamp]) of the training users; ``params``
    are :class:`~movierec.model.cf.ItemCF`'s. Both signals come from one blockwise pass."""
    times = likes["timestamp"].to_numpy() if "timestamp" in likes.columns else None
    users = likes["user_id"].to_numpy()
    fitting = np.isin(users, fit_users(likes.select("user_id").unique())["user_id"].to_numpy())
    fit, training = ItemCF(**params).fit_nested(users, likes["row"].to_numpy(), n_items, times, fitting)
    assert fit is not None
    validation = tuning_sample(validation_users(likes).select("user_id", "row").unique()).sort("user_id", "row")
    return CollaborativeStage(fit, training, validation)


def tuning_sample(validation: pl.DataFrame) -> pl.DataFrame:
    """The likes of at most ``MAX_TUNING_USERS`` of the validation users (all of them below
    that), spread over the whole id range and the same in both engines (:func:`user_sample`)."""
    return user_sample(validation, MAX_TUNING_USERS)


def write_stage(stage: CollaborativeStage, folder: Path, ids: np.ndarray) -> None:
    """The contract's files for a stage fitted on a catalogue whose rows have TMDB ids ``ids``."""
    folder.mkdir(parents=True, exist_ok=True)
    pl.concat(
        [stage.signal(s).colikes(ids).select(pl.lit(s).alias("signal"), pl.all()) for s in COLIKE_SIGNALS]
    ).write_parquet(folder / COLIKES)
    pl.concat([support_frame(s, stage.signal(s), ids) for s in COLIKE_SIGNALS]).write_parquet(folder / SUPPORT)
    stage.validation.select("user_id", movie_id=pl.Series(ids)[stage.validation["row"]]).write_parquet(
        folder / VALIDATION
    )
    write_summary(
        folder,
        {s: {"users": stage.signal(s).users_, "likes": stage.signal(s).likes_} for s in COLIKE_SIGNALS},
        stage.engine,
        _params(stage.training),
    )


def write_summary(folder: Path, counts: dict[str, dict[str, int]], engine: str, params: dict[str, Any]) -> None:
    (folder / STAGE).write_text(json.dumps({**counts, "engine": engine, "params": params}, indent=2) + "\n")


def support_frame(name: str, model: ItemCF, ids: np.ndarray) -> pl.DataFrame:
    liked = np.flatnonzero(model.support_ > 0)
    return pl.DataFrame(
        {"signal": name, "movie_id": ids[liked], "likes": model.support_[liked].astype(np.int64)},
        schema={"signal": pl.String, "movie_id": pl.Int64, "likes": pl.Int64},
    )


def read_table(folder: Path, name: str) -> pl.DataFrame:
    """One of the contract's tables, written as one file (local) or a folder of parts (Spark)."""
    path = folder / name
    return pl.read_parquet(path / "*.parquet" if path.is_dir() else path)


def read_stage(folder: Path, row_index: pl.DataFrame, params: dict[str, Any]) -> CollaborativeStage:
    """The stage from its contract folder, on a catalogue (``row_index``: id, row)."""
    summary = json.loads((folder / STAGE).read_text())
    n = row_index.height
    colikes, support = read_table(folder, COLIKES), read_table(folder, SUPPORT)

    def rows(frame: pl.DataFrame, column: str) -> pl.Series:
        return frame.select(
            pl.col(column).replace_strict(row_index["id"], row_index["row"], return_dtype=pl.Int64)
        ).to_series()

    signals = {}
    for name in COLIKE_SIGNALS:
        pairs = colikes.filter(pl.col("signal") == name)
        liked = support.filter(pl.col("signal") == name)
        films = np.zeros(n, dtype=np.int64)
        films[rows(liked, "movie_id").to_numpy()] = liked["likes"].to_numpy()
        signals[name] = ItemCF.from_colikes(
            rows(pairs, "movie_id").to_numpy(),
            rows(pairs, "neighbour_id").to_numpy(),
            pairs["co_count"].to_numpy(),
            films,
            users=int(summary[name]["users"]),
            likes=int(summary[name]["likes"]),
            **params,
        )
    validation = (
        read_table(folder, VALIDATION)
        .join(row_index, left_on="movie_id", right_on="id")
        .select("user_id", "row")
        .unique()
        .sort("user_id", "row")
    )
    return CollaborativeStage(signals["fit"], signals["training"], validation, engine=str(summary.get("engine")))


def _params(model: ItemCF) -> dict[str, Any]:
    return {
        "alpha": model.alpha,
        "shrink": model.shrink,
        "neighbours": model.neighbours,
        "max_likes_per_user": model.max_likes_per_user,
    }
