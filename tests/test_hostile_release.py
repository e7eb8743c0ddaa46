"""Hostile input to `movierec pipeline` and `movierec serve` (issue 13): an empty or shrunk
catalogue is never published, a foreign DATA/current is never replaced, a damaged release is
never served; each is exit code 2 with one line and leaves no debris."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from tests.helpers import copy_data, sample_rows, write_small_raw
from typer.testing import CliRunner

from movierec.cli import app
from movierec.config import REPO_ROOT


@pytest.fixture
def published(small_release: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of conftest's ``small_release`` (the sample's first 200 films), and its release's name."""
    data = copy_data(small_release, tmp_path / "data")
    return data, (data / "current").resolve().name


def pipeline(raw: Path, data: Path, *extra: str) -> Result:
    return CliRunner().invoke(app, ["pipeline", "--raw", str(raw), "--data", str(data), *extra])


def refused(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def no_debris(data: Path) -> None:
    assert [p.name for p in data.iterdir() if p.name.startswith(".current-")] == []
    assert [p.name for p in (data / "releases").iterdir() if p.name.startswith(".")] == []


def test_header_only_movies_file_is_never_published(
    published: tuple[Path, str], tmp_path: Path, sample_raw: Path
) -> None:
    """The issue's three runs on a header-only movies file: the good release stays current and
    is not pruned (three releases are kept)."""
    data, good = published
    raw = write_small_raw(tmp_path / "empty", sample_raw, 200)
    (raw / "movies_metadata.csv").write_text(",".join(sample_rows(sample_raw, "movies_metadata.csv", 0)[0]) + "\n")
    for _ in range(3):
        refused(pipeline(raw, data), "the new release was not published: the ETL kept no film of the 0 movie records")
    assert (data / "current").resolve().name == good
    assert [p.name for p in (data / "releases").iterdir()] == [good]
    no_debris(data)


def test_shrunk_catalogue_needs_allow_shrink(published: tuple[Path, str], tmp_path: Path, sample_raw: Path) -> None:
    data, good = published
    films = json.loads((data / "current" / "manifest.json").read_text())["tables"]["movies"]
    raw = write_small_raw(tmp_path / "small", sample_raw, 60)
    refused(pipeline(raw, data), f"fewer than 50% of the current release's {films:,}", "--allow-shrink")
    assert (data / "current").resolve().name == good
    no_debris(data)
    result = pipeline(raw, data, "--allow-shrink")
    assert result.exit_code == 0, result.output
    assert (data / "current").resolve().name != good
    assert sorted(p.name for p in (data / "releases").iterdir())[0] == good


@pytest.mark.slow
def test_current_that_is_a_real_folder_is_left_alone(tmp_path: Path, sample_raw: Path) -> None:
    data = tmp_path / "data"
    (data / "current").mkdir(parents=True)
    (data / "current" / "mine.txt").write_text("not a release")
    raw = write_small_raw(tmp_path / "raw", sample_raw, 30)
    refused(pipeline(raw, data), f"{data / 'current'} is a real folder, not the link movierec manages")
    assert (data / "current" / "mine.txt").read_text() == "not a release"
    assert [p.name for p in data.iterdir() if p.name.startswith(".current-")] == []
    assert not (data / "releases").exists() or not any((data / "releases").iterdir())
    served = subprocess.run(
        [sys.executable, "-m", "movierec", "serve", "--data", str(data), "--port", "1"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert served.returncode == 2 and "is a real folder" in served.stderr and "Traceback" not in served.stderr


DAMAGE = {
    "truncated table": ("tables/movies.parquet", lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])),
    "zero-byte table": ("tables/cast.parquet", lambda p: p.write_bytes(b"")),
    "missing table": ("tables/crew.parquet", lambda p: p.unlink()),
    "missing model": ("model/neighbours.parquet", lambda p: p.unlink()),
    "bad manifest": ("manifest.json", lambda p: p.write_text('{"release": ')),
    "manifest not an object": ("manifest.json", lambda p: p.write_text("[]")),
}


@pytest.mark.slow
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_serve_refuses_a_damaged_release(sample_data: Path, tmp_path: Path, damage: str) -> None:
    release = tmp_path / "data" / "releases" / "r1"
    shutil.copytree((sample_data / "current").resolve(), release)
    (tmp_path / "data" / "current").symlink_to(Path("releases") / "r1")
    name, spoil = DAMAGE[damage]
    spoil(release / name)
    result = subprocess.run(
        [sys.executable, "-m", "movierec", "serve", "--data", str(tmp_path / "data"), "--port", "1"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith(f"error: cannot serve {release}"), result.stderr
    assert len(errors[0]) < 500
    if damage == "missing model":
        assert "the release has no model" in errors[0]
