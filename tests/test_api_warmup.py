"""Issue 7: a 404 arriving while the suggestion indexes are still being built must not hold the
event loop (and so every other request) until they are."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import pytest
from tests.helpers import write_release

from movierec.api.app import create_app
from movierec.catalog.indexes import Catalog, load_catalog
from movierec.config import Settings


@pytest.mark.slow
def test_a_404_during_warm_up_does_not_block_other_requests(tmp_path: Path, monkeypatch) -> None:
    release = write_release(tmp_path / "release")
    settings = Settings(data_dir=tmp_path)
    catalog = load_catalog(release, settings)
    warm_up_may_finish = threading.Event()
    building = {"seconds": 1.0}
    real_titles = Catalog.titles.func  # the cached_property's function

    def slow_titles(self: Catalog):  # building the title index takes a while (as at full size)
        time.sleep(building["seconds"])
        return real_titles(self)

    def blocked_warm_up(self: Catalog) -> int:  # the warm-up thread has not finished yet
        warm_up_may_finish.wait(10)
        return 0

    monkeypatch.setattr(Catalog, "titles", property(slow_titles))
    monkeypatch.setattr(Catalog, "warm_up", blocked_warm_up)
    app = create_app(tmp_path, settings, catalog=catalog)

    async def scenario() -> tuple[float, list[float], dict]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
        ):
            started = time.perf_counter()

            async def missing() -> tuple[float, dict]:
                response = await client.get("/score_titulo/Hamlett")
                assert response.status_code == 404
                return time.perf_counter() - started, response.json()

            async def health() -> float:
                await asyncio.sleep(0.1)  # once the 404 is being answered
                response = await client.get("/health")
                assert response.status_code == 200
                return time.perf_counter() - started

            (done_404, body), *healths = await asyncio.gather(missing(), *[health() for _ in range(5)])
            warm_up_may_finish.set()
            return done_404, healths, body

    done_404, healths, body = asyncio.run(scenario())
    assert done_404 >= building["seconds"]
    assert max(healths) < building["seconds"] * 0.8, (healths, done_404)  # answered meanwhile
    assert body["sugerencias"] == ["Hamlet"]  # and the 404 still carries its suggestions
