"""Building a release: one ordered list of steps run into a staging folder, checked, published.

:func:`build_release` is the one place that stages, times and publishes a release: it takes the
store's lock, runs the steps in order into ``releases/.tmp-<name>/`` (each handed the same
:class:`Build`), times each with one clock, merges the manifest slice each returns, and only then
publishes the folder (one rename, then ``current`` moves). A failure or a kill at any point leaves
``current`` as it was and the staging folder gone (or, after a kill, removed by the next run).
The steps themselves, and the list every command builds, are in :mod:`movierec.pipeline.steps`.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from movierec.config import SAMPLE_RAW_DIR, Settings
from movierec.pipeline.manifest import Manifest, lineage_films
from movierec.release.layout import MANIFEST, code_version, read_manifest, write_json
from movierec.release.store import ReleaseStore, StoreError


class ReleaseRefused(StoreError):
    """The built release failed its checks; nothing was published."""


@dataclass(frozen=True)
class Build:
    """What every step of one build is handed: the release's name and staging folder, the
    settings, the release it will replace (None for the first), and the manifest so far."""

    name: str
    folder: Path
    settings: Settings
    current: Path | None
    manifest: Mapping[str, object]


class Step:
    """One step of a build: :meth:`run` does its work in the staging folder and returns its slice
    of the manifest. ``name`` is its key in the manifest's ``durations``; a step that loads the
    release from disk as a reader would (``reads_manifest``) finds the manifest so far written
    before it runs."""

    name: ClassVar[str]
    reads_manifest: ClassVar[bool] = False

    def run(self, build: Build) -> Manifest:
        raise NotImplementedError


def is_sample(raw_dir: Path | None) -> bool:
    """Whether ``raw_dir`` is the bundled sample (2,996 films), not the full data."""
    return raw_dir is not None and Path(raw_dir).resolve() == SAMPLE_RAW_DIR.resolve()


def build_release(
    data_dir: Path, settings: Settings, raw_dir: Path | None, steps: Sequence[Step], *, built_on: str | None = None
) -> Manifest:
    """Run ``steps`` in order into a staging folder and publish it; returns its manifest.

    ``raw_dir`` is the raw folder the release comes from, recorded in the manifest (None: the
    release's own raw/, written by a step); ``built_on`` the release it was built on (default: the
    current one). The checks are steps of the list (:func:`movierec.pipeline.steps.release_steps`):
    a refused release raises :class:`ReleaseRefused` and nothing is published."""
    store = ReleaseStore(data_dir)
    with store.lock(wait=settings.lock_wait):
        store.prune(settings.keep_releases)  # debris of a killed run, before anything new
        name, staging = store.staging()
        started = time.perf_counter()
        current = store.current()
        durations: dict[str, float] = {}
        manifest = Manifest(
            release=name,
            code_version=code_version(),
            raw_dir=str(raw_dir) if raw_dir else None,
            sample_data=is_sample(raw_dir),
            built_on=built_on or (current.name if current else None),
            durations=durations,
        )
        build = Build(name, staging, settings, current, manifest)
        try:
            for step in steps:
                if step.reads_manifest:
                    write_json(staging / MANIFEST, manifest)
                clock = time.perf_counter()
                manifest.update(step.run(build))
                durations[step.name] = round(time.perf_counter() - clock, 3)
            durations["total"] = round(time.perf_counter() - started, 3)
            write_json(staging / MANIFEST, manifest)
            store.publish(staging, name, settings.keep_releases)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return manifest


def check_release(folder: Path, current: Path | None, settings: Settings, *, allow_shrink: bool) -> int:
    """Load the release as the API does and check a few answers; refuse an empty catalogue, or one
    with fewer than ``settings.min_films_ratio`` of the largest release in its lineage (unless
    allowed). Returns the lineage's largest catalogue, counting this one, for its manifest."""
    from movierec.catalog.check import CatalogCheckError, check_catalog

    try:
        films = check_catalog(folder, settings)
    except CatalogCheckError as exc:
        raise ReleaseRefused(f"the new release was not published: {exc}") from None
    before, largest = lineage_films(read_manifest(current) or {} if current else {})
    if largest and films < settings.min_films_ratio * largest:
        if not allow_shrink:
            # Against the lineage's largest, not only the current release: two ingests deleting
            # 45% each passed a guard that looked one release back (2,993 → 1,644 → 844 films).
            compared = (
                f"the current release's {largest:,}"
                if before == largest
                else f"the {largest:,} films of the largest release in its lineage (the current release has {before:,})"
            )
            raise ReleaseRefused(
                f"the new release has {films:,} films, fewer than {settings.min_films_ratio:.0%} of {compared}: "
                "not published (pass --allow-shrink if this is intended)"
            )
        return films  # an allowed shrink starts the lineage's count again
    return max(films, largest)
