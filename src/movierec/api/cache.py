"""The answer caches: least recently used, bounded in entries AND in bytes.

``functools.lru_cache`` bounds only the number of entries, and an entry's size is the data's:
with 500-character titles one rendered answer weighs kilobytes, and 8,192 personal answers with
their suggestions weighed hundreds of megabytes. :class:`BoundedCache` also counts each entry's
approximate size (the value's, the key's and ``OVERHEAD`` for the objects and the dict entry)
and evicts the least recently used entries while the total is over ``max_bytes``; a value larger
than an eighth of the budget is returned but not kept, so that one answer never empties the
cache. A hit is a dict look-up and a ``move_to_end`` (C calls, atomic under the GIL); a miss
computes outside the lock, so two threads may compute the same answer once each.

>>> cache = BoundedCache(lambda n: b"x" * n, entries=2, max_bytes=4_000)
>>> cache(10), cache(20), cache(30), len(cache), cache.bytes
(b'xxxxxxxxxx', b'xxxxxxxxxxxxxxxxxxxx', b'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 2, 450)
>>> len(cache(600)), len(cache)  # over an eighth of 4,000 bytes: answered, not kept
(600, 2)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

OVERHEAD = 200  # bytes of an entry beyond its data: the key and value objects, the dict's slot
CACHE_ENTRIES = 8192  # answers kept per cache
CACHE_BYTES = 8 << 20  # and at most 8 MB of them: ~10 caches stay under 100 MB whatever the data


def size_of(value: object) -> int:
    """The data of a bytes or str value (the rendered answers, the keys), or of a tuple of them;
    0 for anything else."""
    if isinstance(value, tuple):
        return sum(map(size_of, value))
    return len(value) if isinstance(value, bytes | str) else 0


class BoundedCache(Generic[K, V]):
    """``compute(key)``, remembered for the most recent keys (see the module doc)."""

    __slots__ = ("_compute", "_data", "_entries", "_lock", "_max_bytes", "_size", "bytes")

    def __init__(
        self,
        compute: Callable[[K], V],
        *,
        entries: int = CACHE_ENTRIES,
        max_bytes: int = CACHE_BYTES,
        size: Callable[[V], int] = size_of,
    ) -> None:
        self._compute = compute
        self._entries, self._max_bytes, self._size = entries, max_bytes, size
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: K) -> V | None:
        """The kept value of ``key``, or None (nothing is computed)."""
        entry = self._data.get(key)
        if entry is None:
            return None
        try:
            self._data.move_to_end(key)
        except KeyError:  # evicted by another thread meanwhile: still a valid answer
            pass
        return entry[0]

    def __call__(self, key: K) -> V:
        entry = self._data.get(key)
        if entry is not None:
            try:
                self._data.move_to_end(key)
            except KeyError:
                pass
            return entry[0]
        value = self._compute(key)
        cost = self._size(value) + size_of(key) + OVERHEAD
        if cost <= self._max_bytes // 8:
            with self._lock:
                if key not in self._data:
                    self._data[key] = (value, cost)
                    self.bytes += cost
                    while len(self._data) > self._entries or self.bytes > self._max_bytes:
                        _, (_, freed) = self._data.popitem(last=False)
                        self.bytes -= freed
        return value
