"""The orchestrator: raw → etl → tables → {model, catalog check, evaluation} → release.

Every command that makes a release goes through :func:`build_release`: it takes the store's lock,
builds the release aside (``releases/.tmp-<name>/``), checks that the API can load it and answer
from it, refuses a catalogue that is empty or shrank too much, and only then publishes it (one
rename, then ``current`` moves). A failure or a kill at any point leaves ``current`` as it was.

* :func:`publish` — `movierec pipeline`: a new release from a raw folder.
Every release also carries its EDA report (``report/report.html`` + ``report.json``).

* :func:`retrain` — `movierec train`: a new release with the current release's tables and a model
  fitted anew (the current release is never modified).
* `movierec ingest` (:mod:`movierec.refresh.ingest`): a new release from the current one's raw
  inputs with a batch of new and changed films merged in.

Whatever makes the tables, the steps after them are :func:`after_tables`: training, then the
API's catalog artifact (the one place where a step every release needs is added).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from movierec.config import SAMPLE_RAW_DIR, Settings
from movierec.raw.caps import FieldCaps
from movierec.raw.keep import link_or_copy
from movierec.release.layout import (
    CATALOG,
    EVALUATION,
    MANIFEST,
    MODEL,
    RAW,
    REPORT,
    TABLES,
    code_version,
    read_manifest,
    write_json,
)
from movierec.release.store import ReleaseStore, StoreError

log = logging.getLogger("movierec.pipeline")

Step = Callable[[Path, dict[str, object]], None]  # (staging folder, manifest being built)
LINEAGE_MAX = "lineage_max_films"  # the manifest's most films of any release its lineage published


class ReleaseRefused(StoreError):
    """The built release failed its checks; nothing was published."""


def publish(
    raw_dir: Path, data_dir: Path, settings: Settings, *, allow_shrink: bool = False, engine: str = "local"
) -> dict[str, object]:
    """`movierec pipeline`: ETL + training (+ evaluation when RAW has ratings) into a new release
    that becomes DATA/current; returns its manifest. ``engine`` computes the collaborative stage
    (local | spark, see :func:`movierec.model.train.train`)."""
    from movierec.raw.keep import keep_raw

    raw_dir = Path(raw_dir)
    if raw_dir.resolve() == SAMPLE_RAW_DIR.resolve():
        log.warning(
            "building from the bundled SAMPLE of 2,996 films (%s), not the full data: put the Kaggle "
            "CSVs in DATA/raw/ or pass --raw / MOVIEREC_RAW_DIR",
            raw_dir,
        )

    def etl(folder: Path, manifest: dict[str, object]) -> None:
        # The raw inputs are compressed into the release (for the next ingest) beside the ETL.
        with ThreadPoolExecutor(max_workers=1) as pool:
            kept = pool.submit(keep_raw, raw_dir, folder / RAW)
            etl_step(raw_dir, settings)(folder, manifest)
            manifest["raw"] = kept.result()

    return build_release(
        data_dir, settings, raw_dir, [etl, *after_tables(settings, raw_dir, engine)], allow_shrink=allow_shrink
    )


def etl_step(raw_dir: Path, settings: Settings, source: str | None = None) -> Step:
    """The ETL of ``raw_dir`` into the release's tables/, recorded in the manifest; a catalogue
    too small to recommend from is refused. ``source`` names the input in messages (default
    ``raw_dir``: an ingest's merged files are in the staging folder)."""

    def etl(folder: Path, manifest: dict[str, object]) -> None:
        from movierec.etl.run import run_etl
        from movierec.model.train import CatalogueTooSmall, check_catalogue_size

        started = time.perf_counter()
        report = run_etl(
            raw_dir,
            folder / TABLES,
            max_input_bytes=settings.max_input_bytes,
            caps=FieldCaps.from_settings(settings),
            max_titles=settings.max_titles_per_film,
        )
        tables, movies = report["tables"], report["movies"]
        if isinstance(tables, dict) and isinstance(movies, dict):
            films, records = int(tables.get("movies") or 0), movies.get("rows_read", 0)
            if not films:
                raise ReleaseRefused(
                    f"the new release was not published: the ETL kept no film of the "
                    f"{records:,} movie records in {source or raw_dir}"
                )
            try:  # refused here, before training spends minutes on it
                check_catalogue_size(films, settings)
            except CatalogueTooSmall as exc:
                raise ReleaseRefused(f"the new release was not published: the ETL kept {exc}") from None
        manifest.update(
            {
                "inputs": report["inputs"],
                "tables": report["tables"],
                "etl": {k: v for k, v in report.items() if k not in ("inputs", "tables")},
            }
        )
        manifest["durations"]["etl"] = round(time.perf_counter() - started, 3)  # type: ignore[index]

    return etl


def after_tables(settings: Settings, ratings_dir: Path | None = None, engine: str = "local") -> list[Step]:
    """What every release needs once its tables exist, in order: the model (trained with the
    ratings of ``ratings_dir``, default the release's own raw/, its collaborative stage computed by
    ``engine``), then the API's catalog artifact and the web page's film cards.
    Every release goes through this list: `pipeline`, `train` and `ingest`."""
    return [
        _train_step(ratings_dir, settings, engine),
        _catalog_step(settings),
        _cards_step,
    ]  # then build_release checks, evaluates and writes the EDA report (which shows the evaluation)


def retrain(
    data_dir: Path, settings: Settings, raw_dir: Path | None = None, engine: str = "local"
) -> dict[str, object]:
    """`movierec train`: a new release holding the current release's tables (hard links, so no
    copy) and a model fitted anew; the current release is not touched."""
    store = ReleaseStore(data_dir)
    base = store.current()
    if base is None:
        raise StoreError(f"no release in {data_dir}: run `movierec pipeline --data {data_dir}` first")
    base_manifest = read_manifest(base) or {}
    raw = raw_dir or recorded_raw_dir(base_manifest, settings.resolved_raw_dir(), base)

    def tables(folder: Path, manifest: dict[str, object]) -> None:
        shutil.copytree(base / TABLES, folder / TABLES, copy_function=_link_or_copy)
        if (base / RAW).is_dir():  # the next ingest merges into the same raw inputs
            shutil.copytree(base / RAW, folder / RAW, copy_function=_link_or_copy)
        for key in ("inputs", "tables", "etl", "raw"):
            if key in base_manifest:
                manifest[key] = base_manifest[key]

    return build_release(data_dir, settings, raw, [tables, *after_tables(settings, raw, engine)], built_on=base.name)


def build_release(
    data_dir: Path,
    settings: Settings,
    raw_dir: Path | None,
    steps: list[Step],
    *,
    built_on: str | None = None,
    allow_shrink: bool = False,
    evaluate: bool | None = None,
) -> dict[str, object]:
    """Run ``steps`` into a staging folder, check the result, publish it; returns its manifest.

    ``raw_dir`` is the raw folder the release comes from (its ratings evaluate it); None means
    the release's own raw/, written by a step. ``evaluate`` defaults to
    ``settings.evaluate_on_publish``."""
    store = ReleaseStore(data_dir)
    with store.lock(wait=settings.lock_wait):
        store.prune(settings.keep_releases)  # debris of a killed run, before anything new
        name, staging = store.staging()
        started = time.perf_counter()
        current = store.current()
        manifest: dict[str, object] = {
            "release": name,
            "code_version": code_version(),
            "raw_dir": str(raw_dir) if raw_dir else None,
            "sample_data": raw_dir is not None and Path(raw_dir).resolve() == SAMPLE_RAW_DIR.resolve(),
            "built_on": built_on or (current.name if current else None),
            "durations": {},
        }
        evaluating = settings.evaluate_on_publish if evaluate is None else evaluate
        anchors: Background | None = None
        try:
            for step in steps:
                step(staging, manifest)
                if evaluating and anchors is None:  # as soon as the tables exist, beside training
                    anchors = _measure_anchors(staging, raw_dir or staging / RAW, settings)
            write_json(staging / MANIFEST, manifest)  # the check loads the release as the API does
            manifest[LINEAGE_MAX] = check_release(staging, current, settings, allow_shrink=allow_shrink)
            if evaluating:
                _evaluate(staging, raw_dir or staging / RAW, settings, manifest, anchors)
            # Dated before the report is written: its header and summary show the release's date.
            manifest["created_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            write_json(staging / MANIFEST, manifest)
            _report(staging, raw_dir or staging / RAW, current, settings, manifest)
            manifest["durations"]["total"] = round(time.perf_counter() - started, 3)  # type: ignore[index]
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


def lineage_films(manifest: dict[str, object]) -> tuple[int, int]:
    """(films of a release, most films of any release in its lineage) from its manifest; a
    release published before the lineage was recorded counts its own films. (0, 0): none."""
    tables = manifest.get("tables")
    films = tables.get("movies") if isinstance(tables, dict) else None
    films = films if isinstance(films, int) and films > 0 else 0
    recorded = manifest.get(LINEAGE_MAX)
    recorded = recorded if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded > 0 else 0
    return films, max(films, recorded)


def recorded_raw_dir(manifest: dict[str, object], fallback: Path, release: Path | None = None) -> Path:
    """Where a release's ratings are: its own raw/ when it keeps them, else the raw folder it was
    built from when that still exists, else ``fallback``."""
    from movierec.raw.ratings import ratings_inputs

    if release is not None and (release / RAW).is_dir() and ratings_inputs(release / RAW) is not None:
        return release / RAW
    recorded = manifest.get("raw_dir")
    return Path(recorded) if isinstance(recorded, str) and Path(recorded).is_dir() else fallback


def _train_step(ratings_dir: Path | None, settings: Settings, engine: str = "local") -> Step:
    def train_step(folder: Path, manifest: dict[str, object]) -> None:
        from movierec.model.train import CatalogueTooSmall, train

        try:
            model = train(folder / TABLES, folder / MODEL, settings, raw_dir=ratings_dir or folder / RAW, engine=engine)
        except CatalogueTooSmall as exc:
            raise ReleaseRefused(f"the new release was not published: {exc}") from None
        manifest["model"] = model
        manifest["durations"]["train"] = model.get("seconds")  # type: ignore[index]

    return train_step


def _catalog_step(settings: Settings) -> Step:
    def catalog_step(folder: Path, manifest: dict[str, object]) -> None:
        from movierec.catalog.build import write_catalog

        started = time.perf_counter()
        try:
            write_catalog(folder, settings.recommendations, manifest)
        except Exception as exc:  # the API's indexes cannot be built from what the steps wrote
            raise ReleaseRefused(
                f"the new release was not published: the API cannot load it ({type(exc).__name__}: {str(exc)[:200]})"
            ) from exc
        manifest["durations"][CATALOG] = round(time.perf_counter() - started, 3)  # type: ignore[index]

    return catalog_step


def _cards_step(folder: Path, manifest: dict[str, object]) -> None:
    """The web page's film cards (genres, directors, cast, overview), memory-mapped when served."""
    from movierec.catalog.cards import CARDS, write_cards

    started = time.perf_counter()
    write_cards(folder / TABLES, folder / CARDS)
    manifest["durations"]["cards"] = round(time.perf_counter() - started, 3)  # type: ignore[index]


class Background:
    """``function(*args)`` in a daemon thread: a failed or killed build never waits for it, and
    :meth:`result` re-raises what it raised."""

    def __init__(self, function: Callable[..., object], *args: object) -> None:
        self._outcome: tuple[bool, object] = (False, None)
        self._thread = threading.Thread(
            target=self._run,
            args=(function, args),
            daemon=True,
            name=f"movierec-{getattr(function, '__name__', 'background')}",
        )
        self._thread.start()

    def _run(self, function: Callable[..., object], args: tuple[object, ...]) -> None:
        try:
            self._outcome = (True, function(*args))
        except BaseException as exc:  # handed to whoever asks for the result
            self._outcome = (False, exc)

    def result(self) -> object:
        self._thread.join()
        done, value = self._outcome
        if not done:
            raise value  # type: ignore[misc]
        return value


def _has_ratings(raw_dir: Path, settings: Settings) -> bool:
    from movierec.raw.ratings import ratings_inputs

    return raw_dir.is_dir() and ratings_inputs(raw_dir, settings.ratings) is not None


def _measure_anchors(folder: Path, raw_dir: Path, settings: Settings) -> Background | None:
    """The evaluation's anchors (everything but the model's rows: they need only the tables and
    the ratings), measured in a thread while the model trains on one core; None until the tables
    exist, or without ratings."""
    from movierec.evaluation.run import measure_anchors

    if not (folder / TABLES / "movies.parquet").is_file() or not _has_ratings(raw_dir, settings):
        return None
    return Background(measure_anchors, folder / TABLES, raw_dir, settings.recommendations, 0, settings.ratings)


def _evaluate(
    folder: Path, raw_dir: Path, settings: Settings, manifest: dict[str, object], anchors: Background | None = None
) -> None:
    """The evaluation table, measured once as the release is built (when RAW has ratings); its
    anchors from ``anchors`` when they were started beside training. The manifest's duration is
    what the evaluation added after the other steps."""
    from movierec.evaluation.run import Anchored, evaluate_release

    if not _has_ratings(raw_dir, settings):
        return
    started = time.perf_counter()
    anchored = anchors.result() if anchors is not None else None
    assert anchored is None or isinstance(anchored, Anchored)
    write_json(
        folder / EVALUATION,
        evaluate_release(folder, raw_dir, k=settings.recommendations, ratings=settings.ratings, anchored=anchored),
    )
    manifest["durations"]["evaluation"] = round(time.perf_counter() - started, 3)  # type: ignore[index]


def _report(
    folder: Path, raw_dir: Path, previous: Path | None, settings: Settings, manifest: dict[str, object]
) -> None:
    """The EDA report of the release (report/report.html + report.json), compared with the
    release it replaces. A report that fails is logged and recorded, and the release is still
    published: new films must not wait for a chart (the API's /reporte then says why)."""
    if not settings.report_on_publish:
        return
    from movierec.report.build import write_report

    started = time.perf_counter()
    try:
        write_report(folder, folder / REPORT, raw_dir=raw_dir if raw_dir.is_dir() else None, previous=previous)
    except Exception as exc:
        log.exception("the report of %s failed; the release is published without it", folder.name)
        manifest["report"] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    else:
        manifest["report"] = {"html": REPORT, "json": str(Path(REPORT).with_suffix(".json"))}
    manifest["durations"]["report"] = round(time.perf_counter() - started, 3)  # type: ignore[index]


def _link_or_copy(source: str, target: str) -> None:
    link_or_copy(Path(source), Path(target))
