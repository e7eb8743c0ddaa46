"""`/recomendacion_usuario` on the real sample: the answer recomputed here from the release's
parquet artifacts with plain Python (not through the scorer), the matching rules, and every error
in Spanish."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

import polars as pl
import pytest
from fastapi.testclient import TestClient

from movierec.api import schemas as s
from movierec.config import Settings

PATH = "/recomendacion_usuario"


@pytest.fixture(scope="module")
def release(sample_data: Path) -> dict[str, object]:
    """The artifacts as plain Python: lists, neighbours, neighbour weight, films."""
    current = sample_data / "current"
    movies = pl.read_parquet(
        current / "tables" / "movies.parquet", columns=["id", "title", "release_year", "vote_count"]
    )
    lists: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for film, _, other, weight in (
        pl.read_parquet(current / "model" / "personal.parquet").sort("movie_id", "rank").iter_rows()
    ):
        lists[film].append((other, weight))
    near: dict[int, list[int]] = defaultdict(list)
    neighbours = pl.read_parquet(current / "model" / "neighbours.parquet", columns=["movie_id", "rank", "neighbour_id"])
    for film, _, other in neighbours.sort("movie_id", "rank").iter_rows():
        near[film].append(other)
    manifest = json.loads((current / "manifest.json").read_text())
    return {
        "movies": movies,
        "lists": lists,
        "near": near,
        "weight": manifest["model"]["personal"]["neighbour_weight"],
        "row": {film: row for row, film in enumerate(movies["id"].to_list())},
    }


def expected(release: dict[str, object], liked: list[int]) -> list[tuple[int, float, int]]:
    """(id, score, id of the named film that gave most) of the 10 best films, by hand: the sum of
    the named films' EASE weights and weight / log2(rank + 1) per film-to-film neighbour."""
    totals: dict[int, float] = defaultdict(float)
    gave: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for film in liked:
        entries = list(release["lists"][film])  # type: ignore[index]
        entries += (
            [
                (other, release["weight"] / math.log2(rank + 2))  # type: ignore[operator]
                for rank, other in enumerate(release["near"][film])
            ]
            if release["weight"]
            else []
        )  # type: ignore[index]
        for other, gain in entries:
            if other not in liked:
                totals[other] += gain
                gave[other][film] += gain
    row = release["row"]
    best = sorted(totals, key=lambda other: (-totals[other], row[other]))[:10]  # type: ignore[index]
    return [
        (other, totals[other], max(sorted(gave[other], key=row.get), key=lambda f: gave[other][f]))  # type: ignore[arg-type]
        for other in best
    ]


def get(client: TestClient, **params: object) -> tuple[int, dict]:
    response = client.get(f"{PATH}?{urlencode(params, doseq=True)}")
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json()


def test_ten_films_by_hand_never_one_named(client: TestClient, release: dict[str, object]) -> None:
    cases = [[862], [862, 949], [11, 1891, 1892], [862, 8844, 949, 11, 105, 680, 13, 278]]
    for liked in cases:
        status, body = get(client, id=liked)
        assert status == 200, body
        s.RecomendacionUsuario.model_validate(body)
        want = expected(release, liked)
        assert [p["id"] for p in body["peliculas"]] == [film for film, _, _ in want]
        assert [p["puntaje"] for p in body["peliculas"]] == pytest.approx([score for _, score, _ in want], abs=1e-9)
        movies = release["movies"]
        titles = dict(zip(movies["id"].to_list(), movies["title"].to_list(), strict=True))  # type: ignore[index]
        assert [p["porque"] for p in body["peliculas"]] == [f"porque te gustó {titles[b]}" for _, _, b in want]
        assert body["recomendaciones"] == [p["titulo"] for p in body["peliculas"]]
        assert len(body["peliculas"]) == 10 and not {p["id"] for p in body["peliculas"]} & set(liked)
        assert [f["id"] for f in body["peliculas_base"]] == liked
        assert body["no_encontrados"] == [] and body["repetidos"] == []


def test_titles_follow_the_matching_rules_and_the_year_picks_the_film(client: TestClient) -> None:
    status, body = get(client, titulo=["  TOY story ", "Heat (1995)"])
    assert status == 200
    assert body["peliculas_base"] == [
        {"id": 862, "titulo": "Toy Story", "anio": 1995},
        {"id": 949, "titulo": "Heat", "anio": 1995},
    ]
    assert get(client, id=[862, 949])[1]["peliculas"] == body["peliculas"]  # the same films, the same answer


def test_unknown_titles_are_reported_with_suggestions(client: TestClient) -> None:
    status, body = get(client, titulo=["Toy Story", "Toy Stori 9", "Heat (1990)"], id=[999999999])
    assert status == 200
    assert [f["id"] for f in body["peliculas_base"]] == [862]
    assert body["no_encontrados"] == [
        {"entrada": "Toy Stori 9", "sugerencias": ["Toy Story"]},
        {"entrada": "Heat (1990)", "sugerencias": ["Heat (1995)"]},  # the title exists in another year
        {"entrada": "id=999999999", "sugerencias": []},
    ]
    assert len(body["peliculas"]) == 10


def test_repeats_count_once(client: TestClient) -> None:
    status, body = get(client, titulo=["Toy Story", "toy story", "Heat"], id=[862])
    assert status == 200
    assert [f["id"] for f in body["peliculas_base"]] == [862, 949]
    assert body["repetidos"] == ["toy story", "id=862"]
    assert body["peliculas"] == get(client, id=[862, 949])[1]["peliculas"]


def test_none_found_is_a_404_in_spanish(client: TestClient) -> None:
    status, body = get(client, titulo=["Toy Stori 9", "zzzzqqqq"])
    assert status == 404
    s.ErrorNingunaEncontrada.model_validate(body)
    assert body["detail"] == "No se encontró ninguna de las películas indicadas: «Toy Stori 9», «zzzzqqqq»."
    assert body["sugerencias"][0] == "Toy Story"
    assert [item["entrada"] for item in body["no_encontrados"]] == ["Toy Stori 9", "zzzzqqqq"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({}, "titulo", "Indique al menos una película que le haya gustado"),
        (
            {"titulo": ["Toy Story"] * 26, "id": [862] * 25},
            "titulo",
            "como máximo 50 películas por consulta (se recibieron 51)",
        ),
        ({"titulo": ["   "]}, "titulo", "Indique un título: el parámetro «titulo» está vacío."),
        ({"titulo": ["x" * 201]}, "titulo", "como máximo 200 caracteres"),
        ({"titulo": ["Toy Story"], "id": ["12a"]}, "id", "debe ser un número entero"),
    ],
)
def test_bad_requests_are_422_in_spanish(client: TestClient, params: dict, field: str, message: str) -> None:
    status, body = get(client, **params)
    assert status == 422, body
    s.ErrorValidacion.model_validate(body)
    assert message in body["detail"] and body["errores"][0]["campo"] == field


def test_fifty_films_are_accepted(client: TestClient, release: dict[str, object]) -> None:
    ids = release["movies"]["id"].head(50).to_list()  # type: ignore[index]
    status, body = get(client, id=ids)
    assert status == 200 and len(body["peliculas_base"]) == 50 and len(body["peliculas"]) == 10
    assert not {p["id"] for p in body["peliculas"]} & set(ids)


def test_a_repeated_query_is_answered_from_the_cache_and_errors_are_not_kept(
    client: TestClient, sample_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movierec.api.answers import Answers
    from movierec.catalog.indexes import load_catalog

    answers = Answers(load_catalog((sample_data / "current").resolve(), Settings()), Settings())
    query = b"titulo=Toy%20Story&titulo=Heat%20(1995)"
    body = answers.personal_query(query)
    assert body == answers.personal(["Toy Story", "Heat (1995)"], [])  # parsed as Starlette parses it
    monkeypatch.setattr(Answers, "personal_from_query", lambda *_: pytest.fail("not from the cache"))
    assert answers.personal_query(query) == body
    with pytest.raises(pytest.fail.Exception):  # another list (even reordered) is computed
        answers.personal_query(b"titulo=Heat%20(1995)&titulo=Toy%20Story")
    with pytest.raises(pytest.fail.Exception):  # and a query too long to keep
        answers.personal_query(query + b"&id=862" * 200)
    monkeypatch.undo()
    for _ in range(2):  # a 422 and a 404 each time: an error is raised, never kept
        assert client.get(f"{PATH}?titulo=%20").status_code == 422
        assert client.get(f"{PATH}?titulo=zzzzqqqq").status_code == 404
    assert client.get(f"{PATH}?" + "&".join(["id=862"] * 51)).status_code == 422
