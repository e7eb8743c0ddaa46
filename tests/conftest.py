"""Shared fixtures: the real sample beside the repo, and one release published from it per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from movierec.config import SAMPLE_RAW_DIR, Settings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def sample_raw() -> Path:
    """../shared/data/the-movies-dataset: the real sample (present in CI)."""
    assert (SAMPLE_RAW_DIR / "movies_metadata.csv.gz").is_file(), f"missing sample in {SAMPLE_RAW_DIR}"
    return SAMPLE_RAW_DIR


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> Path:
    """A data folder holding one release published from the sample (DATA/current -> releases/…)."""
    from movierec.pipeline import publish

    data = tmp_path_factory.mktemp("data")
    publish(sample_raw, data, Settings(data_dir=data))
    return data


@pytest.fixture(scope="session")
def sample_tables(sample_data: Path) -> Path:
    return sample_data / "current" / "tables"


STANDIN_MOVIES = 15_000  # 5 copies of the sample: every kind of the full files' dirt, a third of the bytes


@pytest.fixture(scope="session")
def standin_raw(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> Path:
    """A stand-in of the full files written by ../shared/tools/scale_dataset.py: 15,000 films in the
    real raw format with all of the full files' dirt (3 broken records, duplicate ids in movies,
    credits and keywords, new people in every copy). The benchmarks run the full 45,466 films; the
    suite needs the dirt, not the volume, and this third of it saves half a minute of CI."""
    import subprocess
    import sys

    tool = sample_raw.parents[1] / "tools" / "scale_dataset.py"
    out = tmp_path_factory.mktemp("standin")
    subprocess.run(
        [sys.executable, str(tool), str(out), "--movies", str(STANDIN_MOVIES)], check=True, capture_output=True
    )
    return out


@pytest.fixture(scope="module")
def client(sample_data: Path) -> Iterator[TestClient]:
    """The API over the sample's published release, started once per test module (a module may
    define its own ``client``)."""
    from fastapi.testclient import TestClient

    from movierec.api.app import create_app

    with TestClient(create_app(sample_data, Settings(data_dir=sample_data))) as c:
        yield c


@pytest.fixture
def cf_users(monkeypatch: pytest.MonkeyPatch) -> list:
    """The users of every like the collaborative model is fitted on (ItemCF.fit_nested is what
    ItemCF.fit and the collaborative stage call), one array per fit, recorded as they happen."""
    import numpy as np

    from movierec.model.cf import ItemCF

    seen: list[np.ndarray] = []
    fit = ItemCF.fit_nested

    def spy(self: ItemCF, users: np.ndarray, *args: object) -> object:
        seen.append(np.asarray(users).copy())
        return fit(self, users, *args)

    monkeypatch.setattr(ItemCF, "fit_nested", spy)
    return seen


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failure: every test must run there."""
    import os

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") and skipped:
        print(f"\nCI: {skipped} test(s) skipped; every test must run in CI")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def spark():  # type: ignore[no-untyped-def]
    """One local Spark session for the whole test run (starting one costs ~10 s): two cores,
    few shuffle partitions (the test data is tiny), no UI, no console progress."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("movierec tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
