"""Look-ups over flat arrays, so that a catalog can be memory-mapped instead of rebuilt.

The serving indexes hold no Python dict or list per film or person: strings are one UTF-8 blob
plus offsets (:class:`Strings`), a normalized key or a TMDB id is found through an open-addressing
hash table of int32 slots (:class:`KeyIndex`, :class:`IdIndex`), and each key owns a group of
members stored as offsets into one int32 array. The tables are built once, when the release is
published (:mod:`movierec.catalog.build`), and read through memoryviews: an item costs a few
hundred nanoseconds, and only the pages a request touches are ever read from disk.

The hashes are CRC-32 (``zlib.crc32``) of the UTF-8 key and a multiplicative (Fibonacci) hash of
the id: both are fixed functions, the same in every process and on every machine, unlike Python's
salted ``hash``.

>>> keys = KeyIndex.from_arrays(KeyIndex.pack(["toy story", "heat"], [[0, 5], [3]]))
>>> keys.find("heat"), keys.members(keys.find("toy story")), keys.find("alien")
(1, [0, 5], None)
>>> "heat" in keys, len(keys)
(True, 2)
>>> ids = IdIndex.from_arrays(IdIndex.pack(np.array([862, 8844, 15602])))
>>> ids.row(8844), ids.row(1)
(1, None)
>>> names = Strings.from_arrays(*Strings.pack(["Amélie", "", "Heat"]))
>>> names[0], names[2], len(names)
('Amélie', 'Heat', 3)
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Mapping, Sequence

import numpy as np

EMPTY = -1  # a free slot
_FIBONACCI = 0x9E3779B97F4A7C15  # 2**64 / golden ratio: spreads consecutive ids over the table
_MASK64 = (1 << 64) - 1


def table_size(count: int) -> int:
    """Slots for ``count`` entries: a power of two at most half full (about 1.5 probes a look-up).

    >>> table_size(0), table_size(3), table_size(45_000)
    (2, 8, 131072)
    """
    size = 2
    while size < 2 * count:
        size *= 2
    return size


class Strings:
    """``n`` strings stored as one UTF-8 blob and ``n + 1`` offsets."""

    __slots__ = ("_blob", "_count", "_offsets")

    def __init__(self, blob: memoryview, offsets: memoryview) -> None:
        self._blob = blob
        self._offsets = offsets
        self._count = len(offsets) - 1

    @classmethod
    def from_arrays(cls, blob: np.ndarray, offsets: np.ndarray) -> Strings:
        return cls(blob.data, offsets.data)

    @staticmethod
    def pack(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(blob, offsets) of ``texts``."""
        encoded = [t.encode() for t in texts]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i: int) -> str:
        return str(self._blob[self._offsets[i] : self._offsets[i + 1]], "utf-8")

    def encoded(self, i: int) -> memoryview:
        return self._blob[self._offsets[i] : self._offsets[i + 1]]

    def to_list(self) -> list[str]:
        """Every string, decoded (for the suggestion indexes, built once)."""
        blob, offsets = self._blob, self._offsets.tolist()
        return [str(blob[a:b], "utf-8") for a, b in itertools.pairwise(offsets)]


def _key_slot(key: bytes, mask: int) -> int:
    return zlib.crc32(key) & mask


def _id_slot(value: int, mask: int) -> int:
    return ((value * _FIBONACCI) & _MASK64) >> 32 & mask


def _fill(slots: np.ndarray, starts: list[int]) -> None:
    """Place entry i at its start slot or the next free one (linear probing)."""
    mask = len(slots) - 1
    table = slots.tolist()
    for entry, slot in enumerate(starts):
        while table[slot] != EMPTY:
            slot = (slot + 1) & mask
        table[slot] = entry
    slots[:] = table


class KeyIndex:
    """Normalized keys → their index 0…k-1; key ``i`` owns the members ``members(i)`` (rows of
    films, or persons), in the order they were packed."""

    __slots__ = ("_mask", "_members", "_slots", "_starts", "keys")

    def __init__(self, slots: memoryview, keys: Strings, starts: memoryview, members: memoryview) -> None:
        self._slots = slots
        self._mask = len(slots) - 1
        self.keys = keys
        self._starts = starts
        self._members = members

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str = "") -> KeyIndex:
        a = {name: arrays[prefix + name].data for name in ("slots", "key_blob", "key_offsets", "starts", "members")}
        return cls(a["slots"], Strings(a["key_blob"], a["key_offsets"]), a["starts"], a["members"])

    @staticmethod
    def pack(keys: Sequence[str], groups: Sequence[Sequence[int]], prefix: str = "") -> dict[str, np.ndarray]:
        """The arrays of an index over distinct ``keys``, key i owning ``groups[i]``."""
        blob, offsets = Strings.pack(keys)
        slots = np.full(table_size(len(keys)), EMPTY, dtype=np.int32)
        _fill(slots, [_key_slot(k.encode(), len(slots) - 1) for k in keys])
        starts = np.zeros(len(groups) + 1, dtype=np.int64)
        np.cumsum([len(g) for g in groups], out=starts[1:])
        members = np.fromiter((m for g in groups for m in g), dtype=np.int32, count=int(starts[-1]))
        return {
            f"{prefix}slots": slots,
            f"{prefix}key_blob": blob,
            f"{prefix}key_offsets": offsets,
            f"{prefix}starts": starts,
            f"{prefix}members": members,
        }

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, key: str) -> int | None:
        """The index of ``key`` (already normalized), or None."""
        encoded = key.encode()
        slots, mask, blob, offsets = self._slots, self._mask, self.keys._blob, self.keys._offsets
        slot = _key_slot(encoded, mask)
        while (entry := slots[slot]) != EMPTY:
            if blob[offsets[entry] : offsets[entry + 1]] == encoded:
                return entry
            slot = (slot + 1) & mask
        return None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.find(key) is not None

    def members(self, i: int) -> list[int]:
        return self._members[self._starts[i] : self._starts[i + 1]].tolist()

    def first(self, i: int) -> int:
        return self._members[self._starts[i]]


class IdIndex:
    """TMDB id → row, through a hash table of rows (the ids are read from the films' id array)."""

    __slots__ = ("_ids", "_mask", "_slots")

    def __init__(self, slots: memoryview, ids: memoryview) -> None:
        self._slots = slots
        self._mask = len(slots) - 1
        self._ids = ids

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> IdIndex:
        return cls(arrays["id_slots"].data, arrays["film_id"].data)

    @staticmethod
    def pack(ids: np.ndarray) -> dict[str, np.ndarray]:
        """The arrays of an index over ``ids`` (row i holds ids[i]; a repeated id finds its first row)."""
        slots = np.full(table_size(len(ids)), EMPTY, dtype=np.int32)
        _fill(slots, [_id_slot(i, len(slots) - 1) for i in ids.tolist()])
        return {"id_slots": slots, "film_id": np.asarray(ids, dtype=np.int64)}

    def row(self, film_id: int) -> int | None:
        slots, mask, ids = self._slots, self._mask, self._ids
        slot = _id_slot(film_id, mask)
        while (entry := slots[slot]) != EMPTY:
            if ids[entry] == film_id:
                return entry
            slot = (slot + 1) & mask
        return None
