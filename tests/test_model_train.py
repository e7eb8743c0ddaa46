"""`movierec train`: the ratings split, evaluation users kept out of training, training without
ratings, the artifact's contract, the CLI, and the API serving exactly the artifact's top 5."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from movierec.cli import app
from movierec.config import Settings
from movierec.model.artifact import NEIGHBOURS_SCHEMA, REASON
from movierec.model.train import train
from movierec.protocol.split import evaluation_users, split_description, training_users
from movierec.raw.ratings import liked_rows, read_ratings, to_tmdb


def _write_raw(folder: Path, ratings: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "links.csv").write_text("movieId,imdbId,tmdbId\n1,1,862\n2,2,8844\n3,3,862\n4,4,\n")
    (folder / "ratings_small.csv").write_text("userId,movieId,rating,timestamp\n" + ratings)
    return folder


def test_read_ratings_splits_users_and_maps_to_tmdb(tmp_path: Path) -> None:
    raw = _write_raw(tmp_path, "1,1,4.0,0\n1,3,5.0,0\n5,2,4.0,0\n10,1,3.0,0\n6,2,2.0,0\n6,4,5.0,0\n")
    paths = (raw / "ratings_small.csv", raw / "links.csv")
    training = read_ratings(*paths, users=training_users)
    # users 1 and 6 train; MovieLens 1 and 3 are both TMDB 862: user 1's best rating counts;
    # MovieLens 4 has no TMDB id
    assert training.rows() == [(1, 862, 5.0), (6, 8844, 2.0)]
    assert read_ratings(*paths, users=evaluation_users).rows() == [(5, 8844, 4.0), (10, 862, 3.0)]
    index = pl.DataFrame({"id": [862, 8844], "row": [0, 1]})
    assert liked_rows(training, index).rows() == [(1, 0)]  # 2.0 is not a like


def test_to_tmdb_drops_unlinked_films() -> None:
    ratings = pl.DataFrame({"userId": [1, 1], "movieId": [1, 2], "rating": [4.0, 4.0]})
    links = pl.DataFrame({"movieId": [1, 2], "tmdbId": [7, None]}, schema={"movieId": pl.Int64, "tmdbId": pl.Int64})
    assert to_tmdb(ratings, links).rows() == [(1, 7, 4.0)]


def _gz_lines(path: Path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode().splitlines()


@pytest.mark.slow
def test_evaluation_users_ratings_never_reach_training(
    sample_tables: Path, sample_raw: Path, tmp_path: Path, cf_users: list
) -> None:
    """Training on the full ratings file and on the file without the evaluation users' ratings
    gives the same artifact; and the collaborative model only ever sees training users."""
    full = tmp_path / "full"
    without = tmp_path / "without"
    for folder in (full, without):
        folder.mkdir()
        shutil.copy(sample_raw / "links.csv.gz", folder / "links.csv.gz")
    shutil.copy(sample_raw / "ratings_small.csv.gz", full / "ratings_small.csv.gz")
    lines = _gz_lines(sample_raw / "ratings_small.csv.gz")
    kept = [lines[0]] + [line for line in lines[1:] if int(line.split(",", 1)[0]) % 5 != 0]
    assert len(kept) < len(lines) - 10_000  # the evaluation users rate a fifth of the file
    (without / "ratings_small.csv").write_text("\n".join(kept) + "\n")

    settings = Settings(data_dir=tmp_path)
    with_all = train(sample_tables, tmp_path / "model-full", settings, raw_dir=full)
    with_training_only = train(sample_tables, tmp_path / "model-without", settings, raw_dir=without)

    assert cf_users and all(users.size and (users % 5 != 0).all() for users in cf_users)
    assert pl.read_parquet(tmp_path / "model-full" / "neighbours.parquet").equals(
        pl.read_parquet(tmp_path / "model-without" / "neighbours.parquet")
    )
    assert pl.read_parquet(tmp_path / "model-full" / "personal.parquet").equals(
        pl.read_parquet(tmp_path / "model-without" / "personal.parquet")
    )
    timing = ("seconds", "steps", "peak_rss_mb")  # measurements

    def untimed(model: dict[str, object]) -> dict[str, object]:
        personal = {k: v for k, v in model["personal"].items() if k != "seconds"}  # type: ignore[attr-defined]
        return {k: v for k, v in model.items() if k not in timing and k != "cf"} | {"personal": personal}

    assert untimed(with_all) == untimed(with_training_only)
    assert with_all["cf"]["training_users"] == with_training_only["cf"]["training_users"] == 536  # type: ignore[index]


@pytest.mark.slow
def test_trains_without_ratings(sample_tables: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()  # a fresh machine: no ratings_small.csv, no links.csv
    model = train(sample_tables, tmp_path / "model", Settings(data_dir=tmp_path), raw_dir=raw)
    assert model["cf"] == {
        "used": False,
        "reason": "no ratings (ratings.csv or ratings_small.csv) and links.csv in RAW",
    }
    assert model["tuning"] == {"tuned": False}
    weights = model["weights"]
    assert weights["tail"]["cf"] == 0.0 and weights["tail"]["likes"] == 0.0  # type: ignore[index]
    neighbours = pl.read_parquet(tmp_path / "model" / "neighbours.parquet")
    assert neighbours.height == 2993 * 20
    assert model["adjacent_recall"] >= 0.95 and model["coverage"] >= 0.6  # type: ignore[operator]
    assert model["targets"]["met"] is True  # type: ignore[index]
    # no likes, no EASE lists: the personal scorer reads the film-to-film neighbours alone
    assert pl.read_parquet(tmp_path / "model" / "personal.parquet").height == 0
    assert model["personal"] == {
        "used": False,
        "method": "film-to-film neighbours only (no ratings)",
        "neighbour_weight": 1.0,
    }


# ----------------------------------------------------------------------------------------------
# The published release
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def neighbours(sample_data: Path) -> pl.DataFrame:
    return pl.read_parquet(sample_data / "current" / "model" / "neighbours.parquet")


def test_artifact_contract(neighbours: pl.DataFrame, sample_tables: Path) -> None:
    assert neighbours.schema == pl.Schema({**NEIGHBOURS_SCHEMA, REASON: pl.String})
    films = pl.read_parquet(sample_tables / "movies.parquet", columns=["id"])["id"]
    assert neighbours["movie_id"].n_unique() == films.len() == 2993
    per_film = neighbours.group_by("movie_id").agg(
        pl.col("rank").sort().alias("ranks"),
        pl.col("neighbour_id").n_unique().alias("distinct"),
        (pl.col("score").sort_by("rank").diff() <= 0).all().alias("best_first"),
    )
    assert per_film["ranks"].to_list() == [list(range(1, 21))] * 2993
    assert (per_film["distinct"] == 20).all()
    assert per_film["best_first"].all()
    assert neighbours.filter(pl.col("movie_id") == pl.col("neighbour_id")).height == 0
    assert neighbours["neighbour_id"].is_in(films.implode()).all()
    assert neighbours["score"].is_finite().all()


def test_sequels_come_first(neighbours: pl.DataFrame) -> None:
    """Every part of a series keeps its previous and next part (by release date) in its top 5; the
    other slots are free."""
    for series in ((105, 165, 196), (11, 1891, 1892)):  # Back to the Future; Star Wars IV-VI, in order
        for position, film in enumerate(series):
            top = neighbours.filter((pl.col("movie_id") == film) & (pl.col("rank") <= 5))["neighbour_id"].to_list()
            adjacent = set(series[max(position - 1, 0) : position + 2]) - {film}
            assert adjacent <= set(top), (film, top)


def test_manifest_records_what_the_model_learned(sample_data: Path) -> None:
    model = json.loads((sample_data / "current" / "manifest.json").read_text())["model"]
    assert model["k"] == 20 and model["rows"] == 2993 * 20
    assert set(model["weights"]) == {"tail", "head", "evidence"}
    assert (
        set(model["weights"]["head"])
        == set(model["weights"]["tail"])
        == {
            "text",
            "genres",
            "keywords",
            "cast",
            "director",
            "collection",
            "adjacent",
            "language",
            "era",
            "cf",
            "cf_content",
            "popularity",
            "quality",
            "likes",
        }
    )
    assert model["weights"]["tail"]["cf"] == 0.0 and model["targets"]["met"] is True
    assert 0 < model["tuning"]["candidate_recall"]["recall"] < 1
    personal = model["personal"]
    assert personal["used"] is True and personal["tuning"]["tuned"] is True
    assert personal["tuning"]["validation_users"] == 126  # validation users with ≥ 5 likes
    assert personal["training_users"] == 536 and personal["films_with_lists"] == 2060
    assert model["cf"]["used"] is True and model["cf"]["ratings"] == "ratings_small.csv.gz"
    assert model["cf"]["training_users"] == 536
    assert model["tuning"]["tuned"] is True and model["tuning"]["split"] == split_description()
    assert model["tuning"]["validation_users"] == 135
    assert model["vocabulary"]["keywords"] > 1000 and model["vocabulary"]["text_dims"] == 64
    assert model["coverage"] >= 0.6 and model["adjacent_recall"] >= 0.95 and model["generic_share"] <= 0.3
    assert model["tuning"]["hidden_films"] > 0 and "tail" in model["tuning"]  # new films' weights were tuned
    assert model["seconds"] > 0


@pytest.mark.slow
def test_cli_train_publishes_a_new_release_and_never_touches_the_served_one(
    sample_data: Path, sample_raw: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    release = sample_data / "current"
    copy = data / "releases" / release.resolve().name
    shutil.copytree(release.resolve(), copy)
    (data / "current").symlink_to(copy.relative_to(data))
    files_before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    before = pl.read_parquet(copy / "model" / "neighbours.parquet")

    result = CliRunner().invoke(app, ["train", "--data", str(data), "--raw", str(sample_raw)])
    assert result.exit_code == 0, result.output
    assert "59,860 neighbour rows for 2,993 films" in result.output
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == files_before  # untouched
    new = (data / "current").resolve()
    assert new != copy and new.parent == copy.parent
    assert f"built on {copy.name}" in result.output
    assert pl.read_parquet(new / "model" / "neighbours.parquet").equals(before)  # deterministic
    manifest = json.loads((new / "manifest.json").read_text())
    old_manifest = json.loads((copy / "manifest.json").read_text())
    assert manifest["built_on"] == copy.name
    assert manifest["model"]["weights"] == old_manifest["model"]["weights"]
    assert manifest["tables"] == old_manifest["tables"]
    assert (new / "tables" / "movies.parquet").stat().st_ino == (copy / "tables" / "movies.parquet").stat().st_ino
    assert (new / "evaluation.json").is_file()


def test_cli_train_without_a_release_fails_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "no release" in result.output


@pytest.mark.slow
def test_api_serves_exactly_the_artifacts_top_5(sample_data: Path, neighbours: pl.DataFrame) -> None:
    from movierec.api.app import create_app

    films = neighbours["movie_id"].unique().sort()
    picked = [862, *films.sample(40, seed=7).to_list()]
    with TestClient(create_app(sample_data, Settings(data_dir=sample_data))) as client:
        for film in picked:
            response = client.get(f"/peliculas/{film}/recomendaciones")
            assert response.status_code == 200, response.text
            served = response.json()["peliculas"]
            top5 = neighbours.filter((pl.col("movie_id") == film) & (pl.col("rank") <= 5)).sort("rank")
            assert [p["id"] for p in served] == top5["neighbour_id"].to_list()
            assert [p["puntaje"] for p in served] == pytest.approx(top5["score"].to_list(), rel=1e-6)
