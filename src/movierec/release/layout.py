"""What a release folder holds, and writing its files atomically.

    DATA/releases/<name>/tables/*.parquet    the ETL's tables, quarantine.parquet and report.json
    DATA/releases/<name>/model/              the recommender's artifacts
    DATA/releases/<name>/catalog/            the API's indexes, built once, memory-mapped when served
    DATA/releases/<name>/raw/                the raw inputs it was built from, compressed: what the
                                             next `movierec ingest` merges a batch into
    DATA/releases/<name>/evaluation.json     the evaluation measured when the release was built
    DATA/releases/<name>/report/             the EDA report: report.html and report.json
    DATA/releases/<name>/manifest.json       inputs, row counts, code version, what the model learned

``<name>`` is the UTC time the build started (``20261201T101500123456Z``), so names sort by age.
A release is complete when its manifest exists; it is never modified after it is published.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from movierec.config import REPO_ROOT

MANIFEST = "manifest.json"
EVALUATION = "evaluation.json"
TABLES = "tables"
MODEL = "model"
REPORT = "report/report.html"  # and report/report.json beside it
CATALOG = "catalog"
RAW = "raw"


def new_name() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def write_json(path: Path, value: object) -> None:
    """Write JSON through a temporary file and one rename, so readers see the old or the new."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)


def read_json(path: Path) -> dict[str, object] | None:
    """A JSON object, or None when the file is missing or not a JSON object."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def read_manifest(release: Path) -> dict[str, object] | None:
    return read_json(release / MANIFEST)


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
