"""The commands that make a release from something other than a batch: `movierec pipeline`
(:func:`publish`) and `movierec train` (:func:`retrain`); `movierec ingest` is
:mod:`movierec.refresh.ingest`. Each builds the one list of steps
(:func:`~movierec.pipeline.steps.release_steps`) after its own table step, and hands it to
:func:`~movierec.pipeline.build.build_release`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from movierec.config import Settings
from movierec.pipeline.build import build_release, is_sample
from movierec.pipeline.manifest import Manifest
from movierec.pipeline.steps import release_steps
from movierec.pipeline.tables import CopyTables, Etl
from movierec.release.layout import RAW, read_manifest
from movierec.release.store import ReleaseStore, StoreError

log = logging.getLogger("movierec.pipeline")


def publish(
    raw_dir: Path, data_dir: Path, settings: Settings, *, allow_shrink: bool = False, engine: str = "local"
) -> Manifest:
    """`movierec pipeline`: ETL + training (+ evaluation when RAW has ratings) into a new release
    that becomes DATA/current; returns its manifest. ``engine`` computes the collaborative stage
    (local | spark, see :func:`movierec.model.train.train`)."""
    raw_dir = Path(raw_dir)
    if is_sample(raw_dir):
        log.warning(
            "building from the bundled SAMPLE of 2,996 films (%s), not the full data: put the Kaggle "
            "CSVs in DATA/raw/ or pass --raw / MOVIEREC_RAW_DIR",
            raw_dir,
        )
    steps = release_steps([Etl(raw_dir)], raw_dir, settings, engine=engine, allow_shrink=allow_shrink)
    return build_release(data_dir, settings, raw_dir, steps)


def retrain(data_dir: Path, settings: Settings, raw_dir: Path | None = None, engine: str = "local") -> Manifest:
    """`movierec train`: a new release holding the current release's tables (hard links, so no
    copy) and a model fitted anew; the current release is not touched."""
    base = ReleaseStore(data_dir).current()
    if base is None:
        raise StoreError(f"no release in {data_dir}: run `movierec pipeline --data {data_dir}` first")
    base_manifest = read_manifest(base) or {}
    raw = raw_dir or recorded_raw_dir(base_manifest, settings.resolved_raw_dir(), base)
    steps = release_steps([CopyTables(base, base_manifest)], raw, settings, engine=engine)
    return build_release(data_dir, settings, raw, steps, built_on=base.name)


def recorded_raw_dir(manifest: Mapping[str, object], fallback: Path, release: Path | None = None) -> Path:
    """Where a release's ratings are: its own raw/ when it keeps them, else the raw folder it was
    built from when that still exists, else ``fallback``."""
    from movierec.raw.ratings import ratings_inputs

    if release is not None and (release / RAW).is_dir() and ratings_inputs(release / RAW) is not None:
        return release / RAW
    recorded = manifest.get("raw_dir")
    return Path(recorded) if isinstance(recorded, str) and Path(recorded).is_dir() else fallback
