"""Spanish titles from TMDB: `tmdb-sync` writes them into the batch's titles.csv, and `tmdb-sync
--titles` back-fills the catalogue's films, bounded and resumable, against the fake TMDB on loopback.

The back-fill reads only the current release's tables/movies.parquet and titles.parquet, so these
tests publish no release: a data folder holding those two tables stands for one."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from tests.fake_tmdb import FakeTmdb, Reply, expected_spanish, make_movie, spanish_titles
from typer.testing import CliRunner

from movierec.cli import app
from movierec.config import Settings
from movierec.refresh.client import RetryPolicy, TmdbError
from movierec.refresh.tmdb import sync
from movierec.refresh.tmdb_titles import DONE_FILE, Progress, backfill

KEY = "v3-test-key"
FAST = RetryPolicy(attempts=2, wait_initial=0.01, wait_max=0.02, wait_jitter=0.0)
DAY = date(2026, 11, 30)


def catalogue(data: Path, votes: dict[int, int], titled: tuple[int, ...] = ()) -> Path:
    """A data folder whose current release has these films (id: vote count), ``titled`` with a title."""
    release = data / "releases" / "20261130T000000Z"
    (release / "tables").mkdir(parents=True)
    (release / "manifest.json").write_text("{}")
    pl.DataFrame({"id": list(votes), "vote_count": list(votes.values())}).write_parquet(
        release / "tables" / "movies.parquet"
    )
    if titled:
        pl.DataFrame(
            {"movie_id": list(titled), "iso_639_1": "es", "iso_3166_1": "ES", "title": "x", "kind": "translation"}
        ).write_parquet(release / "tables" / "titles.parquet")
    (data / "current").symlink_to(release.relative_to(data))
    return data


def serve(fake: FakeTmdb, ids: range | list[int]) -> None:
    for i in ids:
        fake.movies[i] = {**make_movie(i), **spanish_titles(i)}


def rows(path: Path) -> list[tuple[int, str, str, str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        found = list(csv.reader(handle))
    assert found[0] == ["movie_id", "iso_639_1", "iso_3166_1", "title", "kind"]
    return [(int(r[0]), r[1], r[2], r[3], r[4]) for r in found[1:]]


def asked(fake: FakeTmdb) -> list[int]:
    return [int(r.path.rsplit("/", 1)[1]) for r in fake.seen("/movie/") if r.status != 401]


def run(data: Path, out: Path, fake: FakeTmdb, limit: int = 100, **env: object):  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=data, **env)  # type: ignore[arg-type]
    return backfill(
        data,
        out,
        limit=limit,
        settings=settings,
        api_key=KEY,
        base_url=fake.url,
        progress=False,
        retry=FAST,
        concurrency=4,
    )


def test_sync_writes_the_spanish_titles_in_tmdb_shape(tmp_path: Path) -> None:
    """A sync of changes asks for translations and alternative titles and writes the Spanish ones;
    the key echoed in a title is redacted; MOVIEREC_MAX_TITLES_PER_FILM and the name cap bound a film."""
    with FakeTmdb() as fake:
        fake.add({**make_movie(11), **spanish_titles(11)}, DAY)
        many = [
            {"iso_3166_1": "ES", "iso_639_1": "es", "data": {"title": f"Título {k} {KEY}" + "x" * 60}}
            for k in range(30)
        ]
        fake.add({**make_movie(12), **spanish_titles(12, extra=many)}, DAY)
        fake.add(make_movie(13), DAY)  # no translations at all
        fake.add({**make_movie(14), "translations": {"translations": {"es": "not a list"}}}, DAY)
        settings = Settings(max_titles_per_film=5, max_name_chars=40)
        result = sync(
            DAY,
            tmp_path / "b",
            until=DAY,
            api_key=KEY,
            base_url=fake.url,
            progress=False,
            retry=FAST,
            settings=settings,
        )
    assert {r.query["append_to_response"] for r in fake.seen("/movie/1")} == {
        "credits,keywords,translations,alternative_titles"
    }
    assert (result.fetched, result.failed) == (3, 1)  # 14: a malformed answer fails that film only
    got = rows(tmp_path / "b" / "titles.csv")
    assert [r for r in got if r[0] == 11] == expected_spanish(11)
    twelve = [r for r in got if r[0] == 12]
    assert len(twelve) == 5 and twelve[0] == expected_spanish(12)[0]
    assert twelve[1] == (12, "es", "ES", "Título 0 ***" + "x" * 27 + "…", "translation")
    assert KEY not in (tmp_path / "b" / "titles.csv").read_text()
    assert {r[0] for r in got} == {11, 12}


def test_backfill_asks_the_films_without_titles_most_voted_first(tmp_path: Path) -> None:
    data = catalogue(tmp_path / "data", {1: 10, 2: 500, 3: 50, 4: 7, 5: 0}, titled=(3,))
    with FakeTmdb() as fake:
        serve(fake, [1, 2, 4])
        fake.deleted.add(5)
        first = run(data, tmp_path / "out", fake, limit=2)
        assert sorted(asked(fake)) == [1, 2]  # the two most voted of the four without titles
        assert {r.query["append_to_response"] for r in fake.requests} == {"translations,alternative_titles"}
        assert (first.todo, first.asked, first.fetched, first.titled, first.titles, first.remaining) == (
            4,
            2,
            2,
            2,
            6,
            2,
        )
        assert not first.complete
        second = run(data, tmp_path / "out", fake, limit=2)
    assert sorted(asked(fake)) == [1, 2, 4, 5]  # nothing asked twice; 3 has titles
    assert (second.todo, second.fetched, second.deleted, second.remaining, second.complete) == (2, 1, 1, 0, True)
    out = tmp_path / "out"
    assert sorted(rows(out / "titles.csv")) == sorted(expected_spanish(1) + expected_spanish(2) + expected_spanish(4))
    assert sorted(map(int, (out / DONE_FILE).read_text().split())) == [1, 2, 4, 5]
    assert sorted(p.name for p in out.iterdir()) == ["failed_ids.txt", "sync.json", "titles.csv", DONE_FILE]
    report = json.loads((out / "sync.json").read_text())
    assert report["complete"] is True and report["counts"]["deleted"] == 1 and KEY not in json.dumps(report)


def test_a_failing_tmdb_leaves_films_for_the_next_run(tmp_path: Path) -> None:
    data = catalogue(tmp_path / "data", {1: 3, 2: 2, 3: 1})
    with FakeTmdb() as fake:
        serve(fake, [1, 2, 3])
        fake.always["/movie/2"] = Reply(500)
        fake.always["/movie/3"] = Reply(200, raw=b'{"translations": ')  # truncated JSON
        first = run(data, tmp_path / "out", fake)
        assert (first.fetched, first.failed, first.remaining, first.complete) == (1, 2, 2, False)
        assert (tmp_path / "out" / "failed_ids.txt").read_text() == "2\n3\n"
        del fake.always["/movie/2"], fake.always["/movie/3"]
        second = run(data, tmp_path / "out", fake)
    assert (second.todo, second.fetched, second.failed, second.complete) == (2, 2, 0, True)
    assert sorted(rows(tmp_path / "out" / "titles.csv")) == sorted(
        expected_spanish(1) + expected_spanish(2) + expected_spanish(3)
    )


@pytest.mark.slow
def test_backfill_stops_within_its_budget_against_a_slow_tmdb(tmp_path: Path) -> None:
    """MOVIEREC_TMDB_BUDGET=1 against answers that take 0.5 s each, 4 in flight: the run stops
    near 1 s with what it fetched kept; the next run continues where it stopped."""
    data = catalogue(tmp_path / "data", {i: i for i in range(1, 41)})
    with FakeTmdb(delay=0.5) as fake:
        serve(fake, range(1, 41))
        started = time.monotonic()
        first = run(data, tmp_path / "out", fake, tmdb_budget=1.0)
        elapsed = time.monotonic() - started
        assert first.budget_exhausted and 0 < first.fetched < 40 and first.fetched + first.failed == 40
        assert elapsed < 3.0  # the budget, not the 40 × 0.5 / 4 = 5 s the films would take
        done = set(map(int, (tmp_path / "out" / DONE_FILE).read_text().split()))
        assert len(done) == first.fetched and {r[0] for r in rows(tmp_path / "out" / "titles.csv")} == done
        fake.delay = 0.0
        second = run(data, tmp_path / "out", fake)
    assert (second.todo, second.fetched, second.complete) == (40 - first.fetched, 40 - first.fetched, True)
    assert len(rows(tmp_path / "out" / "titles.csv")) == 3 * 40


@pytest.mark.slow
def test_a_killed_backfill_resumes(tmp_path: Path) -> None:
    """SIGTERM to `movierec tmdb-sync --titles` mid-run: the films it finished stay done, the next
    run asks only the others, and titles.csv ends with every film's titles once."""
    data = catalogue(tmp_path / "data", {i: 100 - i for i in range(1, 31)})
    out = tmp_path / "out"
    with FakeTmdb(delay=0.1) as fake:
        serve(fake, range(1, 31))
        env = {**os.environ, "TMDB_API_KEY": KEY, "MOVIEREC_TMDB_URL": fake.url}
        command = [
            sys.executable,
            "-m",
            "movierec",
            "tmdb-sync",
            "--titles",
            "--data",
            str(data),
            "--out",
            str(out),
            "--concurrency",
            "2",
        ]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(_lines(out / DONE_FILE)) < 5:
                time.sleep(0.02)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) != 0
        finally:
            process.kill()
        done = set(map(int, _lines(out / DONE_FILE)))
        assert 5 <= len(done) < 30
        before = len(fake.requests)
        fake.delay = 0.0
        resumed = CliRunner().invoke(
            app,
            ["tmdb-sync", "--titles", "--data", str(data), "--out", str(out)],
            env={"TMDB_API_KEY": KEY, "MOVIEREC_TMDB_URL": fake.url},
        )
        again = [int(r.path.rsplit("/", 1)[1]) for r in fake.requests[before:]]
    assert resumed.exit_code == 0, resumed.output
    assert not set(again) & done and sorted(again) == sorted(set(range(1, 31)) - done)
    assert sorted(rows(out / "titles.csv")) == sorted(r for i in range(1, 31) for r in expected_spanish(i))


def _lines(path: Path) -> list[str]:
    return path.read_text().split("\n")[:-1] if path.is_file() else []


def test_progress_keeps_only_whole_films(tmp_path: Path) -> None:
    """A kill can cut the last line of either file: a torn id is not done, and titles of films not
    done (written before the kill, or torn) are dropped, so that refetching adds them once."""
    (tmp_path / DONE_FILE).write_text("1\n2\n12")
    (tmp_path / "titles.csv").write_text(
        "movie_id,iso_639_1,iso_3166_1,title,kind\n1,es,ES,Uno,translation\n"
        "3,es,ES,Tres,translation\n12,es,ES,Doce,translation\n2,es,MX,Do"
    )
    with Progress(tmp_path) as progress:
        assert progress.done == {1, 2}
        progress.record(3, [["3", "es", "ES", "Tres", "translation"]])
    assert rows(tmp_path / "titles.csv") == [
        (1, "es", "ES", "Uno", "translation"),
        (3, "es", "ES", "Tres", "translation"),
    ]
    assert (tmp_path / DONE_FILE).read_text() == "1\n2\n3\n"


@pytest.mark.parametrize(
    ("args", "setup", "message"),
    [
        (["--since", "2026-11-01"], None, "error: --titles back-fills the catalogue's films: it takes no --since"),
        ([], None, "error: no release in"),
        ([], "batch", "holds a batch of changed films (movies_metadata.csv)"),
    ],
)
def test_backfill_refusals(tmp_path: Path, args: list[str], setup: str | None, message: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    out = tmp_path / "out"
    if setup == "batch":
        catalogue(data, {1: 1})
        out.mkdir()
        (out / "movies_metadata.csv").write_text("id\n")
    result = CliRunner().invoke(
        app,
        ["tmdb-sync", "--titles", "--data", str(data), "--out", str(out), *args],
        env={"TMDB_API_KEY": KEY, "MOVIEREC_TMDB_URL": "http://127.0.0.1:9/3"},
    )
    assert result.exit_code == 2
    assert message in result.output and result.output.count("\n") == 1


def test_sync_without_since_or_titles_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["tmdb-sync", "--out", str(tmp_path / "b")], env={"TMDB_API_KEY": KEY})
    assert result.exit_code == 2 and result.output.startswith("error: --since is required")
    with pytest.raises(TmdbError, match="--limit must be between 1 and"):
        backfill(tmp_path, tmp_path / "o", limit=0, settings=Settings(), api_key=KEY)
