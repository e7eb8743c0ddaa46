"""The API's answers on the real sample, with every expected value computed here from the
release's parquet tables with plain polars and Python (not through movierec.api's indexes)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from urllib.parse import quote

import polars as pl
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from tests.helpers import key

from movierec.api import schemas as s
from movierec.api.app import create_app
from movierec.config import Settings


@pytest.fixture(scope="module")
def movies(sample_tables: Path) -> pl.DataFrame:
    """The movies table, plus ``key``: the title as the matching rule sees it."""
    movies = pl.read_parquet(sample_tables / "movies.parquet")
    return movies.with_columns(pl.Series("key", [key(t) for t in movies["title"].to_list()]))


@pytest.fixture(scope="module")
def cast(sample_tables: Path) -> pl.DataFrame:
    """The cast table, plus ``key``: the name as the matching rule sees it."""
    cast = pl.read_parquet(sample_tables / "cast.parquet")
    return cast.with_columns(pl.Series("key", [key(n) for n in cast["name"].to_list()]))


@pytest.fixture(scope="module")
def directing(sample_tables: Path) -> pl.DataFrame:
    return pl.read_parquet(sample_tables / "crew.parquet").filter(pl.col("job") == "Director")


@pytest.fixture(scope="module")
def neighbours(sample_data: Path) -> pl.DataFrame:
    return pl.read_parquet(sample_data / "current" / "model" / "neighbours.parquet")


def ok(client: TestClient, path: str, model: type[BaseModel]) -> dict:
    """GET path, expect 200 JSON that validates against the endpoint's response model."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    model.model_validate(body)
    return body


def preferred(films: pl.DataFrame) -> pl.DataFrame:
    """The order in which a shared title picks its film: most votes, most popular, lowest id."""
    return films.sort(["vote_count", "popularity", "id"], descending=[True, True, False])


def film_of(movies: pl.DataFrame, film_id: int) -> dict:
    return movies.filter(pl.col("id") == film_id).row(0, named=True)


# -- /health ------------------------------------------------------------------------------------
def test_health(client: TestClient, sample_data: Path, movies: pl.DataFrame) -> None:
    manifest = json.loads((sample_data / "current" / "manifest.json").read_text())
    body = ok(client, "/health", s.Salud)
    tables = sample_data / "current" / "tables"
    # the sample has no Spanish titles (they come from TMDB); its original titles, once the ETL
    # keeps them, are 276 films' (of the 277 the raw file has, one film is not in the catalogue)
    originals = 0
    if "original_title" in pl.read_parquet_schema(tables / "movies.parquet"):
        both = pl.read_parquet(tables / "movies.parquet", columns=["title", "original_title"])
        originals = both.filter(
            pl.col("original_title").is_not_null() & (pl.col("original_title") != pl.col("title"))
        ).height
        assert originals == 276
    assert body == {
        "status": "ok",
        "version": manifest["release"],
        "peliculas": movies.height,
        "version_codigo": manifest["code_version"],
        "titulos_es": 0,
        "titulos_originales": originals,
    }
    assert body["peliculas"] == 2993
    assert not (tables / "titles.parquet").is_file() or pl.read_parquet(tables / "titles.parquet").height == 0


# -- months and weekdays --------------------------------------------------------------------------
MONTH_NAMES = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]


@pytest.mark.parametrize(
    ("spelling", "number"),
    [
        *((m, n) for n, m in enumerate(MONTH_NAMES, start=1)),
        ("ENERO", 1),
        ("Marzo", 3),
        ("setiembre", 9),
        ("Septiembre", 9),
        (" diciembre ", 12),
    ],
)
def test_month(client: TestClient, movies: pl.DataFrame, spelling: str, number: int) -> None:
    expected = movies.filter(pl.col("release_date").dt.month() == number).height
    name = MONTH_NAMES[number - 1]
    body = ok(client, f"/cantidad_filmaciones_mes/{quote(spelling)}", s.CantidadMes)
    assert body == {
        "mes": name,
        "numero_mes": number,
        "cantidad": expected,
        "mensaje": f"{expected} cantidad de películas fueron estrenadas en el mes de {name}",
    }


def test_months_add_up_to_the_catalogue(client: TestClient, movies: pl.DataFrame) -> None:
    total = sum(ok(client, f"/cantidad_filmaciones_mes/{m}", s.CantidadMes)["cantidad"] for m in MONTH_NAMES)
    assert total == movies.filter(pl.col("release_date").is_not_null()).height == 2993
    assert ok(client, "/cantidad_filmaciones_mes/enero", s.CantidadMes)["cantidad"] == 241


DAY_NAMES = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]


@pytest.mark.parametrize(
    ("spelling", "number"),
    [
        *((d, n) for n, d in enumerate(DAY_NAMES, start=1)),
        ("miercoles", 3),
        ("MIÉRCOLES", 3),
        ("sabado", 6),
        ("SABADO", 6),
        ("Domingo", 7),
    ],
)
def test_weekday(client: TestClient, movies: pl.DataFrame, spelling: str, number: int) -> None:
    # Python's date.isoweekday(): 1 = Monday … 7 = Sunday
    expected = sum(1 for d in movies["release_date"].to_list() if d is not None and d.isoweekday() == number)
    name = DAY_NAMES[number - 1]
    body = ok(client, f"/cantidad_filmaciones_dia/{quote(spelling)}", s.CantidadDia)
    assert body == {
        "dia": name,
        "numero_dia": number,
        "cantidad": expected,
        "mensaje": f"{expected} cantidad de películas fueron estrenadas en los días {name}",
    }


def test_weekdays_add_up_to_the_catalogue(client: TestClient) -> None:
    counts = [ok(client, f"/cantidad_filmaciones_dia/{quote(d)}", s.CantidadDia)["cantidad"] for d in DAY_NAMES]
    assert sum(counts) == 2993
    assert counts[2] == 505  # miércoles


# -- /score_titulo and /votos_titulo -----------------------------------------------------------------
def test_score_titulo(client: TestClient, movies: pl.DataFrame) -> None:
    film = film_of(movies, 862)
    body = ok(client, "/score_titulo/Toy%20Story", s.ScoreTitulo)
    assert body == {
        "id": 862,
        "titulo": "Toy Story",
        "anio": 1995,
        "fecha_estreno": "1995-10-30",
        "popularidad": film["popularity"],
        "coincidencias": [],
        "mensaje": f"La película Toy Story fue estrenada en el año 1995 con un score/popularidad de "
        f"{film['popularity']:.2f}",
    }
    assert body["popularidad"] == 21.946943


@pytest.mark.parametrize("spelling", ["Toy Story", "TOY STORY", " toy story", "toy   story ", "tOy\tStOrY"])
def test_title_in_any_case_and_spacing(client: TestClient, spelling: str) -> None:
    assert ok(client, f"/score_titulo/{quote(spelling)}", s.ScoreTitulo)["id"] == 862


@pytest.mark.parametrize(
    ("spelling", "film_id"),
    [
        ("Pret-a-Porter", 3586),
        ("PRÊT-À-PORTER", 3586),
        ("prêt-à-porter", 3586),
        ("Les Miserables", 4415),
        ("les misérables", 4415),
        ("Deja Vu", 161795),
        ("la ceremonie", 1802),
    ],
)
def test_title_with_or_without_accents(client: TestClient, movies: pl.DataFrame, spelling: str, film_id: int) -> None:
    same = preferred(movies.filter(pl.col("key") == key(spelling)))
    assert same["id"][0] == film_id
    assert ok(client, f"/score_titulo/{quote(spelling)}", s.ScoreTitulo)["id"] == film_id


@pytest.mark.parametrize(
    ("path", "film_id"),
    [
        ("/score_titulo/Face/Off", 754),  # raw '/'
        ("/score_titulo/Face%2FOff", 754),  # encoded '/'
        ("/score_titulo/face%2Foff", 754),
        ("/score_titulo/Victor/Victoria", 12614),
        ("/score_titulo/JLG/JLG:%20Self-Portrait%20in%20December", 104931),
        ("/score_titulo/Shall%20We%20Dance%3F", 11239),  # '?' must be encoded
        ("/score_titulo/They%20Shoot%20Horses%2C%20Don't%20They%3F", 28145),
        ("/votos_titulo/Who's%20Afraid%20of%20Virginia%20Woolf%3F", 396),
        ("/votos_titulo/Who%27s%20Afraid%20of%20Virginia%20Woolf%3F", 396),
        ("/recomendacion/Face/Off", 754),
    ],
)
def test_titles_with_reserved_characters(client: TestClient, movies: pl.DataFrame, path: str, film_id: int) -> None:
    model = (
        s.Recomendacion
        if path.startswith("/recomendacion")
        else (s.VotosTitulo if path.startswith("/votos") else s.ScoreTitulo)
    )
    body = ok(client, path, model)
    assert body["id"] == film_id
    assert body["titulo"] == film_of(movies, film_id)["title"]


def test_shared_title_answers_the_most_voted_and_lists_the_others(client: TestClient, movies: pl.DataFrame) -> None:
    mummies = preferred(movies.filter(pl.col("title") == "The Mummy"))
    assert mummies.height == 3
    best = mummies.row(0, named=True)
    others = sorted(mummies.slice(1).rows(named=True), key=lambda f: (f["release_year"], f["id"]))
    body = ok(client, "/score_titulo/the%20mummy", s.ScoreTitulo)
    assert (body["id"], body["anio"], body["popularidad"]) == (best["id"], best["release_year"], best["popularity"])
    assert body["coincidencias"] == [{"id": f["id"], "titulo": "The Mummy", "anio": f["release_year"]} for f in others]
    assert [c["anio"] for c in body["coincidencias"]] == [1932, 1959]


@pytest.mark.parametrize("year", [1932, 1959, 1999])
def test_anio_chooses_among_namesakes(client: TestClient, movies: pl.DataFrame, year: int) -> None:
    chosen = movies.filter((pl.col("title") == "The Mummy") & (pl.col("release_year") == year)).row(0, named=True)
    for endpoint, model in (
        ("score_titulo", s.ScoreTitulo),
        ("votos_titulo", s.VotosTitulo),
        ("recomendacion", s.Recomendacion),
    ):
        body = ok(client, f"/{endpoint}/The%20Mummy?anio={year}", model)
        assert body["id"] == chosen["id"] and body["anio"] == year
        assert sorted(c["id"] for c in body["coincidencias"]) == sorted(
            movies.filter((pl.col("title") == "The Mummy") & (pl.col("id") != chosen["id"]))["id"].to_list()
        )


def test_an_empty_anio_is_no_anio(client: TestClient) -> None:
    assert ok(client, "/score_titulo/The%20Mummy?anio=", s.ScoreTitulo) == ok(
        client, "/score_titulo/The%20Mummy", s.ScoreTitulo
    )
    assert ok(client, "/votos_titulo/The%20Mummy?anio=%201932%20", s.VotosTitulo)["anio"] == 1932


def test_every_shared_title_of_the_sample(client: TestClient, movies: pl.DataFrame) -> None:
    """All titles shared by several films (after normalization), each answered as the issue says."""
    shared = movies.filter(pl.col("key").is_duplicated())
    groups = shared.partition_by("key", as_dict=True)
    assert len(groups) >= 25
    for (title_key,), films in groups.items():
        ranked = preferred(films)
        body = ok(client, f"/score_titulo/{quote(ranked['title'][0], safe='')}", s.ScoreTitulo)
        assert body["id"] == ranked["id"][0], title_key
        assert sorted(c["id"] for c in body["coincidencias"]) == sorted(ranked["id"][1:].to_list())
        for film in ranked.rows(named=True):
            chosen = ok(
                client, f"/score_titulo/{quote(film['title'], safe='')}?anio={film['release_year']}", s.ScoreTitulo
            )
            same_year = preferred(films.filter(pl.col("release_year") == film["release_year"]))
            assert chosen["id"] == same_year["id"][0]


def test_votos_titulo_with_enough_votes(client: TestClient, movies: pl.DataFrame) -> None:
    film = film_of(movies, 862)
    assert film["vote_count"] >= 2000
    body = ok(client, "/votos_titulo/toy%20story", s.VotosTitulo)
    assert body == {
        "id": 862,
        "titulo": "Toy Story",
        "anio": 1995,
        "votos": film["vote_count"],
        "promedio": film["vote_average"],
        "minimo_votos": 2000,
        "coincidencias": [],
        "mensaje": "La película Toy Story fue estrenada en el año 1995. La misma cuenta con un total de "
        "5415 valoraciones, con un promedio de 7.7",
    }


def test_votos_titulo_below_the_minimum_gives_no_average(client: TestClient, movies: pl.DataFrame) -> None:
    film = film_of(movies, 36647)
    assert film["title"] == "Blade" and film["vote_count"] < 2000
    body = ok(client, "/votos_titulo/Blade", s.VotosTitulo)
    assert body["votos"] == film["vote_count"] == 1950
    assert body["promedio"] is None and body["minimo_votos"] == 2000
    assert body["mensaje"] == (
        "La película Blade fue estrenada en el año 1998. La misma cuenta con un total de 1950 valoraciones, "
        "por debajo del mínimo de 2000 valoraciones necesario para informar un promedio, por lo que no se informa."
    )


def test_vote_minimum_is_inclusive_and_a_setting(sample_data: Path) -> None:
    for minimum, average in ((5415, 7.7), (5416, None)):
        settings = Settings(data_dir=sample_data, min_votes=minimum)
        with TestClient(create_app(sample_data, settings)) as c:
            body = ok(c, "/votos_titulo/Toy%20Story", s.VotosTitulo)
        assert (body["promedio"], body["minimo_votos"]) == (average, minimum)


@pytest.mark.slow
def test_every_film_answers_by_its_title_and_year(client: TestClient, movies: pl.DataFrame) -> None:
    """A sweep over 300 films: score and votes exactly as in the table."""
    for film in movies.sample(n=300, seed=3).rows(named=True):
        path = f"{quote(film['title'], safe='')}?anio={film['release_year']}"
        body = ok(client, f"/votos_titulo/{path}", s.VotosTitulo)
        namesakes = preferred(
            movies.filter((pl.col("key") == film["key"]) & (pl.col("release_year") == film["release_year"]))
        )
        expected = namesakes.row(0, named=True)
        assert body["id"] == expected["id"]
        assert body["votos"] == expected["vote_count"]
        assert body["promedio"] == (expected["vote_average"] if expected["vote_count"] >= 2000 else None)
        score = ok(client, f"/score_titulo/{path}", s.ScoreTitulo)
        assert score["popularidad"] == expected["popularity"]
        assert score["fecha_estreno"] == expected["release_date"].isoformat()


# -- /get_actor -------------------------------------------------------------------------------------
def actor_expected(cast: pl.DataFrame, movies: pl.DataFrame, person_id: int) -> tuple[int, float]:
    film_ids = set(cast.filter(pl.col("person_id") == person_id)["movie_id"].to_list())
    returns = movies.filter(pl.col("id").is_in(list(film_ids)))["return"].to_list()
    return len(returns), math.fsum(returns)


def test_get_actor(client: TestClient, cast: pl.DataFrame, movies: pl.DataFrame) -> None:
    count, total = actor_expected(cast, movies, 31)
    body = ok(client, "/get_actor/Tom%20Hanks", s.Actor)
    assert body == {
        "actor": "Tom Hanks",
        "id": 31,
        "cantidad_peliculas": count,
        "retorno_total": total,
        "retorno_promedio": total / count,
        "homonimos": [],
        "mensaje": f"El actor Tom Hanks ha participado de {count} cantidad de filmaciones, el mismo ha "
        f"conseguido un retorno de {total:.2f} con un promedio de {total / count:.2f} por filmación",
    }
    assert count == 9


@pytest.mark.parametrize("spelling", ["tom hanks", "TOM HANKS", "  Tom   Hanks "])
def test_actor_in_any_case(client: TestClient, spelling: str) -> None:
    assert ok(client, f"/get_actor/{quote(spelling)}", s.Actor)["id"] == 31


def test_actor_with_accents(client: TestClient, cast: pl.DataFrame, movies: pl.DataFrame) -> None:
    person_id = cast.filter(pl.col("name") == "Mélanie Thierry")["person_id"][0]
    count, total = actor_expected(cast, movies, person_id)
    for spelling in ("Mélanie Thierry", "melanie thierry", "MELANIE THIERRY"):
        body = ok(client, f"/get_actor/{quote(spelling)}", s.Actor)
        assert (body["actor"], body["cantidad_peliculas"], body["retorno_total"]) == ("Mélanie Thierry", count, total)


def test_actor_counts_a_film_once_whatever_his_roles_in_it(
    client: TestClient, cast: pl.DataFrame, movies: pl.DataFrame
) -> None:
    repeated = cast.group_by("movie_id", "person_id").len().filter(pl.col("len") > 1)
    assert repeated.height == 20
    for person_id in repeated["person_id"].unique().sort().to_list()[:8]:
        name = cast.filter(pl.col("person_id") == person_id)["name"][0]
        credits = cast.filter(pl.col("person_id") == person_id).height
        count, total = actor_expected(cast, movies, person_id)
        body = ok(client, f"/get_actor/{quote(name, safe='')}", s.Actor)
        if body["id"] != person_id:  # a homonym with more films answers; this one is listed
            assert person_id in [h["id"] for h in body["homonimos"]]
            continue
        assert body["cantidad_peliculas"] == count < credits
        assert body["retorno_total"] == total


def test_directing_does_not_count_as_acting(
    client: TestClient, cast: pl.DataFrame, directing: pl.DataFrame, movies: pl.DataFrame
) -> None:
    both = directing.join(cast, on=["person_id"], how="semi")["person_id"].unique().sort().to_list()
    assert len(both) == 173
    checked = 0
    for person_id in both:
        acted = set(cast.filter(pl.col("person_id") == person_id)["movie_id"].to_list())
        directed = set(directing.filter(pl.col("person_id") == person_id)["movie_id"].to_list())
        if directed <= acted:
            continue
        name = cast.filter(pl.col("person_id") == person_id)["name"][0]
        body = ok(client, f"/get_actor/{quote(name, safe='')}", s.Actor)
        if body["id"] != person_id:
            continue
        count, total = actor_expected(cast, movies, person_id)
        assert body["cantidad_peliculas"] == count == len(acted) < len(acted | directed)
        assert body["retorno_total"] == total
        checked += 1
    assert checked >= 20


def test_homonymous_actors(client: TestClient, cast: pl.DataFrame, movies: pl.DataFrame) -> None:
    """Two persons named James Brown: the one with more films answers, the other is listed."""
    persons = cast.filter(pl.col("name").str.to_lowercase() == "james brown")["person_id"].unique().to_list()
    assert len(persons) == 2
    stats = {p: actor_expected(cast, movies, p) for p in persons}
    best = max(persons, key=lambda p: (stats[p][0], stats[p][1], -p))
    other = next(p for p in persons if p != best)
    body = ok(client, "/get_actor/James%20Brown", s.Actor)
    assert (body["id"], body["cantidad_peliculas"], body["retorno_total"]) == (best, *stats[best])
    assert body["homonimos"] == [{"id": other, "nombre": "James Brown", "cantidad_peliculas": stats[other][0]}]


def test_a_sweep_of_actors(client: TestClient, cast: pl.DataFrame, movies: pl.DataFrame) -> None:
    names = cast["name"].unique().sort().sample(n=150, seed=5).to_list()
    for name in names:
        persons = cast.filter(pl.col("key") == key(name))
        stats = {p: actor_expected(cast, movies, p) for p in persons["person_id"].unique().to_list()}
        best = max(stats, key=lambda p: (stats[p][0], stats[p][1], -p))
        body = ok(client, f"/get_actor/{quote(name, safe='')}", s.Actor)
        assert body["id"] == best
        assert (body["cantidad_peliculas"], body["retorno_total"]) == stats[best]
        assert body["retorno_promedio"] == stats[best][1] / stats[best][0]


# -- /get_director --------------------------------------------------------------------------------
def director_films(directing: pl.DataFrame, movies: pl.DataFrame, person_id: int) -> list[dict]:
    ids = directing.filter(pl.col("person_id") == person_id)["movie_id"].unique().to_list()
    films = movies.filter(pl.col("id").is_in(ids)).sort(["release_date", "id"])
    return [
        {
            "id": f["id"],
            "titulo": f["title"],
            "fecha_estreno": f["release_date"].strftime("%Y-%m-%d"),
            "retorno": f["return"],
            "costo": f["budget"],
            "ganancia": f["revenue"] - f["budget"] if f["revenue"] > 0 and f["budget"] > 0 else None,
            **original(f),
        }
        for f in films.rows(named=True)
    ]


def original(film: dict) -> dict:
    """``titulo_original`` when the film's original title differs from its catalogue title."""
    other = film.get("original_title")
    return {"titulo_original": other} if other and other != film["title"] else {}


def test_get_director(client: TestClient, directing: pl.DataFrame, movies: pl.DataFrame) -> None:
    films = director_films(directing, movies, 7879)
    total = math.fsum(f["retorno"] for f in films)
    body = ok(client, "/get_director/John%20Lasseter", s.Director)
    assert body == {
        "director": "John Lasseter",
        "id": 7879,
        "cantidad_peliculas": 2,
        "retorno_total": total,
        "retorno_promedio": total / 2,
        "peliculas": films,
        "homonimos": [],
        "mensaje": f"El director John Lasseter ha dirigido 2 películas, con un retorno total de {total:.2f} y un "
        f"promedio de {total / 2:.2f} por película",
    }
    assert [f["titulo"] for f in body["peliculas"]] == ["Toy Story", "A Bug's Life"]
    assert body["peliculas"][0] == {
        "id": 862,
        "titulo": "Toy Story",
        "fecha_estreno": "1995-10-30",
        "retorno": 12.4518011,
        "costo": 30000000,
        "ganancia": 343554033,
    }


def test_a_sweep_of_directors(client: TestClient, directing: pl.DataFrame, movies: pl.DataFrame) -> None:
    people = directing.select("person_id", "name").unique().sort("person_id").sample(n=150, seed=11)
    for person_id, name in people.rows():
        films = director_films(directing, movies, person_id)
        body = ok(client, f"/get_director/{quote(name.upper(), safe='')}", s.Director)
        assert body["id"] == person_id
        assert body["peliculas"] == films
        assert body["cantidad_peliculas"] == len(films)
        assert body["retorno_total"] == math.fsum(f["retorno"] for f in films)


def test_prolific_director_films_are_sorted_by_date(client: TestClient, directing: pl.DataFrame) -> None:
    top = directing.group_by("person_id", "name").len().sort(["len", "person_id"], descending=[True, False])
    _person_id, name, count = top.row(0)
    body = ok(client, f"/get_director/{quote(name)}", s.Director)
    assert body["cantidad_peliculas"] == count >= 10
    dates = [f["fecha_estreno"] for f in body["peliculas"]]
    assert dates == sorted(dates)


# -- recommendations ------------------------------------------------------------------------------------
def expected_recommendations(neighbours: pl.DataFrame, movies: pl.DataFrame, film_id: int) -> list[dict]:
    catalogue = movies.select("id", "title", "release_year", "original_title")
    rows = (
        neighbours.filter(pl.col("movie_id") == film_id)
        .sort("rank")
        .join(catalogue, left_on="neighbour_id", right_on="id", how="inner", maintain_order="left")
        .filter(pl.col("neighbour_id") != film_id)
        .unique("neighbour_id", keep="first", maintain_order=True)
        .head(5)
    )
    return [
        {"id": r["neighbour_id"], "titulo": r["title"], "anio": r["release_year"], "puntaje": r["score"], **original(r)}
        for r in rows.rows(named=True)
    ]


def test_recomendacion(client: TestClient, neighbours: pl.DataFrame, movies: pl.DataFrame) -> None:
    expected = expected_recommendations(neighbours, movies, 862)
    body = ok(client, "/recomendacion/toy%20story", s.Recomendacion)
    assert body == {
        "id": 862,
        "titulo": "Toy Story",
        "anio": 1995,
        "recomendaciones": [p["titulo"] for p in expected],
        "peliculas": expected,
        "coincidencias": [],
    }
    assert len(body["recomendaciones"]) == 5
    assert body["peliculas"][0]["puntaje"] == float(
        neighbours.filter((pl.col("movie_id") == 862) & (pl.col("rank") == 1))["score"][0]
    )


def test_recommendations_by_id(client: TestClient, neighbours: pl.DataFrame, movies: pl.DataFrame) -> None:
    for film_id in (862, 754, 15849, 11239):
        expected = expected_recommendations(neighbours, movies, film_id)
        body = ok(client, f"/peliculas/{film_id}/recomendaciones", s.Recomendacion)
        assert body["id"] == film_id and body["titulo"] == film_of(movies, film_id)["title"]
        assert body["peliculas"] == expected and body["coincidencias"] == []


@pytest.mark.slow
def test_every_film_recommends_five_films_that_resolve(
    client: TestClient, neighbours: pl.DataFrame, movies: pl.DataFrame
) -> None:
    """For 250 films: 5 recommendations as the model ranks them, never the film itself, each one
    found again by id and by title (with its year)."""
    ids = set(movies["id"].to_list())
    for film_id in movies["id"].sample(n=250, seed=17).to_list():
        body = ok(client, f"/peliculas/{film_id}/recomendaciones", s.Recomendacion)
        assert body["peliculas"] == expected_recommendations(neighbours, movies, film_id)
        assert len(body["peliculas"]) == 5
        for pick in body["peliculas"]:
            assert pick["id"] != film_id and pick["id"] in ids
            by_title = ok(
                client, f"/recomendacion/{quote(pick['titulo'], safe='')}?anio={pick['anio']}", s.Recomendacion
            )
            assert pick["id"] in [by_title["id"], *(c["id"] for c in by_title["coincidencias"])]
    for film_id in movies["id"].sample(n=40, seed=19).to_list():
        ok(client, f"/peliculas/{film_id}/recomendaciones", s.Recomendacion)


# -- documentation ------------------------------------------------------------------------------------
def test_openapi_in_spanish_with_a_model_per_response(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert set(paths) == {
        "/cantidad_filmaciones_mes/{mes}",
        "/cantidad_filmaciones_dia/{dia}",
        "/score_titulo/{titulo}",
        "/votos_titulo/{titulo}",
        "/get_actor/{nombre_actor}",
        "/get_director/{nombre_director}",
        "/recomendacion/{titulo}",
        "/peliculas/{id}/recomendaciones",
        "/recomendacion_usuario",
        "/health",
        "/reporte",
        "/reporte.json",
        "/sugerencias",
        "/novedades",
    }
    report = {"/reporte": "text/html", "/reporte.json": "application/json"}
    for path, media in report.items():
        responses = paths.pop(path)["get"]["responses"]
        assert set(responses["200"]["content"]) == {media}
        assert responses["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorNoEncontrado")
    for path, item in paths.items():
        operation = item["get"]
        ok_response = operation["responses"]["200"]
        assert ok_response["description"] == "Respuesta correcta."
        assert ok_response["content"]["application/json"]["schema"]["$ref"].startswith("#/components/schemas/")
        for parameter in operation.get("parameters", []):
            assert parameter["description"] and parameter["examples"], (path, parameter)
        if path != "/health":
            assert operation["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
                "/ErrorValidacion"
            )
    assert "sin distinguir mayúsculas" in schema["info"]["description"]
    assert schema["components"]["schemas"]["ScoreTitulo"]["examples"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
