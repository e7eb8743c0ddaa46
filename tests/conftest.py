"""Shared fixtures: the real sample beside the repo, releases built from it once per test run (the
whole sample; its first 200 films; those films with dirt for the ingest tests), the 15,000-film
stand-in, one Spark session and one browser.

Under pytest-xdist (`make test` runs two workers) a build in ``shared`` is made by one worker while
the others wait for it, then reused by all: no test may write into one (tests copy them first)."""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.helpers import (
    BASE_TITLES,
    RATINGS_AND_LINKS,
    batch_movie,
    broken_record,
    cast,
    csv_text,
    sample_rows,
    write_small_raw,
)

from movierec.config import SAMPLE_RAW_DIR, Settings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


def shared(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder ``name`` built by ``build`` once per test run, whatever the number of xdist
    workers: the first worker to ask builds it under a lock, the others wait, then find it built.
    Built in place (a release records the absolute path of its raw folder), done when marked."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    folder, done = root / name, root / f"{name}.built"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a build that failed in another worker
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def sample_raw() -> Path:
    """../shared/data/the-movies-dataset: the real sample (present in CI)."""
    assert (SAMPLE_RAW_DIR / "movies_metadata.csv.gz").is_file(), f"missing sample in {SAMPLE_RAW_DIR}"
    return SAMPLE_RAW_DIR


def build_sample_data(data: Path) -> None:
    """One release published from the real sample, as `movierec pipeline` does."""
    from movierec.pipeline import publish

    publish(SAMPLE_RAW_DIR, data, Settings(data_dir=data))


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> Path:
    """A data folder holding one release published from the sample (DATA/current -> releases/…)."""
    return shared(tmp_path_factory, "sample-data", build_sample_data)


PREBUILD = pytest.StashKey[threading.Thread]()  # the controller's build of the sample's release


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist, the controller (which runs no test) starts building the sample's release while
    the workers start and collect: most modules wait for it. A worker that asks first builds it
    itself; either way, once (``shared``)."""
    config = session.config
    if os.environ.get("PYTEST_XDIST_WORKER") or not getattr(config.option, "numprocesses", None):
        return
    factory = config._tmp_path_factory  # type: ignore[attr-defined]  # the one the workers' folders are made in
    thread = threading.Thread(target=shared, args=(factory, "sample-data", build_sample_data), name="sample-data")
    thread.start()
    config.stash[PREBUILD] = thread


@pytest.fixture(scope="session")
def sample_tables(sample_data: Path) -> Path:
    return sample_data / "current" / "tables"


STANDIN_MOVIES = 15_000  # 5 copies of the sample: every kind of the full files' dirt, a third of the bytes


@pytest.fixture(scope="session")
def standin_raw(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> Path:
    """A stand-in of the full files written by ../shared/tools/scale_dataset.py: 15,000 films in the
    real raw format with all of the full files' dirt (3 broken records, duplicate ids in movies,
    credits and keywords, new people in every copy). The benchmarks run the full 45,466 films; the
    suite needs the dirt, not the volume, and this third of it saves half a minute of CI."""
    import subprocess
    import sys

    tool = sample_raw.parents[1] / "tools" / "scale_dataset.py"

    def build(out: Path) -> None:
        subprocess.run(
            [sys.executable, str(tool), str(out), "--movies", str(STANDIN_MOVIES)], check=True, capture_output=True
        )

    return shared(tmp_path_factory, "standin", build)


SMALL_FILMS = 200  # the first films of the sample in the small releases


@pytest.fixture(scope="session")
def small_release(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> Path:
    """A data folder holding one release of the sample's first 200 films (movies and credits, no
    ratings: a quick build), with its report, built once: the release the pipeline, report, fetch
    and refresh tests copy."""

    def build(folder: Path) -> None:
        from movierec.pipeline import publish

        raw = write_small_raw(folder / "raw", sample_raw, SMALL_FILMS)
        publish(raw, folder / "data", Settings(data_dir=folder / "data"))

    return shared(tmp_path_factory, "small-release", build) / "data"


@pytest.fixture(scope="session")
def ingest_base(tmp_path_factory: pytest.TempPathFactory, sample_raw: Path) -> Path:
    """A data folder with a release from the sample's first 200 films plus dirt (a duplicate id, a
    record broken over two lines, an invalid id, a film the batch deletes) and Spanish titles, with
    the sample's ratings, not evaluated: the base the ingest tests copy."""

    def build(folder: Path) -> None:
        from movierec.pipeline import publish

        raw = folder / "raw"
        raw.mkdir()
        movies = sample_rows(sample_raw, "movies_metadata.csv", SMALL_FILMS)
        (raw / "movies_metadata.csv").write_text(
            csv_text(movies)
            + csv_text([batch_movie("900001", "Base Dup"), batch_movie("900001", "Base Dup Again")])
            + broken_record(batch_movie("900002", "Broken Base", "2003-03-03"))
            + csv_text([batch_movie("900003", "To Delete"), batch_movie("abc", "Bad Id")])
        )
        credits = sample_rows(sample_raw, "credits.csv", SMALL_FILMS)
        (raw / "credits.csv").write_text(
            csv_text(
                [
                    *credits,
                    [cast(800001, "Base Actor"), "[]", "900001"],
                    [cast(800001, "Base Actor"), "[]", "900002"],
                    [cast(800002, "Gone Actor"), "[]", "900003"],
                ]
            )
        )
        keywords = sample_rows(sample_raw, "keywords.csv", SMALL_FILMS)
        (raw / "keywords.csv").write_text(csv_text([*keywords, ["900001", "[{'id': 5, 'name': 'base'}]"]]))
        (raw / "titles.csv").write_text(BASE_TITLES)
        for name in RATINGS_AND_LINKS:
            shutil.copyfile(sample_raw / name, raw / name)
        publish(raw, folder / "data", Settings(data_dir=folder / "data", evaluate_on_publish=False))

    return shared(tmp_path_factory, "ingest-base", build) / "data"


@pytest.fixture(scope="module")
def client(sample_data: Path) -> Iterator[TestClient]:
    """The API over the sample's published release, started once per test module (a module may
    define its own ``client``)."""
    from fastapi.testclient import TestClient

    from movierec.api.app import create_app

    with TestClient(create_app(sample_data, Settings(data_dir=sample_data))) as c:
        yield c


@pytest.fixture
def cf_users(monkeypatch: pytest.MonkeyPatch) -> list:
    """The users of every like the collaborative model is fitted on (ItemCF.fit_nested is what
    ItemCF.fit and the collaborative stage call), one array per fit, recorded as they happen."""
    import numpy as np

    from movierec.model.cf import ItemCF

    seen: list[np.ndarray] = []
    fit = ItemCF.fit_nested

    def spy(self: ItemCF, users: np.ndarray, *args: object) -> object:
        seen.append(np.asarray(users).copy())
        return fit(self, users, *args)

    monkeypatch.setattr(ItemCF, "fit_nested", spy)
    return seen


# A test that needs one of these is slow whatever it does itself: each costs seconds to build or
# start (Spark's JVM, chromium, the 15,000-film stand-in, the small releases).
SLOW_FIXTURES = frozenset({"spark", "browser", "standin_raw", "small_release", "ingest_base"})


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark slow every test that uses a fixture of SLOW_FIXTURES (the others are marked where they
    are written); then order the modules: those that need no release of the sample first, so that
    one xdist worker builds it while the other runs them; the slowest first within each part, so
    that no long module is left to run alone at the end."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], []).append(item)

    def cost(tests: list[pytest.Item]) -> tuple[bool, int, int]:
        needs_sample = any("sample_data" in getattr(t, "fixturenames", ()) for t in tests)
        slow = sum(1 for t in tests if t.get_closest_marker("slow"))
        return needs_sample, -slow, -len(tests)

    items[:] = [item for tests in sorted(modules.values(), key=cost) for item in tests]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failure: every test must run there. (And the controller's build of
    the sample's release, if one was started, is waited for.)"""
    if thread := session.config.stash.get(PREBUILD, None):
        thread.join()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") and skipped:
        print(f"\nCI: {skipped} test(s) skipped; every test must run in CI")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def spark():  # type: ignore[no-untyped-def]
    """One local Spark session for the whole test run (starting one costs ~10 s): two cores,
    few shuffle partitions (the test data is tiny), no UI, no console progress; a JVM that only
    compiles quickly (C1) with the serial collector: on jobs this short, the optimising compiler
    and parallel GC cost more than they save (the Spark tests take ~40% less)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("movierec tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless chromium (Debian's package, driven by Playwright) for a module's tests. Not for
    the session: while Playwright's sync API runs, its event loop is the thread's, and any later
    test calling asyncio.run() would fail."""
    from playwright.sync_api import sync_playwright
    from tests.servers import CHROMIUM, SHOTS

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()
