"""The release store on its own (no ETL, no training): staging, publish, prune, rollback, lock,
listing, and a `current` that is not our symlink."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from movierec.cli import app
from movierec.release.layout import MANIFEST, write_json
from movierec.release.store import ReleaseStore, StoreError


def fake_release(
    store: ReleaseStore, name: str, films: int = 10, precision: float | None = None, created: str | None = None
) -> Path:
    """A release folder with a manifest (made at ``created``, default the time its name says)."""
    folder = store.releases / name
    folder.mkdir(parents=True)
    moment = created or f"{name[:4]}-{name[4:6]}-{name[6:8]}T{name[9:11]}:{name[11:13]}:{name[13:15]}+00:00"
    write_json(
        folder / MANIFEST, {"release": name, "created_at": moment, "tables": {"movies": films}, "built_on": None}
    )
    if precision is not None:
        write_json(
            folder / "evaluation.json",
            {"table": [{"method": "random", "precision_at_k": 0.01}, {"method": "model", "precision_at_k": precision}]},
        )
    return folder


def test_publish_renames_staging_into_place_and_moves_current(tmp_path: Path) -> None:
    store = ReleaseStore(tmp_path)
    name, staging = store.staging()
    assert staging.parent == store.releases and staging.name == f".tmp-{name}"
    with pytest.raises(StoreError, match="not a complete release"):
        store.publish(staging, name, keep=3)  # no manifest yet
    write_json(staging / MANIFEST, {"release": name})
    folder = store.publish(staging, name, keep=3)
    assert folder == store.releases / name and not staging.exists()
    assert store.current() == folder
    assert os.readlink(tmp_path / "current") == f"releases/{name}"  # relative: the folder can move


def test_prune_keeps_the_newest_and_current_and_removes_debris(tmp_path: Path) -> None:
    store = ReleaseStore(tmp_path)
    names = [f"2026010{i}T000000000000Z" for i in range(1, 6)]
    for name in names:
        fake_release(store, name)
    store.switch(store.releases / names[0])  # an old release is current (after a rollback)
    (store.releases / ".tmp-20260109T000000000000Z").mkdir()  # a killed run's staging folder
    (store.releases / "20260108T000000000000Z").mkdir()  # a folder without manifest
    (tmp_path / ".current-4242").symlink_to("releases/nowhere")  # a killed switch's link
    removed = store.prune(keep_count=2)
    assert sorted(p.name for p in store.releases.iterdir()) == [names[0], names[3], names[4]]
    assert set(removed) == {
        names[1],
        names[2],
        ".tmp-20260109T000000000000Z",
        "20260108T000000000000Z",
        ".current-4242",
    }
    assert store.current() == store.releases / names[0]


def test_rollback_goes_to_the_previous_release_and_stops_at_the_oldest(tmp_path: Path) -> None:
    store = ReleaseStore(tmp_path)
    with pytest.raises(StoreError, match="nothing is published"):
        store.rollback()
    a, b, c = (fake_release(store, f"2026010{i}T000000000000Z") for i in (1, 2, 3))
    store.switch(c)
    assert store.rollback() == b and store.current() == b
    assert store.rollback() == a
    with pytest.raises(StoreError, match="oldest release"):
        store.rollback()
    result = CliRunner().invoke(app, ["rollback", "--data", str(tmp_path)])
    assert result.exit_code == 2 and "nothing to roll back to" in result.output
    store.switch(c)
    result = CliRunner().invoke(app, ["rollback", "--data", str(tmp_path)])
    assert result.exit_code == 0 and result.output.strip() == f"current → {b.name}"


def test_releases_lists_films_precision_and_the_current_marker(tmp_path: Path) -> None:
    store = ReleaseStore(tmp_path)
    fake_release(store, "20260101T000000000000Z", films=2993, precision=0.5312)
    fake_release(store, "20260102T000000000000Z", films=3000)
    store.switch(store.releases / "20260101T000000000000Z")
    result = CliRunner().invoke(app, ["releases", "--data", str(tmp_path)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[1].split() == ["*", "20260101T000000000000Z", "2026-01-01T00:00:00+00:00", "2,993", "0.531", "-"]
    assert lines[2].split() == ["20260102T000000000000Z", "2026-01-02T00:00:00+00:00", "3,000", "-", "-"]
    assert [i.current for i in store.list()] == [True, False]


def _hold_lock(data: str, ready, release) -> None:  # runs in another process
    with ReleaseStore(Path(data)).lock():
        ready.set()
        release.wait(20)


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    try:
        assert ready.wait(20)
        with pytest.raises(StoreError, match=rf"is busy: a pipeline run \(pid {holder.pid}\) holds"):
            with ReleaseStore(tmp_path).lock(wait=0.3):
                pass
        result = CliRunner().invoke(app, ["pipeline", "--data", str(tmp_path)])
        assert result.exit_code == 2 and "is busy" in result.output
    finally:
        release.set()
        holder.join(20)
    with ReleaseStore(tmp_path).lock():  # released when its holder ends
        pass


def test_current_that_is_a_real_folder_is_refused(tmp_path: Path) -> None:
    store = ReleaseStore(tmp_path)
    target = fake_release(store, "20260101T000000000000Z")
    (tmp_path / "current").mkdir()
    (tmp_path / "current" / "mine.txt").write_text("not movierec's")
    with pytest.raises(StoreError, match="is a real folder"):
        store.switch(target)
    with pytest.raises(StoreError, match="is a real folder"):
        store.staging()
    assert (tmp_path / "current" / "mine.txt").read_text() == "not movierec's"
    assert not list(tmp_path.glob(".current-*"))
    assert json.loads((target / MANIFEST).read_text())["release"] == target.name


def test_order_is_created_at_not_the_name(tmp_path: Path) -> None:
    """A release named to sort after every other (what a hostile archive once did) is ordered by
    when its manifest says it was made: listed, pruned and rolled back over as such; pruning never
    removes current nor the newest."""
    store = ReleaseStore(tmp_path)
    forever = fake_release(store, "zzzz-forever-newest", created="2025-06-01T00:00:00+00:00")
    real = [fake_release(store, f"2026010{i}T000000000000Z") for i in (1, 2)]
    late = fake_release(store, "20260103T000000000000Z", created="2025-01-01T00:00:00+00:00")  # made before its name
    undated = fake_release(store, "20270101T000000000000Z", created="sometime")  # no date: the name's time
    assert store.complete() == [late, forever, *real, undated]
    store.switch(real[1])
    assert store.rollback() == real[0] and store.rollback() == forever and store.rollback() == late
    assert store.before(late) is None and store.before(undated) == real[1]
    store.switch(real[0])
    result = CliRunner().invoke(app, ["releases", "--data", str(tmp_path)])
    assert [line.split()[-5] for line in result.stdout.splitlines()[1:]] == [  # the name column
        late.name,
        forever.name,
        real[0].name,
        real[1].name,
        undated.name,
    ]
    assert sorted(store.prune(keep_count=1)) == sorted([late.name, forever.name, real[1].name])
    assert store.complete() == [real[0], undated]  # current, and the newest
    assert store.current() == real[0]


def test_prune_removes_a_killed_fetchs_folder_but_not_a_running_one(tmp_path: Path) -> None:
    store = ReleaseStore(tmp_path)
    killed = tmp_path / ".fetch-killed"
    (killed / "unpacked").mkdir(parents=True)
    (killed / ".owner").touch()  # its flock went with its process
    never_locked = tmp_path / ".fetch-early"  # killed before it created its owner file
    never_locked.mkdir()
    with store.fetching() as running:
        assert running.parent == tmp_path and running.name.startswith(".fetch-")
        with store.lock():
            assert sorted(store.prune(keep_count=3)) == [".fetch-early", ".fetch-killed"]
        assert running.is_dir()
        with open(running / ".owner") as owner, pytest.raises(BlockingIOError):
            fcntl.flock(owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert not running.exists() and sorted(p.name for p in tmp_path.iterdir()) == [".lock"]
