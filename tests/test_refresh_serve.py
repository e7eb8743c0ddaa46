"""A real `movierec serve` following DATA/current under concurrent requests: it switches to an
ingested release with no failed request and no answer mixing two releases, skips a release that
fails to load (serving on), ignores a bad batch, and follows rollbacks."""

from __future__ import annotations

import csv
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.helpers import copy_data, free_port, sample_rows

from movierec.api.answers import Answers
from movierec.catalog.indexes import load_catalog
from movierec.config import REPO_ROOT, Settings
from movierec.release.layout import MANIFEST, new_name, read_manifest, write_json
from movierec.release.store import ReleaseStore

pytestmark = pytest.mark.slow  # a real `movierec serve` under load, ingests and rollbacks in subprocesses

NEW_FILM = "Estreno de Prueba"
PATHS = [
    "/health",
    "/score_titulo/Toy%20Story",
    "/peliculas/862/recomendaciones",
    f"/score_titulo/{NEW_FILM.replace(' ', '%20')}",
]


def movierec(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "movierec", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=timeout
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, sample_data: Path) -> Path:
    """A copy of the sample's release that the test ingests into and rolls back."""
    return copy_data(sample_data, tmp_path_factory.mktemp("follow") / "data")


@pytest.fixture
def server(data: Path, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port, log = free_port(), tmp_path / "serve.log"
    env = {**os.environ, "MOVIEREC_RELOAD_INTERVAL": "0.2", "MOVIEREC_EVALUATE_ON_INGEST": "false"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "movierec", "serve", "--data", str(data), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env=env,
        )
    try:
        wait_for(lambda: proc.poll() is None and health(port) is not None, 60, log)
        yield port, log
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert proc.returncode == 0, log.read_text()[-2000:]


def health(port: int) -> dict | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/health")
        return json.loads(conn.getresponse().read())
    except OSError:
        return None


def wait_for(condition: Callable[[], object], seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s:\n{log.read_text()[-3000:]}"
        time.sleep(0.05)


class Clients:
    """Threads sending PATHS in turn on keep-alive connections, recording every answer."""

    def __init__(self, port: int, threads: int = 6) -> None:
        self.port = port
        self.stop = threading.Event()
        self.answers: list[list[tuple[str, int, bytes]]] = [[] for _ in range(threads)]
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def __enter__(self) -> Clients:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def _run(self, i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        n = 0
        while not self.stop.is_set():
            path = PATHS[n % len(PATHS)]
            n += 1
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                self.answers[i].append((path, response.status, response.read()))
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(f"{path}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def count(self) -> int:
        return sum(map(len, self.answers))


def expected_answers(release: Path) -> dict[str, tuple[int, bytes | None]]:
    """What each path answers from ``release``, computed in this process from the release itself."""
    answers = Answers(load_catalog(release, Settings()), Settings())
    new = answers.catalog.find_title(NEW_FILM)
    return {
        "/score_titulo/Toy%20Story": (200, answers.score("Toy Story")),
        "/peliculas/862/recomendaciones": (200, answers.recommend_id("862")),
        PATHS[3]: (200, answers.score(NEW_FILM)) if new is not None else (404, None),
    }


def write_batch(folder: Path, sample_raw: Path) -> Path:
    """Toy Story with another popularity, and one new film."""
    header, toy = sample_rows(sample_raw, "movies_metadata.csv", 1)
    assert toy[header.index("id")] == "862"
    new = list(toy)
    new[header.index("id")], new[header.index("title")] = "5000001", NEW_FILM
    toy[header.index("popularity")] = "77.5"
    folder.mkdir()
    with open(folder / "movies_metadata.csv", "w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([header, toy, new])
    return folder


def release_of(
    answer: tuple[str, int, bytes], by_release: dict[str, dict[str, tuple[int, bytes | None]]], films: dict[str, int]
) -> set[str]:
    """The releases an answer can come from (both when they answer it alike); empty: from none."""
    path, status, body = answer
    if path == "/health":
        payload = json.loads(body)
        return (
            {payload["version"]} if status == 200 and films.get(payload["version"]) == payload["peliculas"] else set()
        )
    return {
        name
        for name, expected in by_release.items()
        if expected[path][0] == status and (expected[path][1] is None or expected[path][1] == body)
    }


def test_switch_under_load_skip_a_broken_release_and_follow_rollbacks(
    data: Path, server: tuple[int, Path], sample_raw: Path, tmp_path: Path
) -> None:
    port, log = server
    store = ReleaseStore(data)
    first = store.current()
    assert first is not None and health(port)["version"] == first.name  # type: ignore[index]

    # 1. A release ingested while clients keep asking: served, with no failure and no mixture.
    with Clients(port) as clients:
        wait_for(lambda: clients.count() > 200, 60, log)
        done = movierec("ingest", str(write_batch(tmp_path / "batch", sample_raw)), "--data", str(data))
        assert done.returncode == 0, done.stderr
        second = store.current()
        assert second is not None and second != first
        wait_for(lambda: (health(port) or {}).get("version") == second.name, 60, log)
        settled = clients.count()
        wait_for(lambda: clients.count() > settled + 200, 60, log)
    assert clients.errors == []
    by_release = {first.name: expected_answers(first), second.name: expected_answers(second)}
    films = {first.name: 2993, second.name: 2994}
    assert by_release[first.name][PATHS[1]] != by_release[second.name][PATHS[1]]  # the answers tell them apart
    for thread in clients.answers:
        assert {path for path, _, _ in thread} == set(PATHS)
        seen_first = seen_second = False
        for answer in thread:
            origin = release_of(answer, by_release, films)
            assert origin, f"an answer from neither release: {answer}"
            if origin == {first.name}:
                assert not seen_second, f"an answer from the old release after the new one: {answer}"
            seen_first = seen_first or origin == {first.name}
            seen_second = seen_second or origin == {second.name}
        assert seen_first and seen_second
    assert sum(len(t) for t in clients.answers) > 400

    # 2. A release that fails to load is skipped; a bad batch publishes nothing; the new one serves on.
    broken = data / "releases" / new_name()
    shutil.copytree(second, broken)
    manifest = read_manifest(broken)
    assert manifest is not None
    write_json(broken / MANIFEST, {**manifest, "release": broken.name})
    arrays = broken / "catalog" / "arrays.bin"
    arrays.write_bytes(arrays.read_bytes()[: arrays.stat().st_size // 2])
    store.switch(broken)
    wait_for(lambda: f"release {broken.name} cannot be served" in log.read_text(), 30, log)
    assert health(port)["version"] == second.name  # type: ignore[index]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "movies_metadata.csv").write_text("id,title\n1,x\n")
    refused = movierec("ingest", str(bad), "--data", str(data))
    assert refused.returncode == 2 and "missing columns" in refused.stderr
    assert store.current() == broken.resolve() and health(port)["version"] == second.name  # type: ignore[index]

    # 3. Rollbacks: back to the served release (nothing to do), then to the first one (followed).
    assert movierec("rollback", "--data", str(data)).returncode == 0
    assert store.current() == second
    assert movierec("rollback", "--data", str(data)).returncode == 0
    assert store.current() == first
    wait_for(lambda: (health(port) or {}).get("version") == first.name, 30, log)
    assert health(port)["peliculas"] == 2993  # type: ignore[index]
    text = log.read_text()
    assert text.count(f"now serving release {first.name}") == 1 and "Traceback" not in text
