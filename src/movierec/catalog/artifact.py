"""The catalog artifact's file format: named numpy arrays in one file, memory-mapped when read.

    release/catalog/arrays.bin     every array's bytes, each at an offset aligned to 64 bytes
    release/catalog/catalog.json   {"format", "arrays": {name: [dtype, length, offset]}, ...meta}

One file mapped once (``mmap``, read-only) instead of one per array; loading costs a JSON parse
and a few dozen ``numpy.frombuffer`` views, whatever the catalogue's size, and the kernel reads a
page only when a request touches it (and may drop it again under memory pressure, since it is a
clean page of a file). The folder is written aside and renamed into place, so a reader sees a
complete artifact or none.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp()) / "catalog"
>>> write_arrays(folder, {"ids": np.array([862, 8844]), "none": np.zeros(0, dtype=np.int32)}, {"films": 2})
>>> arrays, meta = map_arrays(folder)
>>> arrays["ids"].tolist(), arrays["none"].tolist(), meta["films"]
([862, 8844], [], 2)
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np

FORMAT = 1
DATA = "arrays.bin"
META = "catalog.json"
_ALIGN = 64


class ArtifactError(ValueError):
    """The artifact is missing, truncated or not of this format."""


def write_arrays(folder: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, object]) -> None:
    """Write ``arrays`` (one-dimensional, little-endian) and ``meta`` into ``folder`` atomically."""
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    table: dict[str, list[object]] = {}
    try:
        with open(tmp / DATA, "wb") as out:
            offset = 0
            for name, array in arrays.items():
                flat = np.ascontiguousarray(array).reshape(-1)
                dtype = flat.dtype.newbyteorder("<") if flat.dtype.byteorder == ">" else flat.dtype
                data = flat.astype(dtype, copy=False).tobytes()
                padding = -offset % _ALIGN
                out.write(b"\0" * padding)
                offset += padding
                table[name] = [dtype.str, int(flat.size), offset]
                out.write(data)
                offset += len(data)
        (tmp / META).write_text(json.dumps({"format": FORMAT, **meta, "arrays": table}, indent=1) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_meta(folder: Path) -> dict[str, object] | None:
    """The artifact's ``catalog.json``, or None when the folder holds no artifact."""
    try:
        meta = json.loads((folder / META).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{folder / META} is unreadable: {exc}") from None
    if not isinstance(meta, dict):
        raise ArtifactError(f"{folder / META} is not a JSON object")
    return meta


def map_arrays(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """The arrays of ``folder``, as read-only views of one memory map, and the meta."""
    meta = read_meta(folder)
    if meta is None:
        raise ArtifactError(f"{folder} holds no catalog artifact")
    table = meta.get("arrays")
    if meta.get("format") != FORMAT or not isinstance(table, dict):
        raise ArtifactError(f"{folder / META} is not format {FORMAT}")
    size = (folder / DATA).stat().st_size
    buffer: mmap.mmap | bytes = b""
    if size:
        with open(folder / DATA, "rb") as handle:
            buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    arrays: dict[str, np.ndarray] = {}
    for name, spec in table.items():
        try:
            dtype, count, offset = np.dtype(spec[0]), int(spec[1]), int(spec[2])
            if offset < 0 or count < 0 or offset + count * dtype.itemsize > size:
                raise ValueError(f"needs bytes {offset}…{offset + count * dtype.itemsize}, the file has {size}")
            arrays[name] = (
                np.frombuffer(buffer, dtype=dtype, count=count, offset=offset) if count else np.zeros(0, dtype=dtype)
            )
        except (TypeError, ValueError, IndexError) as exc:
            raise ArtifactError(f"{folder / DATA}: array {name!r} is unreadable ({exc})") from None
    return arrays, meta


def drop_pages(arrays: Mapping[str, np.ndarray]) -> None:
    """Unmap from this process the pages of the artifact read so far (``madvise(MADV_DONTNEED)``
    on its one map): they stay in the page cache and are mapped again when read, so the
    process's RSS no longer counts what a one-off pass (building the suggestion indexes) read."""
    for array in arrays.values():
        base = getattr(array.base, "obj", None)  # np.frombuffer(map) → memoryview → the map
        if isinstance(base, mmap.mmap):
            if (advice := getattr(mmap, "MADV_DONTNEED", None)) is not None:
                base.madvise(advice)
            return
