"""`movierec evaluate`: metrics on tiny fixtures worked out by hand, baselines, the evaluation run,
and the goals on the real sample."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from movierec.cli import app
from movierec.evaluation.baselines import artifact_top, popular_top, random_top, seed_top
from movierec.evaluation.run import evaluate_release
from movierec.evaluation.tables import format_tables
from movierec.model.artifact import NEIGHBOURS_SCHEMA
from movierec.protocol.metrics import collection_recall, coverage, metrics, ndcg_at_k, precision_at_k
from movierec.raw.files import InputError

# Six films (rows 0..5), each with its top 2 (k = 2); -1 = no recommendation.
TOP = np.array(
    [
        [1, 3],  # film 0
        [0, 5],  # film 1
        [4, 5],  # film 2
        [4, 0],  # film 3
        [3, -1],  # film 4: only one neighbour
        [4, 0],  # film 5
    ]
)
# User 10 liked films 0, 1, 2; user 20 liked films 3, 4.
USERS = np.array([10, 10, 10, 20, 20])
LIKED = np.array([0, 1, 2, 3, 4])
# Films 0, 1, 2 form collection 7; film 3 is alone in collection 9; films 4, 5 form collection 8.
COLLECTION = np.array([7, 7, 7, 9, 8, 8])


def test_precision_at_k_by_hand() -> None:
    # (10, 0): top [1, 3], 10 liked 1 -> 1/2     (10, 1): top [0, 5], liked 0 -> 1/2
    # (10, 2): top [4, 5], none -> 0             (20, 3): top [4, 0], liked 4 -> 1/2
    # (20, 4): top [3, -], liked 3 -> 1/2 (still divided by k = 2)
    assert precision_at_k(TOP, USERS, LIKED, k=2) == pytest.approx((0.5 + 0.5 + 0 + 0.5 + 0.5) / 5)  # 0.4
    # k = 1, first recommendation only: (10,0) -> 1 yes, (10,1) -> 0 yes, (10,2) -> 4 no,
    # (20,3) -> 4 yes, (20,4) -> 3 yes: 4 hits of 5
    assert precision_at_k(TOP, USERS, LIKED, k=1) == pytest.approx(4 / 5)


def test_precision_counts_only_the_same_users_likes() -> None:
    # User 30 liked film 0 only: 1 and 3 (its top 2) were liked by others, not by 30.
    assert precision_at_k(TOP, np.array([30]), np.array([0]), k=2) == 0.0
    assert precision_at_k(TOP, np.array([], dtype=np.int64), np.array([], dtype=np.int64), k=2) == 0.0


def test_coverage_by_hand() -> None:
    # Films shown in any top 2: {1, 3, 0, 5, 4} -> 5 of 6; in any top 1: {1, 0, 4, 3} -> 4 of 6.
    assert coverage(TOP, k=2) == pytest.approx(5 / 6)
    assert coverage(TOP, k=1) == pytest.approx(4 / 6)


def test_collection_recall_by_hand() -> None:
    # Films in a collection of >= 2 catalogue films: 0, 1, 2 (collection 7) and 4, 5 (collection 8);
    # film 3's collection has only itself.
    # film 0: others {1, 2}, top [1, 3] -> 1 / min(2, 2) = 0.5
    # film 1: others {0, 2}, top [0, 5] -> 1 / 2 = 0.5
    # film 2: others {0, 1}, top [4, 5] -> 0
    # film 4: others {5},    top [3, -] -> 0 / min(1, 2) = 0
    # film 5: others {4},    top [4, 0] -> 1 / 1 = 1
    assert collection_recall(TOP, COLLECTION, k=2) == pytest.approx((0.5 + 0.5 + 0 + 0 + 1) / 5)  # 0.4


def test_collection_recall_counts_at_most_k_members() -> None:
    # Four films in one collection, k = 2: each film has 3 others but only 2 can count.
    top = np.array([[1, 2], [0, 3], [0, 9], [1, 8]] + [[0, 1]] * 6)
    collection = np.array([5, 5, 5, 5] + [-1] * 6)
    # films 0 and 1: 2 of 2; film 2: 1 of 2; film 3: 1 of 2 -> (1 + 1 + 0.5 + 0.5) / 4
    assert collection_recall(top, collection, k=2) == pytest.approx(0.75)


def test_collection_recall_without_collections_is_none() -> None:
    assert collection_recall(TOP, np.full(6, -1), k=2) is None
    assert collection_recall(TOP, np.array([1, 2, 3, 4, 5, 6]), k=2) is None  # all alone


def test_ndcg_at_k_by_hand() -> None:
    # discounts 1 (rank 1), 1/log2(3) (rank 2). User 10 liked 3 films (2 others each), user 20 2 (1 other).
    d2 = 1 / np.log2(3)
    # (10, 0): top [1, 3] hit at rank 1 -> 1 / (1 + d2)      (10, 1): [0, 5] hit at rank 1 -> 1 / (1 + d2)
    # (10, 2): [4, 5] none -> 0                              (20, 3): [4, 0] hit at rank 1 -> 1 / 1
    # (20, 4): [3, -] hit at rank 1 -> 1 / 1
    expected = (1 / (1 + d2) + 1 / (1 + d2) + 0 + 1 + 1) / 5
    assert ndcg_at_k(TOP, USERS, LIKED, k=2) == pytest.approx(expected)
    # hits at rank 2 only: user 30 liked 0 and 3 (one other film each); film 0's top is [1, 3],
    # film 3's [4, 0] -> d2 / 1 for both
    assert ndcg_at_k(TOP, np.array([30, 30]), np.array([0, 3]), k=2) == pytest.approx(d2)
    # a user who liked nothing else gets 0, not a division by zero
    assert ndcg_at_k(TOP, np.array([40]), np.array([0]), k=2) == 0.0
    assert ndcg_at_k(TOP, np.array([], dtype=np.int64), np.array([], dtype=np.int64), k=2) == 0.0


def test_metrics_bundle() -> None:
    assert metrics(TOP, USERS, LIKED, COLLECTION, k=2) == pytest.approx(
        {
            "precision_at_k": 0.4,
            "coverage": 5 / 6,
            "collection_recall": 0.4,
            "ndcg_at_k": (2 / (1 + 1 / np.log2(3)) + 2) / 5,
        }
    )


def test_popular_top_skips_the_film_itself() -> None:
    popularity = np.array([5.0, 9.0, 1.0, 9.0, 0.0, 3.0])
    # ranking: row 1 (9), row 3 (9, tie -> lower row first), row 0 (5), row 5 (3), ...
    assert popular_top(popularity, k=2).tolist() == [[1, 3], [3, 0], [1, 3], [1, 0], [1, 3], [1, 3]]


def test_random_top_is_seeded_distinct_and_never_the_film() -> None:
    top = random_top(50, k=5, seed=3)
    assert top.shape == (50, 5)
    assert (top != np.arange(50)[:, None]).all()
    assert all(len(set(row)) == 5 for row in top.tolist())
    assert ((top >= 0) & (top < 50)).all()
    assert np.array_equal(top, random_top(50, k=5, seed=3))
    assert not np.array_equal(top, random_top(50, k=5, seed=4))


def test_seed_top_resorts_the_nearest_by_vote_average() -> None:
    movies = pl.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "title": ["Space war", "Space war returns", "War in space", "Cooking"],
            "overview": ["rebels fight an empire", "rebels fight again", "an empire attacks", "a chef cooks"],
            "vote_average": [7.0, 5.0, 8.0, 6.0],
        }
    )
    genres = pl.DataFrame(
        {"movie_id": [1, 2, 3, 4], "genre": ["Action", "Action", "Action", "Drama"]},
        schema={"movie_id": pl.Int64, "genre": pl.String},
    )
    top = seed_top(movies, genres, k=2)
    # Film 1's two nearest by TF-IDF are films 2 and 3; shown by vote average: 3 (8.0) before 2 (5.0).
    assert top[0].tolist() == [2, 1]


def test_artifact_top_maps_ids_to_rows() -> None:
    neighbours = pl.DataFrame(
        {
            "movie_id": [10, 10, 10, 30],
            "rank": [1, 2, 3, 1],
            "neighbour_id": [30, 20, 99, 10],
            "score": [0.9, 0.5, 0.1, 0.7],
        },
        schema=NEIGHBOURS_SCHEMA,
    )
    row_index = pl.DataFrame({"id": [10, 20, 30], "row": [0, 1, 2]})
    # rank 3 of film 10 is beyond k = 2; film 20 has no neighbours; id 99 is not in the catalogue
    assert artifact_top(neighbours, row_index, 3, k=2).tolist() == [[2, 1], [-1, -1], [0, -1]]


# ----------------------------------------------------------------------------------------------
# The evaluation run on a tiny release
# ----------------------------------------------------------------------------------------------


def _tiny_release(tmp_path: Path) -> tuple[Path, Path]:
    """A release with 4 films and a hand-made artifact, and a RAW with ratings and links."""
    release = tmp_path / "release"
    (release / "tables").mkdir(parents=True)
    (release / "model").mkdir()
    pl.DataFrame(
        {
            "id": [100, 200, 300, 400],
            "title": ["Alpha", "Beta", "Gamma", "Delta"],
            "overview": ["a b", "a c", "d e", "d f"],
            "vote_average": [6.0, 7.0, 8.0, 5.0],
            "vote_count": [10, 40, 30, 20],
            "collection_id": [1, 1, None, None],
        }
    ).write_parquet(release / "tables" / "movies.parquet")
    pl.DataFrame({"movie_id": [100, 200, 300, 400], "genre": ["X", "X", "Y", "Y"]}).write_parquet(
        release / "tables" / "genres.parquet"
    )
    # top 2 of each film: 100 -> [200, 300], 200 -> [100, 400], 300 -> [400, 100], 400 -> [300, 200]
    pl.DataFrame(
        {
            "movie_id": [100, 100, 200, 200, 300, 300, 400, 400],
            "rank": [1, 2] * 4,
            "neighbour_id": [200, 300, 100, 400, 400, 100, 300, 200],
            "score": [0.9, 0.8, 0.9, 0.1, 0.7, 0.6, 0.7, 0.5],
        },
        schema=NEIGHBOURS_SCHEMA,
    ).write_parquet(release / "model" / "neighbours.parquet")
    (release / "manifest.json").write_text(json.dumps({"release": "tiny"}))
    raw = tmp_path / "raw"
    raw.mkdir()
    # MovieLens ids 1..5 -> TMDB 100, 200, 300, 400, and 999 (not in the catalogue).
    (raw / "links.csv").write_text("movieId,imdbId,tmdbId\n1,11,100\n2,22,200\n3,33,300\n4,44,400\n5,55,999\n6,66,\n")
    (raw / "ratings_small.csv").write_text(
        "userId,movieId,rating,timestamp\n"
        # evaluation user 5 liked 100, 200, 300 (and 999, outside the catalogue); 400 only rated 3
        "5,1,4.0,0\n5,2,5.0,0\n5,3,4.5,0\n5,4,3.0,0\n5,5,5.0,0\n"
        # evaluation user 10 liked 300 and 400
        "10,3,4.0,0\n10,4,4.0,0\n"
        # training users (1, 2, 3): never part of the evaluation
        "1,1,5.0,0\n1,4,5.0,0\n2,2,5.0,0\n2,3,5.0,0\n3,1,4.0,0\n3,2,4.0,0\n"
    )
    return release, raw


def test_evaluate_release_by_hand(tmp_path: Path) -> None:
    release, raw = _tiny_release(tmp_path)
    evaluation = evaluate_release(release, raw, k=2)
    assert (evaluation["k"], evaluation["films"], evaluation["users"], evaluation["pairs"]) == (2, 4, 2, 5)
    model = evaluation["table"][0]
    assert model["method"] == "model"
    # pairs: (5,100) top [200,300] -> 2/2; (5,200) top [100,400] -> 1/2; (5,300) top [400,100] -> 1/2
    #        (10,300) top [400,100] -> 1/2; (10,400) top [300,200] -> 1/2       mean = 3/5
    assert model["precision_at_k"] == pytest.approx(3.0 / 5)
    assert model["coverage"] == 1.0
    # collection 1 = {100, 200}: 100's top has 200, 200's top has 100 -> 1.0
    assert model["collection_recall"] == 1.0
    popular = evaluation["table"][2]
    assert popular["method"] == "most popular"
    # by vote count: 200 (40), 300 (30), 400 (20), 100 (10); top 2 of 200 is [300, 400], others [200, 300]
    # (5,100) [200,300] -> 1; (5,200) [300,400] -> 1/2; (5,300) [200,400] (itself skipped) -> 1/2
    # (10,300) [200,400] -> 1/2; (10,400) [200,300] -> 1/2            mean = 3/5
    assert popular["precision_at_k"] == pytest.approx(3.0 / 5)
    assert popular["coverage"] == pytest.approx(3 / 4)
    assert [row["method"] for row in evaluation["table"]] == [
        "model",
        "random",
        "most popular",
        "seed (tf-idf)",
        "co-occurrence count",
        "co-occurrence Jaccard",
    ]
    # training likes: user 1 {100, 400}, user 2 {200, 300}, user 3 {100, 200}. Co-likes: 100–400 1,
    # 200–300 1, 100–200 1. Count top 2 (ties to the lower row): 100 -> [200, 400], 200 -> [100, 300],
    # 300 -> [200, -], 400 -> [100, -]
    count = evaluation["table"][4]
    # (5,100) [200,400] -> 1/2; (5,200) [100,300] -> 2/2; (5,300) [200] -> 1/2; (10,300) [200] -> 0;
    # (10,400) [100] -> 0                                                  mean = 2/5
    assert count["precision_at_k"] == pytest.approx(2 / 5)
    assert count["coverage"] == 1.0 and count["collection_recall"] == 1.0
    # Jaccard: 100–400 1/(2+1-1) = 1/2, 200–300 1/2, 100–200 1/(2+2-1) = 1/3: 100 -> [400, 200]
    assert evaluation["table"][5]["precision_at_k"] == pytest.approx(2 / 5)  # the same films, another order
    # the users have no timestamps worth splitting: 2 likes or fewer each, so no personal evaluation user
    assert evaluation["personal"]["users"] == 0
    text = format_tables(evaluation)
    assert "| model | 0.600 | " in text and "| 100.0% | 1.000 |" in text
    assert "2 evaluation users" in text


def test_evaluation_needs_ratings(tmp_path: Path) -> None:
    release, raw = _tiny_release(tmp_path)
    (raw / "ratings_small.csv").unlink()
    with pytest.raises(InputError, match=r"ratings_small\.csv"):
        evaluate_release(release, raw, k=2)


# ----------------------------------------------------------------------------------------------
# The real sample
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_evaluation(sample_data: Path, sample_raw: Path) -> dict[str, object]:
    result = CliRunner().invoke(app, ["evaluate", "--data", str(sample_data), "--raw", str(sample_raw), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.slow
def test_goals_on_the_real_sample(sample_evaluation: dict[str, object]) -> None:
    rows = {row["method"]: row for row in sample_evaluation["table"]}  # type: ignore[attr-defined]
    model = rows["model"]
    assert model["precision_at_k"] >= 0.25
    # the catalogue's targets, held on the artifact itself (no users involved)
    assert model["coverage"] >= 0.60
    assert model["collection_recall"] >= 0.95
    film = sample_evaluation["goals"]["film_to_film"]  # type: ignore[index]
    checks = {check["goal"]: check for check in film["checks"]}
    best = max(
        rows[name]["stratified_precision_at_k"]
        for name in ("co-occurrence count", "co-occurrence Jaccard", "most popular")
    )
    assert checks["stratified precision@5"]["wanted"] == pytest.approx(1.1 * best)
    assert checks["generic share"]["met"] == (model["generic_share"] <= 0.30)
    assert film["met"] == all(check["met"] for check in film["checks"])
    # the measurements of the baselines, reproduced on the same users
    assert rows["seed (tf-idf)"]["precision_at_k"] == pytest.approx(0.067, abs=0.0005)
    assert rows["most popular"]["precision_at_k"] == pytest.approx(0.494, abs=0.0005)
    assert round(rows["most popular"]["coverage"] * sample_evaluation["films"]) == 6  # the "6 films"
    assert rows["random"]["precision_at_k"] < 0.05
    assert model["precision_at_k"] > 5 * rows["seed (tf-idf)"]["precision_at_k"]
    assert (sample_evaluation["users"], sample_evaluation["pairs"]) == (134, 6427)


def _sample_likes(sample_raw: Path, catalogue: list[int], evaluation: bool) -> dict[int, set[int]]:
    """{user: liked catalogue rows}, read with the csv module: a user's best rating of a TMDB film."""
    import csv
    import gzip
    import io

    def rows_of(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(gzip.decompress((sample_raw / name).read_bytes()).decode())))

    tmdb = {row["movieId"]: int(row["tmdbId"]) for row in rows_of("links.csv.gz") if row["tmdbId"]}
    row_of = {film: row for row, film in enumerate(catalogue)}
    best: dict[tuple[int, int], float] = {}
    for row in rows_of("ratings_small.csv.gz"):
        user, film = int(row["userId"]), tmdb.get(row["movieId"])
        if (user % 5 == 0) == evaluation and film in row_of:
            best[user, row_of[film]] = max(best.get((user, row_of[film]), 0.0), float(row["rating"]))
    likes: dict[int, set[int]] = {}
    for (user, film), rating in best.items():
        if rating >= 4:
            likes.setdefault(user, set()).add(film)
    return likes


@pytest.mark.slow
def test_the_cooccurrence_anchor_recomputed_by_hand(
    sample_evaluation: dict[str, object], sample_tables: Path, sample_raw: Path
) -> None:
    """The count anchor, written again with plain Python: for every film, the 5 films most training
    users liked with it (ties: the film more training users liked, then the lower row)."""
    catalogue = pl.read_parquet(sample_tables / "movies.parquet", columns=["id"])["id"].to_list()
    training = _sample_likes(sample_raw, catalogue, evaluation=False)
    co: dict[int, dict[int, int]] = {}
    support: dict[int, int] = {}
    for films in training.values():
        for a in films:
            support[a] = support.get(a, 0) + 1
            for b in films:
                if a != b:
                    co.setdefault(a, {})[b] = co.get(a, {}).get(b, 0) + 1
    top = {a: sorted(others, key=lambda b: (-others[b], -support[b], b))[:5] for a, others in co.items()}
    pairs = [
        (user, film) for user, films in _sample_likes(sample_raw, catalogue, evaluation=True).items() for film in films
    ]
    liked = _sample_likes(sample_raw, catalogue, evaluation=True)
    precision = sum(len(set(top.get(film, [])) & liked[user]) / 5 for user, film in pairs) / len(pairs)
    shown = {b for films in top.values() for b in films}
    row = next(r for r in sample_evaluation["table"] if r["method"] == "co-occurrence count")  # type: ignore[attr-defined]
    assert row["precision_at_k"] == pytest.approx(precision, abs=1e-12)
    assert row["coverage"] == pytest.approx(len(shown) / len(catalogue))


@pytest.mark.slow
def test_the_release_carries_its_evaluation_and_evaluate_never_modifies_it(
    sample_evaluation: dict[str, object], sample_data: Path, sample_raw: Path, tmp_path: Path
) -> None:
    release = (sample_data / "current").resolve()
    stored = json.loads((release / "evaluation.json").read_text())
    # measured at publish time, its anchors beside training (movierec.pipeline): the same figures
    assert stored["table"] == sample_evaluation["table"]
    assert stored["personal"]["table"] == sample_evaluation["personal"]["table"]  # type: ignore[index]
    assert "evaluation" not in json.loads((release / "manifest.json").read_text())
    manifest_before = (release / "manifest.json").read_bytes()
    out = tmp_path / "evaluation.json"
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n<!-- evaluation:begin -->\nold\n<!-- evaluation:end -->\nrest\n")
    table = CliRunner().invoke(
        app,
        ["evaluate", "--data", str(sample_data), "--raw", str(sample_raw), "--out", str(out), "--readme", str(readme)],
    )
    assert table.exit_code == 0
    written = readme.read_text()
    assert written.startswith("# Title\n<!-- evaluation:begin -->\nFilm to film") and written.endswith("-->\nrest\n")
    assert "old" not in written and table.output.strip() in written
    assert table.output.startswith("Film to film (`/recomendacion`):\n\n| method | precision@5 | nDCG@5 | coverage |")
    assert "Personal (`/recomendacion_usuario`):" in table.output
    assert json.loads(out.read_text())["release"] == release.name
    assert (release / "manifest.json").read_bytes() == manifest_before


def test_evaluate_without_a_release_fails_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["evaluate", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "no release" in result.output


def test_evaluate_refuses_a_readme_without_markers_before_measuring(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    result = CliRunner().invoke(app, ["evaluate", "--data", str(tmp_path), "--readme", str(readme)])
    assert result.exit_code == 2
    assert "the markers <!-- evaluation:begin --> … <!-- evaluation:end --> are missing" in result.output
    assert readme.read_text() == "no markers\n"


@pytest.mark.slow
def test_the_pipeline_measures_the_anchors_while_the_model_trains(
    sample_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The anchors start in another thread as soon as the tables exist, before the model is
    written; an error there fails the build (nothing published), as an evaluation error does."""
    from movierec import pipeline
    from movierec.config import Settings
    from movierec.evaluation import run as evaluation_run

    measure = evaluation_run.measure_anchors
    seen: list[tuple[str, bool, bool]] = []

    def spy(tables: Path, *args: object) -> object:
        release = tables.parent
        seen.append(
            (
                threading.current_thread().name,
                (tables / "movies.parquet").is_file(),
                (release / "model" / "neighbours.parquet").is_file(),
            )
        )
        return measure(tables, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(evaluation_run, "measure_anchors", spy)
    settings = Settings(data_dir=tmp_path / "data", report_on_publish=False)
    manifest = pipeline.publish(sample_raw, tmp_path / "data", settings)
    assert seen == [("movierec-spy", True, False)]
    assert json.loads((tmp_path / "data" / "current" / "evaluation.json").read_text())["users"] == 134
    assert manifest["durations"]["evaluation"] < manifest["durations"]["train"]  # type: ignore[index]

    def broken(*_: object) -> object:
        raise InputError("ratings.csv: the column 'rating' has values that are not numbers")

    monkeypatch.setattr(evaluation_run, "measure_anchors", broken)
    with pytest.raises(InputError, match="not numbers"):
        pipeline.publish(sample_raw, tmp_path / "data", settings)
    assert (tmp_path / "data" / "current").resolve() == (tmp_path / "data" / "releases" / str(manifest["release"]))
