"""The server against a hostile catalogue (issue 19): whatever a release holds, the suggestion
indexes, the answer caches and every answer stay bounded, fuzzy work never runs on the event
loop nor more than ``fuzzy_per_request`` times a request, and no Unicode digit passes as a number.

The release is written here from tables, so that it holds what the ETL's caps would have cut (a
10,000-character title, a title shared by 150 films, a director of 650 films, 150 namesakes):
the server must not depend on the ETL alone."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from movierec.api.answers import Answers
from movierec.api.app import create_app
from movierec.api.bodies import DIRECTED, LISTED
from movierec.api.cache import OVERHEAD, BoundedCache
from movierec.api.errors import ApiError
from movierec.catalog.indexes import Catalog, load_catalog
from movierec.catalog.suggest import KEY_CHARS, Lazy, Suggester
from movierec.config import Settings

SHARED, LONG, FILMS = 150, 500, 650  # films titled "Hamlet", with a long distinct title, in all
HUGE = "Endless " * 1250  # 10,000 characters


def hostile_release(folder: Path) -> Path:
    tables = folder / "tables"
    tables.mkdir(parents=True)
    ids = list(range(1, FILMS + 1))
    titles = ["Hamlet"] * SHARED + [f"Saga {i} " + "x" * 490 for i in range(LONG - 2)] + [HUGE, "Heat"]
    years = [1800 + i for i in range(SHARED)] + [2000] * (LONG - 2) + [2001, 1995]
    pl.DataFrame(
        {
            "id": ids,
            "title": titles,
            "release_date": [dt.date(y, 1, 2) for y in years],
            "budget": [100] * FILMS,
            "revenue": [0] * (FILMS // 2) + [300] * (FILMS - FILMS // 2),
            "popularity": [1.0] * FILMS,
            "vote_average": [7.0] * FILMS,
            "vote_count": list(range(FILMS)),
        }
    ).with_columns(
        pl.col("release_date").dt.year().cast(pl.Int32).alias("release_year"),
        pl.when(pl.col("revenue") > 0).then(pl.col("revenue") / pl.col("budget")).otherwise(0.0).alias("return"),
    ).write_parquet(tables / "movies.parquet")
    pl.DataFrame(
        {"movie_id": ids[:SHARED], "person_id": list(range(1000, 1000 + SHARED)), "name": ["John Doe"] * SHARED}
    ).write_parquet(tables / "cast.parquet")
    pl.DataFrame(
        {"movie_id": ids, "person_id": [7] * FILMS, "name": ["Prolific Director"] * FILMS, "job": ["Director"] * FILMS}
    ).write_parquet(tables / "crew.parquet")
    (folder / "model").mkdir()
    pl.DataFrame(
        {"movie_id": ids, "rank": [1] * FILMS, "neighbour_id": ids[1:] + ids[:1], "score": [0.5] * FILMS}
    ).with_columns(pl.col("rank").cast(pl.Int32), pl.col("score").cast(pl.Float32)).write_parquet(
        folder / "model" / "neighbours.parquet"
    )
    (folder / "manifest.json").write_text(json.dumps({"release": "hostile", "code_version": "x"}))
    return folder


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return load_catalog(hostile_release(tmp_path_factory.mktemp("hostile")), Settings())


@pytest.fixture(scope="module")
def answers(catalog: Catalog) -> Answers:
    return Answers(catalog, Settings(fuzzy_per_request=3))


def error(call, *args: object) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiError) as caught:
        call(*args)
    return caught.value.status, caught.value.body


# -- item 1: bounded indexes, caches and answers -------------------------------------------------
def test_the_suggester_holds_no_more_than_key_chars_of_any_key(catalog: Catalog) -> None:
    titles = catalog.titles
    assert len(titles) == LONG + 1  # "Hamlet" once: its key is shared
    assert max(map(len, titles._by_key)) == KEY_CHARS == 64
    assert len(titles._length_starts) == KEY_CHARS + 2  # one entry per length up to the cut, not 10,000
    # the long title is still found by its start, and shown whole
    assert titles.suggest("endless endless", 1) == [HUGE]
    assert titles.suggest("endless " * 100, 1) == [HUGE]  # a query longer than the cut compares its start


def test_the_suggester_reads_labels_only_for_what_it_returns() -> None:
    reads: list[int] = []
    keys = [f"film {i:05d}" for i in range(5000)]
    suggester = Suggester(keys, Lazy(len(keys), lambda i: reads.append(i) or keys[i].title()))
    assert reads == []
    found = suggester.suggest("film 0420", 5)
    assert len(found) == 5 and all(f.startswith("Film ") for f in found)
    assert 5 <= len(reads) <= 30  # the candidates of the two channels, never the 5,000 labels


def test_the_cache_is_bounded_in_entries_and_in_bytes() -> None:
    calls: list[int] = []
    cache = BoundedCache(lambda n: calls.append(n) or b"x" * n, entries=3, max_bytes=8 * (OVERHEAD + 100))
    for n in (100, 50, 60):
        cache(n)
    assert len(cache) == 3 and cache.bytes == 210 + 3 * OVERHEAD
    cache(100)  # a hit: 100 becomes the most recent
    cache(70)  # a fourth entry: the least recently used (50) goes
    assert calls == [100, 50, 60, 70] and cache.get(50) is None and cache.get(100) == b"x" * 100
    cache(101)  # 101 + 200 > an eighth of 2,400 bytes: answered, never kept
    assert cache.get(101) is None and len(cache) == 3
    small = BoundedCache(lambda n: b"x" * 300, entries=100, max_bytes=8 * (OVERHEAD + 300))
    for n in range(20):
        small(n)  # 500 bytes an entry: the byte budget keeps eight, not a hundred
    assert len(small) == 8 and small.bytes == 8 * (OVERHEAD + 300) and small.get(19) and small.get(11) is None


def test_lists_in_answers_are_bounded_and_counts_are_not(answers: Answers) -> None:
    score = json.loads(answers.score("Hamlet"))
    assert len(score["coincidencias"]) == LISTED == 100
    assert [c["anio"] for c in score["coincidencias"][:2]] == [1800, 1801]  # by year, the answered film apart
    director = json.loads(answers.director("Prolific Director"))
    assert director["cantidad_peliculas"] == FILMS and len(director["peliculas"]) == DIRECTED == 500
    assert director["mensaje"].endswith(
        f"de {FILMS // 2} se desconocen los ingresos o el presupuesto, y su ganancia figura como null"
    )  # counted over all 650
    actor = json.loads(answers.actor("John Doe"))
    assert len(actor["homonimos"]) == LISTED and actor["cantidad_peliculas"] == 1
    status, body = error(answers.score, "Hamlet", "2024")
    assert status == 404 and len(body["coincidencias"]) == LISTED
    assert "1800, 1801" in body["detail"] and body["detail"].endswith(", 1899 y 50 más.")
    assert len(json.loads(answers.recommend_title("Hamlet"))["coincidencias"]) == LISTED


def test_a_10000_character_title_answers_by_id_but_is_never_echoed_twice(answers: Answers) -> None:
    body = json.loads(answers.recommend_id(str(FILMS - 1)))
    assert body["titulo"] == HUGE.strip() or body["titulo"] == HUGE
    status, detail = error(answers.score, HUGE)  # over the input cap: refused before any look-up
    assert status == 422 and len(json.dumps(detail)) < 600


# -- item 15: fuzzy work per request, and never on the event loop ---------------------------------
def test_only_the_first_fuzzy_per_request_unknown_titles_get_fuzzy_suggestions(answers: Answers) -> None:
    unknown = [f"Hamlot {i}" for i in range(49)]
    body = json.loads(answers.personal(["Heat", *unknown], []))
    missing = body["no_encontrados"]
    assert [m["entrada"] for m in missing] == unknown
    assert all(m["sugerencias"] for m in missing[:3])  # fuzzy_per_request=3
    assert all(m["sugerencias"] == [] for m in missing[3:])
    # a title that exists in other years is not a fuzzy search: it does not use the budget
    years = json.loads(answers.personal(["Heat", *(f"Hamlet ({1700 + i})" for i in range(5)), "Hamlot"], []))
    assert [len(m["sugerencias"]) for m in years["no_encontrados"]] == [5, 5, 5, 5, 5, 1]


def test_fuzzy_searches_run_in_worker_threads_never_on_the_event_loop(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_loop: list[bool] = []
    suggester = type(catalog.titles)
    original = suggester.suggest

    def recording(self: Suggester, query: str, limit: int) -> list[str]:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return original(self, query, limit)

    monkeypatch.setattr(suggester, "suggest", recording)
    with TestClient(create_app(None, Settings(), catalog)) as client:
        for path, status in (
            ("/recomendacion_usuario?titulo=Hamlot&titulo=Heat", 200),  # Heat found, Hamlot suggested
            ("/score_titulo/Hamlot", 404),  # not found, with suggestions
            ("/recomendacion/Saga%20zz", 404),
            ("/get_actor/Jon%20Doe", 404),
            ("/get_director/Prolific%20Directr", 404),
            ("/sugerencias?q=saga", 200),
            ("/?q=saga", 200),
        ):
            assert client.get(path).status_code == status, path
    assert len(on_loop) >= 7 and not any(on_loop)


# -- item 16: ASCII digits only -------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/peliculas/%D9%A3/recomendaciones",  # Arabic-Indic 3
        "/peliculas/%EF%BC%93/recomendaciones",  # fullwidth 3
        "/score_titulo/Hamlet?anio=%DB%B1%DB%B8%DB%B0%DB%B0",  # Extended Arabic-Indic 1800
        "/recomendacion_usuario?id=%EF%BC%93",
        "/novedades?limite=%D9%A3",
        "/?id=%EF%BC%93",
    ],
)
def test_unicode_digits_are_not_numbers(catalog: Catalog, path: str) -> None:
    with TestClient(create_app(None, Settings(), catalog)) as client:
        response = client.get(path)
    assert response.status_code == 422
    assert "debe ser un número entero" in response.json()["detail"]


def test_a_year_in_unicode_digits_is_not_a_year(answers: Answers) -> None:
    assert json.loads(answers.personal(["Heat (1995)"], []))["peliculas_base"][0]["anio"] == 1995
    status, body = error(answers.personal, ["Heat (\u0661\u0669\u0669\u0665)"], [])
    assert status == 404 and body["no_encontrados"][0]["entrada"] == "Heat (١٩٩٥)"
