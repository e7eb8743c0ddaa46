"""The full ratings file: which file trains, reading it lazily as plain, .gz or .zip, bad files
stopping the run with one line (exit 2), the per-user cap, and evaluation users kept out."""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from movierec.cli import app
from movierec.config import Settings
from movierec.evaluation.run import evaluate_release
from movierec.model.train import train
from movierec.protocol.split import evaluation_users, training_users
from movierec.raw.files import InputError
from movierec.raw.ratings import catalogue_rows, like_rows, ratings_inputs, read_likes, read_ratings, read_split_likes

HEADER = "userId,movieId,rating,timestamp\n"
LINKS = "movieId,imdbId,tmdbId\n1,1,862\n2,2,8844\n3,3,862\n4,4,\n5,5,949\n"
# users 1, 2, 6 train (6 % 5 == 1 validates), 5 and 10 are evaluation users
RATINGS = (
    "1,1,4.0,100\n1,3,5.0,300\n1,2,4.5,200\n1,5,2.0,50\n"  # 862 twice (MovieLens 1 and 3): latest like 300
    "2,2,4.0,10\n2,5,4.0,10\n2,4,5.0,10\n"  # MovieLens 4 has no TMDB id
    "5,1,5.0,1\n5,2,5.0,1\n10,5,4.0,1\n"  # evaluation users
    "6,5,3.5,7\n6,2,4.0,8\n"
)
TRAINING_LIKES = [(1, 862, 300), (1, 8844, 200), (2, 949, 10), (2, 8844, 10), (6, 8844, 8)]


def write_raw(
    folder: Path, ratings: str = RATINGS, name: str = "ratings.csv", kind: str = "plain", header: str = HEADER
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "links.csv").write_text(LINKS)
    data = (header + ratings).encode()
    if kind == "gz":
        (folder / f"{name}.gz").write_bytes(gzip.compress(data))
    elif kind == "zip":
        with zipfile.ZipFile(folder / f"{name}.zip", "w") as archive:
            archive.writestr(name, data)
    else:
        (folder / name).write_bytes(data)
    return folder


def sorted_rows(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    return sorted(frame.rows())


@pytest.mark.parametrize("kind", ["plain", "gz", "zip"])
def test_reads_ratings_csv_plain_gz_and_zip(tmp_path: Path, kind: str) -> None:
    raw = write_raw(tmp_path, kind=kind)
    ratings, links = ratings_inputs(raw)  # type: ignore[misc]
    assert ratings.name == {"plain": "ratings.csv", "gz": "ratings.csv.gz", "zip": "ratings.csv.zip"}[kind]
    assert sorted_rows(read_likes(ratings, links, training_users)) == TRAINING_LIKES
    assert sorted_rows(read_likes(ratings, links, evaluation_users)) == [(5, 862, 1), (5, 8844, 1), (10, 949, 1)]
    # the evaluation reader: a user's best rating of a TMDB film, every rating (not only likes)
    assert read_ratings(ratings, links, training_users).rows() == [
        (1, 862, 5.0),
        (1, 949, 2.0),
        (1, 8844, 4.5),
        (2, 949, 4.0),
        (2, 8844, 4.0),
        (6, 949, 3.5),
        (6, 8844, 4.0),
    ]
    assert not list(tmp_path.glob("**/.movierec-*"))  # the .zip's temporary copy is gone


@pytest.mark.parametrize("kind", ["plain", "gz", "zip"])
def test_one_read_gives_both_halves_of_the_likes(tmp_path: Path, kind: str) -> None:
    """A build reads the ratings file once: the training users' likes (each at its latest like)
    for the model, and the evaluation users' liked films (their best rating, the first time they
    rated the film, as the evaluation always read them) for the evaluation alone. The training half
    is the same whatever the evaluation users rated."""
    held_out = "15,1,2.0,5\n15,3,4.0,9\n"  # an evaluation user who rated 862 twice: first at 5
    inputs = ratings_inputs(write_raw(tmp_path / "all", RATINGS + held_out, kind=kind))
    assert inputs is not None
    rows = catalogue_rows(pl.Series([862, 8844, 949]))
    likes = read_split_likes(inputs, rows, training_users, evaluation_users)
    assert likes.training.frame.rows() == [(1, 0, 300), (1, 1, 200), (2, 1, 10), (2, 2, 10), (6, 1, 8)]
    assert likes.held_out is not None
    assert likes.held_out.frame.rows() == [(5, 0, 1, 5.0), (5, 1, 1, 5.0), (10, 2, 1, 4.0), (15, 0, 5, 4.0)]
    assert likes.training.source == inputs[0].name
    training_lines = "".join(line + "\n" for line in RATINGS.splitlines() if int(line.split(",")[0]) % 5)
    training_only = ratings_inputs(write_raw(tmp_path / "training", training_lines, kind=kind))
    assert training_only is not None
    alone = read_split_likes(training_only, rows, training_users)
    assert alone.held_out is None and alone.training.frame.equals(likes.training.frame)
    assert not list(tmp_path.glob("**/.movierec-*"))  # the .zip's temporary copy is gone


def test_like_rows_keep_catalogue_films() -> None:
    likes = pl.DataFrame({"user_id": [2, 1, 1], "movie_id": [949, 862, 8844], "timestamp": [10, 300, 200]})
    index = pl.DataFrame({"id": [8844, 862], "row": [0, 1]})
    assert like_rows(likes, index).rows() == [(1, 0, 200), (1, 1, 300)]


def test_auto_prefers_ratings_csv_and_the_setting_forces_a_file(tmp_path: Path) -> None:
    raw = write_raw(tmp_path)
    (raw / "ratings_small.csv").write_text(HEADER + "1,1,4.0,0\n")
    assert ratings_inputs(raw)[0].name == "ratings.csv"  # type: ignore[index]
    assert ratings_inputs(raw, "full")[0].name == "ratings.csv"  # type: ignore[index]
    assert ratings_inputs(raw, "small")[0].name == "ratings_small.csv"  # type: ignore[index]
    (raw / "ratings.csv").unlink()
    assert ratings_inputs(raw)[0].name == "ratings_small.csv"  # type: ignore[index]
    with pytest.raises(InputError, match=r"expected ratings.csv\[.gz\|.zip\]"):
        ratings_inputs(raw, "full")
    (raw / "links.csv").unlink()
    assert ratings_inputs(raw) is None  # content-only model
    with pytest.raises(InputError, match=r"links\.csv"):
        ratings_inputs(raw, "small")
    with pytest.raises(InputError, match="auto, small, full"):
        ratings_inputs(raw, "big")


@pytest.mark.parametrize("kind", ["plain", "gz", "zip"])
def test_wrong_columns_stop_with_one_clear_line(tmp_path: Path, kind: str) -> None:
    raw = write_raw(tmp_path, kind=kind, header="user,movieId,score,timestamp\n")
    with pytest.raises(InputError) as caught:
        read_likes(*ratings_inputs(raw), users=training_users)  # type: ignore[misc]
    assert str(caught.value).startswith(f"{ratings_inputs(raw)[0].name}: missing columns userId, rating (found: ")  # type: ignore[index]


def test_unparseable_values_and_empty_files_are_input_errors(tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "bad", ratings="1,1,4.0,100\nx,2,4.0,5\n")
    with pytest.raises(InputError, match=r"ratings\.csv: unreadable values"):
        read_likes(*ratings_inputs(raw), users=training_users)  # type: ignore[misc]
    raw = write_raw(tmp_path / "empty", ratings="", header="")
    with pytest.raises(InputError, match=r"missing columns userId, movieId, rating, timestamp \(found: nothing"):
        read_likes(*ratings_inputs(raw), users=training_users)  # type: ignore[misc]
    (raw / "ratings.csv.zip").write_bytes(b"not a zip")
    (raw / "ratings.csv").unlink()
    with pytest.raises(InputError, match="not a zip archive"):
        read_likes(*ratings_inputs(raw), users=training_users)  # type: ignore[misc]


def _release_copy(sample_data: Path, data: Path) -> Path:
    release = (sample_data / "current").resolve()
    copy = data / "releases" / release.name
    shutil.copytree(release, copy)
    (data / "current").symlink_to(copy.relative_to(data))
    return copy


def test_cli_wrong_columns_exit_2(sample_data: Path, tmp_path: Path) -> None:
    raw = write_raw(tmp_path / "raw", kind="gz", header="userId,movie,rating,timestamp\n")
    data = tmp_path / "data"
    copy = _release_copy(sample_data, data)
    for command in (
        ["train", "--data", str(data), "--raw", str(raw)],
        ["evaluate", "--data", str(data), "--raw", str(raw)],
    ):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert (
            result.output.strip().splitlines()[-1]
            == "error: ratings.csv.gz: missing columns movieId (found: userId, movie, rating, timestamp)"
        )
    assert (data / "current").resolve() == copy  # nothing published
    assert sorted(p.name for p in (data / "releases").iterdir()) == [copy.name]


def _sample_as_ratings_csv(sample_raw: Path, folder: Path, keep_evaluation_users: bool) -> Path:
    """The real sample's ratings written as the full file's name (ratings.csv), beside links."""
    folder.mkdir()
    shutil.copy(sample_raw / "links.csv.gz", folder / "links.csv.gz")
    lines = gzip.decompress((sample_raw / "ratings_small.csv.gz").read_bytes()).decode().splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if keep_evaluation_users or int(line.split(",", 1)[0]) % 5]
    (folder / "ratings.csv").write_text("\n".join(kept) + "\n")
    return folder


@pytest.mark.slow
def test_full_file_trains_and_evaluation_users_never_reach_training(
    sample_tables: Path, sample_raw: Path, sample_data: Path, tmp_path: Path, cf_users: list
) -> None:
    """With ratings.csv (preferred over ratings_small.csv), training on the file with and without
    the evaluation users' ratings gives the same artifact and co-like table, and the
    collaborative model only ever sees training users."""
    full = _sample_as_ratings_csv(sample_raw, tmp_path / "full", keep_evaluation_users=True)
    without = _sample_as_ratings_csv(sample_raw, tmp_path / "without", keep_evaluation_users=False)
    (full / "ratings_small.csv").write_text(HEADER)  # present, but ratings.csv wins
    settings = Settings(data_dir=tmp_path)
    with_all = train(sample_tables, tmp_path / "model-full", settings, raw_dir=full)
    with_training_only = train(sample_tables, tmp_path / "model-without", settings, raw_dir=without)
    assert cf_users and all(users.size and (users % 5 != 0).all() for users in cf_users)
    for artifact in ("neighbours.parquet", "colikes.parquet"):
        assert pl.read_parquet(tmp_path / "model-full" / artifact).equals(
            pl.read_parquet(tmp_path / "model-without" / artifact)
        )
    assert with_all["cf"]["ratings"] == "ratings.csv"  # type: ignore[index]
    assert list(with_all["steps"])[:2] == ["read tables", "read ratings"]  # type: ignore[call-overload]  # not handed likes: it read them
    assert with_all["cf"]["training_users"] == with_training_only["cf"]["training_users"] == 536  # type: ignore[index]
    # the same ratings as the sample's ratings_small.csv: the same model as the published release
    published = sample_data / "current" / "model"
    assert pl.read_parquet(tmp_path / "model-full" / "neighbours.parquet").equals(
        pl.read_parquet(published / "neighbours.parquet")
    )
    # and the evaluation reads ratings.csv too, unless MOVIEREC_RATINGS says small
    assert evaluate_release(sample_data / "current", full)["ratings"] == "ratings.csv"
    with pytest.raises(InputError, match=r"expected ratings_small.csv\[.gz\|.zip\]"):
        evaluate_release(sample_data / "current", without, ratings="small")


def test_manifest_records_the_engine_steps_and_memory(sample_data: Path) -> None:
    manifest = json.loads((sample_data / "current" / "manifest.json").read_text())
    model = manifest["model"]
    assert model["engine"] == "local" and model["cf"]["engine"] == "local"
    assert model["cf"]["max_likes_per_user"] == 500
    # the ratings were read once for the whole build, by its likes step, before training
    assert list(manifest["durations"]).index("likes") < list(manifest["durations"]).index("train")
    stages = ["read tables", "co-likes", "features", "candidates", "borrowed", "signals", "tuning", "ranking"]
    assert list(model["steps"]) == [*stages, "personal"] and list(model["peak_rss_mb"]) == stages
    peaks = list(model["peak_rss_mb"].values())
    assert peaks == sorted(peaks) and peaks[0] > 0  # the peak so far only grows
