"""The personal evaluation: the split in time, the metrics and the anchors on fixtures worked out
by hand, the evaluation users kept out of every fit, and the table on the real sample."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.evaluation import run as evaluation_run
from movierec.evaluation.cooccurrence import affinity_scores, cooccurrence_tops, like_matrix
from movierec.evaluation.personal import als_lists, choose_als, popular_lists, sar_lists, top_unnamed
from movierec.evaluation.run import evaluate_release
from movierec.evaluation.tables import BEGIN, END, format_tables, replace_block
from movierec.model.artifact import NEIGHBOURS_SCHEMA
from movierec.protocol.holdout import grouped, time_split
from movierec.protocol.list_metrics import coverage_of_lists, ranking_metrics


# -- the split in time ------------------------------------------------------------------------------
@pytest.mark.slow
@given(likes=st.lists(st.tuples(st.integers(1, 6), st.integers(0, 30), st.integers(0, 5)), max_size=80))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_the_split_never_lets_a_truth_like_reach_the_input(likes: list[tuple[int, int, int]]) -> None:
    frame = pl.DataFrame(
        likes, schema={"user_id": pl.Int64, "row": pl.Int64, "timestamp": pl.Int64}, orient="row"
    ).unique(["user_id", "row"], keep="first", maintain_order=True)
    given_, held = time_split(frame)
    counts = frame.group_by("user_id").len()
    kept = set(counts.filter(pl.col("len") >= 5)["user_id"].to_list())
    assert set(given_["user_id"].to_list()) | set(held["user_id"].to_list()) == kept
    for user in kept:
        mine = frame.filter(pl.col("user_id") == user)
        inp, out = given_.filter(pl.col("user_id") == user), held.filter(pl.col("user_id") == user)
        assert not set(inp["row"].to_list()) & set(out["row"].to_list())
        assert set(inp["row"].to_list()) | set(out["row"].to_list()) == set(mine["row"].to_list())
        assert inp.height == int(mine.height * 0.8) and out.height >= 1  # the earliest 80%, at least one held out
        assert inp["timestamp"].max() <= out["timestamp"].min()  # nothing held out is older than an input


def test_grouped_rows_per_user() -> None:
    frame = pl.DataFrame({"user_id": [3, 1, 3, 7], "row": [5, 2, 4, 1]})
    assert [g.tolist() for g in grouped(frame, np.array([1, 3, 9]))] == [[2], [4, 5], []]


# -- metrics ------------------------------------------------------------------------------------------
def test_ranking_metrics_by_hand() -> None:
    recommended = np.array([[7, 8, 9, 1], [4, 3, 2, 1]])
    truth = [np.array([9, 7, 5]), np.array([1])]
    d = 1 / np.log2(np.arange(2, 6))  # rank 1..4
    # user 0: hits at ranks 1 and 3 of 3 held out; ideal = ranks 1..3. user 1: hit at rank 4 of 1.
    scores = ranking_metrics(recommended, truth, k=4)
    assert scores["precision_at_k"] == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert scores["recall_at_k"] == pytest.approx((2 / 3 + 1 / 1) / 2)
    assert scores["ndcg_at_k"] == pytest.approx(((d[0] + d[2]) / d[:3].sum() + d[3] / d[0]) / 2)
    # only the first k count
    assert ranking_metrics(recommended, truth, k=1)["precision_at_k"] == pytest.approx(0.5)
    assert ranking_metrics(np.zeros((0, 4), dtype=np.int64), [], k=4)["ndcg_at_k"] == 0.0


def test_coverage_of_lists() -> None:
    assert coverage_of_lists(np.array([[1, 2, -1], [2, 3, 4]]), 10) == pytest.approx(4 / 10)


# -- anchors --------------------------------------------------------------------------------------------
# Training likes of 4 users over 5 films: user 1 {0, 1}, user 2 {0, 1, 2}, user 3 {1, 2}, user 4 {3}.
LIKES = like_matrix(np.array([1, 1, 2, 2, 2, 3, 3, 4]), np.array([0, 1, 0, 1, 2, 1, 2, 3]), 5)


def test_popular_lists_skip_the_named_films() -> None:
    support = np.asarray(LIKES.sum(axis=0)).ravel()  # [2, 3, 2, 1, 0]
    lists = popular_lists(support, k=3)([np.array([1]), np.array([0, 2])])
    assert lists.tolist() == [[0, 2, 3], [1, 3, 4]]  # ties to the lower row; a film nobody liked last


def test_sar_is_affinity_times_jaccard_by_hand() -> None:
    # Jaccard: 0–1 2/(2+3-2) = 2/3, 0–2 1/(2+2-1) = 1/3, 1–2 2/(3+2-2) = 2/3; film 3 shares nobody.
    scores = affinity_scores(LIKES, sp_row([0], [4.0], 5), "jaccard")  # a person who rated film 0 with 4
    assert scores.ravel().tolist() == pytest.approx([0.0, 4 * 2 / 3, 4 * 1 / 3, 0.0, 0.0])
    lists = sar_lists(LIKES, {(9, 0): 4.0, (9, 2): 5.0}, k=2)([np.array([0, 2])], np.array([9]))
    # film 1: 4 · 2/3 + 5 · 2/3 = 6 (the only film either shares); then 3 and 4 at 0, the lower row
    assert lists.tolist() == [[1, 3]]


def sp_row(rows: list[int], values: list[float], n: int):
    import scipy.sparse as sp

    return sp.csr_matrix((values, ([0] * len(rows), rows)), shape=(1, n))


def test_top_unnamed_never_returns_a_named_or_unscored_film() -> None:
    scores = np.array([[0.5, 0.9, -np.inf, 0.1]])
    assert top_unnamed(scores, [np.array([1])], 3).tolist() == [[0, 3, -1]]


def test_cooccurrence_ties_go_to_the_more_liked_film() -> None:
    # users: 1 {0, 1}, 2 {0, 2}, 3 {2}: film 0 shares one user with 1 and one with 2; 2 has more likes
    likes = like_matrix(np.array([1, 1, 2, 2, 3]), np.array([0, 1, 0, 2, 2]), 3)
    assert cooccurrence_tops(likes, 2)["count"][0].tolist() == [2, 1]


def test_cooccurrence_jaccard_by_hand() -> None:
    assert cooccurrence_tops(LIKES, 2, ("jaccard",))["jaccard"].tolist() == [[1, 2], [0, 2], [1, 0], [-1, -1], [-1, -1]]
    with pytest.raises(ValueError, match="unknown co-occurrence measure 'lift'"):
        cooccurrence_tops(LIKES, 2, ("count", "lift"))


def _tastes(users: int = 100, films: int = 20, seed: int = 1) -> pl.DataFrame:
    """Even users like even films, odd users odd films, in time order (no evaluation user)."""
    rng = np.random.default_rng(seed)
    rows = [
        (u, int(f), t)
        for u in range(1, users + 1)
        if u % 5
        for t, f in enumerate(rng.choice(np.arange(u % 2, films, 2), size=6, replace=False))
    ]
    return pl.DataFrame(rows, schema={"user_id": pl.Int64, "row": pl.Int64, "timestamp": pl.Int64}, orient="row")


@pytest.mark.slow
def test_als_is_chosen_on_validation_users_and_recommends_unnamed_films() -> None:
    training = _tastes()
    chosen = choose_als(training, 20, seed=0)
    assert (chosen["factors"], chosen["regularization"]) in [
        (t["factors"], t["regularization"]) for t in chosen["grid"]
    ]
    assert chosen["validation_users"] == 20 and len(chosen["grid"]) == 9
    shown = als_lists(like_matrix(training["user_id"].to_numpy(), training["row"].to_numpy(), 20), 8, 0.1, 0, k=5)(
        [np.array([0, 2]), np.array([1])]
    )
    assert shown.shape == (2, 5) and not {0, 2} & set(shown[0].tolist()) and 1 not in shown[1]
    assert (shown[0] % 2 == 0).sum() >= 4 and (shown[1] % 2 == 1).sum() >= 4  # it learned the two tastes


# -- the evaluation run -----------------------------------------------------------------------------------
def _release_and_raw(tmp_path: Path) -> tuple[Path, Path]:
    """Six films, a hand-made artifact, no EASE lists; evaluation user 5 liked 6 films in time."""
    release = tmp_path / "release"
    (release / "tables").mkdir(parents=True)
    (release / "model").mkdir()
    ids = [100, 200, 300, 400, 500, 600]
    pl.DataFrame(
        {
            "id": ids,
            "title": ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta"],
            "overview": ["space war", "space rebels", "a heist", "a chef", "sea monsters", "old west"],
            "vote_average": [5.0] * 6,
            "vote_count": [60, 50, 40, 30, 20, 10],
            "collection_id": [None] * 6,
        }
    ).write_parquet(release / "tables" / "movies.parquet")
    pl.DataFrame({"movie_id": ids, "genre": ["X"] * 6}).write_parquet(release / "tables" / "genres.parquet")
    pl.DataFrame(
        {"movie_id": [100, 200], "rank": [1, 1], "neighbour_id": [600, 500], "score": [1.0, 1.0]},
        schema=NEIGHBOURS_SCHEMA,
    ).write_parquet(release / "model" / "neighbours.parquet")
    (release / "manifest.json").write_text(
        json.dumps({"release": "tiny", "model": {"personal": {"neighbour_weight": 1.0}}})
    )
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "links.csv").write_text("movieId,imdbId,tmdbId\n" + "".join(f"{i},{i},{f}\n" for i, f in enumerate(ids, 1)))
    lines = ["userId,movieId,rating,timestamp"]
    # evaluation user 5 liked films 1..5 (ids 100..500) at times 1..5: 100..400 in, 500 held out
    lines += [f"5,{m},4.0,{m}" for m in range(1, 6)]
    # training users 1, 2 (never evaluated): 1 liked 500 and 600, 2 liked 600
    lines += ["1,5,5.0,1", "1,6,5.0,2", "2,6,4.0,1"]
    (raw / "ratings_small.csv").write_text("\n".join(lines) + "\n")
    return release, raw


def test_personal_table_by_hand_and_no_evaluation_user_reaches_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, raw = _release_and_raw(tmp_path)
    seen: dict[str, pl.DataFrame] = {}
    anchors = evaluation_run.personal_anchors

    def spy(training: pl.DataFrame, evaluation: pl.DataFrame, *args: object, **kwargs: object) -> object:
        seen["training"], seen["evaluation"] = training, evaluation
        return anchors(training, evaluation, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(evaluation_run, "personal_anchors", spy)
    evaluation = evaluate_release(release, raw, k=1)
    assert set(seen["training"]["user_id"].to_list()) == {1, 2}
    assert set(seen["evaluation"]["user_id"].to_list()) == {5}
    personal = evaluation["personal"]
    assert (personal["users"], personal["input_likes"], personal["truth_likes"]) == (1, 4, 1)
    rows = {row["method"]: row for row in personal["table"]}
    # model: the named films 100 and 200 list 600 and 500 as neighbours (rank 1, weight 1 each): 500
    # and 600 tie at 1.0, 500 (row 4) first -> the held-out film at rank 1 -> nDCG 1
    assert rows["model"]["ndcg_at_k"] == 1.0 and rows["model"]["precision_at_k"] == pytest.approx(0.1)
    # most popular among training likes: 600 (2 likes), 500 (1): 500 at rank 2 -> 1 / log2(3)
    assert rows["most popular"]["ndcg_at_k"] == pytest.approx(1 / np.log2(3))
    assert rows["most popular"]["coverage"] == pytest.approx(2 / 6)  # only 500 and 600 scored; then nothing
    ndcg = evaluation["goals"]["personal"]["checks"][0]
    assert ndcg["goal"] == "nDCG@10" and any(ndcg["basis"].startswith(f"1.1 × {name}'s ") for name in rows)
    # stratified recall: the only held-out film found -> 1.0, beside nDCG
    assert rows["model"]["stratified_recall_at_k"] == 1.0
    text = format_tables(evaluation)
    assert "| model | 0.100 | 1.000 | 1.000 | 1.000 | 33.3% |" in text
    assert "1 evaluation users with ≥ 5 likes: 4 likes in, 1 held out" in text


def test_replace_block_rewrites_between_the_markers_only() -> None:
    text = f"intro\n{BEGIN}\nold table\n{END}\noutro\n"
    assert replace_block(text, "new") == f"intro\n{BEGIN}\nnew\n{END}\noutro\n"
    with pytest.raises(ValueError, match="markers"):
        replace_block("no markers here", "new")


# -- the real sample ---------------------------------------------------------------------------------------
def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(gzip.decompress(path.read_bytes()).decode())))


def test_the_personal_table_on_the_real_sample_counts_its_users_independently(
    sample_data: Path, sample_raw: Path
) -> None:
    """The evaluation stored in the release: its personal users, likes in and held out, recounted
    from the raw CSVs with the csv module."""
    evaluation = json.loads((sample_data / "current" / "evaluation.json").read_text())
    catalogue = set(
        pl.read_parquet(sample_data / "current" / "tables" / "movies.parquet", columns=["id"])["id"].to_list()
    )
    tmdb = {row["movieId"]: int(row["tmdbId"]) for row in _csv(sample_raw / "links.csv.gz") if row["tmdbId"]}
    best: dict[tuple[int, int], float] = {}
    for row in _csv(sample_raw / "ratings_small.csv.gz"):
        user, film = int(row["userId"]), tmdb.get(row["movieId"])
        if user % 5 == 0 and film in catalogue:
            best[user, film] = max(best.get((user, film), 0.0), float(row["rating"]))
    likes: dict[int, int] = {}
    for (user, _), rating in best.items():
        if rating >= 4:
            likes[user] = likes.get(user, 0) + 1
    kept = {user: n for user, n in likes.items() if n >= 5}
    personal = evaluation["personal"]
    assert personal["users"] == len(kept)
    assert personal["input_likes"] == sum(int(n * 0.8) for n in kept.values())
    assert personal["truth_likes"] == sum(n - int(n * 0.8) for n in kept.values())
    methods = [row["method"] for row in personal["table"]]
    assert methods == ["model", "most popular", "SAR (affinity × Jaccard)", "ALS (implicit)"]
    best_anchor = max((row for row in personal["table"] if row["method"] != "model"), key=lambda r: r["ndcg_at_k"])
    ndcg = evaluation["goals"]["personal"]["checks"][0]
    assert ndcg["basis"] == f"1.1 × {best_anchor['method']}'s {best_anchor['ndcg_at_k']:.3f}"
    assert personal["anchors"]["als"]["validation_users"] == 126  # training users only chose ALS
