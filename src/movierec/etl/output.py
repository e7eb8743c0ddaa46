"""The output folder of `movierec etl`: what it may replace, and replacing it atomically.

The ETL replaces only what it wrote itself. ``--out`` must be a new path, an empty folder, or
the folder of a previous run: recognizable by its ``report.json`` and holding nothing but the
ETL's own files.
Anything else (a folder of other files, the raw folder or one that contains it, a file, a
symbolic link, a path under a file) is refused with one line before any work starts.

The tables are written into a hidden sibling (``.<name>-tmp-…``) and swapped in with renames; the
previous output goes through ``.<name>-old-<ns>`` and is deleted. A run killed between the
renames leaves such a hidden folder: the next run into the same output removes it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from movierec.raw.files import InputError

REPORT = "report.json"
STALE_TMP_SECONDS = 3600  # a -tmp- folder this old belongs to no running ETL


class OutputError(InputError):
    """``--out`` names a path the ETL must not write or replace: exit code 2."""


def output_files(tables: tuple[str, ...]) -> frozenset[str]:
    """Every file name an ETL output folder holds."""
    return frozenset({*(f"{t}.parquet" for t in tables), "quarantine.parquet", REPORT})


def normalized(out_dir: Path) -> Path:
    """Absolute, with '.' and '..' folded (symbolic links are not followed: they are refused)."""
    return Path(os.path.abspath(out_dir))


def check_output(out_dir: Path, raw_dir: Path, files: frozenset[str]) -> None:
    """Refuse an ``out_dir`` that the ETL must not create or replace (see the module doc)."""
    out = normalized(out_dir)
    if out.is_symlink():
        raise OutputError(
            f"--out {out_dir} is a symbolic link{' that dangles' if not out.exists() else ''}: give a real folder path"
        )
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"--out {out_dir} is a file, not a folder: give a new or previous output folder")
        raw = Path(raw_dir).resolve()
        if out.resolve() == raw or out.resolve() in raw.parents:
            raise OutputError(
                f"--out {out_dir} is or contains the raw folder {raw_dir}: the ETL replaces its "
                "output folder, choose another one"
            )
        entries = set(os.listdir(out))
        foreign = sorted(entries - files)
        if entries and (foreign or not _is_report(out / REPORT)):
            what = f"holds {', '.join(foreign[:5])}{'…' if len(foreign) > 5 else ''}" if foreign else f"has no {REPORT}"
            raise OutputError(
                f"--out {out_dir} exists and is not the output of a previous `movierec etl` ({what}): "
                "the ETL replaces only its own output; choose a new or empty path"
            )
        return
    for ancestor in out.parents:
        if ancestor.is_symlink() and not ancestor.exists():
            raise OutputError(f"--out {out_dir} cannot be created: {ancestor} is a dangling symbolic link")
        if ancestor.exists():
            if not ancestor.is_dir():
                raise OutputError(f"--out {out_dir} cannot be created: {ancestor} is a file, not a folder")
            return


def write_output(out_dir: Path, raw_dir: Path, files: frozenset[str], write: Callable[[Path], None]) -> None:
    """Call ``write(folder)`` on a hidden new folder beside ``out_dir``, then put it in place."""
    out = normalized(out_dir)
    check_output(out, raw_dir, files)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(out, files)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-tmp-", dir=out.parent))
    except OSError as exc:
        raise OutputError(f"cannot write into {out.parent}: {exc.strerror or exc}") from None
    tmp.chmod(0o755)  # mkdtemp makes it private; the published tables are for every reader
    try:
        write(tmp)
        check_output(out, raw_dir, files)  # the same rules, now that the tables are ready to swap
        if out.exists():
            old = out.with_name(f".{out.name}-old-{time.time_ns()}")
            out.rename(old)
            try:
                tmp.rename(out)
            except BaseException:
                old.rename(out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_leftovers(out: Path, files: frozenset[str]) -> list[str]:
    """Remove the hidden folders a killed run into ``out`` left beside it: every
    ``.<name>-old-<ns>`` and the ``.<name>-tmp-…`` older than an hour, when they hold only ETL
    files. Returns their names."""
    pattern = re.compile(rf"\.{re.escape(out.name)}-(old-\d+|tmp-[A-Za-z0-9_]+)")
    removed = []
    for entry in out.parent.iterdir() if out.parent.is_dir() else ():
        if not pattern.fullmatch(entry.name) or entry.is_symlink() or not entry.is_dir():
            continue
        if "-tmp-" in entry.name and time.time() - entry.stat().st_mtime < STALE_TMP_SECONDS:
            continue  # maybe another ETL run still writing
        if set(os.listdir(entry)) <= files:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _is_report(path: Path) -> bool:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(report, dict) and "inputs" in report
