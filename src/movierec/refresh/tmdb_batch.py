"""Where a TMDB sync writes: the key it authenticates with, and its batch folder, filled in a
private folder inside it and renamed into place at the end (``sync.json`` last), so that a failed
or interrupted sync leaves the folder as it was. Used by `movierec tmdb-sync` and its ``--titles``
backfill."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from movierec.refresh.client import TmdbError
from movierec.refresh.names import KEY_VARIABLE, SYNC_FILE


def resolve_key(api_key: str | None) -> str:
    """``api_key``, else ``$TMDB_API_KEY``; a missing or blank key is a :class:`TmdbError`."""
    key = (api_key if api_key is not None else os.environ.get(KEY_VARIABLE, "")).strip()
    if not key:
        raise TmdbError(
            f"{KEY_VARIABLE} is not set: export a TMDB v3 API key or a v4 read access token "
            "(https://www.themoviedb.org/settings/api)"
        )
    return key


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A private folder inside ``out`` that disappears on failure (with ``out`` if we made it)."""
    created = not out.exists()
    if out.exists() and not out.is_dir():
        raise TmdbError(f"{out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created and not any(out.iterdir()):
            out.rmdir()
        raise


def publish(tmp: Path, out: Path, names: list[str]) -> tuple[Path, ...]:
    """Move the files into ``out``. sync.json goes last and an old one goes first, so that a
    sync.json always describes the data files beside it."""
    (out / SYNC_FILE).unlink(missing_ok=True)
    for name in [*names, SYNC_FILE]:
        os.replace(tmp / name, out / name)
    tmp.rmdir()
    return tuple(out / name for name in [*names, SYNC_FILE])
