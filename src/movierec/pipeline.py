"""The orchestrator: raw → etl → tables → {model, catalog check, evaluation} → release.

Every command that makes a release goes through :func:`build_release`: it takes the store's lock,
builds the release aside (``releases/.tmp-<name>/``), checks that the API can load it and answer
from it, refuses a catalogue that is empty or shrank too much, and only then publishes it (one
rename, then ``current`` moves). A failure or a kill at any point leaves ``current`` as it was.

* :func:`publish` — `movierec pipeline`: a new release from a raw folder.
* :func:`retrain` — `movierec train`: a new release with the current release's tables and a model
  fitted anew (the current release is never modified).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from movierec.config import SAMPLE_RAW_DIR, Settings
from movierec.release.layout import EVALUATION, MANIFEST, MODEL, TABLES, code_version, read_manifest, write_json
from movierec.release.store import ReleaseStore, StoreError

log = logging.getLogger("movierec.pipeline")

Step = Callable[[Path, dict[str, object]], None]  # (staging folder, manifest being built)


class ReleaseRefused(StoreError):
    """The built release failed its checks; nothing was published."""


def publish(raw_dir: Path, data_dir: Path, settings: Settings, *, allow_shrink: bool = False,
            engine: str = "local") -> dict[str, object]:
    """`movierec pipeline`: ETL + training (+ evaluation when RAW has ratings) into a new release
    that becomes DATA/current; returns its manifest. ``engine`` computes the collaborative stage
    (local | spark, see :func:`movierec.model.train.train`)."""
    from movierec.etl.run import run_etl

    raw_dir = Path(raw_dir)
    if raw_dir.resolve() == SAMPLE_RAW_DIR.resolve():
        log.warning("building from the bundled SAMPLE of 2,996 films (%s), not the full data: put the Kaggle "
                    "CSVs in DATA/raw/ or pass --raw / MOVIEREC_RAW_DIR", raw_dir)

    def etl(folder: Path, manifest: dict[str, object]) -> None:
        started = time.perf_counter()
        report = run_etl(raw_dir, folder / TABLES)
        manifest.update({
            "inputs": report["inputs"], "tables": report["tables"],
            "etl": {k: v for k, v in report.items() if k not in ("inputs", "tables")},
        })
        manifest["durations"]["etl"] = round(time.perf_counter() - started, 3)  # type: ignore[index]

    return build_release(data_dir, settings, raw_dir, [etl, _train_step(raw_dir, settings, engine)],
                         allow_shrink=allow_shrink)


def retrain(data_dir: Path, settings: Settings, raw_dir: Path | None = None, engine: str = "local") -> dict[str, object]:
    """`movierec train`: a new release holding the current release's tables (hard links, so no
    copy) and a model fitted anew; the current release is not touched."""
    store = ReleaseStore(data_dir)
    base = store.current()
    if base is None:
        raise StoreError(f"no release in {data_dir}: run `movierec pipeline --data {data_dir}` first")
    base_manifest = read_manifest(base) or {}
    raw = raw_dir or recorded_raw_dir(base_manifest, settings.resolved_raw_dir())

    def tables(folder: Path, manifest: dict[str, object]) -> None:
        shutil.copytree(base / TABLES, folder / TABLES, copy_function=_link_or_copy)
        for key in ("inputs", "tables", "etl"):
            if key in base_manifest:
                manifest[key] = base_manifest[key]

    return build_release(data_dir, settings, raw, [tables, _train_step(raw, settings, engine)], built_on=base.name)


def build_release(data_dir: Path, settings: Settings, raw_dir: Path, steps: list[Step], *,
                  built_on: str | None = None, allow_shrink: bool = False) -> dict[str, object]:
    """Run ``steps`` into a staging folder, check the result, publish it; returns its manifest."""
    store = ReleaseStore(data_dir)
    with store.lock(wait=settings.lock_wait):
        store.prune(settings.keep_releases)  # debris of a killed run, before anything new
        name, staging = store.staging()
        started = time.perf_counter()
        manifest: dict[str, object] = {
            "release": name, "code_version": code_version(), "raw_dir": str(raw_dir),
            "sample_data": Path(raw_dir).resolve() == SAMPLE_RAW_DIR.resolve(),
            "built_on": built_on or (store.current().name if store.current() else None),
            "durations": {},
        }
        try:
            for step in steps:
                step(staging, manifest)
            write_json(staging / MANIFEST, manifest)  # the check loads the release as the API does
            check_release(staging, store.current(), settings, allow_shrink=allow_shrink)
            _evaluate(staging, raw_dir, settings, manifest)
            manifest["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            manifest["durations"]["total"] = round(time.perf_counter() - started, 3)  # type: ignore[index]
            write_json(staging / MANIFEST, manifest)
            store.publish(staging, name, settings.keep_releases)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return manifest


def check_release(folder: Path, current: Path | None, settings: Settings, *, allow_shrink: bool) -> None:
    """Load the release as the API does and check a few answers; refuse an empty catalogue, or one
    with fewer than ``settings.min_films_ratio`` of the current release's films (unless allowed)."""
    from movierec.catalog.check import CatalogCheckError, check_catalog

    try:
        films = check_catalog(folder, settings)
    except CatalogCheckError as exc:
        raise ReleaseRefused(f"the new release was not published: {exc}") from None
    previous = (read_manifest(current) or {}).get("tables") if current else None
    before = previous.get("movies") if isinstance(previous, dict) else None
    if isinstance(before, int) and before and films < settings.min_films_ratio * before and not allow_shrink:
        raise ReleaseRefused(
            f"the new release has {films:,} films, fewer than {settings.min_films_ratio:.0%} of the current "
            f"release's {before:,}: not published (pass --allow-shrink if this is intended)")


def recorded_raw_dir(manifest: dict[str, object], fallback: Path) -> Path:
    """The raw folder a release was built from, when it still exists, else ``fallback``."""
    recorded = manifest.get("raw_dir")
    return Path(recorded) if isinstance(recorded, str) and Path(recorded).is_dir() else fallback


def _train_step(raw_dir: Path, settings: Settings, engine: str) -> Step:
    def train_step(folder: Path, manifest: dict[str, object]) -> None:
        from movierec.model.train import train

        model = train(folder / TABLES, folder / MODEL, settings, raw_dir=raw_dir, engine=engine)
        manifest["model"] = model
        manifest["durations"]["train"] = model.get("seconds")  # type: ignore[index]
    return train_step


def _evaluate(folder: Path, raw_dir: Path, settings: Settings, manifest: dict[str, object]) -> None:
    """The evaluation table, measured once as the release is built (when RAW has ratings)."""
    from movierec.evaluation.run import evaluate_release
    from movierec.raw.ratings import ratings_inputs

    if not settings.evaluate_on_publish or not raw_dir.is_dir() or ratings_inputs(raw_dir, settings.ratings) is None:
        return
    started = time.perf_counter()
    write_json(folder / EVALUATION, evaluate_release(folder, raw_dir, k=settings.recommendations,
                                                     ratings=settings.ratings))
    manifest["durations"]["evaluation"] = round(time.perf_counter() - started, 3)  # type: ignore[index]


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
