"""`movierec ingest BATCH_DIR`: new and changed films merged into a new release.

BATCH_DIR holds, in the Kaggle format (plain, .gz or .zip), ``movies_metadata.csv`` and
optionally ``credits.csv`` and ``keywords.csv`` for any subset of films, optionally ``titles.csv``
(the films' Spanish titles, keyed by ``movie_id``: a film the batch brings titles for gets exactly
those; see :mod:`movierec.etl.titles`) and optionally ``deleted_ids.txt`` (one TMDB id a line). A
batch of titles alone (``movierec tmdb-sync --titles``) is valid. The whole batch is read and validated first: a file
that cannot be read or lacks a column stops the command (exit 2) before anything is built, and the
served release does not change.

Then, under the store's lock, a new release is built aside (:func:`movierec.pipeline.build_release`)
by the steps every release goes through (:func:`movierec.pipeline.release_steps`), after two of
its own:

1. **merge** (:class:`Merge`, :mod:`movierec.refresh.merge`): the batch is merged, record by
   record, into the raw inputs the current release keeps in ``raw/`` (see
   :mod:`movierec.raw.keep`); the ratings and links are linked from it unchanged;
2. **etl** (:class:`MergedEtl`) on the merged files (the ETL's parser and rules as they are: a
   batch's bad rows are quarantined like any other); meanwhile a thread compresses the merged
   files into the new release's raw/, for the next ingest (:class:`KeepMerged` waits for it);
3. the likes (read once from the linked ratings), training, the API's catalog and cards, the
   check (the release loaded as the API will load it), the evaluation (``evaluate_on_ingest``) and
   the EDA report; then it is published: ``current`` moves in one rename, and a running
   ``movierec serve`` switches to it.

The manifest records under ``ingest`` the batch, per file the records it brought and the ids
added, updated, removed, rejected (films the base holds whose batch records the ETL would not
keep: their previous records stay, see :func:`movierec.refresh.merge.passing_keys`) and
quarantined (batch records the ETL did not keep), the deleted ids
unknown to the catalogue, and ``built_on``: the release it was merged into. The release's
``tables/additions.parquet`` carries the base's history of added films on, with the films this
ingest added to the catalogue (:mod:`movierec.catalog.additions`; ``/novedades`` lists them), and
the manifest counts them under ``ingest.catalogue_added``.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl

from movierec.config import Settings
from movierec.pipeline import Build, Manifest, Step, build_release, etl_tables, release_steps
from movierec.raw.files import MOVIES_NAMES, find_input, read_bytes, sha256
from movierec.raw.keep import compress, link_or_copy
from movierec.raw.ratings import ratings_inputs
from movierec.refresh.batch import FILES, KEYS, KINDS, Batch, read_batch
from movierec.refresh.merge import FileMerge, merge_file, passing_keys
from movierec.refresh.records import read_records, write_records
from movierec.release.layout import RAW, TABLES, read_manifest
from movierec.release.store import ReleaseStore, StoreError

log = logging.getLogger("movierec.ingest")

WORK = ".merged"  # the merged plain CSVs, inside the staging folder, while the ETL reads them


def ingest(
    batch_dir: Path,
    data_dir: Path,
    settings: Settings,
    *,
    allow_shrink: bool = False,
    evaluate: bool | None = None,
    sync: Mapping[str, object] | None = None,
) -> Manifest | None:
    """Merge the batch into the current release's raw inputs and publish the result as a new
    release; returns its manifest, or None when the batch holds nothing to change. ``sync``
    (the TMDB window the batch covers) is recorded in the manifest."""
    batch = read_batch(batch_dir, settings.max_input_bytes)
    if batch.empty:
        log.info("batch %s holds no record and no deleted id: nothing to publish", batch_dir)
        return None
    # The merged files are compressed into the new release's raw/ in a thread, beside the ETL and
    # training (the longest steps), and waited for before the release is checked.
    pool = ThreadPoolExecutor(max_workers=1)
    merge = Merge(batch, data_dir, sync)
    etl = MergedEtl(merge, pool)
    steps = release_steps(
        [merge, etl],
        None,  # the ratings: those the merge links into the release's own raw/
        settings,
        allow_shrink=allow_shrink,
        evaluate=settings.evaluate_on_ingest if evaluate is None else evaluate,
        before_check=[KeepMerged(etl)],
    )
    try:
        return build_release(data_dir, settings, None, steps)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class Merge(Step):
    """The batch merged, file by file, into the raw inputs of the current release (found under the
    lock: the release built on), into the staging folder's .merged/; the ratings linked unchanged
    into its raw/."""

    name = "merge"

    def __init__(self, batch: Batch, data_dir: Path, sync: Mapping[str, object] | None) -> None:
        self.batch, self.data_dir, self.sync = batch, data_dir, sync
        self.base: Path | None = None  # set when it runs, under the lock
        self.merged: dict[str, FileMerge] = {}  # by file name (movies_metadata.csv, …)
        self.record: dict[str, object] = {}  # the manifest's ``ingest``, completed by the ETL

    def run(self, build: Build) -> Manifest:
        batch, max_bytes = self.batch, build.settings.max_input_bytes
        base = ReleaseStore(self.data_dir).current()
        if base is None:
            raise StoreError(f"no release in {self.data_dir}: run `movierec pipeline --data {self.data_dir}` first")
        raw, self.base = base_raw(base), base
        work, kept = build.folder / WORK, build.folder / RAW
        work.mkdir()
        kept.mkdir()
        catalogue: set[int] = set()
        for (names, columns, rejoin), kind in zip(FILES, KINDS, strict=True):
            path = find_input(raw, names, required=False)
            base_records = (
                read_records(read_bytes(path, max_bytes), path, columns, rejoin=rejoin, key=KEYS.get(kind, "id"))
                if path
                else None
            )
            if kind == "movies" and base_records is not None:
                catalogue = base_records.keys()
            if base_records is None and kind not in batch.files:
                continue
            name = base_records.name if base_records is not None else batch.files[kind].name
            update = batch.files.get(kind)
            # A batch record that the ETL would not keep does not replace the film's good one
            # (titles: a film's titles are replaced as a set, and a bad title row costs only itself).
            passing = (
                passing_keys(update) if update is not None and base_records is not None and kind != "titles" else None
            )
            self.merged[name] = merge_file(base_records, update, batch.deleted, passing)
            with open(work / name, "wb") as out:
                write_records(out, self.merged[name].header, self.merged[name].parts)
        for path in ratings_inputs(raw) or ():  # MovieLens files: unchanged, shared with the base
            link_or_copy(path, kept / path.name)
        unknown = sorted(batch.deleted - catalogue)
        self.record = {
            "batch": str(batch.folder.resolve()),
            "inputs": batch.checksums,
            "files": {name: m.counts() for name, m in self.merged.items()},
            "deleted_ids": {
                "requested": len(batch.deleted),
                "removed": len(batch.deleted) - len(unknown),
                "unknown": len(unknown),
                "unknown_ids": unknown[:100],
            },
            **({"sync": self.sync} if self.sync else {}),
        }
        return {"built_on": base.name}


class MergedEtl(Step):
    """The ETL of the merged files (a thread compresses them into raw/ meanwhile), and the
    manifest's ``ingest``: the merge's counts with the batch records the ETL quarantined or
    repaired, and the films this ingest added to the catalogue (tables/additions.parquet)."""

    name = "etl"

    def __init__(self, merge: Merge, pool: ThreadPoolExecutor) -> None:
        self.merge, self.pool = merge, pool
        self.compressing: list[Future[list[Path]]] = []

    def run(self, build: Build) -> Manifest:
        from movierec.catalog.additions import write_additions

        work, merge = build.folder / WORK, self.merge
        assert merge.base is not None, "the merge runs first"
        names = sorted(p.name for p in work.iterdir())
        self.compressing.append(
            self.pool.submit(lambda: [compress(work / n, build.folder / RAW / f"{n}.gz") for n in names])
        )
        source = f"the merge of {merge.batch.folder} into release {merge.base.name}"
        tables = etl_tables(work, build.folder, build.settings, source=source)
        record = dict(merge.record)
        record["files"] = _with_quarantined(build.folder / TABLES / "quarantine.parquet", merge.merged)
        record["catalogue_added"] = write_additions(merge.base, build.folder, build.name)  # the history of added films
        return {"ingest": record, **tables}


class KeepMerged(Step):
    """The merged files, compressed, complete the release's raw/ (what the next ingest merges
    into); the plain ones are removed."""

    name = "raw"

    def __init__(self, etl: MergedEtl) -> None:
        self.etl = etl

    def run(self, build: Build) -> Manifest:
        for future in self.etl.compressing:
            future.result()
        shutil.rmtree(build.folder / WORK)
        return {"raw": sorted(p.name for p in (build.folder / RAW).iterdir())}


def base_raw(release: Path) -> Path:
    """The raw inputs ``release`` was built from: its own raw/, else (a release published before
    releases kept them) the raw folder it records, when its files still have the recorded checksums."""
    own = release / RAW
    if find_input(own, MOVIES_NAMES, required=False) is not None:
        return own
    manifest = read_manifest(release) or {}
    recorded, inputs = manifest.get("raw_dir"), manifest.get("inputs")
    if isinstance(recorded, str) and isinstance(inputs, dict) and Path(recorded).is_dir():
        folder = Path(recorded)
        if all(
            (folder / name).is_file() and sha256((folder / name).read_bytes()) == digest
            for name, digest in inputs.items()
        ):
            return folder
    raise StoreError(
        f"release {release.name} keeps no raw inputs (raw/), and the raw folder it was built from "
        "is gone or changed: publish a release with `movierec pipeline --raw RAW` first"
    )


def _with_quarantined(path: Path, merged: dict[str, FileMerge]) -> dict[str, dict[str, object]]:
    """Each file's merge counts, with the batch records the ETL quarantined or repaired (the
    batch's records follow the base's in the merged file)."""
    quarantine = pl.read_parquet(path, columns=["source", "record", "outcome"])
    files: dict[str, dict[str, object]] = {}
    for name, merge in merged.items():
        rows = quarantine.filter((pl.col("source") == name) & (pl.col("record") >= merge.first_batch_record))
        files[name] = {
            **merge.counts(),
            "quarantined": rows.filter(pl.col("outcome") == "quarantined").height,
            "repaired": rows.filter(pl.col("outcome") == "repaired").height,
        }
    return files
