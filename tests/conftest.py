"""Shared fixtures: the real sample beside the repo, and one release published from it per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec.settings import SAMPLE_RAW_DIR, Settings


@pytest.fixture(scope="session")
def sample_raw() -> Path:
    """../shared/data/the-movies-dataset: the real sample (present in CI)."""
    assert (SAMPLE_RAW_DIR / "movies_metadata.csv.gz").is_file(), f"missing sample in {SAMPLE_RAW_DIR}"
    return SAMPLE_RAW_DIR


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> Path:
    """A data folder holding one release published from the sample (DATA/current -> releases/…)."""
    from movierec.release import publish

    data = tmp_path_factory.mktemp("data")
    publish(sample_raw, data, Settings(data_dir=data))
    return data


@pytest.fixture(scope="session")
def sample_tables(sample_data: Path) -> Path:
    return sample_data / "current" / "tables"
