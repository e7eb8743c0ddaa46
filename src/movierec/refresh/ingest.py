"""`movierec ingest BATCH_DIR`: new and changed films merged into a new release.

BATCH_DIR holds, in the Kaggle format (plain, .gz or .zip), ``movies_metadata.csv`` and
optionally ``credits.csv`` and ``keywords.csv`` for any subset of films, optionally ``titles.csv``
(the films' Spanish titles, keyed by ``movie_id``: a film the batch brings titles for gets exactly
those; see :mod:`movierec.etl.titles`) and optionally ``deleted_ids.txt`` (one TMDB id a line). A
batch of titles alone (``movierec tmdb-sync --titles``) is valid. The whole batch is read and validated first: a file
that cannot be read or lacks a column stops the command (exit 2) before anything is built, and the
served release does not change.

Then, under the store's lock, a new release is built aside (:func:`movierec.pipeline.build_release`):

1. **merge** (:mod:`movierec.refresh.merge`): the batch is merged, record by record, into the raw
   inputs the current release keeps in ``raw/`` (see :mod:`movierec.raw.keep`); the ratings and
   links are linked from it unchanged;
2. **ETL** on the merged files (the ETL's parser and rules as they are: a batch's bad rows are
   quarantined like any other); meanwhile a thread compresses the merged files into the new
   release's raw/, for the next ingest;
3. :func:`movierec.pipeline.after_tables`: training, then the API's catalog artifact (and every
   step a release needs; the EDA report joins there);
4. the release is checked as the API will load it, and published: ``current`` moves in one rename,
   and a running ``movierec serve`` switches to it.

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
import stat
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from movierec.catalog.additions import write_additions
from movierec.config import Settings
from movierec.pipeline import after_tables, build_release, etl_step
from movierec.raw.files import (
    CREDITS_COLUMNS,
    KEYWORDS_COLUMNS,
    MOVIES_COLUMNS,
    MOVIES_NAMES,
    TITLES_COLUMNS,
    TITLES_NAMES,
    InputError,
    find_input,
    read_bytes,
    sha256,
)
from movierec.raw.keep import compress, link_or_copy
from movierec.raw.ratings import ratings_inputs
from movierec.refresh.merge import FileMerge, merge_file, passing_keys
from movierec.refresh.names import DELETED_FILE
from movierec.refresh.records import ID_PATTERN, Records, read_records, write_records
from movierec.release.layout import RAW, TABLES, read_manifest
from movierec.release.store import ReleaseStore, StoreError

log = logging.getLogger("movierec.ingest")

WORK = ".merged"  # the merged plain CSVs, inside the staging folder, while the ETL reads them
FILES: tuple[tuple[tuple[str, ...], tuple[str, ...], bool], ...] = (
    (MOVIES_NAMES, MOVIES_COLUMNS, True),  # (names, columns, broken records are rejoined)
    (("credits.csv",), CREDITS_COLUMNS, False),
    (("keywords.csv",), KEYWORDS_COLUMNS, False),
    (TITLES_NAMES, TITLES_COLUMNS, False),
)
KINDS = ("movies", "credits", "keywords", "titles")
KEYS = {"titles": "movie_id"}  # the column holding the film id, where it is not "id"


@dataclass(frozen=True)
class Batch:
    """A validated batch: records per file (by kind: movies, credits, keywords), deleted ids."""

    folder: Path
    files: dict[str, Records] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    checksums: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.deleted and all(r.count == 0 for r in self.files.values())


def read_batch(folder: Path) -> Batch:
    """Read and validate every file of a batch; raises InputError naming the file and the problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder: expected a batch with movies_metadata.csv")
    files: dict[str, Records] = {}
    checksums: dict[str, str] = {}
    for (names, columns, rejoin), kind in zip(FILES, KINDS, strict=True):
        path = batch_file(folder, names)
        if path is None:
            continue
        data = _read(path)
        checksums[path.name] = sha256(data)
        try:
            files[kind] = read_records(data, path, columns, rejoin=rejoin, key=KEYS.get(kind, "id"))
        except InputError:
            raise
        except Exception as exc:  # whatever the reader chokes on: one line, exit 2
            raise InputError(f"{path}: unreadable ({type(exc).__name__}: {str(exc)[:200]})") from None
    deleted_path = batch_file(folder, (DELETED_FILE,))
    deleted = _deleted_ids(deleted_path) if deleted_path is not None else set()
    if "movies" not in files and "titles" not in files and not deleted:
        raise InputError(
            f"missing input file in {folder}: expected movies_metadata.csv[.gz|.zip], titles.csv[.gz|.zip] or {DELETED_FILE}"
        )
    return Batch(folder, files, deleted, checksums)


def ingest(
    batch_dir: Path,
    data_dir: Path,
    settings: Settings,
    *,
    allow_shrink: bool = False,
    evaluate: bool | None = None,
    sync: dict[str, str] | None = None,
) -> dict[str, object] | None:
    """Merge the batch into the current release's raw inputs and publish the result as a new
    release; returns its manifest, or None when the batch holds nothing to change. ``sync``
    (the TMDB window the batch covers) is recorded in the manifest."""
    batch = read_batch(batch_dir)
    if batch.empty:
        log.info("batch %s holds no record and no deleted id: nothing to publish", batch_dir)
        return None
    merged: dict[str, FileMerge] = {}  # by file name (movies_metadata.csv, …)
    bases: list[Path] = []  # the release merged into, found under the lock

    def merge(folder: Path, manifest: dict[str, object]) -> None:
        started = time.perf_counter()
        base = ReleaseStore(data_dir).current()  # under the lock: the release built on
        if base is None:
            raise StoreError(f"no release in {data_dir}: run `movierec pipeline --data {data_dir}` first")
        raw = base_raw(base)
        bases.append(base)
        work, kept = folder / WORK, folder / RAW
        work.mkdir()
        kept.mkdir()
        catalogue: set[int] = set()
        for (names, columns, rejoin), kind in zip(FILES, KINDS, strict=True):
            path = find_input(raw, names, required=False)
            base_records = (
                read_records(read_bytes(path), path, columns, rejoin=rejoin, key=KEYS.get(kind, "id")) if path else None
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
            merged[name] = merge_file(base_records, update, batch.deleted, passing)
            with open(work / name, "wb") as out:
                write_records(out, merged[name].header, merged[name].parts)
        for path in ratings_inputs(raw) or ():  # MovieLens files: unchanged, shared with the base
            link_or_copy(path, kept / path.name)
        unknown = sorted(batch.deleted - catalogue)
        manifest["built_on"] = base.name
        manifest["ingest"] = {
            "batch": str(Path(batch_dir).resolve()),
            "inputs": batch.checksums,
            "files": {name: m.counts() for name, m in merged.items()},
            "deleted_ids": {
                "requested": len(batch.deleted),
                "removed": len(batch.deleted) - len(unknown),
                "unknown": len(unknown),
                "unknown_ids": unknown[:100],
            },
            **({"sync": sync} if sync else {}),
        }
        manifest["durations"]["merge"] = round(time.perf_counter() - started, 3)  # type: ignore[index]

    # The merged files are compressed into the new release's raw/ in a thread, beside the ETL and
    # training (the longest steps), and waited for by the last step.
    pool = ThreadPoolExecutor(max_workers=1)
    compressing: list[Future[list[Path]]] = []

    def etl(folder: Path, manifest: dict[str, object]) -> None:
        work = folder / WORK
        names = sorted(p.name for p in work.iterdir())
        compressing.append(pool.submit(lambda: [compress(work / n, folder / RAW / f"{n}.gz") for n in names]))
        etl_step(work, settings, source=f"the merge of {batch_dir} into release {bases[0].name}")(folder, manifest)
        _count_quarantined(folder / TABLES / "quarantine.parquet", merged, manifest)
        added = write_additions(bases[0], folder, str(manifest["release"]))  # the history of added films
        manifest["ingest"]["catalogue_added"] = added  # type: ignore[index]

    def keep_merged(folder: Path, manifest: dict[str, object]) -> None:
        for future in compressing:
            future.result()
        shutil.rmtree(folder / WORK)
        manifest["raw"] = sorted(p.name for p in (folder / RAW).iterdir())

    # after_tables: training, the catalog artifact (and the EDA report step, when it exists).
    steps = [merge, etl, *after_tables(settings), keep_merged]
    try:
        return build_release(
            data_dir,
            settings,
            None,
            steps,
            allow_shrink=allow_shrink,
            evaluate=settings.evaluate_on_ingest if evaluate is None else evaluate,
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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


def batch_file(folder: Path, names: tuple[str, ...]) -> Path | None:
    """The first of ``names`` in ``folder`` (plain, .gz or .zip), which must be a regular file: a
    symbolic link is refused unread (``credits.csv → /etc/passwd`` once had its first line quoted
    in the error), and so is a folder, a pipe or a device under a batch file's name."""
    for name in names:
        for candidate in (folder / name, folder / f"{name}.gz", folder / f"{name}.zip"):
            try:
                mode = candidate.lstat().st_mode
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise InputError(f"{candidate}: cannot be read ({exc.strerror or exc})") from None
            if stat.S_ISLNK(mode):
                raise InputError(f"{candidate}: a symbolic link; a batch holds regular files only")
            if not stat.S_ISREG(mode):
                raise InputError(f"{candidate}: not a regular file; a batch holds regular files only")
            return candidate
    return None


def _read(path: Path) -> bytes:
    try:
        return read_bytes(path)
    except InputError:
        raise
    except Exception as exc:  # a .gz that is not gzip, a .zip that is not a zip, a truncated file…
        raise InputError(f"{path}: unreadable ({type(exc).__name__}: {str(exc)[:200]})") from None


def _deleted_ids(path: Path) -> set[int]:
    """The ids of deleted_ids.txt: one a line; blank lines and lines starting with '#' are skipped."""
    try:
        text = _read(path).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    ids = set()
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.strip()
        if not value or value.startswith("#"):
            continue
        if not ID_PATTERN.fullmatch(value) or int(value) == 0:
            raise InputError(f"{path.name} line {number}: {value[:60]!r} is not a TMDB id (a positive integer)")
        ids.add(int(value))
    return ids


def _count_quarantined(path: Path, merged: dict[str, FileMerge], manifest: dict[str, object]) -> None:
    """Add to each file's counts the batch records the ETL quarantined or repaired (the batch's
    records follow the base's in the merged file)."""
    quarantine = pl.read_parquet(path, columns=["source", "record", "outcome"])
    files = manifest["ingest"]["files"]  # type: ignore[index]
    for name, merge in merged.items():
        rows = quarantine.filter((pl.col("source") == name) & (pl.col("record") >= merge.first_batch_record))
        files[name]["quarantined"] = rows.filter(pl.col("outcome") == "quarantined").height
        files[name]["repaired"] = rows.filter(pl.col("outcome") == "repaired").height
