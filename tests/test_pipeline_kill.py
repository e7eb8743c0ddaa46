"""Issue 7: killing `movierec pipeline` with SIGKILL at any moment leaves `current` serving the
previous release, and the next run leaves no debris."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.helpers import copy_data

from movierec.catalog.check import check_catalog
from movierec.config import Settings
from movierec.release.store import ReleaseStore


def _staged(data: Path, relative: str) -> Callable[[], bool]:
    """True once a staging folder holds ``relative``."""
    return lambda: any((folder / relative).exists() for folder in (data / "releases").glob(".tmp-*"))


# Moments to kill at: as soon as the run staged its folder (ETL running), once the tables are
# written (training), once the model is written, and once the manifest is (the release being
# checked as the API loads it, just before the rename and the switch).
MOMENTS = ["staging", "tables", "model", "manifest"]


def test_sigkill_at_any_moment_leaves_current_serving(small_release: Path, tmp_path: Path) -> None:
    """One run killed at each moment in turn, then one that completes: `current` never moves
    before a release is complete, and the complete run clears every killed run's debris."""
    data = copy_data(small_release, tmp_path / "data")
    store = ReleaseStore(data)
    good = store.current()
    raw_dir = Path(json.loads((good / "manifest.json").read_text())["raw_dir"])
    conditions = {
        "staging": _staged(data, "."),
        "tables": _staged(data, "tables/movies.parquet"),
        "model": _staged(data, "model/neighbours.parquet"),
        "manifest": _staged(data, "manifest.json"),
    }
    env = {**os.environ, "MOVIEREC_DATA_DIR": str(data), "MOVIEREC_REPORT_ON_PUBLISH": "false"}
    command = [sys.executable, "-m", "movierec", "pipeline", "--raw", str(raw_dir), "--data", str(data)]
    for moment in MOMENTS:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not conditions[moment]() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert process.poll() is None, f"the run ended before reaching {moment!r}"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert store.current() == good, moment  # still serving the previous release …
        assert check_catalog(good, Settings(data_dir=data)) == 200  # … which loads and answers
    assert len(list((data / "releases").glob(".tmp-*"))) >= 1  # the killed runs left their staging

    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    new = store.current()
    assert new != good and new.parent == good.parent
    leftovers = [p.name for p in (data / "releases").iterdir() if p.name.startswith(".")]
    leftovers += [p.name for p in data.iterdir() if p.name.startswith(".current-")]
    assert leftovers == []  # the killed runs' staging folders are gone
    assert sorted(p.name for p in (data / "releases").iterdir()) == sorted([good.name, new.name])
