"""`movierec pipeline`: releases, the atomic switch of DATA/current, pruning, failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from movierec.cli import app
from movierec.raw.files import InputError
from movierec.pipeline import publish
from movierec.release.store import ReleaseStore
from movierec.config import Settings


@pytest.fixture
def small_raw(tmp_path: Path, sample_raw: Path) -> Path:
    """The first 200 films of the real sample, for quick releases."""
    import gzip

    folder = tmp_path / "raw"
    folder.mkdir()
    for name in ("movies_metadata.csv.gz", "credits.csv.gz"):
        with gzip.open(sample_raw / name, "rt", encoding="utf-8", newline="") as handle:
            import csv

            rows = list(csv.reader(handle))[:201]
        with open(folder / name.removesuffix(".gz"), "w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows(rows)
    return folder


def test_release_layout_and_manifest(sample_data: Path) -> None:
    current = sample_data / "current"
    assert current.is_symlink()
    folder = current.resolve()
    assert folder.parent == (sample_data / "releases").resolve()
    manifest = json.loads((current / "manifest.json").read_text())
    assert manifest["release"] == folder.name
    assert manifest["tables"]["movies"] == pl.read_parquet(current / "tables" / "movies.parquet").height == 2993
    assert set(manifest["inputs"]) == {"movies_metadata.csv.gz", "credits.csv.gz", "keywords.csv.gz"}
    assert all(len(digest) == 64 for digest in manifest["inputs"].values())
    assert manifest["etl"]["movies"]["kept"] == 2993
    assert manifest["code_version"]
    assert set(manifest["durations"]) >= {"etl", "train", "total"}
    neighbours = pl.read_parquet(current / "model" / "neighbours.parquet")
    assert neighbours.height == 2993 * 20
    assert neighbours.filter(pl.col("movie_id") == pl.col("neighbour_id")).height == 0


def test_keeps_the_last_three_releases(small_raw: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, keep_releases=3)
    names = [publish(small_raw, data, settings)["release"] for _ in range(4)]
    assert sorted(p.name for p in (data / "releases").iterdir()) == names[1:]
    assert ReleaseStore(data).current() == (data / "releases" / names[-1]).resolve()


def test_failed_run_leaves_current_serving(small_raw: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    good = publish(small_raw, data, settings)["release"]
    (small_raw / "credits.csv").unlink()
    with pytest.raises(InputError):
        publish(small_raw, data, settings)
    assert ReleaseStore(data).current() == (data / "releases" / good).resolve()
    assert [p.name for p in (data / "releases").iterdir()] == [good]
    assert (data / "current" / "tables" / "movies.parquet").is_file()


def test_failure_inside_training_also_cleans_up(small_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data)
    good = publish(small_raw, data, settings)["release"]

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("training failed")

    monkeypatch.setattr("movierec.model.train.train", boom)
    with pytest.raises(RuntimeError):
        publish(small_raw, data, settings)
    assert [p.name for p in (data / "releases").iterdir()] == [good]
    assert ReleaseStore(data).current() == (data / "releases" / good).resolve()


def test_cli_pipeline(small_raw: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(app, ["pipeline", "--raw", str(small_raw), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "published release" in result.output
    assert (data / "current" / "manifest.json").is_file()
    shutil.rmtree(small_raw)
    result = CliRunner().invoke(app, ["pipeline", "--raw", str(small_raw), "--data", str(data)])
    assert result.exit_code == 2
    assert "missing input file" in result.output
