"""Keeping a release's raw inputs inside the release (``release/raw/``), compressed.

A release keeps what the next `movierec ingest` needs: the TMDB-side files it was built from
(movies_metadata.csv, credits.csv, keywords.csv, titles.csv) and the MovieLens files training reads
(ratings and links), so that a batch is merged into the same records the release was built from,
even on a host that kept nothing else (a restored CI artifact, a freshly started container).
Plain files are gzipped; files already compressed (.gz, .zip) are copied as they are. An ingest
links the files it does not change from the release it builds on (hard links: no copy).
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

from movierec.raw.files import MOVIES_NAMES, TITLES_NAMES, find_input
from movierec.raw.ratings import ratings_inputs

GZIP_LEVEL = 1  # 110 MB/s here against 25 at level 6, for files a quarter larger: the 765 MB ratings.csv
# is kept in 7 s instead of 31 (the ETL waits for it); the copy is for the next ingest, not an archive
_CHUNK = 1 << 22


def release_inputs(raw_dir: Path) -> list[Path]:
    """The files of ``raw_dir`` a release keeps: movies, credits, keywords and titles (those present),
    then ratings and links (when both are present)."""
    found = [
        find_input(raw_dir, MOVIES_NAMES, required=False),
        find_input(raw_dir, ("credits.csv",), required=False),
        find_input(raw_dir, ("keywords.csv",), required=False),
        find_input(raw_dir, TITLES_NAMES, required=False),
    ]
    return [p for p in found if p is not None] + list(ratings_inputs(raw_dir) or ())


def keep_raw(raw_dir: Path, target: Path) -> list[str]:
    """Store the inputs of ``raw_dir`` into ``target`` (created), plain ones gzipped; returns
    the names written."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in release_inputs(raw_dir):
        if path.suffix in (".gz", ".zip"):
            shutil.copyfile(path, target / path.name)
            written.append(path.name)
        else:
            written.append(compress(path, target / f"{path.name}.gz").name)
    return written


def compress(source: Path, target: Path) -> Path:
    """gzip ``source`` into ``target`` (through a temporary name, so never half-written)."""
    tmp = target.with_name(f".{target.name}.tmp")
    with (
        open(source, "rb") as src,
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0) as out,
    ):
        shutil.copyfileobj(src, out, _CHUNK)
    tmp.replace(target)
    return target


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link (releases are immutable, so sharing the inode is safe), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
