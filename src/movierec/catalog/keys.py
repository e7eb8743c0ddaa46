"""Film look-ups over whole columns: TMDB id → row, and the rows in release-date order."""

from __future__ import annotations

import numpy as np
import polars as pl


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of each value among them), by one stable sort.

    >>> factorize(np.array([30, 10, 30, 20]))
    (array([10, 20, 30]), array([2, 0, 2, 1]))
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]] if len(values) else np.zeros(0, dtype=bool)
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


class FilmKeys:
    """TMDB id → row look-ups over whole columns, and the rows ordered by release date."""

    def __init__(self, movies: pl.DataFrame) -> None:
        self.count = movies.height
        self._ids = movies["id"]
        self._rows = pl.int_range(self.count, dtype=pl.Int64, eager=True)
        self.returns = movies["return"].cast(pl.Float64).to_numpy()
        # by_date[k] = row of the k-th film by (release date, id); date_rank is its inverse
        days = movies["release_date"].cast(pl.Int32).fill_null(np.iinfo(np.int32).max).to_numpy()
        self.by_date = np.lexsort((movies["id"].to_numpy(), days))
        self.date_rank = np.empty(self.count, dtype=np.int64)
        self.date_rank[self.by_date] = np.arange(self.count)

    def rows(self, ids: pl.Series) -> np.ndarray:
        """The row of every id (a hash look-up), -1 where the id is not in the catalogue."""
        return ids.replace_strict(self._ids, self._rows, default=-1, return_dtype=pl.Int64).to_numpy()
