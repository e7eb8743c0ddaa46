"""A batch folder, read and validated before anything is built (`movierec ingest`).

A batch holds, in the Kaggle format (plain, .gz or .zip), ``movies_metadata.csv`` and optionally
``credits.csv`` and ``keywords.csv`` for any subset of films, optionally ``titles.csv`` (the
films' Spanish titles, keyed by ``movie_id``) and optionally ``deleted_ids.txt`` (one TMDB id a
line). Every file is a regular file: a link, a folder or a device under a batch file's name is
refused unread. A file that cannot be read or lacks a column is an
:class:`~movierec.raw.files.InputError` naming it.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

from movierec.raw.files import (
    CREDITS_COLUMNS,
    KEYWORDS_COLUMNS,
    MOVIES_COLUMNS,
    MOVIES_NAMES,
    TITLES_COLUMNS,
    TITLES_NAMES,
    InputError,
    read_bytes,
    sha256,
)
from movierec.refresh.names import DELETED_FILE
from movierec.refresh.records import ID_PATTERN, Records, read_records

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


def read_batch(folder: Path, max_bytes: int | None = None) -> Batch:
    """Read and validate every file of a batch (each at most ``max_bytes`` once decompressed:
    the ``max_input_bytes`` setting); raises InputError naming the file and the problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder: expected a batch with movies_metadata.csv")
    files: dict[str, Records] = {}
    checksums: dict[str, str] = {}
    for (names, columns, rejoin), kind in zip(FILES, KINDS, strict=True):
        path = batch_file(folder, names)
        if path is None:
            continue
        data = _read(path, max_bytes)
        checksums[path.name] = sha256(data)
        try:
            files[kind] = read_records(data, path, columns, rejoin=rejoin, key=KEYS.get(kind, "id"))
        except InputError:
            raise
        except Exception as exc:  # whatever the reader chokes on: one line, exit 2
            raise InputError(f"{path}: unreadable ({type(exc).__name__}: {str(exc)[:200]})") from None
    deleted_path = batch_file(folder, (DELETED_FILE,))
    deleted = _deleted_ids(deleted_path, max_bytes) if deleted_path is not None else set()
    if "movies" not in files and "titles" not in files and not deleted:
        raise InputError(
            f"missing input file in {folder}: expected movies_metadata.csv[.gz|.zip], titles.csv[.gz|.zip] or {DELETED_FILE}"
        )
    return Batch(folder, files, deleted, checksums)


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


def _read(path: Path, max_bytes: int | None) -> bytes:
    try:
        return read_bytes(path, max_bytes)
    except InputError:
        raise
    except Exception as exc:  # a .gz that is not gzip, a .zip that is not a zip, a truncated file…
        raise InputError(f"{path}: unreadable ({type(exc).__name__}: {str(exc)[:200]})") from None


def _deleted_ids(path: Path, max_bytes: int | None) -> set[int]:
    """The ids of deleted_ids.txt: one a line; blank lines and lines starting with '#' are skipped."""
    try:
        text = _read(path, max_bytes).decode("utf-8")
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
