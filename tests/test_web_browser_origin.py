"""The page's origin stays ours (issue 19, item 11), in Debian's chromium driven by Playwright:
the report renders its charts under its strict CSP while a script planted in it (a fetched
release is written by whoever published it) never runs, and /docs is Swagger UI from this
server's own files, with no request to another origin."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.servers import SHOTS, serving

PLANTED = (
    '<script>document.title = "pwned"; localStorage.setItem("mi-lista", "robada")</script>'
    '<img src="x" onerror="document.title = \'pwned by onerror\'">'
)


@pytest.fixture(scope="module")
def server(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`movierec serve` over a copy of the sample's release whose report carries ``PLANTED``."""
    data = tmp_path_factory.mktemp("origin") / "data"
    shutil.copytree(sample_data, data, symlinks=True)
    release = (sample_data / "current").resolve()
    copy = data / "releases" / release.name
    copy.mkdir(parents=True, exist_ok=True)
    (data / "current").unlink()
    shutil.copytree(release, copy, dirs_exist_ok=True)
    (data / "current").symlink_to(Path("releases") / release.name)
    report = copy / "report" / "report.html"
    report.write_text(report.read_text(encoding="utf-8").replace("</body>", PLANTED + "</body>"), encoding="utf-8")
    with serving(data) as url:
        yield url


def test_the_report_draws_its_charts_and_a_planted_script_never_runs(server: str, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(server + "/reporte")
    assert response is not None and response.status == 200
    assert "script-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    page.wait_for_timeout(200)
    assert page.title() != "pwned" and "pwned" not in page.title()
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 8
    # the charts' inline styles apply: the first chart's bars are the palette's blue, not black
    fills = page.evaluate("""() => [...document.querySelectorAll('svg[role=img] path')]
                                   .map(p => getComputedStyle(p).fill)""")
    assert "rgb(0, 114, 178)" in fills
    box = charts.first.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    page.screenshot(path=str(SHOTS / "report-csp.png"))
    # the page's own origin never got the planted key
    home = context.new_page()
    served = home.goto(server + "/")
    assert served is not None and served.status == 200
    assert home.evaluate("() => localStorage.getItem('mi-lista')") is None
    assert requested and all(url.startswith(server + "/") or url.startswith("data:") for url in requested), requested
    context.close()


def test_docs_is_swagger_ui_from_this_server_only(server: str, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    docs = page.goto(server + "/docs")
    assert docs is not None and docs.status == 200
    page.locator(".swagger-ui .info .title").wait_for(timeout=15_000)
    assert "movierec" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-summary-path", has_text="/recomendacion_usuario").first.wait_for()
    page.screenshot(path=str(SHOTS / "docs.png"))
    assert any(url.endswith("/docs/swagger-ui-bundle.js") for url in requested)
    assert any(url.endswith("/openapi.json") for url in requested)
    assert all(url.startswith(server + "/") or url.startswith("data:") for url in requested), requested
    context.close()
