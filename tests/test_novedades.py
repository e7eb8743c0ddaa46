"""«Novedades»: the films ingests added (GET /novedades, the home page's section), a chain of two
ingests and rollbacks followed by a running server, and a film ingested with no likes: its 5
recommendations explained by its content, and its card saying it is new.

The batches copy real films of the sample under new ids and titles (Back to the Future and
Forrest Gump: Robert Zemeckis, a collection), so that their content has something to match."""

from __future__ import annotations

import html
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from tests.helpers import COLUMNS, sample_rows, write_batch
from typer.testing import CliRunner

from movierec.api.app import create_app
from movierec.api.novedades import Novedades
from movierec.api.web_text import REASON_PHRASES, reason_phrase
from movierec.catalog.additions import ADDITIONS, release_time
from movierec.cli import app as cli
from movierec.config import Settings
from movierec.model.reasons import GENERIC
from movierec.refresh.ingest import ingest
from movierec.release.store import ReleaseStore

SETTINGS = {"evaluate_on_publish": False, "report_on_publish": False}
CONTENT = {"text", "genres", "keywords", "cast", "director", "collection", "cf_content"}
FUTURE, GALAXY, GUMP = 9_100_001, 9_100_002, 9_100_003  # copies of 105, 11 and 13
PICK = re.compile(
    r'<li><a href="/\?id=(\d+)">(.*?)</a> <span class="anio">\((.*?)\)</span>'
    r'(?:<span class="porque">(.*?)</span>)?</li>'
)
NEW = re.compile(
    r'<li><a href="/\?id=(\d+)">(.*?)</a> <span class="anio">\(.*?\)</span> '
    r'<span class="agregada">agregada el (.*?)</span></li>'
)


def copies(sample_raw: Path, folder: Path, films: dict[int, tuple[int, str]], deleted: str | None = None) -> Path:
    """A batch of sample films (source id → (new id, new title)) with their credits and keywords."""
    movies = sample_rows(sample_raw, "movies_metadata.csv")
    at, title, original = (COLUMNS.index(c) for c in ("id", "title", "original_title"))
    rows = []
    for source, (new, name) in films.items():
        row = [*next(r for r in movies[1:] if r[at] == str(source))]
        row[at], row[title], row[original] = str(new), name, name
        row[COLUMNS.index("release_date")], row[COLUMNS.index("vote_count")] = "2026-11-20", "12"
        rows.append(row)

    def renamed(name: str, column: int) -> list[list[str]]:
        table = sample_rows(sample_raw, name)
        return [table[0]] + [
            [*r[:column], str(films[int(r[column])][0]), *r[column + 1 :]]
            for r in table[1:]
            if r[column].isdigit() and int(r[column]) in films
        ]

    return write_batch(folder, [COLUMNS, *rows], renamed("credits.csv", 2), renamed("keywords.csv", 0), deleted)


@pytest.fixture(scope="module")
def chain(sample_data: Path, sample_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A copy of the sample's data folder and two ingests into it: the first adds FUTURE and
    GALAXY; the second adds GUMP, renames FUTURE and deletes GALAXY. Returns (DATA, [r1, r2, r3])."""
    data = tmp_path_factory.mktemp("novedades") / "data"
    shutil.copytree(sample_data, data, symlinks=True)
    settings = Settings(data_dir=data, **SETTINGS)
    work = tmp_path_factory.mktemp("batches")
    first = ReleaseStore(data).current()
    ingest(
        copies(
            sample_raw,
            work / "1",
            {105: (FUTURE, "Regreso al futuro IV"), 11: (GALAXY, "La guerra de las galaxias: nueva era")},
        ),
        data,
        settings,
    )
    second = ReleaseStore(data).current()
    ingest(
        copies(
            sample_raw,
            work / "2",
            {13: (GUMP, "Forrest Gump 2"), 105: (FUTURE, "Regreso al futuro IV (2)")},
            deleted=f"{GALAXY}\n",
        ),
        data,
        settings,
    )
    third = ReleaseStore(data).current()
    assert first is not None and second is not None and third is not None and len({first, second, third}) == 3
    return data, [first, second, third]


@pytest.fixture(scope="module")
def served(chain: tuple[Path, list[Path]]) -> Iterator[TestClient]:
    """A server following DATA/current, as `movierec serve` does."""
    data, _ = chain
    with TestClient(create_app(data, Settings(data_dir=data, reload_interval=0.05), follow_current=True)) as c:
        yield c


def day(release: Path) -> str:
    return release_time(release.name).date().isoformat()


def test_a_catalogue_built_without_ingests_has_no_novedades(client: TestClient) -> None:
    response = client.get("/novedades")
    assert response.status_code == 200 and response.json() == {"limite": 20, "novedades": []}
    page = client.get("/").text
    assert '<h2 id="titulo-novedades">Novedades</h2>' in page and "Aún no hay novedades" in page
    card = client.get("/?id=862")
    assert card.status_code == 200 and 'id="titulo-ficha"' in card.text
    assert "titulo-novedades" not in card.text  # only on the home page


@pytest.mark.parametrize("value", ["abc", "0", "101", "-1", "1.5", "1e2", "٣", "9" * 30])
def test_limite_is_an_integer_from_1_to_100(client: TestClient, value: str) -> None:
    response = client.get("/novedades", params={"limite": value})
    assert response.status_code == 422 and response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["detail"].startswith("El parámetro «limite» debe ser un número entero entre 1 y 100")
    assert body["errores"] == [{"campo": "limite", "mensaje": body["detail"]}]


@pytest.mark.slow
def test_novedades_after_a_chain_of_ingests(served: TestClient, chain: tuple[Path, list[Path]]) -> None:
    _data, (first, second, third) = chain
    body = served.get("/novedades").json()
    Novedades.model_validate(body)
    assert [(f["id"], f["titulo"], f["anio"], f["agregada"]) for f in body["novedades"]] == [
        (GUMP, "Forrest Gump 2", 2026, day(third)),  # the newest ingest's first
        (FUTURE, "Regreso al futuro IV (2)", 2026, day(second)),  # updated since: keeps the date it was added
    ]  # GALAXY was deleted by the second ingest
    for film in body["novedades"]:
        assert len(film["recomendaciones"]) == 5
        assert (
            film["recomendaciones"] == served.get(f"/peliculas/{film['id']}/recomendaciones").json()["recomendaciones"]
        )
    assert [f["id"] for f in served.get("/novedades?limite=1").json()["novedades"]] == [GUMP]
    assert served.get("/novedades?limite=%20").json()["limite"] == 20  # blank: the default
    head = served.head("/novedades")
    assert head.status_code == 200 and head.content == b""
    history = pl.read_parquet(third / ADDITIONS)
    assert history.select("movie_id", "release").rows() == [(GUMP, third.name), (FUTURE, second.name)]
    assert not (first / ADDITIONS).exists()  # built by `pipeline`: nothing added


@pytest.mark.slow
def test_after_a_rollback_the_rolled_back_films_are_no_longer_listed(
    served: TestClient, chain: tuple[Path, list[Path]]
) -> None:
    data, (first, second, third) = chain
    try:
        for release, expected in ((second, [GALAXY, FUTURE]), (first, [])):
            result = CliRunner().invoke(cli, ["rollback", "--data", str(data)])
            assert result.exit_code == 0, result.output
            deadline = time.monotonic() + 30
            while served.get("/health").json()["version"] != release.name:
                assert time.monotonic() < deadline, "the server did not follow the rollback"
                time.sleep(0.05)
            body = served.get("/novedades").json()
            assert [f["id"] for f in body["novedades"]] == expected  # one release: the highest id first
            assert all(f["agregada"] == day(second) for f in body["novedades"])
            assert served.get(f"/peliculas/{GUMP}/recomendaciones").status_code == 404
    finally:
        ReleaseStore(data).switch(third)
        deadline = time.monotonic() + 30
        while served.get("/health").json()["version"] != third.name and time.monotonic() < deadline:
            time.sleep(0.05)


def usable_picks(release: Path, film: int) -> pl.DataFrame:
    """The film's first 5 neighbours as the catalog takes them (titled, not itself, once each)."""
    movies = pl.read_parquet(release / "tables" / "movies.parquet", columns=["id", "title"])
    return (
        pl.read_parquet(release / "model" / "neighbours.parquet")
        .filter(pl.col("movie_id") == film)
        .sort("rank")
        .join(movies, left_on="neighbour_id", right_on="id", maintain_order="left")
        .filter(pl.col("title").is_not_null() & (pl.col("neighbour_id") != film))
        .unique("neighbour_id", keep="first", maintain_order=True)
        .head(5)
    )


@pytest.mark.slow
@pytest.mark.parametrize("film", [FUTURE, GUMP])
def test_a_film_ingested_with_no_likes_is_recommended_by_its_content(
    served: TestClient, chain: tuple[Path, list[Path]], film: int
) -> None:
    release = chain[1][2]
    likes = pl.read_parquet(release / "model" / "likes.parquet")
    assert likes.filter(pl.col("movie_id") == film)["likes"].to_list() == [0]
    assert likes.filter(pl.col("movie_id") == 105)["likes"].item() > 0
    picks = usable_picks(release, film)
    assert picks.height == 5
    for reason in picks["reason"].to_list():
        names = set(reason.split(","))
        assert names and names <= CONTENT and not names & (GENERIC | {"cf"}), reason
    page = served.get(f"/?id={film}").text
    assert '<p class="nota" id="por-contenido">Película nueva: recomendada por su contenido.</p>' in page
    assert re.search(r'<dt>Agregada al catálogo</dt><dd id="agregada">\d+ de \w+ de \d{4}</dd>', page)
    shown = PICK.findall(page)
    assert [(int(i), html.unescape(why)) for i, _, _, why in shown] == [
        (r["neighbour_id"], reason_phrase(r["reason"])) for r in picks.iter_rows(named=True)
    ]
    words = {REASON_PHRASES[name].lower() for name in CONTENT - {"cf_content"}}
    assert all(any(w in html.unescape(why).lower() for w in words) for *_, why in shown)


@pytest.mark.slow
def test_cards_of_films_with_likes_and_without(served: TestClient, chain: tuple[Path, list[Path]]) -> None:
    release = chain[1][2]
    warm = served.get("/?id=105").text  # Back to the Future: liked by training users
    assert 'id="por-contenido"' not in warm and 'id="agregada"' not in warm
    likes = pl.read_parquet(release / "model" / "likes.parquet")
    added = set(pl.read_parquet(release / ADDITIONS)["movie_id"])
    cold = likes.filter((pl.col("likes") == 0) & ~pl.col("movie_id").is_in(list(added)))["movie_id"][0]
    page = served.get(f"/?id={cold}").text
    assert '<p class="nota" id="por-contenido">Nadie la valoró todavía: recomendada por su contenido.</p>' in page
    assert 'id="agregada"' not in page


@pytest.mark.slow
def test_the_home_page_lists_the_novedades_as_links_to_their_cards(served: TestClient) -> None:
    page = served.get("/", headers={"Accept": "text/html"}).text  # rendered on the server: no script needed
    section = page[page.index('<section aria-labelledby="titulo-novedades">') :]
    section = section[: section.index("</section>")]
    listed = NEW.findall(section)
    assert [(int(i), html.unescape(t)) for i, t, _ in listed] == [
        (GUMP, "Forrest Gump 2"),
        (FUTURE, "Regreso al futuro IV (2)"),
    ]
    assert all(re.fullmatch(r"\d+ de \w+ de \d{4}", when) for *_, when in listed)
    assert "Aún no hay novedades" not in page
    for film_id, title, _ in listed:
        card = served.get(f"/?id={film_id}")
        assert card.status_code == 200 and f'<h1 id="titulo-ficha">{title} ' in card.text
