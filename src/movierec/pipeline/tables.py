"""The steps that give a release its tables (and its raw/): the ETL of a raw folder, or the current
release's tables linked unchanged. An ingest's merge and ETL are in :mod:`movierec.refresh.ingest`,
which shares :func:`etl_tables`."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

from movierec.config import Settings
from movierec.pipeline.build import Build, ReleaseRefused, Step
from movierec.pipeline.manifest import Manifest
from movierec.raw.caps import FieldCaps
from movierec.raw.keep import keep_raw, link_or_copy
from movierec.release.layout import RAW, TABLES

KEPT = ("inputs", "tables", "etl", "raw")  # what a release built on another's tables carries over


def etl_tables(raw_dir: Path, folder: Path, settings: Settings, source: str | None = None) -> Manifest:
    """The ETL of ``raw_dir`` into ``folder``'s tables/, and its slice of the manifest; a
    catalogue too small to recommend from is refused. ``source`` names the input in messages
    (default ``raw_dir``: an ingest's merged files are in the staging folder)."""
    from movierec.etl.run import run_etl
    from movierec.model.train import CatalogueTooSmall, check_catalogue_size

    report = run_etl(
        raw_dir,
        folder / TABLES,
        settings,
        max_input_bytes=settings.max_input_bytes,
        caps=FieldCaps.from_settings(settings),
        max_titles=settings.max_titles_per_film,
    )
    inputs, tables, movies = report["inputs"], report["tables"], report["movies"]
    assert isinstance(inputs, dict) and isinstance(tables, dict) and isinstance(movies, dict)
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
    return {
        "inputs": inputs,
        "tables": tables,
        "etl": {k: v for k, v in report.items() if k not in ("inputs", "tables")},
    }


class Etl(Step):
    """The ETL of ``raw_dir``; its inputs are compressed into the release's raw/ (for the next
    ingest) in a thread beside it."""

    name = "etl"

    def __init__(self, raw_dir: Path) -> None:
        self.raw_dir = raw_dir

    def run(self, build: Build) -> Manifest:
        with ThreadPoolExecutor(max_workers=1) as pool:
            kept = pool.submit(keep_raw, self.raw_dir, build.folder / RAW)
            tables = etl_tables(self.raw_dir, build.folder, build.settings)
            return {**tables, "raw": kept.result()}


class CopyTables(Step):
    """The tables (and raw/) of release ``base``, hard-linked (no copy), with what its manifest
    says of them: a new model on the same data."""

    name = "tables"

    def __init__(self, base: Path, base_manifest: Mapping[str, object]) -> None:
        self.base, self.base_manifest = base, base_manifest

    def run(self, build: Build) -> Manifest:
        shutil.copytree(self.base / TABLES, build.folder / TABLES, copy_function=_link_or_copy)
        if (self.base / RAW).is_dir():  # the next ingest merges into the same raw inputs
            shutil.copytree(self.base / RAW, build.folder / RAW, copy_function=_link_or_copy)
        # the base's manifest is JSON read from disk: its entries are what a build wrote there
        return cast(Manifest, {key: self.base_manifest[key] for key in KEPT if key in self.base_manifest})


def _link_or_copy(source: str, target: str) -> None:
    link_or_copy(Path(source), Path(target))
