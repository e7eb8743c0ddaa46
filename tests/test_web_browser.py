"""The web page in a real browser: Debian's chromium, driven by Playwright, against `movierec serve`
started on 127.0.0.1 over the release built from the real sample. One browser for the module (conftest).

Screenshots of every state go to /tmp/web-shots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import polars as pl
import pytest
from tests.servers import SHOTS, serving


@pytest.fixture(scope="module")
def server(sample_data: Path) -> Iterator[str]:
    with serving(sample_data) as url:
        yield url


@pytest.fixture(scope="module")
def movies(sample_tables: Path) -> pl.DataFrame:
    return pl.read_parquet(sample_tables / "movies.parquet", columns=["id", "title", "release_year"])


def pick_by_keyboard(page: Any, typed: str, wanted: str, shot: str | None = None) -> None:
    """Type `typed` key by key, move down the suggestions with the arrow keys to `wanted`, Enter."""
    from playwright.sync_api import expect

    box = page.get_by_role("combobox", name="Buscar una película por su título")
    box.fill("")
    whole = f"/sugerencias?q={quote(typed.strip(), safe='')}"
    with page.expect_response(lambda response: response.url.endswith(whole)):  # the last key's answer
        box.press_sequentially(typed, delay=30)
    expect(page.get_by_role("option", name=wanted, exact=True)).to_be_visible()
    labels = page.get_by_role("option").all_inner_texts()
    assert wanted in labels, labels
    for _ in range(labels.index(wanted) + 1):
        box.press("ArrowDown")
    expect(page.locator("#sugerencias [aria-selected=true]")).to_have_text(wanted)
    if shot:
        page.screenshot(path=str(SHOTS / shot))
    box.press("Enter")


def test_search_card_and_my_list(server: str, browser: Any, movies: pl.DataFrame) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(locale="es-ES", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    home = page.goto(server + "/")
    assert home is not None and home.status == 200
    page.screenshot(path=str(SHOTS / "01-inicio.png"))

    # A misspelled title, and a suggestion picked with the keyboard.
    toy = movies.filter(pl.col("id") == 862).row(0, named=True)
    pick_by_keyboard(page, "toy stroy", f"{toy['title']} ({toy['release_year']})", "02-sugerencias.png")
    page.wait_for_url(f"{server}/?id=862")
    expect(page.locator("#titulo-ficha")).to_have_text(f"{toy['title']} ({toy['release_year']})")
    picks = page.locator("ol.recomendaciones > li")
    expect(picks).to_have_count(5)
    assert all(reason.strip() for reason in page.locator("ol.recomendaciones .porque").all_inner_texts())
    page.screenshot(path=str(SHOTS / "03-ficha.png"), full_page=True)

    # Two films in the list (added with the keyboard), then the ten personal picks.
    add = page.get_by_role("button", name="Añadir a mi lista")
    add.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#lista > li")).to_have_count(1)
    star = movies.filter(pl.col("id") == 11).row(0, named=True)
    pick_by_keyboard(page, "star wars", f"{star['title']} ({star['release_year']})")
    page.wait_for_url(f"{server}/?id=11")
    page.get_by_role("button", name="Añadir a mi lista").click()
    listed = page.locator("#lista > li a")
    expect(listed).to_have_text([toy["title"], star["title"]])
    personal = page.locator("#personales > li")
    expect(personal).to_have_count(10)
    reasons = page.locator("#personales .porque").all_inner_texts()
    assert len(reasons) == 10
    assert all(r in (f"porque te gustó {toy['title']}", f"porque te gustó {star['title']}") for r in reasons), reasons
    picked = {
        int(href.split("=")[1])
        for href in page.locator("#personales a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    }
    assert len(picked) == 10 and not picked & {862, 11}
    expect(page.get_by_role("button", name="Quitar de mi lista")).to_be_visible()
    page.screenshot(path=str(SHOTS / "04-mi-lista.png"), full_page=True)

    # The list survives a reload (localStorage), and its picks come back.
    page.reload()
    expect(listed).to_have_text([toy["title"], star["title"]])
    expect(personal).to_have_count(10)
    page.screenshot(path=str(SHOTS / "05-recargada.png"), full_page=True)

    # Removing a film updates the list.
    page.get_by_role("button", name=f"Quitar {toy['title']} de mi lista").click()
    expect(listed).to_have_text([star["title"]])

    # Every request the page made went to this server, and the page used both JSON endpoints.
    assert requested and all(url.startswith(server + "/") for url in requested), requested
    assert any("/sugerencias?q=" in url for url in requested)
    assert any("/recomendacion_usuario?id=862&id=11" in url for url in requested)
    context.close()


def test_without_javascript_search_and_card(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(java_script_enabled=False, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    home = page.goto(server + "/")
    assert home is not None and home.status == 200
    # «Novedades» is rendered on the server; a catalogue built without ingests says it has none yet
    expect(page.get_by_role("heading", name="Novedades")).to_be_visible()
    expect(page.get_by_text("Aún no hay novedades")).to_be_visible()
    page.get_by_label("Buscar una película por su título").fill("toy stor")
    page.get_by_role("button", name="Buscar").click()
    page.wait_for_url(f"{server}/?q=toy+stor")
    expect(page.get_by_role("heading", name="Resultados para «toy stor»")).to_be_visible()
    page.screenshot(path=str(SHOTS / "06-sin-js-resultados.png"), full_page=True)
    page.get_by_role("link", name="Toy Story").click()
    page.wait_for_url(f"{server}/?id=862")
    expect(page.locator("#titulo-ficha")).to_contain_text("Toy Story")
    expect(page.locator("ol.recomendaciones > li")).to_have_count(5)
    expect(page.locator("#mi-lista")).to_be_hidden()  # the list needs the script; the page says so
    expect(page.get_by_text("«Mi lista» guarda en este navegador")).to_be_visible()
    page.screenshot(path=str(SHOTS / "07-sin-js-ficha.png"), full_page=True)
    assert requested and all(url.startswith(server + "/") for url in requested), requested
    context.close()
