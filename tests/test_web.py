"""The web page (api/web.py) over the release built from the real sample, through the ASGI app:
suggestions, the search without JavaScript, the film card, errors, nothing loaded from elsewhere.
Expected values are computed here from the parquet tables (polars, rapidfuzz's ratio as the README
states the rule), not through the catalog's indexes."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from rapidfuzz import fuzz
from tests.helpers import key

from movierec.api.app import create_app
from movierec.api.web_text import reason_phrase, spanish_date
from movierec.catalog.cards import CARDS
from movierec.config import Settings
from movierec.vocabulary import GENRES

PICK = re.compile(
    r'<li><a href="/\?id=(\d+)">(.*?)</a> <span class="anio">\((.*?)\)</span>'
    r'(?:<span class="porque">(.*?)</span>)?</li>'
)


@pytest.fixture(scope="module")
def titles(sample_tables: Path) -> dict[str, list[dict]]:
    """Films by title key (catalogue and original titles), each key's films preferred first (most
    votes, most popular, lowest id)."""
    movies = pl.read_parquet(
        sample_tables / "movies.parquet",
        columns=["id", "title", "original_title", "release_year", "vote_count", "popularity"],
    ).drop_nulls("title")
    grouped: dict[str, list[dict]] = {}
    for film in movies.iter_rows(named=True):
        for title_key in {key(film["title"]), key(film["original_title"] or film["title"])} - {""}:
            grouped.setdefault(title_key, []).append(film)
    for films in grouped.values():
        films.sort(
            key=lambda f: (-f["vote_count"], -(f["popularity"] if f["popularity"] is not None else -1e300), f["id"])
        )
    return grouped


def expected_suggestions(titles: dict[str, list[dict]], query: str, limit: int = 10) -> list[dict]:
    """Every title scored by brute force: a prefix scores max(85, ratio), else ratio ≥ 70; a film
    preferred by several of its titles is suggested by the best of them; best score first, then the
    shorter title, then alphabetical; up to 3 films per title."""
    q = key(query)
    best: dict[int, tuple[float, int, str]] = {}  # by the title's preferred film
    for title, films in titles.items():
        ratio = fuzz.ratio(q, title)
        if title.startswith(q) or ratio >= 70:
            score = (max(85.0, ratio) if title.startswith(q) else ratio, -len(title), title)
            best[films[0]["id"]] = max(best.get(films[0]["id"], score), score)
    ranked = sorted((-score, -minus_length, title) for score, minus_length, title in best.values())
    films = [f for _, _, title in ranked[:limit] for f in titles[title][:3]]
    return [
        {
            "id": f["id"],
            "titulo": f["title"],
            "anio": f["release_year"],
            **({"titulo_original": f["original_title"]} if f["original_title"] not in (None, f["title"]) else {}),
        }
        for f in films[:limit]
    ]


@pytest.mark.parametrize(
    "query", ["toy stroy", "TOY STOR", "LES MISERABLES", "  déjà   vu ", "star wars", "ham", "the godfathr"]
)
def test_suggestions_on_the_sample(client: TestClient, titles: dict, query: str) -> None:
    response = client.get("/sugerencias", params={"q": query})
    assert response.status_code == 200
    body = response.json()
    assert body["consulta"] == query
    assert body["sugerencias"] == expected_suggestions(titles, query)
    assert 0 < len(body["sugerencias"]) <= 10


def test_suggestions_of_a_misspelling_and_accents(client: TestClient) -> None:
    first = {
        q: client.get("/sugerencias", params={"q": q}).json()["sugerencias"][0]["titulo"]
        for q in ("toy stroy", "les miserables", "la ceremonie", "DEJA VU")
    }
    assert first == {
        "toy stroy": "Toy Story",
        "les miserables": "Les Misérables",
        "la ceremonie": "La Cérémonie",
        "DEJA VU": "Déjà Vu",
    }
    hamlets = [
        s for s in client.get("/sugerencias", params={"q": "hamlet"}).json()["sugerencias"] if s["titulo"] == "Hamlet"
    ]
    assert len(hamlets) >= 2 and len({s["anio"] for s in hamlets}) == len(hamlets)  # namesakes told apart by year


def test_nothing_close_is_an_empty_list(client: TestClient) -> None:
    assert client.get("/sugerencias", params={"q": "qqqqzzzzxxxx"}).json() == {
        "consulta": "qqqqzzzzxxxx",
        "sugerencias": [],
    }


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/sugerencias", 422, "«q» está vacío"),
        ("/sugerencias?q=%20%20", 422, "«q» está vacío"),
        ("/sugerencias?q=" + "a" * 201, 422, "como máximo 200 caracteres (tiene 201)"),
        ("/?q=" + "a" * 201, 422, "como máximo 200 caracteres (tiene 201)"),
        ("/?id=abc", 422, "«id» debe ser un número entero"),
        ("/?id=-1", 422, "«id» debe ser un número entero"),
        ("/?id=99999999999999999999", 422, "«id» debe ser un número entero"),
        ("/?id=1", 404, "No hay ninguna película con id 1 en el catálogo."),
    ],
)
def test_bad_input_is_spanish_json(client: TestClient, path: str, status: int, detail: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert detail in response.json()["detail"]


def test_a_browser_gets_the_error_in_the_page(client: TestClient) -> None:
    response = client.get("/?id=1", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert re.search(
        r'<p class="error" role="alert">No hay ninguna película con id 1 en el catálogo.</p>', response.text
    )
    assert '<form class="busqueda" method="get" action="/"' in response.text  # one can search again


def test_search_without_javascript_lists_titles_as_links(client: TestClient, titles: dict) -> None:
    page = client.get("/?q=toy+stor").text
    links = re.findall(r'<li><a href="/\?id=(\d+)">(.*?)</a> <span class="anio">\((.*?)\)</span></li>', page)
    expected = expected_suggestions(titles, "toy stor", 20)
    assert [(int(i), html.unescape(t), y) for i, t, y in links] == [
        (s["id"], s["titulo"], str(s["anio"])) for s in expected
    ]
    assert links[0][:2] == ("862", "Toy Story")
    assert "Resultados para «toy stor»" in page
    assert "No se encontró ningún título parecido a «zzzzqqqq»." in client.get("/?q=zzzzqqqq").text


def dd(page: str, element_id: str) -> str:
    match = re.search(rf'<dd id="{element_id}">(.*?)</dd>', page)
    assert match, element_id
    return html.unescape(match.group(1))


def test_card_of_toy_story(client: TestClient, sample_tables: Path, sample_data: Path) -> None:
    page = client.get("/?id=862").text
    genres = pl.read_parquet(sample_tables / "genres.parquet").filter(pl.col("movie_id") == 862)["genre"].to_list()
    crew = pl.read_parquet(sample_tables / "crew.parquet").filter(pl.col("movie_id") == 862)
    cast = pl.read_parquet(sample_tables / "cast.parquet").filter(pl.col("movie_id") == 862).sort("order")
    movie = pl.read_parquet(sample_tables / "movies.parquet").filter(pl.col("id") == 862).row(0, named=True)
    assert dd(page, "generos") == ", ".join(GENRES[g] for g in genres)
    assert dd(page, "direccion") == ", ".join(crew.filter(pl.col("job") == "Director")["name"].to_list())
    assert dd(page, "reparto") == ", ".join(cast["name"].unique(maintain_order=True).to_list()[:5])
    overview = re.search(r'<p class="sinopsis">(.*?)</p>', page, re.S)
    assert overview and html.unescape(overview.group(1)) == movie["overview"]
    assert f'<h1 id="titulo-ficha">{movie["title"]} <span class="anio">({movie["release_year"]})</span></h1>' in page
    assert f"<dt>Votos</dt><dd>{movie['vote_count']:,}</dd>".replace(",", ".") in page
    assert movie["vote_count"] >= 2000
    assert f"<dt>Promedio</dt><dd>{movie['vote_average']:.1f} de 10</dd>".replace(".", ",") in page
    assert f"<dt>Colección</dt><dd>{movie['collection']}</dd>" in page
    assert 'id="anadir" data-id="862" data-titulo="Toy Story"' in page


def test_card_recommendations_and_reasons_come_from_the_artifact(
    client: TestClient, sample_data: Path, sample_tables: Path
) -> None:
    movies = pl.read_parquet(sample_tables / "movies.parquet", columns=["id", "title", "release_year"])
    neighbours = pl.read_parquet(sample_data / "current" / "model" / "neighbours.parquet")
    for film_id in (862, 11, 105):  # Toy Story; Star Wars and Back to the Future (their sequels: collection)
        rows = (
            neighbours.filter(pl.col("movie_id") == film_id)
            .sort("rank")
            .join(movies, left_on="neighbour_id", right_on="id", maintain_order="left")
            .filter(pl.col("title").is_not_null() & (pl.col("neighbour_id") != film_id))
            .unique("neighbour_id", keep="first", maintain_order=True)
            .head(5)
        )
        picks = PICK.findall(client.get(f"/?id={film_id}").text)
        assert [(int(i), html.unescape(t), int(y), html.unescape(why)) for i, t, y, why in picks] == [
            (r["neighbour_id"], r["title"], r["release_year"], reason_phrase(r["reason"]))
            for r in rows.iter_rows(named=True)
        ]
    star_wars = PICK.findall(client.get("/?id=11").text)
    assert "De la misma colección" in star_wars[0][3]


def test_the_average_is_not_shown_below_the_minimum_of_votes(client: TestClient, sample_tables: Path) -> None:
    movies = pl.read_parquet(sample_tables / "movies.parquet")
    few = movies.filter((pl.col("vote_count") < 2000) & (pl.col("vote_count") > 100)).row(0, named=True)
    page = client.get(f"/?id={few['id']}").text
    assert "<dt>Promedio</dt><dd>no se informa con menos de 2.000 votos</dd>" in page


def test_nothing_is_loaded_from_elsewhere(client: TestClient) -> None:
    for path in ("/", "/?id=862", "/?q=toy+stor", "/?id=1"):
        response = client.get(path, headers={"Accept": "text/html"})
        page = response.text
        targets = re.findall(r'\b(?:src|href|action)\s*=\s*["\']([^"\']*)', page)
        assert targets and all(t.startswith(("/", "#", "data:")) and not t.startswith("//") for t in targets)
        assert not re.search(r"https?:|@import|url\(|<script[^>]+src|<link[^>]+stylesheet", page, re.I)
        # the policy allows exactly the inline style and script it carries, and this origin
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "connect-src 'self'" in policy
        for tag in ("style", "script"):
            inline = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.S).group(1)  # type: ignore[union-attr]
            digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
            assert f"{tag}-src 'sha256-{digest}'" in policy


def test_page_is_spanish_and_shows_the_release(client: TestClient, sample_data: Path) -> None:
    page = client.get("/").text
    manifest = json.loads((sample_data / "current" / "manifest.json").read_text())
    assert page.startswith('<!doctype html>\n<html lang="es">')
    assert (
        f'versión <span id="version">{manifest["release"]}</span>, publicada el '
        f"{spanish_date(manifest['created_at'])}" in page
    )
    assert '<a href="/reporte">' in page and '<a href="/docs">' in page
    assert '<label for="q">' in page and 'role="combobox"' in page
    paths = client.get("/openapi.json").json()["paths"]
    assert "/sugerencias" in paths and "/" not in paths


def test_a_release_from_before_cards_and_reasons(tmp_path: Path, sample_data: Path) -> None:
    """An older release (no cards file, an artifact without reasons) shows the card without them."""
    release = (sample_data / "current").resolve()
    data = tmp_path / "data"
    copy = data / "releases" / release.name
    shutil.copytree(release, copy)
    (data / "current").symlink_to(Path("releases") / release.name)
    (copy / CARDS).unlink()
    shutil.rmtree(copy / "catalog")  # an older release: no catalog artifact either, indexed at load
    artifact = copy / "model" / "neighbours.parquet"
    pl.read_parquet(artifact).drop("reason").write_parquet(artifact)
    with TestClient(create_app(data, Settings(data_dir=data))) as old:
        response = old.get("/?id=862")
    assert response.status_code == 200
    assert "Géneros" not in response.text and "<dt>Popularidad</dt><dd>21,95</dd>" in response.text
    picks = PICK.findall(response.text)
    assert len(picks) == 5 and all(why == "" for *_, why in picks)


def test_suggestions_are_kept_per_catalog_by_the_normalized_text(
    sample_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movierec.api.web import suggested_films
    from movierec.catalog.indexes import load_catalog

    catalog = load_catalog((sample_data / "current").resolve(), Settings())
    first = suggested_films(catalog, "Toy Stor", 10)
    assert first and first[0].title == "Toy Story"
    monkeypatch.setattr(type(catalog.titles), "suggest", lambda *_: pytest.fail("not from the cache"))
    assert suggested_films(catalog, "  toy   STOR ", 10) == first  # the same key: from the cache
    other = load_catalog((sample_data / "current").resolve(), Settings())  # another release: its own cache
    with pytest.raises(pytest.fail.Exception, match="not from the cache"):
        suggested_films(other, "toy stor", 10)
