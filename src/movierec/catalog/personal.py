"""The personal recommendations' index: the release's artifacts in the arrays the pure scorer
(:func:`movierec.model.scorer.recommend`) reads, restricted to films the API can show.

The arrays are computed once, when the release is published (:func:`personal_arrays`, called by
:func:`movierec.catalog.build.build_arrays`), and stored in the catalog artifact; the API maps
them (:meth:`PersonalIndex.from_arrays`), so the first personal request costs what the next does.
Numpy only: the API imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from movierec.model.scorer import RECOMMENDATIONS, Pick, WeightLists, recommend

ARRAYS = ("personal_indptr", "personal_cols", "personal_weights", "personal_neighbours", "personal_popular")


@dataclass(frozen=True)
class PersonalIndex:
    lists: WeightLists  # EASE weights (model/personal.parquet); empty for a release without them
    neighbours: np.ndarray  # (films, width) film-to-film rows, best first, -1 padded
    neighbour_weight: float
    popular: np.ndarray  # titled rows by votes, the fill

    def recommend(self, rows: list[int], k: int = RECOMMENDATIONS) -> list[Pick]:
        return recommend(rows, self.lists, self.neighbours, self.neighbour_weight, self.popular, k)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Mapping[str, object]) -> PersonalIndex | None:
        """The index stored in a catalog artifact (views, no copy); None when it holds none."""
        spec = meta.get("personal")
        if not isinstance(spec, Mapping) or any(name not in arrays for name in ARRAYS):
            return None
        width = int(spec["width"])
        lists = WeightLists(arrays["personal_indptr"], arrays["personal_cols"], arrays["personal_weights"])
        return cls(
            lists=lists,
            neighbours=arrays["personal_neighbours"].reshape(lists.n, width),
            neighbour_weight=float(spec["neighbour_weight"]),
            popular=arrays["personal_popular"],
        )


def personal_arrays(
    entries: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None,
    titled: np.ndarray,
    votes: np.ndarray,
    neighbours: np.ndarray,
    neighbour_weight: float,
) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """The artifact's personal arrays and meta. ``entries``: the EASE lists' (film row, other film
    row, weight, rank), -1 for films not in the catalogue (None: the release has no lists);
    ``titled``: whether each film can be shown; ``neighbours``: (films, width) usable
    film-to-film rows, best first; ``votes``: TMDB's vote counts, the popularity fill's order.

    >>> arrays, meta = personal_arrays((np.array([0, 0, 1]), np.array([1, 2, -1]), np.array([0.5, 0.2, 0.1]),
    ...                                 np.array([1, 2, 1])), np.array([True, True, False]),
    ...                                np.array([5, 9, 7]), np.array([[1], [0], [0]]), 0.01)
    >>> index = PersonalIndex.from_arrays(arrays, meta)
    >>> index.lists.cols.tolist(), index.popular.tolist(), [p.row for p in index.recommend([0])][:2]
    ([1], [1, 0], [1])
    """
    n = titled.size
    lists = WeightLists.empty(n)
    if entries is not None:
        src, dst, weight, rank = (np.asarray(a) for a in entries)
        known = (src >= 0) & (dst >= 0)
        lists = WeightLists.from_rows(src[known], dst[known], weight[known], rank[known], n).servable(titled)
    by_votes = np.argsort(-np.asarray(votes, dtype=np.float64), kind="stable")
    arrays = {
        "personal_indptr": lists.indptr.astype(np.int64),
        "personal_cols": lists.cols.astype(np.int32),
        "personal_weights": lists.weights.astype(np.float32),
        "personal_neighbours": np.asarray(neighbours, dtype=np.int32).ravel(),
        "personal_popular": by_votes[titled[by_votes]].astype(np.int32),
    }
    return arrays, {"personal": {"width": int(neighbours.shape[1]), "neighbour_weight": float(neighbour_weight)}}
