"""Give a small frame cut from a large one its own text buffers, so that the large one's memory is freed.

Polars' text columns are views into shared buffers: filtering 600,000 rows down to ten keeps all
600,000 rows' text alive for as long as the ten live. The ETL's outputs (and the quarantine's
fields) are such cuts of the raw text; a hostile file of one row repeated kept its whole text in
memory through the rest of the run. Copying the surviving text costs what the output holds.
"""

from __future__ import annotations

import polars as pl


def compact(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text column (and list of text) rebuilt into new buffers; same values.

    >>> big = pl.DataFrame({"t": ["x" * 40] * 1000, "n": range(1000)})
    >>> compact(big.head(2)).equals(big.head(2))
    True
    """
    # concat_str writes new strings (a null stays null); cast, rechunk and clone keep the views.
    fresh = pl.concat_str(pl.element(), pl.lit(""))
    exprs = [
        pl.concat_str(pl.col(name), pl.lit("")).alias(name)
        if dtype == pl.String
        else pl.col(name).list.eval(fresh).alias(name)
        if dtype == pl.List(pl.String)
        else pl.col(name)
        for name, dtype in frame.schema.items()
    ]
    return frame.select(exprs)
