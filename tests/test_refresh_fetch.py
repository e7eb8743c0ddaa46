"""A release downloaded at start (MOVIEREC_RELEASE_URL), and the scheduled refresh: where the last
sync ended, the TMDB client's absence or missing key, and the background runner."""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import shutil
import signal
import socketserver
import subprocess
import sys
import tarfile
import threading
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tests.helpers import free_port, sample_rows
from tests.servers import HostileHandler
from typer.testing import CliRunner

from movierec.catalog.indexes import load_catalog
from movierec.cli import app
from movierec.config import REPO_ROOT, Settings
from movierec.refresh.fetch import FetchError, fetch_release
from movierec.refresh.schedule import Refresher, first_delay, last_synced, refresh_once
from movierec.release.layout import new_name, read_manifest
from movierec.release.store import ReleaseStore


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on loopback, and its base URL."""
    folder = tmp_path_factory.mktemp("www")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def pack(release: Path, archive: Path, *, root: str | None = None, serving: bool = False) -> Path:
    """A tar.gz of ``release`` (under ``root``, default its name); ``serving``: without raw/ and
    tables/, as the workflow's serving.tar.gz."""

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        return None if serving and {"raw", "tables"} & set(Path(info.name).parts) else info

    with tarfile.open(archive, "w:gz") as tar:
        tar.add(release, arcname=root if root is not None else release.name, filter=keep)
    return archive


def releases(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "releases").iterdir()) if (data / "releases").exists() else []


def test_fetch_publishes_the_archived_release(small_release: Path, files: tuple[Path, str], tmp_path: Path) -> None:
    release = ReleaseStore(small_release).current()
    assert release is not None
    folder, url = files
    pack(release, folder / "release.tar.gz")
    data = tmp_path / "fresh"  # a host whose disk was lost
    outcome = fetch_release(f"{url}/release.tar.gz", data, Settings(data_dir=data))
    fetched = outcome.release
    assert fetched.name == release.name and ReleaseStore(data).current() == fetched.resolve() and outcome.moved
    assert releases(data) == [release.name]  # no staging debris
    assert sorted(p.name for p in data.iterdir()) == [".lock", "current", "releases"]
    assert read_manifest(fetched) == read_manifest(release)
    assert len(load_catalog(fetched, Settings())) == len(load_catalog(release, Settings()))
    # Again, and through the CLI: already there, nothing to do, and it says so.
    result = CliRunner().invoke(app, ["fetch", f"{url}/release.tar.gz", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"release {release.name} already current; nothing changed\n"
    assert releases(data) == [release.name]


def test_a_bad_archive_changes_nothing(small_release: Path, files: tuple[Path, str], tmp_path: Path) -> None:
    release = ReleaseStore(small_release).current()
    assert release is not None
    folder, url = files
    data = tmp_path / "data"
    shutil.copytree(small_release, data, symlinks=True)
    before, current = releases(data), ReleaseStore(data).current()
    (folder / "garbage.tar.gz").write_bytes(b"not an archive at all")
    broken = tmp_path / "broken" / release.name
    shutil.copytree(release, broken)
    arrays = broken / "catalog" / "arrays.bin"
    arrays.write_bytes(arrays.read_bytes()[:100])
    broken_name = new_name()  # newer than any release here, so it would become current
    manifest = json.loads((broken / "manifest.json").read_text())
    (broken / "manifest.json").write_text(
        json.dumps({**manifest, "release": broken_name, "created_at": datetime.now(UTC).isoformat()})
    )
    pack(broken, folder / "broken.tar.gz")
    with tarfile.open(folder / "escape.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    pack(release / "model", folder / "nomanifest.tar.gz")
    cases = {
        "garbage.tar.gz": "not a readable release archive",
        "broken.tar.gz": "cannot be served",
        "escape.tar.gz": r"points outside the release \(\.\.\)",
        "nomanifest.tar.gz": "holds no release folder",
        "missing.tar.gz": "download failed",
    }
    for name, message in cases.items():
        with pytest.raises(FetchError, match=message):
            fetch_release(f"{url}/{name}", data, Settings(data_dir=data))
        assert releases(data) == before and ReleaseStore(data).current() == current
    assert not (tmp_path / "escaped.txt").exists() and not (data / "escaped.txt").exists()
    result = CliRunner().invoke(app, ["fetch", f"{url}/garbage.tar.gz", "--data", str(data)])
    assert result.exit_code == 2 and "not a readable release archive" in result.output


def test_serve_downloads_the_release_at_start(small_release: Path, files: tuple[Path, str], tmp_path: Path) -> None:
    release = ReleaseStore(small_release).current()
    assert release is not None
    folder, url = files
    pack(release, folder / "start.tar.gz", root="", serving=True)  # files at the root, no raw/ nor tables/
    data = tmp_path / "empty"
    with serving(data, tmp_path / "serve.log", MOVIEREC_RELEASE_URL=f"{url}/start.tar.gz") as health:
        assert health["version"] == release.name and health["peliculas"] == 200
        assert not (data / "releases" / release.name / "tables").exists()  # the catalog is all the API reads


@contextmanager
def serving(data: Path, log: Path, **variables: str) -> Iterator[dict[str, object]]:
    """`movierec serve --data DATA` in a child process with these MOVIEREC_* variables, until its
    /health answers (which it yields); stopped with SIGINT at the end."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "movierec", "serve", "--data", str(data), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env={**os.environ, **variables},
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/health")
                response = conn.getresponse()
                assert response.status == 200, log.read_text()
                health = json.loads(response.read())
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        yield health
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


@pytest.mark.slow
def test_serve_without_a_release_and_a_bad_url_stops(tmp_path: Path, files: tuple[Path, str]) -> None:
    env = {**os.environ, "MOVIEREC_RELEASE_URL": f"{files[1]}/missing.tar.gz"}
    result = subprocess.run(
        [sys.executable, "-m", "movierec", "serve", "--data", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "download failed" in result.stderr and "holds no release to serve instead" in result.stderr


def renamed(release: Path, folder: Path, name: str, created: str) -> Path:
    """A copy of ``release`` whose manifest names it ``name``, made at ``created``."""
    copy = folder / name
    shutil.copytree(release, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "release": name, "created_at": created}))
    return copy


def test_fetch_orders_by_created_at_and_says_what_it_did(
    small_release: Path, files: tuple[Path, str], tmp_path: Path
) -> None:
    """A fetched release whose name sorts after the current one but was made before it is kept
    beside it, and current stays; a newer one becomes current; pruning keeps the newest by
    created_at and current, whatever the names."""
    release = ReleaseStore(small_release).current()
    assert release is not None
    folder, url = files
    data = tmp_path / "data"
    shutil.copytree(small_release, data, symlinks=True)
    later_name = new_name()  # sorts after the current release's name…
    pack(renamed(release, tmp_path, later_name, "2020-01-01T00:00:00+00:00"), folder / "older.tar.gz")  # …made before
    result = CliRunner().invoke(app, ["fetch", f"{url}/older.tar.gz", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"kept current {release.name} (newer than the fetched {later_name})\n"
    assert ReleaseStore(data).current() == data / "releases" / release.name
    assert releases(data) == sorted([release.name, later_name])
    newest = new_name()
    pack(renamed(release, tmp_path, newest, datetime.now(UTC).isoformat()), folder / "newer.tar.gz")
    outcome = fetch_release(f"{url}/newer.tar.gz", data, Settings(data_dir=data, keep_releases=2))
    assert outcome.summary() == f"release {newest} in {data / 'releases'}; current → {newest}"
    assert ReleaseStore(data).current() == data / "releases" / newest
    assert releases(data) == sorted([release.name, newest])  # the one made in 2020 pruned, not by name
    oldest = new_name()
    pack(renamed(release, tmp_path, oldest, "2019-01-01T00:00:00+00:00"), folder / "oldest.tar.gz")
    outcome = fetch_release(f"{url}/oldest.tar.gz", data, Settings(data_dir=data, keep_releases=2))
    assert outcome.summary() == (
        f"kept current {newest} (newer than the fetched {oldest}); {oldest} not kept (older than the releases kept)"
    )
    assert releases(data) == sorted([release.name, newest])
    result = CliRunner().invoke(app, ["rollback", "--data", str(data)])
    assert result.stdout == f"current → {release.name}\n"


def test_serve_with_a_dripping_release_url_serves_the_release_it_has(small_release: Path, tmp_path: Path) -> None:
    release = ReleaseStore(small_release).current()
    assert release is not None
    data = tmp_path / "data"
    shutil.copytree(small_release, data, symlinks=True)
    socketserver.ThreadingTCPServer.daemon_threads = True
    drip = socketserver.ThreadingTCPServer(("127.0.0.1", 0), HostileHandler)
    threading.Thread(target=drip.serve_forever, daemon=True).start()
    log = tmp_path / "serve.log"
    try:
        with serving(
            data, log, MOVIEREC_RELEASE_URL=f"http://127.0.0.1:{drip.server_address[1]}/drip", MOVIEREC_FETCH_BUDGET="1"
        ) as health:
            assert health["version"] == release.name
    finally:
        drip.shutdown()
    errors = [line for line in log.read_text().splitlines() if " ERROR " in line]
    assert len(errors) == 1 and errors[0].endswith(
        f"/drip: the download took longer than MOVIEREC_FETCH_BUDGET (1 s); nothing published; "
        f"serving the release already in {data}"
    )
    assert not list(data.glob(".fetch-*"))


def fake_tmdb(calls: list[tuple[date, Path]], sample_raw: Path) -> types.ModuleType:
    """A stand-in for movierec.refresh.tmdb: its sync writes a batch with one new film."""

    def sync(since: date, out: Path, **options: object) -> None:
        calls.append((since, out))
        header, row = sample_rows(sample_raw, "movies_metadata.csv", 1)
        row[header.index("id")], row[header.index("title")] = "6000001", "Sincronizada"
        with open(out / "movies_metadata.csv", "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([header, row])

    module = types.ModuleType("movierec.refresh.tmdb")
    module.sync = sync  # type: ignore[attr-defined]
    return module


def test_refresh_syncs_from_where_the_last_sync_ended(
    small_release: Path, tmp_path: Path, sample_raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    shutil.copytree(small_release, data, symlinks=True)
    base = ReleaseStore(data).current()
    assert base is not None
    built = datetime.fromisoformat(str((read_manifest(base) or {})["created_at"])).date()
    assert last_synced(base) == built - timedelta(days=1)  # a pipeline release: the day before it was built
    calls: list[tuple[date, Path]] = []
    monkeypatch.setitem(sys.modules, "movierec.refresh.tmdb", fake_tmdb(calls, sample_raw))
    monkeypatch.setenv("TMDB_API_KEY", "test-key")
    manifest = refresh_once(data, Settings(data_dir=data, evaluate_on_publish=False))
    assert manifest is not None and [since for since, _ in calls] == [built - timedelta(days=1)]
    today = datetime.now(UTC).date()
    assert manifest["ingest"]["sync"] == {"since": (built - timedelta(days=1)).isoformat(), "until": today.isoformat()}
    assert manifest["ingest"]["files"]["movies_metadata.csv"]["added"] == 1
    release = ReleaseStore(data).current()
    assert release is not None and release.name == manifest["release"]
    assert last_synced(release) == today
    assert not calls[0][1].exists()  # the batch folder is gone
    result = CliRunner().invoke(app, ["refresh", "--data", str(data), "--since", "2026-02-30"])
    assert result.exit_code == 2 and "--since must be a date" in result.output


def test_refresh_without_the_tmdb_client_or_the_key(small_release: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    result = CliRunner().invoke(app, ["refresh", "--data", str(small_release)])
    assert result.exit_code == 2 and "TMDB_API_KEY is not set" in result.output
    monkeypatch.setenv("TMDB_API_KEY", "test-key")
    monkeypatch.setitem(sys.modules, "movierec.refresh.tmdb", None)  # this build has no TMDB client
    result = CliRunner().invoke(app, ["refresh", "--data", str(small_release)])
    assert result.exit_code == 2 and "tmdb-sync is not available in this build" in result.output


def test_first_refresh_is_due_a_period_after_the_release_was_built(small_release: Path) -> None:
    release = ReleaseStore(small_release).current()
    created = datetime.fromisoformat(str((read_manifest(release) or {})["created_at"]))  # type: ignore[arg-type]
    day = 86400.0
    assert first_delay(release, day, created + timedelta(hours=2)) == pytest.approx(day - 7200)
    assert first_delay(release, day, created + timedelta(hours=30)) == 60.0  # overdue: soon after start
    assert first_delay(None, day, created) == day


def test_the_refresher_runs_its_command_until_stopped(small_release: Path, tmp_path: Path) -> None:
    marks = tmp_path / "runs.txt"
    command = [sys.executable, "-c", f"open({str(marks)!r}, 'a').write('run\\n')"]
    refresher = Refresher(small_release, every=0.05, command=command, minimum=0.0)
    first_delay_s = first_delay(ReleaseStore(small_release).current(), 0.05, datetime.now(UTC), 0.0)
    assert first_delay_s == 0.0  # built more than 0.05 s ago: due now
    refresher.start()
    deadline = time.monotonic() + 60
    while not marks.exists() or marks.read_text().count("run") < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    refresher.stop()
    refresher.join(timeout=30)
    assert not refresher.is_alive()
