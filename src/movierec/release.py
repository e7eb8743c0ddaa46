"""`movierec pipeline`: build a release folder, then switch DATA/current to it atomically.

    DATA/releases/<UTC timestamp>/tables/*.parquet   the ETL's tables, quarantine and report
    DATA/releases/<UTC timestamp>/model/             the recommender's artifacts
    DATA/releases/<UTC timestamp>/manifest.json      inputs, row counts, code version, durations
    DATA/current -> releases/<UTC timestamp>

A failed run removes its own folder and leaves DATA/current as it was, so the API keeps serving
the last good release. The newest ``keep_releases`` releases are kept, and always the current one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from movierec.settings import REPO_ROOT, Settings

log = logging.getLogger("movierec.release")
MANIFEST = "manifest.json"


def code_version() -> str:
    """The package version, plus the git commit when the code runs from a checkout."""
    try:
        package = version("movierec")
    except PackageNotFoundError:
        package = "unknown"
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return package
    return f"{package}+{commit}" if commit else package


def current_release(data_dir: Path) -> Path | None:
    """The folder DATA/current points to, or None when nothing is published yet."""
    link = data_dir / "current"
    return link.resolve() if link.exists() else None


def publish(raw_dir: Path, data_dir: Path, settings: Settings) -> dict[str, object]:
    """Build a release from ``raw_dir`` and make it DATA/current; returns its manifest."""
    from movierec.etl_run import run_etl
    from movierec.train import train

    releases = data_dir / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = releases / name
    folder.mkdir()
    try:
        started = time.perf_counter()
        report = run_etl(raw_dir, folder / "tables")
        etl_seconds = round(time.perf_counter() - started, 3)
        model = train(folder / "tables", folder / "model", settings, raw_dir=raw_dir)
        manifest: dict[str, object] = {
            "release": name,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "code_version": code_version(),
            "raw_dir": str(raw_dir),
            "inputs": report["inputs"],
            "tables": report["tables"],
            "etl": {k: v for k, v in report.items() if k not in ("inputs", "tables")},
            "model": model,
            "durations": {"etl": etl_seconds, "train": model.get("seconds"),
                          "total": round(time.perf_counter() - started, 3)},
        }
        write_manifest(folder, manifest)
        switch_current(data_dir, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    prune(releases, settings.keep_releases, keep=folder)
    log.info("published %s", folder)
    return manifest


def write_manifest(folder: Path, manifest: dict[str, object]) -> None:
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(folder / MANIFEST)


def switch_current(data_dir: Path, folder: Path) -> None:
    """Point DATA/current at ``folder`` with one rename, so readers see the old or the new."""
    tmp = data_dir / f".current-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(folder.relative_to(data_dir))
    tmp.replace(data_dir / "current")


def prune(releases: Path, keep_count: int, keep: Path) -> None:
    """Remove all but the newest ``keep_count`` complete releases (never ``keep``)."""
    complete = sorted(p for p in releases.iterdir() if (p / MANIFEST).is_file())
    for old in complete[: max(len(complete) - keep_count, 0)]:
        if old.resolve() != keep.resolve():
            shutil.rmtree(old, ignore_errors=True)
