"""The personal recommendations' index: the release's artifacts in the arrays the pure scorer
(:func:`movierec.model.personal.recommend`) reads, restricted to films the API can show."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from movierec.catalog.build import FilmKeys
from movierec.config import Settings
from movierec.model.ease import WeightLists
from movierec.model.personal import RECOMMENDATIONS, Pick, recommend

PERSONAL_ARTIFACT = "personal.parquet"


@dataclass(frozen=True)
class PersonalIndex:
    lists: WeightLists  # EASE weights (model/personal.parquet); empty for a release without them
    neighbours: np.ndarray  # (films, K) film-to-film rows, best first, -1 padded
    neighbour_weight: float
    popular: np.ndarray  # titled rows by votes, the fill

    def recommend(self, rows: list[int], k: int = RECOMMENDATIONS) -> list[Pick]:
        return recommend(rows, self.lists, self.neighbours, self.neighbour_weight, self.popular, k)


def load_personal(release: Path, manifest: dict[str, object], films: FilmKeys, titled: np.ndarray,
                  neighbours: np.ndarray, votes: np.ndarray) -> PersonalIndex:
    """The index of a release: its EASE lists without untitled films, the film-to-film
    ``neighbours`` the catalog already loaded, the neighbour weight the manifest records."""
    path = release / "model" / PERSONAL_ARTIFACT
    lists = WeightLists.empty(films.count)
    if path.is_file():
        table = pl.read_parquet(path, columns=["movie_id", "rank", "neighbour_id", "score"]).drop_nulls()
        src, dst = films.rows(table["movie_id"]), films.rows(table["neighbour_id"])
        usable = (src >= 0) & (dst >= 0) & (src != dst) & np.isfinite(table["score"].to_numpy())
        usable[usable] = titled[dst[usable]]
        lists = WeightLists.from_rows(src[usable], dst[usable], table["score"].to_numpy()[usable],
                                      table["rank"].to_numpy()[usable], films.count)
    model = manifest.get("model")
    personal = model.get("personal") if isinstance(model, dict) else None
    weight = personal.get("neighbour_weight", 1.0) if isinstance(personal, dict) else 1.0
    by_votes = np.argsort(-np.asarray(votes, dtype=np.float64), kind="stable")
    return PersonalIndex(lists=lists, neighbours=neighbours.astype(np.int32, copy=False), neighbour_weight=float(weight),
                         popular=by_votes[titled[by_votes]])


def personal_index(release: Path, manifest: dict[str, object], settings: Settings, *, titled: np.ndarray,
                   votes: np.ndarray) -> PersonalIndex | bool:
    """The index of a served release, from its tables and model files (False when it has none,
    as a serving-only archive)."""
    from movierec.catalog.build import recommendations

    movies_path = release / "tables" / "movies.parquet"
    model = release / "model" / "neighbours.parquet"
    if not movies_path.is_file() or not model.is_file():
        return False
    films = FilmKeys(pl.read_parquet(movies_path, columns=["id", "return", "release_date"]))
    neighbours = recommendations(model, films, titled, max(settings.neighbours_k, settings.recommendations))[0]
    return load_personal(release, manifest, films, titled, neighbours, votes)
