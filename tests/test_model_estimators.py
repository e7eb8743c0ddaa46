"""The estimators recommend what the API serves: ``NeighbourRecommender.similar_items`` and
``PersonalRecommender.recommend``, fitted on the real sample as ``movierec train`` fits them,
answer exactly what the catalog of the release published from the same sample answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from movierec.catalog.indexes import Catalog, load_catalog
from movierec.config import Settings
from movierec.model.estimator import NeighbourRecommender
from movierec.model.personal import PersonalRecommender
from movierec.model.train import train


@pytest.fixture(scope="module")
def fitted(
    sample_data: Path, sample_raw: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[NeighbourRecommender, PersonalRecommender]]:
    """The two estimators `movierec train` fits on the sample's tables and ratings (caught as they
    are fitted: train keeps no estimator)."""
    caught: dict[str, object] = {}
    neighbour_fit, personal_fit = NeighbourRecommender.fit, PersonalRecommender.fit

    def neighbours(self: NeighbourRecommender, *args: object, **kwargs: object) -> NeighbourRecommender:
        caught["neighbours"] = self
        return neighbour_fit(self, *args, **kwargs)  # type: ignore[arg-type]

    def personal(self: PersonalRecommender, *args: object, **kwargs: object) -> PersonalRecommender:
        caught["personal"] = self
        return personal_fit(self, *args, **kwargs)  # type: ignore[arg-type]

    model = tmp_path_factory.mktemp("model")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(NeighbourRecommender, "fit", neighbours)
        patch.setattr(PersonalRecommender, "fit", personal)
        train(sample_data / "current" / "tables", model, Settings(data_dir=sample_data), raw_dir=sample_raw)
    yielded = caught["neighbours"], caught["personal"]
    assert isinstance(yielded[0], NeighbourRecommender) and isinstance(yielded[1], PersonalRecommender)
    yield yielded[0], yielded[1]


@pytest.fixture(scope="module")
def catalog(sample_data: Path) -> Catalog:
    return load_catalog((sample_data / "current").resolve(), Settings())


def test_the_estimator_is_the_released_model(
    fitted: tuple[NeighbourRecommender, PersonalRecommender], sample_data: Path
) -> None:
    """Fitted anew, the model is the release's (training is deterministic): the answers below
    compare one model, not two."""
    release = pl.read_parquet(sample_data / "current" / "model" / "neighbours.parquet")
    assert fitted[0].neighbours().equals(release)


def test_similar_items_are_the_apis_recommendations(
    fitted: tuple[NeighbourRecommender, PersonalRecommender], catalog: Catalog
) -> None:
    model = fitted[0]
    ids = model.ids_.tolist()
    served = [[(film.id, score) for film, score in catalog.recommend(row)] for row in range(len(catalog))]
    assert model.similar_items(ids) == served  # the served count, every film of the release
    assert model.similar_items([ids[0]], k=3) == [served[0][:3]]
    assert model.similar_items([-1]) == [[]]


def test_personal_recommendations_are_the_apis(
    fitted: tuple[NeighbourRecommender, PersonalRecommender], catalog: Catalog
) -> None:
    personal = fitted[1]
    rng = np.random.default_rng(21)
    people = [rng.choice(len(catalog), size=rng.integers(1, 12), replace=False).tolist() for _ in range(300)]
    for liked in [[0], *people]:
        served = [
            (film.row, score, None if because is None else because.row)
            for film, score, because in catalog.personal(liked)
        ]
        mine = [(p.row, p.score, None if p.because < 0 else p.because) for p in personal.recommend(liked)]
        assert mine == served
