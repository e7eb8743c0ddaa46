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
  batch's are appended, and the ETL quarantines them with its usual reasons;
* a batch record of an id the base holds that the ETL would not keep (:func:`passing_keys`: a
  wrong field count, a bad date, an unparseable cell) is **rejected**: the base's records of that
  id stay, so a malformed update never makes a film vanish. A new id's bad record is added and
  quarantined by the ETL as any bad row.

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
>>> rejected = merge_file(records([1, 2, 3]), records([3, 4]), set(), passing={4})
>>> rejected.base.frame["id"].to_list(), rejected.batch.frame["id"].to_list(), rejected.rejected
(['1', '2', '3'], ['4'], (3,))
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from movierec.etl import rules
from movierec.refresh.records import KEY, RECORD, Records, reorder

REJECTED_IDS = 100  # the most rejected ids a manifest lists (all are counted)


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
    rejected: tuple[int, ...] = ()  # ids whose batch records did not pass the ETL: the base's kept

    @property
    def first_batch_record(self) -> int:
        """Number of the first batch record in the merged file (the base's kept records first)."""
        return self.base.count if self.base is not None else 0

    @property
    def parts(self) -> list[Records]:
        return [part for part in (self.base, self.batch) if part is not None]

    def counts(self) -> dict[str, object]:
        return {
            "batch_records": self.batch_records,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "rejected": len(self.rejected),
            "rejected_ids": list(self.rejected[:REJECTED_IDS]),
        }


def merge_file(
    base: Records | None, batch: Records | None, deleted: set[int], passing: set[int] | None = None
) -> FileMerge:
    """Merge one file's batch records and the deleted ids into its base records; ``passing``: the
    batch's keys the ETL keeps (:func:`passing_keys`; None: all), the base's other keys are not
    replaced."""
    if base is None and batch is None:
        raise ValueError("nothing to merge")
    batch_records = batch.count if batch is not None else 0
    base_keys = base.keys() if base is not None else set()
    batch_keys = batch.keys() - deleted if batch is not None else set()
    rejected = sorted((batch_keys & base_keys) - passing) if passing is not None else []
    if rejected:
        batch = drop_keys(batch, set(rejected))  # type: ignore[arg-type]
        batch_keys -= set(rejected)
    header = base.header if base is not None else batch.header  # type: ignore[union-attr]
    kept_base = drop_keys(base, batch_keys | deleted) if base is not None else None
    kept_batch = reorder(drop_keys(batch, deleted), header) if batch is not None else None
    return FileMerge(
        header=header,
        base=kept_base,
        batch=kept_batch,
        batch_records=batch_records,
        added=len(batch_keys - base_keys),
        updated=len(batch_keys & base_keys),
        removed=len(deleted & base_keys),
        rejected=tuple(rejected),
    )


def drop_keys(records: Records, keys: set[int]) -> Records:
    """``records`` without those of ``keys`` (records without a key always stay)."""
    if not keys:
        return records
    frame = records.frame.filter(~pl.col(KEY).is_in(sorted(keys)).fill_null(False))
    ragged = [r for r in records.ragged if r.key not in keys]
    left = {r.record for r in ragged}
    return replace(records, frame=frame, ragged=ragged, joined=[j for j in records.joined if j[0] in left])


def passing_keys(records: Records) -> set[int]:
    """The keys of ``records`` (a batch file) that the ETL's row rules keep, run on these records
    alone: an id whose every record is malformed, undated or unparseable is missing. Field caps
    cut rather than reject, and a film's credits do not depend on its movies record here."""
    frame = records.frame.with_columns(pl.lit(0, pl.Int64).alias("_line"))
    if "cast" in records.header or "keywords" in records.header:  # credits.csv, keywords.csv
        schemas = (
            {"cast": rules.CAST_SCHEMA, "crew": rules.CREW_SCHEMA}
            if "cast" in records.header
            else {"keywords": rules.KEYWORD_SCHEMA}
        )
        _, bad = rules.parse_child(frame, schemas)
        kept, _, _ = rules.account_child(frame, bad, frame[KEY].drop_nulls(), records.name, 0)
        return set(frame[KEY].gather(kept).drop_nulls().to_list())
    joined = pl.DataFrame(
        {
            **{c: [fields[i] for _, fields in records.joined] for i, c in enumerate(records.header)},
            RECORD: [r for r, _ in records.joined],
        },
        schema={**{c: pl.String for c in records.header}, RECORD: pl.Int64},
    ).with_columns(pl.lit(0, pl.Int64).alias("_line"), pl.lit(True).alias("_repaired"))
    frame = pl.concat(
        [
            frame.select(*records.header, pl.col(RECORD).cast(pl.Int64), "_line", pl.lit(False).alias("_repaired")),
            joined,
        ]
    )
    movies, _, _, _ = rules.clean_movies(frame, records.name, 0)
    return set(movies["id"].to_list())
