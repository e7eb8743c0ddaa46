"""The release manifest (``manifest.json``), typed: what each step of a build adds to it.

A build starts the manifest with who it is (:class:`Manifest`'s first six keys); every step then
returns its slice — a :class:`Manifest` holding only the keys it owns — and
:func:`movierec.pipeline.build.build_release` merges the slices in the order the steps ran, so
that the file's keys come in that order. ``durations`` (seconds per step, and ``total``) is the one
key that changes from one build of the same inputs to the next.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict


class ReportRecord(TypedDict, total=False):
    """Where the release's EDA report is, or why it is missing."""

    html: str
    json: str
    error: str


class Manifest(TypedDict, total=False):
    """A release's manifest (or one step's slice of it), in the order its keys are written."""

    release: str  # the release's name: the UTC time its build started
    code_version: str  # the package version (+ git commit) that built it
    raw_dir: str | None  # the raw folder it was built from (None: its own raw/, e.g. an ingest)
    sample_data: bool  # built from the bundled sample, not the full data
    built_on: str | None  # the release that was current when it was built
    durations: dict[str, float]  # seconds of each step, and the total
    ingest: dict[str, object]  # an ingest's batch and what it changed (movierec.refresh.ingest)
    inputs: dict[str, str]  # sha256 of every raw input the ETL read
    tables: dict[str, int]  # rows of every table
    etl: dict[str, object]  # the ETL's report: accounts per file, encodings, quarantine, steps
    raw: list[str]  # the raw inputs kept in raw/ (what the next ingest merges into)
    model: dict[str, object]  # what the model learned (movierec.model.train)
    lineage_max_films: int  # the most films of any release of its lineage, this one counted
    created_at: str  # when it was built (ISO 8601, UTC): releases are ordered by it
    report: ReportRecord


def lineage_films(manifest: Mapping[str, object]) -> tuple[int, int]:
    """(films of a release, most films of any release in its lineage) from its manifest; a
    release published before the lineage was recorded counts its own films. (0, 0): none.

    >>> lineage_films({"tables": {"movies": 844}, "lineage_max_films": 2993})
    (844, 2993)
    """
    tables = manifest.get("tables")
    films = tables.get("movies") if isinstance(tables, dict) else None
    films = films if isinstance(films, int) and films > 0 else 0
    recorded = manifest.get("lineage_max_films")
    recorded = recorded if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded > 0 else 0
    return films, max(films, recorded)
