"""The merge rules of `movierec ingest`: pure functions over keyed records.

For each raw file (movies_metadata.csv, credits.csv, keywords.csv), given the records the current
release was built from (the base), the batch's records (if the batch has that file) and the
batch's deleted ids:

* a batch record whose id the base does not hold is **added**;
* a batch record whose id the base holds **replaces** every base record of that id (the batch is
  newer: TMDB's record as of the sync), so credits and keywords are replaced whole, film by film,
  and a base duplicate of that id goes too; a film the batch does not mention keeps its records;
* a **deleted** id removes every record of that id, the batch's included (a film that answered
  404 after it changed is gone); a deleted id the base does not hold is counted as unknown;
* a record without a valid id (a positive integer) is never matched: the base's stay, the
  batch's are appended, and the ETL quarantines them with its usual reasons.

The merged file is the base's records in their order, then the batch's in theirs; the ETL then
runs on it unchanged, so a batch's bad rows are quarantined (and its duplicate ids resolved: the
first wins) exactly as in any raw file.

>>> from movierec.refresh.records import KEY, RECORD, Records
>>> def records(ids):
...     frame = pl.DataFrame({"id": [str(i) for i in ids], RECORD: range(len(ids)), KEY: ids})
...     return Records("movies_metadata.csv", ["id"], frame)
>>> merged = merge_file(records([1, 2, 3]), records([3, 4]), {2, 9})
>>> merged.base.frame["id"].to_list(), merged.batch.frame["id"].to_list()
(['1'], ['3', '4'])
>>> merged.added, merged.updated, merged.removed, merged.first_batch_record
(1, 1, 1, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from movierec.refresh.records import KEY, Records, reorder


@dataclass(frozen=True)
class FileMerge:
    """One file merged: the base's records kept, the batch's records kept (in the base's
    columns), and what changed, counted in ids."""

    header: list[str]
    base: Records | None
    batch: Records | None
    batch_records: int  # in the batch's file, deleted ones included
    added: int
    updated: int
    removed: int

    @property
    def first_batch_record(self) -> int:
        """Number of the first batch record in the merged file (the base's kept records first)."""
        return self.base.count if self.base is not None else 0

    @property
    def parts(self) -> list[Records]:
        return [part for part in (self.base, self.batch) if part is not None]

    def counts(self) -> dict[str, int]:
        return {"batch_records": self.batch_records, "added": self.added, "updated": self.updated, "removed": self.removed}


def merge_file(base: Records | None, batch: Records | None, deleted: set[int]) -> FileMerge:
    """Merge one file's batch records and the deleted ids into its base records."""
    if base is None and batch is None:
        raise ValueError("nothing to merge")
    base_keys = base.keys() if base is not None else set()
    batch_keys = batch.keys() - deleted if batch is not None else set()
    header = base.header if base is not None else batch.header  # type: ignore[union-attr]
    kept_base = drop_keys(base, batch_keys | deleted) if base is not None else None
    kept_batch = reorder(drop_keys(batch, deleted), header) if batch is not None else None
    return FileMerge(
        header=header, base=kept_base, batch=kept_batch, batch_records=batch.count if batch is not None else 0,
        added=len(batch_keys - base_keys), updated=len(batch_keys & base_keys), removed=len(deleted & base_keys),
    )


def drop_keys(records: Records, keys: set[int]) -> Records:
    """``records`` without those of ``keys`` (records without a key always stay)."""
    if not keys:
        return records
    frame = records.frame.filter(~pl.col(KEY).is_in(sorted(keys)).fill_null(False))
    return replace(records, frame=frame, ragged=[r for r in records.ragged if r.key not in keys])

