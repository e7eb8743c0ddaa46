"""What a release folder holds, and writing its files atomically.

    DATA/releases/<name>/tables/*.parquet    the ETL's tables, quarantine.parquet and report.json
    DATA/releases/<name>/model/              the recommender's artifacts
    DATA/releases/<name>/catalog/            the API's indexes, built once, memory-mapped when served
    DATA/releases/<name>/raw/                the raw inputs it was built from, compressed: what the
                                             next `movierec ingest` merges a batch into
    DATA/releases/<name>/evaluation.json     the evaluation measured when the release was built
    DATA/releases/<name>/report/             the EDA report: report.html and report.json
    DATA/releases/<name>/manifest.json       inputs, row counts, code version, what the model learned

``<name>`` is the UTC time the build started (``20261201T101500123456Z``); any other name is
refused from a fetched archive. Releases are ordered by their manifest's ``created_at`` (the name
breaking ties), not by their names: a name is only a label, the manifest says when the release was
made. A release is complete when its manifest exists; it is never modified after it is published.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from movierec.config import REPO_ROOT

MANIFEST = "manifest.json"
EVALUATION = "evaluation.json"
TABLES = "tables"
MODEL = "model"
REPORT_DIR = "report"
REPORT = f"{REPORT_DIR}/report.html"  # and report/report.json beside it
CATALOG = "catalog"
RAW = "raw"

#: The model's artifacts in MODEL/: what training writes, and the catalog build and check, the
#: evaluation and the report read.
NEIGHBOURS_FILE = "neighbours.parquet"  # every film's k best neighbours (movierec.model.artifact)
PERSONAL_FILE = "personal.parquet"  # the EASE lists of the personal recommendations (movierec.model.ease)
COLIKES_FILE = "colikes.parquet"  # the films liked together, for the cold films' borrowed signal

NAME_FORMAT = "%Y%m%dT%H%M%S%fZ"
_NAME = re.compile(r"[0-9]{8}T[0-9]{12}Z")

#: Every file a release may hold, by folder ("" is the release's root): what the pipeline, ingest
#: and the report write, and nothing else. A fetched archive holding any other name is refused
#: before it is unpacked; every folder is flat.
FILES: dict[str, re.Pattern[str]] = {
    "": re.compile(rf"{re.escape(MANIFEST)}|{re.escape(EVALUATION)}"),
    TABLES: re.compile(r"[a-z0-9_]{1,64}\.parquet|report\.json"),
    MODEL: re.compile(r"[a-z0-9_]{1,64}\.parquet"),
    CATALOG: re.compile(r"[a-z0-9_]{1,64}\.(?:bin|json|arrow)"),
    RAW: re.compile(r"[a-z0-9_]{1,64}\.csv\.(?:gz|zip)"),
    REPORT_DIR: re.compile(r"report\.(?:html|json)"),
}


def new_name() -> str:
    return datetime.now(UTC).strftime(NAME_FORMAT)


def name_time(name: str) -> datetime | None:
    """The UTC time a release name says its build started, or None when ``name`` is not one
    :func:`new_name` makes.

    >>> name_time("20261201T101500123456Z").isoformat()
    '2026-12-01T10:15:00.123456+00:00'
    >>> name_time("zzzz-forever-newest"), name_time("20261301T101500123456Z")
    (None, None)
    """
    if not _NAME.fullmatch(name):
        return None
    try:
        return datetime.strptime(name, NAME_FORMAT).replace(tzinfo=UTC)
    except ValueError:  # month 13, hour 25…
        return None


def created_at(manifest: dict[str, object] | None) -> datetime | None:
    """The manifest's ``created_at`` as an aware datetime, or None when missing or not an ISO
    timestamp with a time zone."""
    value = (manifest or {}).get("created_at")
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def age(release: Path) -> tuple[datetime, str]:
    """What releases are ordered by: the manifest's ``created_at``, else the time its name says,
    else the oldest possible; the name breaks ties."""
    moment = created_at(read_manifest(release)) or name_time(release.name) or datetime.min.replace(tzinfo=UTC)
    return moment, release.name


def allowed_file(parts: tuple[str, ...]) -> bool:
    """Whether a release may hold a file at ``parts`` (its path, relative to the release).

    >>> allowed_file(("model", "neighbours.parquet")), allowed_file(("model", "x", "y.parquet"))
    (True, False)
    >>> allowed_file(("manifest.json",)), allowed_file(("tables",)), allowed_file(("notes.txt",))
    (True, False, False)
    """
    folder, name = ("", parts[0]) if len(parts) == 1 else parts if len(parts) == 2 else ("?", "")
    pattern = FILES.get(folder)
    return pattern is not None and pattern.fullmatch(name) is not None


def allowed_folder(parts: tuple[str, ...]) -> bool:
    """Whether a release may hold a folder at ``parts``: only its own folders, one level deep."""
    return len(parts) == 1 and parts[0] in FILES and parts[0] != ""


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
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return package
    return f"{package}+{commit}" if commit else package
