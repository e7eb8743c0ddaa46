"""The cold-start evaluation (issue 18): the selection, the first-weeks tables and the measures on
hand-made fixtures; the protocol on the real sample never lets a cold film's rating reach
training; the command line's wiring."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from movierec.cli import app
from movierec.config import Settings
from movierec.evaluation import cold as cold_module
from movierec.evaluation.cold import (
    COLD,
    FIRST_WEEKS,
    WARM,
    cold_goals,
    cold_people,
    exposure,
    first_weeks,
    own_top,
    parse_ids,
    personal_row,
    select_cold,
)
from movierec.evaluation.tables import format_tables
from movierec.protocol.metrics import Films, popularity_weights


# -- the selection -----------------------------------------------------------------------------------
def _by_hand(ids: list[int], likes: list[int], salt: str, count: int) -> list[int]:
    """The eligible films (≥ 8 likes) with the smallest blake2b hash, written with hashlib alone."""

    def digest(film: int) -> int:
        return int.from_bytes(hashlib.blake2b(f"{salt}:{film}".encode(), digest_size=8).digest(), "big")

    eligible = [film for film, n in zip(ids, likes, strict=True) if n >= 8]
    return sorted(sorted(eligible, key=lambda film: (digest(film), film))[:count])


def test_the_selection_is_deterministic_and_respects_the_likes() -> None:
    ids = np.arange(100, 140)  # 40 films
    likes = np.array([3, 8, 12, 7, 40] * 8)  # 3 and 7 likes: never cold
    chosen = select_cold(ids, likes, salt="s1", fraction=0.25)  # round(0.25 × 40) = 10 of the 24 eligible
    assert chosen.tolist() == _by_hand(ids.tolist(), likes.tolist(), "s1", 10)
    assert chosen.size == 10 and set(likes[np.isin(ids, chosen)].tolist()) <= {8, 12, 40}
    assert np.array_equal(chosen, select_cold(ids[::-1], likes[::-1], salt="s1", fraction=0.25))  # row order: none
    other = select_cold(ids, likes, salt="s2", fraction=0.25)
    assert other.tolist() == _by_hand(ids.tolist(), likes.tolist(), "s2", 10) and not np.array_equal(chosen, other)
    # more wanted than qualify: every eligible film
    assert select_cold(ids, likes, salt="s1", fraction=0.9).size == 24
    assert select_cold(ids, np.zeros(40), salt="s1").size == 0


def test_the_cli_defaults_are_the_protocols() -> None:
    from movierec.cli import model

    assert (model.COLD_SALT, model.COLD_FRACTION) == (cold_module.DEFAULT_SALT, cold_module.DEFAULT_FRACTION)


def test_parse_ids() -> None:
    assert parse_ids("1,2 3\n\n# none\n4 # four\n") == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="'Toy' is not a TMDB id"):
        parse_ids("862\nToy Story\n")


def test_first_weeks_caps_the_cold_films_only() -> None:
    movies = pl.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "vote_count": [500, 20, None, 900],
            "popularity": [30.0, 0.5, 4.0, 8.0],
            "title": ["a", "b", "c", "d"],
        }
    )
    # catalogue median popularity: (4 + 8) / 2 = 6; films 1, 2, 3 cold
    out = first_weeks(movies, np.array([1, 2, 3]), vote_cap=50)
    assert out["vote_count"].to_list() == [50, 20, None, 900]
    assert out["popularity"].to_list() == [6.0, 0.5, 4.0, 8.0]
    assert out["title"].to_list() == ["a", "b", "c", "d"] and out.schema == movies.schema


# -- the measures -------------------------------------------------------------------------------------
# 5 films; 0 and 3 cold. Likes 1, 100, 4, 0, 25 -> weights 1, 0.1, 0.5, 1, 0.2.
FILMS = Films(
    collection=np.full(5, -1),
    likes=np.array([1, 100, 4, 0, 25]),
    vote_count=np.array([9, 50, 1, 2, 40]),
    release=np.zeros(5),
    ids=np.arange(5),
)
COLD_ROWS = np.array([0, 3])
TOP = np.array([[1, 2], [0, 4], [3, 0], [4, 1], [1, 0]])
# user 1 liked 0, 1, 2; user 2 liked 3, 4; user 3 liked 2 only
USERS, ROWS = np.array([1, 1, 1, 2, 2, 3]), np.array([0, 1, 2, 3, 4, 2])


def test_own_top_and_exposure_by_hand() -> None:
    scores = own_top(TOP, USERS, ROWS, FILMS, COLD_ROWS, k=2)
    # cold pairs: (1, 0) top [1, 2] both liked -> 2/2; (2, 3) top [4, 1]: 4 liked -> 1/2
    assert scores["precision_at_k"] == pytest.approx((1 + 0.5) / 2)
    # stratified: (1, 0) others 1 (0.1), 2 (0.5): best 0.6, gained 0.6 -> 1; (2, 3) other 4 (0.2): gained 0.2 -> 1
    assert scores["stratified_precision_at_k"] == pytest.approx(1.0)
    # generic: the 20 most liked are every film someone liked (0, 1, 2, 4; not 3): film 0's [1, 2]
    # and film 3's [4, 1] -> 4 of 4
    assert scores["generic_share"] == 1.0
    # slots of 0 or 3 in all lists: film 1's 0, film 2's 3 and 0, film 4's 0
    assert exposure(TOP, COLD_ROWS, k=2) == 4
    assert exposure(TOP, COLD_ROWS, k=1) == 2  # film 1's 0, film 2's 3


def test_cold_people_and_their_recall_by_hand() -> None:
    people, inputs, truth = cold_people(USERS, ROWS, COLD_ROWS, most=10)
    # user 1: 0 cold, 1 and 2 not; user 2: 3 cold, 4 not; user 3 liked no cold film
    assert people.tolist() == [1, 2]
    assert [x.tolist() for x in inputs] == [[1, 2], [4]] and [x.tolist() for x in truth] == [[0], [3]]
    weights = popularity_weights(FILMS.likes)
    shown = np.array([[0, 4, 3], [2, 1, -1]])  # user 1 finds 0; user 2 misses 3
    row = personal_row(WARM, shown, truth, COLD_ROWS, weights)
    assert row == {"method": WARM, "recall_at_k": 0.5, "stratified_recall_at_k": 0.5, "reach": 1}


def test_cold_goals_by_hand() -> None:
    own = [
        {"method": WARM, "stratified_precision_at_k": 0.10, "generic_share": 0.8, "exposure": 1000},
        {"method": COLD, "stratified_precision_at_k": 0.095, "generic_share": 0.31, "exposure": 700},
        {"method": FIRST_WEEKS, "stratified_precision_at_k": 0.0, "generic_share": 1.0, "exposure": 0},
        {"method": "most popular", "stratified_precision_at_k": 0.09, "generic_share": 1.0, "exposure": 5},
    ]
    personal = [{"method": WARM, "recall_at_k": 0.3}, {"method": COLD, "recall_at_k": 0.14}]
    checks = cold_goals(own, personal)["checks"]
    # 0.095 ≥ 0.9 × 0.10; 0.095 < 1.1 × 0.09 = 0.099; 31% > 30%; 700 / 1000 ≥ 70%; 0.14 < 0.5 × 0.3
    assert [c["met"] for c in checks] == [True, False, False, True, False]  # type: ignore[index]
    assert checks[4]["wanted"] == pytest.approx(0.15)  # type: ignore[index]


# -- the protocol on the real sample --------------------------------------------------------------------
@pytest.fixture(scope="module")
def cold_run(sample_data: Path, sample_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One cold run on the sample's release (the cold model only, no ALS): what it returned, the
    likes every stage of training received, and where the model was written."""
    from movierec.evaluation import personal
    from movierec.evaluation.cold_run import cold_evaluation
    from movierec.evaluation.run import measure_anchors, needed_likes
    from movierec.model import train
    from movierec.model.personal import PersonalRecommender

    seen: dict[str, list[pl.DataFrame]] = {"collaborative": [], "personal": []}
    collaborative, fit = train.fit_collaborative, PersonalRecommender.fit

    def spy_collaborative(likes: pl.DataFrame, *args: object) -> object:
        seen["collaborative"].append(likes)
        return collaborative(likes, *args)  # type: ignore[arg-type]

    def spy_personal(self: PersonalRecommender, likes: pl.DataFrame, *args: object, **kwargs: object) -> object:
        seen["personal"].append(likes)
        return fit(self, likes, *args, **kwargs)  # type: ignore[arg-type]

    release, work = (sample_data / "current").resolve(), tmp_path_factory.mktemp("cold")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(personal, "implicit_available", lambda: False)
        anchored = measure_anchors(release / "tables", needed_likes(sample_raw, release / "tables"))
        patch.setattr(train, "fit_collaborative", spy_collaborative)
        patch.setattr(PersonalRecommender, "fit", spy_personal)
        result = cold_evaluation(release, Settings(data_dir=sample_data), anchored, with_first_weeks=False, work=work)
    return {"result": result, "seen": seen, "work": work, "anchored": anchored, "release": release}


@pytest.mark.slow
def test_no_cold_films_rating_reaches_training(cold_run: dict[str, object]) -> None:
    result, seen, work = cold_run["result"], cold_run["seen"], cold_run["work"]
    assert isinstance(result, dict) and isinstance(seen, dict) and isinstance(work, Path)
    cold = set(result["ids"])
    ids = pl.read_parquet(Path(cold_run["release"]) / "tables" / "movies.parquet", columns=["id"])["id"]  # type: ignore[arg-type]
    cold_rows = set(np.flatnonzero(ids.is_in(list(cold)).to_numpy()).tolist())
    assert len(cold_rows) == len(cold) == 135  # 4.5% of the sample's 2,993 films
    # every stage got the training likes, none of a cold film
    assert len(seen["collaborative"]) == 1 and len(seen["personal"]) == 1
    for likes in seen["collaborative"] + seen["personal"]:
        assert likes.height > 20_000 and not set(likes["row"].to_list()) & cold_rows
    # the artifacts: no co-like row and no EASE list holds a cold film, as a source or as a target
    colikes = pl.read_parquet(work / "cold" / "colikes.parquet")
    ease = pl.read_parquet(work / "cold" / "personal.parquet")
    for frame in (colikes, ease):
        assert frame.height and not set(frame["movie_id"].to_list()) & cold
    assert not set(colikes["neighbour_id"].to_list()) & cold
    # a cold film is an EASE list's target only among the entries borrowed from its content
    # neighbours, after the list's 200 EASE weights (model.borrow.borrowed_weights)
    assert (ease.filter(pl.col("neighbour_id").is_in(list(cold)))["rank"] >= 200).all()
    # … while the cold films still get lists of their own (content) and appear in others'
    neighbours = pl.read_parquet(work / "cold" / "neighbours.parquet")
    assert set(neighbours["movie_id"].to_list()) >= cold


@pytest.mark.slow
def test_the_cold_films_were_liked_by_8_training_users(cold_run: dict[str, object], sample_raw: Path) -> None:
    """The selection on the sample, its likes recounted from the raw CSVs with the csv module."""
    import csv
    import gzip
    import io

    def rows_of(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(gzip.decompress((sample_raw / name).read_bytes()).decode())))

    tmdb = {row["movieId"]: int(row["tmdbId"]) for row in rows_of("links.csv.gz") if row["tmdbId"]}
    best: dict[tuple[int, int], float] = {}
    for row in rows_of("ratings_small.csv.gz"):
        user, film = int(row["userId"]), tmdb.get(row["movieId"])
        if user % 5 and film is not None:
            best[user, film] = max(best.get((user, film), 0.0), float(row["rating"]))
    likes: dict[int, int] = {}
    for (_, film), rating in best.items():
        likes[film] = likes.get(film, 0) + (rating >= 4)
    result = cold_run["result"]
    assert isinstance(result, dict)
    assert min(likes[film] for film in result["ids"]) >= 8
    anchored = cold_run["anchored"]
    ids = pl.read_parquet(Path(cold_run["release"]) / "tables" / "movies.parquet", columns=["id"])["id"].to_numpy()  # type: ignore[arg-type]
    assert select_cold(ids, anchored.films.likes).tolist() == result["ids"]  # type: ignore[attr-defined]


@pytest.mark.slow
def test_the_cold_tables_on_the_sample(cold_run: dict[str, object]) -> None:
    result = cold_run["result"]
    assert isinstance(result, dict)
    own = {row["method"]: row for row in result["own"]}
    assert list(own) == [WARM, COLD, "most popular", "seed (tf-idf)"]
    people = {row["method"]: row for row in result["personal"]["table"]}
    # trained without them, a cold film reaches a personal list only through the weights it borrows
    # from the films like it (model.borrow.borrowed_weights), far less often than with its likes
    assert people[WARM]["reach"] > people[COLD]["reach"] >= 0
    assert result["personal"]["truth_likes"] == result["pairs"]  # every cold like of those users is truth
    assert own[WARM]["exposure"] > own[COLD]["exposure"] > 0
    assert [c["goal"] for c in result["goals"]["checks"]][-1] == "personal: recall@10 of cold likes"
    text = format_tables({"k": 5, "table": [], "films": 2993, "users": 0, "pairs": 0, "cold": result})
    assert "| what | warm model | model, films cold | most popular | seed (tf-idf) |" in text
    assert "| personal lists holding any cold film | " in text and " | — | — |" in text


def test_the_hook_refuses_spark() -> None:
    from movierec.model.train import train

    with pytest.raises(ValueError, match="local engine"):
        train(Path("/nonexistent"), Path("/nonexistent"), Settings(), engine="spark", hidden=frozenset({1}))


# -- the command line -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_evaluate_cold_wiring(
    cold_run: dict[str, object], sample_data: Path, sample_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--cold-ids: the file's ids reach the cold run (measured once above: not again here), --json
    and --readme carry its tables; a bad ids file stops before anything is measured."""
    from movierec.evaluation import cold_run as cold_run_module
    from movierec.evaluation import personal

    calls: list[dict[str, object]] = []

    def fake(*args: object, **kwargs: object) -> dict[str, object]:
        calls.append(kwargs)
        return cold_run["result"]  # type: ignore[return-value]

    monkeypatch.setattr(cold_run_module, "cold_evaluation", fake)
    monkeypatch.setattr(personal, "implicit_available", lambda: False)
    ids = tmp_path / "cold.txt"
    ids.write_text("862, 8844\n# comment\n999999999\n")
    readme = tmp_path / "README.md"
    readme.write_text("<!-- evaluation:begin -->\n<!-- evaluation:end -->\n")
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--data",
            str(sample_data),
            "--raw",
            str(sample_raw),
            "--json",
            "--cold-ids",
            str(ids),
            "--readme",
            str(readme),
        ],
    )
    assert result.exit_code == 0, result.output
    assert calls[0]["cold_ids"] == [862, 8844, 999999999] and calls[0]["k"] == 5
    assert json.loads(result.output)["cold"]["films"] == 135
    written = readme.read_text()
    assert "Cold start (`movierec evaluate --cold`):" in written and "`movierec evaluate --cold --readme`" in written
    assert "- cold start, exposure (share of the warm model's" in written
    ids.write_text("862\nToy Story\n")
    bad = CliRunner().invoke(app, ["evaluate", "--data", str(sample_data), "--cold-ids", str(ids)])
    assert bad.exit_code == 2 and "'Toy' is not a TMDB id" in bad.output and len(calls) == 1
