"""The catalog's indexes: every film of the real sample, and the edge cases of a small release
written here (homonyms, spellings, duplicate credits and neighbours, missing values)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest
from tests.helpers import write_release

from movierec.api import schemas as s
from movierec.api.answers import Answers
from movierec.api.errors import ApiError
from movierec.catalog.indexes import Catalog, ReleaseError, load_catalog
from movierec.config import Settings


@pytest.fixture(scope="module")
def sample_catalog(sample_data: Path) -> Catalog:
    return load_catalog((sample_data / "current").resolve(), Settings(data_dir=sample_data))


def test_every_film_of_the_sample_recommends_as_the_model_ranks(sample_catalog: Catalog, sample_data: Path) -> None:
    """All 2,993 films: the first 5 neighbours by rank that are other films of the catalogue, each of
    which is found again by its title and year."""
    release = sample_data / "current"
    movies = pl.read_parquet(
        release / "tables" / "movies.parquet", columns=["id", "title", "release_year", "original_title"]
    )
    expected = (
        pl.read_parquet(release / "model" / "neighbours.parquet")
        .join(movies, left_on="neighbour_id", right_on="id", how="inner")
        .filter(pl.col("neighbour_id") != pl.col("movie_id"))
        .sort(["movie_id", "rank"])
        .unique(["movie_id", "neighbour_id"], keep="first", maintain_order=True)
        .filter(pl.int_range(pl.len()).over("movie_id") < 5)
    )
    by_film: dict[int, list[dict]] = {}
    for r in expected.rows(named=True):
        by_film.setdefault(r["movie_id"], []).append(
            {
                "id": r["neighbour_id"],
                "titulo": r["title"],
                "anio": r["release_year"],
                "puntaje": r["score"],
                **({"titulo_original": r["original_title"]} if r["original_title"] not in (None, r["title"]) else {}),
            }
        )
    answers = Answers(sample_catalog, Settings())
    assert len(sample_catalog) == movies.height == 2993
    for film_id in movies["id"].to_list():
        body = json.loads(answers.recommend_id(str(film_id)))
        s.Recomendacion.model_validate(body)
        assert body["peliculas"] == by_film[film_id]
        assert len(body["peliculas"]) == 5
        for pick in body["peliculas"]:
            found = json.loads(answers.recommend_title(pick["titulo"], str(pick["anio"])))
            assert pick["id"] in [found["id"], *(c["id"] for c in found["coincidencias"])]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Answers:
    folder = write_release(tmp_path_factory.mktemp("release"))
    return Answers(load_catalog(folder, Settings()), Settings())


def body(raw: bytes, model: type) -> dict:
    parsed = json.loads(raw)
    model.model_validate(parsed)
    return parsed


def test_shared_title_prefers_votes_then_popularity_then_id(small: Answers) -> None:
    # films 1, 2, 3 tie on votes; 3 is the most popular; with anio=1990, 2 and 3 are candidates
    answer = body(small.score("hamlet"), s.ScoreTitulo)
    assert answer["id"] == 3
    assert [c["id"] for c in answer["coincidencias"]] == [1, 2]
    assert body(small.score("Hamlet", "1948"), s.ScoreTitulo)["id"] == 1
    assert body(small.score("Hamlet", "1990"), s.ScoreTitulo)["id"] == 3


def test_popularity_tie_falls_to_the_lowest_id(tmp_path: Path) -> None:
    folder = write_release(tmp_path / "r")
    movies = pl.read_parquet(folder / "tables" / "movies.parquet").with_columns(
        pl.when(pl.col("id") == 3).then(5.0).otherwise(pl.col("popularity")).alias("popularity")
    )
    movies.write_parquet(folder / "tables" / "movies.parquet")
    answers = Answers(load_catalog(folder, Settings()), Settings())
    assert body(answers.score("HAMLET"), s.ScoreTitulo)["id"] == 1


def test_missing_values_are_null_not_nan(small: Answers) -> None:
    answer = body(small.score("Blank Pop"), s.ScoreTitulo)
    assert answer["popularidad"] is None
    assert answer["mensaje"].endswith("con un score/popularidad de sin dato")
    assert body(small.votes("blank pop"), s.VotosTitulo)["promedio"] is None
    undated = body(small.score("face/off"), s.ScoreTitulo)
    assert undated["anio"] is None and undated["fecha_estreno"] is None
    assert "en un año desconocido" in undated["mensaje"]


def test_films_without_a_title_cannot_be_asked_for_nor_recommended(small: Answers) -> None:
    with pytest.raises(ApiError) as blank:
        small.score("  ")
    assert blank.value.status == 422
    recommended = body(small.recommend_id("1"), s.Recomendacion)
    # not itself, not 99 (no such film), 2 once, not 5 nor 7 (no title), not 4 (its score is NaN)
    assert [p["id"] for p in recommended["peliculas"]] == [2, 3]
    assert recommended["recomendaciones"] == ["HAMLET", "Hamlet"]
    assert [p["puntaje"] for p in recommended["peliculas"]] == [0.800000011920929, 0.5]
    untitled = body(small.recommend_id("5"), s.Recomendacion)
    assert untitled["titulo"] is None and untitled["peliculas"] == []


def test_fewer_neighbours_than_five(small: Answers) -> None:
    answer = body(small.recommend_title("Amélie"), s.Recomendacion)
    assert [p["id"] for p in answer["peliculas"]] == [8, 1]
    assert body(small.recommend_title("hamlet", "1990"), s.Recomendacion)["peliculas"] == []


def test_homonyms_spellings_and_repeated_credits(small: Answers) -> None:
    jose = body(small.actor("jose perez"), s.Actor)
    # person 10: films 1 and 2 once each (two credits in film 1; film 99 is not in the catalogue)
    assert (jose["id"], jose["actor"], jose["cantidad_peliculas"]) == (10, "José Pérez", 2)
    assert jose["retorno_total"] == math.fsum([3.0, 0.0])
    assert jose["homonimos"] == [{"id": 11, "nombre": "Jose Perez", "cantidad_peliculas": 1}]
    bob = body(small.actor("BOB SMITH"), s.Actor)
    assert bob == body(small.actor("robert smith"), s.Actor) | {"homonimos": []}
    assert (bob["id"], bob["cantidad_peliculas"], bob["retorno_total"]) == (12, 1, 10.0)


def test_crew_other_than_director_is_not_directing(small: Answers) -> None:
    with pytest.raises(ApiError) as missing:
        small.director("Ann Lee")
    assert missing.value.status == 404
    assert "Figura en el reparto" in missing.value.body["detail"]
    branagh = body(small.director("kenneth branagh"), s.Director)
    assert [f["id"] for f in branagh["peliculas"]] == [1, 3]  # by date; film 3 once
    assert branagh["peliculas"][1] == {
        "id": 3,
        "titulo": "Hamlet",
        "fecha_estreno": "1990-01-01",
        "retorno": 0.5,
        "costo": 10,
        "ganancia": -5,
    }
    assert branagh["retorno_total"] == 3.5 and branagh["retorno_promedio"] == 1.75


def test_an_unknown_revenue_is_no_loss(small: Answers) -> None:
    raimi = body(small.director("Sam Raimi"), s.Director)
    # film 2: budget and revenue unknown (0); film 4: budget 50, revenue 500
    assert [(f["id"], f["costo"], f["ganancia"]) for f in raimi["peliculas"]] == [(2, 0, None), (4, 50, 450)]
    assert raimi["mensaje"].endswith("de 1 se desconocen los ingresos o el presupuesto, y su ganancia figura como null")
    branagh = body(small.director("Kenneth Branagh"), s.Director)
    assert "desconocen" not in branagh["mensaje"]


def test_counts_skip_undated_films(small: Answers) -> None:
    assert body(small.month("enero"), s.CantidadMes)["cantidad"] == 2  # films 3 and 5
    assert body(small.weekday("domingo"), s.CantidadDia)["cantidad"] == 1  # 2010-03-07


def test_a_folder_without_manifest_or_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match=r"manifest\.json is missing"):
        load_catalog(tmp_path, Settings())
    folder = write_release(tmp_path / "no-model", model=False)
    with pytest.raises(ReleaseError, match="has no model"):
        load_catalog(folder, Settings())
