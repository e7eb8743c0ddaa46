"""tmdb-sync against a slow or stalling TMDB (issue 19): a deadline per request, Retry-After
capped, a budget per sync, what `refresh` does after an incomplete sync, and SIGTERM.

No test asserts a duration: a stalling answer here drips forever, so only the bound under test
can end it (the test would hang, or end by another bound, visible in the result).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.fake_tmdb import FakeTmdb, Reply, make_movie
from typer.testing import CliRunner

from movierec.cli import app
from movierec.config import REPO_ROOT, Settings
from movierec.refresh import schedule
from movierec.refresh.tmdb import RetryPolicy, SyncResult, TmdbError, sync

UNTIL = date(2024, 5, 31)
KEY = "v3-slow-key"
FAST = RetryPolicy(attempts=3, wait_initial=0.01, wait_max=0.05, wait_jitter=0.0)


def run(fake: FakeTmdb, out: Path, settings: Settings, **options: Any) -> SyncResult:
    options = {"until": UNTIL, "api_key": KEY, "base_url": fake.url, "progress": False, "retry": FAST, **options}
    return sync(UNTIL, out, settings=settings, **options)


def forever(piece: bytes) -> Any:
    return lambda: itertools.repeat(piece)


@pytest.mark.slow
def test_a_dripping_answer_is_cut_at_the_request_deadline(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with FakeTmdb(api_key=KEY) as fake:
        for i in (1, 2, 3):
            fake.add(make_movie(i), UNTIL)
        fake.always["/movie/2"] = Reply(200, chunks=forever(b" "), drip=0.2)  # never ends, never idle 30 s
        caplog.set_level(logging.WARNING, logger="movierec.tmdb")
        result = run(fake, tmp_path / "batch", Settings(tmdb_request_deadline=1.0, tmdb_budget=60.0))
    assert (result.fetched, result.failed, result.budget_exhausted) == (2, 1, False)
    assert (tmp_path / "batch" / "failed_ids.txt").read_text() == "2\n"
    assert "GET /movie/2 failed: no complete answer within 1 s (MOVIEREC_TMDB_REQUEST_DEADLINE)" in caplog.messages


def test_retry_after_is_capped_by_the_setting_and_the_deadline_still_holds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeTmdb(api_key=KEY) as fake:
        for i in (1, 2):
            fake.add(make_movie(i), UNTIL)
        fake.script["/movie/1"] = [Reply(429, {"Retry-After": "999999"})]
        fake.always["/movie/2"] = Reply(503, {"Retry-After": "999999"})
        caplog.set_level(logging.INFO, logger="movierec.tmdb")
        result = run(fake, tmp_path / "batch", Settings(tmdb_max_wait=0.2, tmdb_request_deadline=1.0))
        assert [r.status for r in fake.seen("/movie/1")] == [429, 200]
        times = [r.at for r in fake.seen("/movie/1")]
        assert len(fake.seen("/movie/2")) == 3  # every attempt used, each wait capped at 0.2 s
    assert times[1] - times[0] >= 0.2
    assert (result.fetched, result.failed) == (1, 1)
    assert "GET /movie/1: HTTP 429, retrying in 0.2 s (Retry-After)" in caplog.messages
    assert json.loads((tmp_path / "batch" / "sync.json").read_text())["limits"]["max_wait"] == 0.2


@pytest.mark.slow
def test_retry_after_longer_than_the_deadline_fails_the_film(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with FakeTmdb(api_key=KEY) as fake:
        fake.add(make_movie(1), UNTIL)
        fake.always["/movie/1"] = Reply(429, {"Retry-After": "999999"})
        caplog.set_level(logging.WARNING, logger="movierec.tmdb")
        result = run(
            fake,
            tmp_path / "batch",
            Settings(tmdb_request_deadline=1.0),
            retry=RetryPolicy(attempts=6, retry_after_max=3600.0),
        )
        assert len(fake.seen("/movie/1")) == 1  # waiting 30 s (the default cap) outlives the deadline
    assert (result.failed, result.budget_exhausted) == (1, False)
    assert "GET /movie/1 failed: no complete answer within 1 s (MOVIEREC_TMDB_REQUEST_DEADLINE)" in caplog.messages


@pytest.mark.slow
def test_when_the_budget_runs_out_the_batch_holds_what_was_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeTmdb(api_key=KEY) as fake:
        for i in range(1, 9):
            fake.add(make_movie(i), UNTIL)
        fake.always["/movie/1"] = Reply(200, raw=json.dumps(make_movie(1)).encode())
        for i in range(2, 9):  # every other film stalls until the budget ends the sync
            fake.always[f"/movie/{i}"] = Reply(200, chunks=forever(b" "), drip=0.1)
        monkeypatch.setenv("TMDB_API_KEY", KEY)
        monkeypatch.setenv("MOVIEREC_TMDB_URL", fake.url)
        monkeypatch.setenv("MOVIEREC_TMDB_BUDGET", "1.5")
        monkeypatch.setenv("MOVIEREC_TMDB_REQUEST_DEADLINE", "60")
        out = tmp_path / "batch"
        cli = CliRunner().invoke(
            app,
            ["tmdb-sync", "--since", "2024-05-31", "--until", "2024-05-31", "--out", str(out), "--concurrency", "2"],
        )
    assert cli.exit_code == 1, cli.output
    assert cli.stderr.splitlines()[-1] == (
        f"warning: the sync budget ran out; 7 films failed; their ids are in {out / 'failed_ids.txt'}"
    )
    report = json.loads((out / "sync.json").read_text())
    assert report["counts"] == {
        "changed": 8,
        "adult_skipped": 0,
        "fetched": 1,
        "deleted": 0,
        "failed": 7,
        "invalid_ids": 0,
        "retried": 0,
    }
    assert (report["complete"], report["budget_exhausted"], report["limits"]["budget"]) == (False, True, 1.5)
    assert (out / "failed_ids.txt").read_text() == "".join(f"{i}\n" for i in range(2, 9))
    assert (out / "movies_metadata.csv").read_text().count("\n") == 2  # the header and film 1


@pytest.mark.slow
def test_a_budget_spent_on_the_change_lists_writes_nothing(tmp_path: Path) -> None:
    with FakeTmdb(api_key=KEY) as fake:
        fake.always["/movie/changes"] = Reply(200, chunks=forever(b" "), drip=0.1)
        with pytest.raises(TmdbError) as error:
            run(fake, tmp_path / "batch", Settings(tmdb_budget=1.0))
    assert str(error.value) == (
        "the sync budget of 1 s (MOVIEREC_TMDB_BUDGET) ran out while reading the change lists; nothing written"
    )
    assert not (tmp_path / "batch").exists()


def test_a_multi_line_refusal_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeTmdb(api_key=KEY) as fake:
        fake.always["/movie/changes"] = Reply(422, body={"status_message": "first line\nsecond line\r\n" + "z" * 500})
        monkeypatch.setenv("TMDB_API_KEY", KEY)
        monkeypatch.setenv("MOVIEREC_TMDB_URL", fake.url)
        cli = CliRunner().invoke(
            app, ["tmdb-sync", "--since", "2024-05-31", "--until", "2024-05-31", "--out", str(tmp_path / "batch")]
        )
    assert cli.exit_code == 2
    (line,) = [line for line in cli.stderr.splitlines() if "second line" in line]  # the rest: log lines
    assert line.startswith(
        "error: TMDB /movie/changes (2024-05-31..2024-05-31, page 1) answered HTTP 422: first line second line zzz"
    )
    assert line.endswith("z…") and len(line) < 300 and line == cli.stderr.splitlines()[-1]


def test_an_incomplete_sync_asks_for_its_failed_films_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window moves on after an incomplete sync, and the films it did not get are asked for
    again by the next one (so a film that always fails never holds the window back)."""
    release = tmp_path / "release"
    release.mkdir()
    (release / "manifest.json").write_text(json.dumps({"ingest": {"sync": {"until": "2024-05-20"}}}))
    calls: list[tuple[date, list[object], dict[str, object]]] = []
    outcome: dict[str, Any] = {"failed": [7, 9, 11], "budget_exhausted": True}

    def fake_sync(since: date, out: Path, *, retry_ids: list[object]) -> SyncResult:
        (out / "failed_ids.txt").write_text("".join(f"{i}\n" for i in outcome["failed"]))
        calls.append((since, list(retry_ids), {}))
        return SyncResult(
            since=since,
            until=UNTIL,
            windows=(),
            changed=5,
            adult_skipped=0,
            fetched=2,
            deleted=0,
            files=(),
            seconds=1.0,
            failed=len(outcome["failed"]),
            budget_exhausted=outcome["budget_exhausted"],
        )

    def fake_ingest(batch: Path, data: Path, settings: Settings, **options: Any) -> dict[str, object]:
        calls[-1][2].update(options["sync"])
        (release / "manifest.json").write_text(json.dumps({"ingest": {"sync": options["sync"]}}))
        return {"release": "new"}

    class Store:
        def __init__(self, data: Path) -> None: ...

        def current(self) -> Path:
            return release

    monkeypatch.setenv("TMDB_API_KEY", KEY)
    monkeypatch.setattr(schedule, "tmdb_sync", lambda: fake_sync)
    monkeypatch.setattr(schedule, "ReleaseStore", Store)
    monkeypatch.setattr("movierec.refresh.ingest.ingest", fake_ingest)
    today = schedule.datetime.now(schedule.UTC).date()

    schedule.refresh_once(tmp_path, Settings())  # incomplete: 7, 9, 11 not fetched
    outcome.update(failed=[9], budget_exhausted=False)
    schedule.refresh_once(tmp_path, Settings())  # 9 fails again
    outcome.update(failed=[])
    schedule.refresh_once(tmp_path, Settings())  # complete

    window = {"since": "2024-05-20", "until": today.isoformat()}
    assert calls == [
        (
            date(2024, 5, 20),
            [],
            {**window, "incomplete": "3 films failed, the sync budget ran out", "retry_ids": [7, 9, 11]},
        ),
        (
            today,
            [7, 9, 11],
            {"since": today.isoformat(), "until": today.isoformat(), "incomplete": "1 films failed", "retry_ids": [9]},
        ),
        (today, [9], {"since": today.isoformat(), "until": today.isoformat()}),
    ]
    assert schedule.last_synced(release) == today
    (release / "manifest.json").write_text(
        json.dumps({"ingest": {"sync": {"until": "2024-05-20", "retry_ids": [5, -1, True, "6", 2.0, 10**25, 8]}}})
    )
    assert schedule.retry_ids(release) == [5, 8]  # what a manifest says is checked like a change list


@pytest.mark.slow
def test_sigterm_during_a_sync_leaves_no_staging_folder_and_the_previous_batch(tmp_path: Path) -> None:
    out = tmp_path / "batch"
    out.mkdir()
    previous = {"movies_metadata.csv": "previous,batch\n", "sync.json": "{}\n", "failed_ids.txt": "7\n"}
    for name, text in previous.items():
        (out / name).write_text(text)
    with FakeTmdb(api_key=KEY) as fake:
        for i in range(1, 6):
            fake.add(make_movie(i), UNTIL - timedelta(days=i))
            fake.always[f"/movie/{i}"] = Reply(200, chunks=forever(b" "), drip=0.1)
        env = {**os.environ, "TMDB_API_KEY": KEY, "MOVIEREC_TMDB_URL": fake.url}
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "movierec",
                "tmdb-sync",
                "--since",
                "2024-05-20",
                "--until",
                "2024-05-31",
                "--out",
                str(out),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            for _ in range(300):  # until the films are on the wire (at most 30 s: a slow start on a busy machine)
                if len(fake.seen("/movie/")) > len(fake.seen("/movie/changes")) or child.poll() is not None:
                    break
                time.sleep(0.1)
            assert any(p.name.startswith(".tmp-") for p in out.iterdir())  # mid-sync: staging exists
            child.send_signal(signal.SIGTERM)
            _, stderr = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert child.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(previous)
    assert {name: (out / name).read_text() for name in previous} == previous
