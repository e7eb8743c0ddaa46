"""The model's reasons: which signals made a chosen neighbour's score (model/reasons.py), and the
artifact's ``reason`` column on the real sample, checked against the tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from movierec.model.ranking import RANKING_SIGNALS
from movierec.model.reasons import pool_columns, top_reasons
from movierec.protocol.metrics import adjacent_members

NAMES = ("a", "b", "c", "d")


def stack(*per_signal: list[list[float]]) -> np.ndarray:
    return np.array(per_signal, dtype=np.float32)


def test_pool_columns_finds_each_chosen_row_in_unsorted_pools() -> None:
    pool = np.array([[7, 3, 5, -1], [2, 0, -1, -1], [-1, -1, -1, -1]])
    top = np.array([[5, 7, 3], [0, 2, -1], [-1, -1, -1]])
    assert pool_columns(pool, top).tolist() == [[2, 0, 1], [1, 0, -1], [-1, -1, -1]]
    # a row that is not among the film's candidates is not found (-1), nor another film's candidate
    assert pool_columns(np.array([[1, 2], [0, 3]]), np.array([[3], [2]])).tolist() == [[-1], [-1]]


def test_shares_decide_the_reason() -> None:
    # one film, four candidates; weights a=2, b=1, c=1, d=0
    weights = {"a": 2.0, "b": 1.0, "c": 1.0, "d": 0.0}
    signals = stack(
        [[0.5, 0.1, 0.0, 0.0]],  # a: parts 1.0, 0.2, 0, 0
        [[0.5, 0.3, 0.0, 0.0]],  # b: parts 0.5, 0.3, 0, 0
        [[0.0, 0.2, 0.1, 0.0]],  # c: parts 0,   0.2, 0.1, 0
        [[9.0, 9.0, 9.0, 9.0]],  # d: weight 0, never a reason
    )
    pool = np.array([[10, 11, 12, 13]])
    top = np.array([[10, 11, 12, 13, -1]])
    reasons = top_reasons(signals, NAMES, weights, pool, top)
    # 10: a 1.0/1.5 = 67%, b 33% -> "a,b"; 11: b 0.3/0.7 = 43%, a 29%, c 29% -> the two largest, b then a
    # (a before c: equal parts keep the signals' order); 12: c alone; 13: no positive part -> ""
    assert reasons.tolist() == [["a,b", "b,a", "c", "", ""]]


def test_the_largest_part_explains_a_score_spread_thin_and_negative_parts_do_not_count() -> None:
    names = tuple("abcdefgh")
    weights = dict.fromkeys(names, 1.0) | {"h": -1.0}
    # parts 0.2, 0.15, then six of 0.1 (h's negative) — all shares < 25% but a, the largest
    signals = np.array([[[0.2]], [[0.15]], [[0.1]], [[0.1]], [[0.1]], [[0.1]], [[0.1]], [[0.5]]], dtype=np.float32)
    assert top_reasons(signals, names, weights, np.array([[1]]), np.array([[1]])).tolist() == [["a"]]
    assert top_reasons(signals, names, weights, np.array([[1]]), np.array([[1]]), min_share=0.15).tolist() == [["a,b"]]
    assert top_reasons(signals, names, weights, np.array([[1]]), np.array([[1]]), most=1, min_share=0.01).tolist() == [
        ["a"]
    ]


def test_chunks_give_the_same_reasons_as_one_pass() -> None:
    rng = np.random.default_rng(3)
    n, width, k = 50, 6, 4
    pool = np.stack([rng.permutation(n)[:width] for _ in range(n)])
    pool[rng.random((n, width)) < 0.2] = -1
    signals = rng.random((len(NAMES), n, width)).astype(np.float32)
    top = np.where(rng.random((n, k)) < 0.9, pool[:, :k], -1)
    weights = {"a": 1.0, "b": 0.5, "c": 2.0, "d": 0.1}
    whole = top_reasons(signals, NAMES, weights, pool, top)
    assert (top_reasons(signals, NAMES, weights, pool, top, chunk_rows=7) == whole).all()
    assert set(whole[top < 0].tolist()) == {""}
    # every reason of a found pair starts with the pair's largest weighted signal
    for film, rank in zip(*np.nonzero(top >= 0), strict=True):
        column = int(np.flatnonzero(pool[film] == top[film, rank])[0])
        parts = signals[:, film, column] * np.array([weights[x] for x in NAMES])
        assert whole[film, rank].split(",")[0] == NAMES[int(parts.argmax())]


# -- the artifact of the release built from the real sample ------------------------------------


@pytest.fixture(scope="module")
def pairs(sample_data: Path) -> pl.DataFrame:
    return pl.read_parquet(sample_data / "current" / "model" / "neighbours.parquet")


def _shared(tables: Path, table: str, column: str, pairs: pl.DataFrame, where: pl.Expr | None = None) -> set[tuple]:
    """(movie_id, neighbour_id) pairs of `pairs` whose films share a value of `column` in `table`."""
    frame = pl.read_parquet(tables / f"{table}.parquet")
    if where is not None:
        frame = frame.filter(where)
    values = frame.select("movie_id", column).drop_nulls().unique()
    joined = (
        pairs.select("movie_id", "neighbour_id")
        .join(values, on="movie_id")
        .join(values.rename({"movie_id": "neighbour_id"}), on=["neighbour_id", column])
    )
    return set(joined.select("movie_id", "neighbour_id").unique().iter_rows())


def test_artifact_reasons_name_signals_the_pairs_really_share(pairs: pl.DataFrame, sample_tables: Path) -> None:
    reasons = pairs.with_columns(pl.col("reason").str.split(","))
    named = reasons.explode("reason").filter(pl.col("reason") != "")
    assert set(named["reason"].unique().to_list()) <= set(RANKING_SIGNALS)
    assert (reasons["reason"].list.len() <= 2).all()
    assert pairs.filter(pl.col("reason") == "").height < pairs.height * 0.01

    def having(signal: str) -> set[tuple]:
        return set(named.filter(pl.col("reason") == signal).select("movie_id", "neighbour_id").iter_rows())

    movies = pl.read_parquet(sample_tables / "movies.parquet", columns=["id", "collection_id"])
    same_collection = set(
        pairs.join(movies.rename({"id": "movie_id", "collection_id": "a"}), on="movie_id")
        .join(movies.rename({"id": "neighbour_id", "collection_id": "b"}), on="neighbour_id")
        .filter(pl.col("a") == pl.col("b"))
        .select("movie_id", "neighbour_id")
        .iter_rows()
    )
    assert having("collection") and having("collection") <= same_collection
    director = pl.col("job") == "Director"
    assert having("director") <= _shared(sample_tables, "crew", "person_id", pairs, director)
    assert having("cast") <= _shared(sample_tables, "cast", "person_id", pairs)
    assert having("keywords") <= _shared(sample_tables, "keywords", "keyword_id", pairs)
    assert having("genres") <= _shared(sample_tables, "genres", "genre_id", pairs)


def test_adjacent_collection_pairs_name_it_when_its_weight_is_a_quarter_of_the_score(
    pairs: pl.DataFrame, sample_data: Path, sample_tables: Path
) -> None:
    """The blend's weights are ≥ 0, so a pair's score is the sum of its parts; a film's previous
    or next collection member scores both the ``collection`` and the ``adjacent`` signal, and
    when that part is over a quarter of the score the reason names it. The ranking mixes a head
    and a tail weight set per film (by how many training users liked it) and the reason is read
    under the set that dominates, so the part is bounded below by the smaller of the two sets'
    sums: with that bound, (nearly) every such pair names its collection."""
    manifest = json.loads((sample_data / "current" / "manifest.json").read_text())
    sets = manifest["model"]["weights"]
    weight = min(sets[part]["collection"] + sets[part]["adjacent"] for part in ("head", "tail"))
    assert weight > 0 and min(min(sets["head"].values()), min(sets["tail"].values())) >= 0
    movies = pl.read_parquet(sample_tables / "movies.parquet", columns=["id", "collection_id", "release_date"])
    previous, following = adjacent_members(
        movies["collection_id"].fill_null(-1).to_numpy(), movies["release_date"].to_numpy(), movies["id"].to_numpy()
    )
    ids = movies["id"].to_numpy()
    adjacent = (
        pl.DataFrame(
            {
                "movie_id": np.r_[ids, ids],
                "neighbour_id": np.r_[ids[previous], ids[following]],
                "kept": np.r_[previous, following] >= 0,
            }
        )
        .filter("kept")
        .drop("kept")
    )
    same = pairs.join(adjacent, on=["movie_id", "neighbour_id"]).filter(weight / pl.col("score") > 0.26)
    assert same.height > 50
    named = same["reason"].str.split(",").list.eval(pl.element().is_in(["collection", "adjacent"])).list.any()
    assert named.mean() >= 0.95, same.filter(~named).head()


def test_specific_signals_explain_a_pick_before_era_and_popularity() -> None:
    """Era, language and the priors are set aside when a specific signal makes ≥ 10% of the score."""
    names = ("era", "language", "popularity", "director", "genres", "cf_content")
    weights = dict.fromkeys(names, 1.0)
    # parts per candidate (columns): era, language, popularity, director, genres, cf_content
    signals = stack(
        [[0.50, 0.50, 0.50, 0.50, 0.0]],  # era
        [[0.30, 0.30, 0.30, 0.30, 0.0]],  # language
        [[0.10, 0.15, 0.19, 0.10, 0.0]],  # popularity
        [[0.10, 0.04, 0.00, 0.00, 0.0]],  # director
        [[0.00, 0.01, 0.01, 0.00, 0.0]],  # genres
        [[0.00, 0.00, 0.00, 0.10, 0.0]],  # a signal a newer model adds: specific too
    )
    pool = np.array([[10, 11, 12, 13, 14]])
    top = np.array([[10, 11, 12, 13, 14]])
    # 10: director 10% of 1.0 -> "director"; 11: the best specific part is 4% -> the generic rule;
    # 12: only genres, 1% -> the generic rule; 13: cf_content 10% -> alone; 14: nothing -> ""
    assert top_reasons(signals, names, weights, pool, top).tolist() == [
        ["director", "era,language", "era,language", "cf_content", ""]
    ]
    # two specific parts: each judged against their own sum (genres 0.01 / 0.05 = 20% < 25%)
    assert top_reasons(signals, names, weights, pool, top, prefer_share=0.03).tolist()[0][1] == "director"
    assert top_reasons(signals, names, weights, pool, top, prefer_share=2.0).tolist()[0][0] == "era,language"


def test_the_artifact_names_a_prior_only_when_nothing_specific_made_a_tenth_of_the_score(pairs: pl.DataFrame) -> None:
    """On the sample's artifact: a reason naming only generic signals is a pick whose specific
    parts were each under 10% (checked where the pair shares a collection: its part is large)."""
    from movierec.model.reasons import GENERIC

    named = pairs.with_columns(pl.col("reason").str.split(",").alias("names"))
    generic_only = named.filter(
        pl.col("names").list.eval(pl.element().is_in(list(GENERIC))).list.all() & (pl.col("reason") != "")
    )
    mixed = named.filter(
        pl.col("names").list.eval(pl.element().is_in(list(GENERIC))).list.any()
        & pl.col("names").list.eval(~pl.element().is_in(list(GENERIC))).list.any()
    )
    assert mixed.height == 0, mixed.head()  # a specific signal that counts sets every generic one aside
    assert generic_only.height < pairs.height


def test_every_signal_has_spanish_words_and_an_unknown_one_generic_words() -> None:
    from movierec.api.web_text import OTHER_REASON, REASON_PHRASES, reason_phrase

    assert set(RANKING_SIGNALS) | {"cf_content"} <= set(REASON_PHRASES)
    assert reason_phrase("collection,director") == "De la misma colección y del mismo director"
    assert reason_phrase("genres") == "De los mismos géneros"
    assert reason_phrase("a_signal_of_tomorrow") == OTHER_REASON[0].upper() + OTHER_REASON[1:]
    assert reason_phrase("keywords,a_signal_of_tomorrow") == "Con temas en común y parecida según el modelo"
    assert reason_phrase(",") == reason_phrase("") == ""
