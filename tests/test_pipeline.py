"""`movierec pipeline`: releases, the atomic switch of DATA/current, pruning, failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from tests.helpers import copy_data, write_small_raw
from typer.testing import CliRunner

from movierec.cli import app
from movierec.config import SAMPLE_RAW_DIR, Settings
from movierec.pipeline import ReleaseRefused, publish
from movierec.raw.files import InputError
from movierec.release.store import ReleaseStore


@pytest.fixture
def small_raw(tmp_path: Path, sample_raw: Path) -> Path:
    return write_small_raw(tmp_path / "raw", sample_raw)


@pytest.fixture
def data_with_release(small_release: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of conftest's ``small_release`` (its symlink kept) and the name of its release."""
    data = copy_data(small_release, tmp_path / "data")
    return data, ReleaseStore(data).current().name


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


def test_a_new_release_prunes_the_oldest_beyond_keep(small_raw: Path, data_with_release: tuple[Path, str]) -> None:
    data, first = data_with_release
    older = [f"2020010{i}T000000000000Z" for i in (1, 2, 3)]
    for name in older:  # three older complete releases
        (data / "releases" / name).mkdir()
        (data / "releases" / name / "manifest.json").write_text(json.dumps({"release": name}))
    manifest = publish(small_raw, data, Settings(data_dir=data, keep_releases=3, report_on_publish=False))
    assert sorted(p.name for p in (data / "releases").iterdir()) == [older[2], first, manifest["release"]]
    assert ReleaseStore(data).current() == (data / "releases" / manifest["release"]).resolve()
    assert manifest["built_on"] == first


def test_failed_run_leaves_current_serving(small_raw: Path, data_with_release: tuple[Path, str]) -> None:
    data, good = data_with_release
    (small_raw / "credits.csv").unlink()
    with pytest.raises(InputError):
        publish(small_raw, data, Settings(data_dir=data, report_on_publish=False))
    assert ReleaseStore(data).current() == (data / "releases" / good).resolve()
    assert [p.name for p in (data / "releases").iterdir()] == [good]
    assert (data / "current" / "tables" / "movies.parquet").is_file()


def test_failure_inside_training_also_cleans_up(
    small_raw: Path, data_with_release: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, good = data_with_release

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("training failed")

    monkeypatch.setattr("movierec.model.train.train", boom)
    with pytest.raises(RuntimeError):
        publish(small_raw, data, Settings(data_dir=data, report_on_publish=False))
    assert [p.name for p in (data / "releases").iterdir()] == [good]
    assert ReleaseStore(data).current() == (data / "releases" / good).resolve()


def test_a_release_the_api_cannot_load_is_not_published(
    small_raw: Path, data_with_release: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, good = data_with_release
    import movierec.model.train as training

    real_train = training.train

    def train_without_artifact(tables: Path, model: Path, *args: object, **kwargs: object) -> dict[str, object]:
        info = real_train(tables, model, *args, **kwargs)
        (model / "neighbours.parquet").write_bytes(b"PAR1 truncated")
        return info

    monkeypatch.setattr(training, "train", train_without_artifact)
    with pytest.raises(ReleaseRefused, match="the API cannot load it"):
        publish(small_raw, data, Settings(data_dir=data, report_on_publish=False))
    assert [p.name for p in (data / "releases").iterdir()] == [good]
    assert ReleaseStore(data).current() == (data / "releases" / good).resolve()


def test_the_shrink_guard_compares_with_the_lineages_largest_release(
    sample_raw: Path, data_with_release: tuple[Path, str], tmp_path: Path
) -> None:
    """200 → 110 films passes the 50% guard; 110 → 60 would pass it too when compared with the
    previous release only, but 60 is under half of the lineage's 200: refused. --allow-shrink
    publishes it and restarts the lineage's count at 60."""
    data, good = data_with_release  # 200 films
    assert json.loads((data / "current" / "manifest.json").read_text())["lineage_max_films"] == 200
    fewer, fewest = (write_small_raw(tmp_path / name, sample_raw, films=n) for name, n in (("110", 110), ("60", 60)))
    result = CliRunner().invoke(app, ["pipeline", "--raw", str(fewer), "--data", str(data)])
    assert result.exit_code == 0, result.output
    middle = ReleaseStore(data).current().name
    assert json.loads((data / "current" / "manifest.json").read_text())["lineage_max_films"] == 200
    result = CliRunner().invoke(app, ["pipeline", "--raw", str(fewest), "--data", str(data)])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert errors == [
        "error: the new release has 60 films, fewer than 50% of the 200 films of the largest release "
        "in its lineage (the current release has 110): not published (pass --allow-shrink if this "
        "is intended)"
    ]
    assert "Traceback" not in result.output
    assert ReleaseStore(data).current().name == middle
    assert sorted(p.name for p in (data / "releases").iterdir()) == sorted([good, middle])  # no debris
    result = CliRunner().invoke(app, ["pipeline", "--raw", str(fewest), "--data", str(data), "--allow-shrink"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((data / "current" / "manifest.json").read_text())
    assert (manifest["tables"]["movies"], manifest["lineage_max_films"], manifest["built_on"]) == (60, 60, middle)


def test_a_release_without_a_recorded_lineage_counts_its_own_films() -> None:
    from movierec.pipeline import lineage_films

    assert lineage_films({"tables": {"movies": 2993}}) == (2993, 2993)
    assert lineage_films({"tables": {"movies": 844}, "lineage_max_films": 2993}) == (844, 2993)
    assert lineage_films({"tables": {"movies": 844}, "lineage_max_films": True}) == (844, 844)  # not a count
    assert lineage_films({}) == (0, 0)


def test_a_catalogue_too_small_to_recommend_from_is_refused_before_training(
    sample_raw: Path, data_with_release: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """5 films cannot fill a list of 5 recommendations (one film crashed training): one line, exit
    2, training never started, current untouched; 6 films pass this check."""
    import movierec.model.train as train_module

    data, good = data_with_release
    trained: list[Path] = []
    real_train = train_module.train
    monkeypatch.setattr(
        train_module, "train", lambda tables, *a, **k: trained.append(tables) or real_train(tables, *a, **k)
    )
    five = write_small_raw(tmp_path / "five", sample_raw, films=5)
    result = CliRunner().invoke(app, ["pipeline", "--raw", str(five), "--data", str(data), "--allow-shrink"])
    assert result.exit_code == 2
    assert [line for line in result.output.splitlines() if line.startswith("error: ")] == [
        "error: the new release was not published: the ETL kept 5 films in the catalogue, fewer than the 6 "
        "needed to recommend 5 per film (MOVIEREC_RECOMMENDATIONS + 1)"
    ]
    assert trained == [] and ReleaseStore(data).current().name == good
    assert [p.name for p in (data / "releases").iterdir()] == [good]
    one = write_small_raw(tmp_path / "one", sample_raw, films=1)
    result = CliRunner().invoke(app, ["pipeline", "--raw", str(one), "--data", str(data), "--allow-shrink"])
    assert result.exit_code == 2 and "the ETL kept 1 film in the catalogue" in result.output


@pytest.mark.slow
def test_training_itself_refuses_too_few_films(sample_raw: Path, tmp_path: Path) -> None:
    from movierec.etl.run import run_etl
    from movierec.model.train import CatalogueTooSmall, train

    run_etl(write_small_raw(tmp_path / "raw", sample_raw, films=3), tmp_path / "tables")
    with pytest.raises(CatalogueTooSmall, match=r"^3 films in the catalogue, fewer than the 4 needed to recommend 3"):
        train(
            tmp_path / "tables",
            tmp_path / "model",
            Settings(data_dir=tmp_path, recommendations=3),
            raw_dir=tmp_path / "raw",
        )
    assert not (tmp_path / "model").exists()
    info = train(
        tmp_path / "tables",
        tmp_path / "model",
        Settings(data_dir=tmp_path, recommendations=2, neighbours_k=5),
        raw_dir=tmp_path / "raw",
    )
    assert info["films"] == 3 and info["rows"] == 3 * 2  # 3 films, each with the 2 others


@pytest.mark.slow
def test_the_sample_fallback_is_visible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("movierec.pipeline.build.SAMPLE_RAW_DIR", tmp_path / "sample")
    sample = write_small_raw(tmp_path / "sample", SAMPLE_RAW_DIR, films=60)
    data = tmp_path / "data"
    settings = Settings(data_dir=data, evaluate_on_publish=False, report_on_publish=False)
    assert settings.resolved_raw_dir() == SAMPLE_RAW_DIR  # no DATA/raw: the bundled sample
    manifest = publish(sample, data, settings)
    assert manifest["sample_data"] is True
    assert "building from the bundled SAMPLE" in caplog.text


@pytest.mark.slow
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
