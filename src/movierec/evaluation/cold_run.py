"""`movierec evaluate --cold`: the cold-start evaluation's I/O edge (the protocol and the pure
half: :mod:`movierec.evaluation.cold`).

It trains two models in a temporary folder — never in the release, which stays as it is — on
the release's tables with every like of the cold films dropped as the ratings are read
(``hidden``, local engine): one on the tables as they are, one on a copy whose movies table
shows the cold films in their first weeks on TMDB. Each is measured beside the release's own
(warm) model on the evaluation's users and pairs (:class:`~movierec.evaluation.run.Anchored`:
this module never reads a rating itself). Not part of `movierec pipeline` (two extra trainings).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from movierec.config import Settings
from movierec.evaluation.baselines import artifact_top
from movierec.evaluation.cold import (
    COLD,
    DEFAULT_FRACTION,
    DEFAULT_SALT,
    FIRST_WEEKS,
    MIN_LIKES,
    WARM,
    cold_goals,
    cold_people,
    exposure,
    first_weeks,
    own_top,
    personal_row,
    select_cold,
)
from movierec.evaluation.personal import MAX_PEOPLE, scorer_lists
from movierec.evaluation.run import Anchored, read_personal_lists
from movierec.model.scorer import RECOMMENDATIONS, WeightLists, neighbour_weight_of, neighbours_k_of
from movierec.model.train import train
from movierec.protocol.metrics import popularity_weights
from movierec.raw.files import InputError
from movierec.release.layout import NEIGHBOURS_FILE, PERSONAL_FILE, read_manifest

log = logging.getLogger("movierec.evaluate")

ANCHORS = ("most popular", "seed (tf-idf)")  # the evaluation's anchors shown beside the cold films' own lists


@dataclass(frozen=True)
class Fitted:
    """What the measures need of one model: its film-to-film rows and its personal scorer."""

    top: np.ndarray  # (films, the model's k) rows, best first, -1 padded
    lists: WeightLists
    neighbour_weight: float
    popular: np.ndarray  # rows by TMDB votes: the scorer's fill

    @classmethod
    def read(
        cls, model_dir: Path, manifest: Mapping[str, object], row_index: pl.DataFrame, popular: np.ndarray
    ) -> Fitted:
        n = row_index.height
        top = artifact_top(pl.read_parquet(model_dir / NEIGHBOURS_FILE), row_index, n, neighbours_k_of(manifest))
        return cls(
            top, read_personal_lists(model_dir / PERSONAL_FILE, row_index, n), neighbour_weight_of(manifest), popular
        )


def write_first_weeks(tables: Path, out: Path, cold: np.ndarray) -> np.ndarray:
    """A tables folder in ``out``: the release's tables, linked (copied where links fail), but a
    movies table where the cold films are in their first weeks (:func:`first_weeks`). Returns
    the vote counts it holds. ``out`` is made anew."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for path in tables.iterdir():
        if path.name == "movies.parquet":
            continue
        try:
            (out / path.name).symlink_to(path.resolve())
        except OSError:
            shutil.copy2(path, out / path.name)
    movies = first_weeks(pl.read_parquet(tables / "movies.parquet"), cold)
    movies.write_parquet(out / "movies.parquet")
    return movies["vote_count"].fill_null(0).to_numpy().astype(np.float64)


def cold_evaluation(
    release: Path,
    settings: Settings,
    anchored: Anchored,
    *,
    salt: str = DEFAULT_SALT,
    fraction: float = DEFAULT_FRACTION,
    cold_ids: list[int] | None = None,
    with_first_weeks: bool = True,
    work: Path | None = None,
    k: int = 5,
) -> dict[str, object]:
    """The cold-start tables of a release: ``anchored`` is its evaluation's
    (:func:`~movierec.evaluation.run.measure_anchors`; both models train on its training likes);
    the cold films are ``cold_ids`` (TMDB ids; those not in the catalogue are left out) or chosen
    by ``salt`` and ``fraction`` (:func:`~movierec.evaluation.cold.select_cold`).
    ``with_first_weeks``: also train the first-weeks model; ``work``: where the models are
    trained (kept; default a temporary folder, removed)."""
    started = time.perf_counter()
    tables = release / "tables"
    ids = pl.read_parquet(tables / "movies.parquet", columns=["id"])["id"].to_numpy()
    row_index = pl.DataFrame({"id": ids, "row": np.arange(ids.size, dtype=np.int64)})
    if cold_ids is None:
        chosen = select_cold(ids, anchored.films.likes, salt, fraction)
        source: dict[str, object] = {"salt": salt, "fraction": fraction, "min_likes": MIN_LIKES}
    else:
        given = np.unique(np.asarray(cold_ids, dtype=np.int64))
        chosen = given[np.isin(given, ids)]
        source = {"given": int(given.size), "not_in_catalogue": int(given.size - chosen.size)}
    if chosen.size == 0:
        raise InputError(
            "the cold-start evaluation found no cold film (none qualifies, or none of the ids given is "
            "in the catalogue)"
        )
    cold_rows = np.flatnonzero(np.isin(ids, chosen))
    hidden = frozenset(chosen.tolist())
    models = {WARM: Fitted.read(release / "model", read_manifest(release) or {}, row_index, anchored.popular)}
    with tempfile.TemporaryDirectory(prefix="movierec-cold-") as temporary:
        root = work or Path(temporary)
        log.info("cold start: training without the likes of %d films", chosen.size)
        info = train(tables, root / "cold", settings, hidden=hidden, likes=anchored.likes)
        models[COLD] = Fitted.read(root / "cold", {"model": info}, row_index, anchored.popular)
        if with_first_weeks:
            log.info("cold start: the same, the films in their first weeks on TMDB")
            votes = write_first_weeks(tables, root / "first-weeks-tables", chosen)
            info = train(
                root / "first-weeks-tables", root / "first-weeks", settings, hidden=hidden, likes=anchored.likes
            )
            models[FIRST_WEEKS] = Fitted.read(
                root / "first-weeks", {"model": info}, row_index, np.argsort(-votes, kind="stable")
            )
    users, rows, liked, films = anchored.users, anchored.rows, anchored.liked_pairs, anchored.films
    tops = {**{name: model.top for name, model in models.items()}, **{name: anchored.tops[name] for name in ANCHORS}}
    own = [
        {
            "method": name,
            **own_top(top, users, rows, films, cold_rows, k, liked),
            "exposure": exposure(top, cold_rows, k),
        }
        for name, top in tops.items()
    ]
    people, inputs, truth = cold_people(users, rows, cold_rows, MAX_PEOPLE)
    weights = popularity_weights(films.likes)
    personal = []
    for name, model in models.items():
        shown = (
            scorer_lists(model.lists, model.top, model.neighbour_weight, model.popular)(inputs)
            if people.size
            else np.zeros((0, RECOMMENDATIONS), dtype=np.int64)
        )
        personal.append(personal_row(name, shown, truth, cold_rows, weights))
    pairs = np.isin(rows, cold_rows)
    return {
        "k": k,
        "films": int(chosen.size),
        **source,
        "ids": chosen.tolist(),
        "pairs": int(pairs.sum()),
        "users": int(np.unique(users[pairs]).size),
        "own": own,
        "personal": {
            "k": RECOMMENDATIONS,
            "users": int(people.size),
            "input_likes": int(sum(x.size for x in inputs)),
            "truth_likes": int(sum(x.size for x in truth)),
            "table": personal,
        },
        "goals": cold_goals(own, personal, k, RECOMMENDATIONS),
        "seconds": round(time.perf_counter() - started, 3),
    }
