"""`movierec etl`: raw Kaggle folder in, clean parquet tables and report.json out.

The I/O edge around :mod:`movierec.etl`: finds and reads the inputs, overlaps the slow parse of
credits with the movies work, writes everything into a temporary folder and renames it into place,
so a failed run never leaves a half-written output.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from movierec.config import Settings
from movierec.etl import rules as etl
from movierec.etl.compact import compact
from movierec.etl.lengths import CHILD_FIELDS, clip_tables, repaired_entries
from movierec.etl.output import REPORT, check_output, output_files, write_output
from movierec.etl.quarantine import entries_frame, malformed, omitted_fields, repair_broken_records
from movierec.etl.titles import clean_titles, empty_titles
from movierec.raw.caps import FieldCaps
from movierec.raw.csv_table import Table, read_table
from movierec.raw.files import (
    CREDITS_COLUMNS,
    KEYWORDS_COLUMNS,
    MOVIES_COLUMNS,
    MOVIES_NAMES,
    TITLES_COLUMNS,
    TITLES_NAMES,
    declared_size,
    decompress,
    find_input,
    read_stored,
    sha256,
)

log = logging.getLogger("movierec.etl")

# Up to this much raw text (decompressed, all files together), credits are read and parsed while
# the movies are cleaned (the real files: 270 MB). More is read one file after the other: two
# files near the cap side by side would need more memory than the 2 GB the ETL is held to.
SIDE_BY_SIDE_BYTES = 384 << 20
TABLE_NAMES = ("movies", "genres", "companies", "countries", "languages", "keywords", "cast", "crew", "titles")
OUTPUT_FILES = output_files(TABLE_NAMES)


class Timer:
    """Logs how long each step took and keeps the figures for the report."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.steps: dict[str, float] = {}

    def step(self, name: str, detail: str = "") -> None:
        now = time.perf_counter()
        elapsed = now - self.start - sum(self.steps.values())
        self.steps[name] = round(elapsed, 3)
        log.info("%-22s %6.2f s  %s", name, elapsed, detail)

    @property
    def total(self) -> float:
        return round(time.perf_counter() - self.start, 3)


def _movies_frame(table: Table, source: str, fields_limit: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Well-formed records plus the rejoined broken ones, in file order; entries for the rest."""
    columns = [c for c in table.frame.columns if not c.startswith("_")]
    joined, items = repair_broken_records(table.ragged, len(columns))
    frame = table.frame.with_columns(pl.lit(False).alias("_repaired"))
    if joined:
        extra = pl.DataFrame(
            {
                **{c: [fields[i] for _, _, fields in joined] for i, c in enumerate(columns)},
                "_record": [r for r, _, _ in joined],
                "_line": [line for _, line, _ in joined],
                "_repaired": [True] * len(joined),
            },
            schema_overrides={"_record": pl.Int64, "_line": pl.Int64},
        )
        frame = pl.concat([frame, extra.select(frame.columns)]).sort("_record")
    return frame, entries_frame(source, items, fields_limit)


def run_etl(
    raw_dir: Path,
    out_dir: Path,
    settings: Settings | None = None,
    *,
    max_input_bytes: int | None = None,
    max_input_lines: int | None = None,
    quarantine_fields: int | None = None,
    caps: FieldCaps | None = None,
    max_titles: int | None = None,
) -> dict[str, object]:
    """Build every table from ``raw_dir`` into ``out_dir``; returns the report (also written).

    ``out_dir`` must be new, empty or a previous output (:mod:`movierec.etl.output`), checked before any
    work; each raw file may hold at most ``max_input_bytes`` once decompressed and ``max_input_lines``
    lines; the quarantine keeps the raw fields of the first ``quarantine_fields`` rows of each (file,
    reason) and the identity of every row; every kept text is cut to ``caps`` (defaults: the
    ``settings`` of the same names, ``quarantine_fields_per_reason``, ``max_name_chars`` and
    ``max_text_chars``); a film keeps at most ``max_titles`` titles (``max_titles_per_film``).
    ``settings`` defaults to the settings' defaults (the command line passes the ones it read).
    Bad input raises :class:`~movierec.raw.files.InputError`.
    """
    settings = settings or Settings()
    max_input_bytes = settings.max_input_bytes if max_input_bytes is None else max_input_bytes
    max_input_lines = settings.max_input_lines if max_input_lines is None else max_input_lines
    limit = settings.quarantine_fields_per_reason if quarantine_fields is None else quarantine_fields
    caps = FieldCaps.from_settings(settings) if caps is None else caps
    max_titles = settings.max_titles_per_film if max_titles is None else max_titles
    timer = Timer()
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    check_output(out_dir, raw_dir, OUTPUT_FILES)
    movies_path = find_input(raw_dir, MOVIES_NAMES)
    credits_path = find_input(raw_dir, ("credits.csv",))
    keywords_path = find_input(raw_dir, ("keywords.csv",), required=False)
    titles_path = find_input(raw_dir, TITLES_NAMES, required=False)
    inputs = [p for p in (movies_path, credits_path, keywords_path, titles_path) if p is not None]
    assert movies_path is not None and credits_path is not None

    encodings: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=3) as pool:
        checksums: dict[str, Future[str]] = {}

        def load(path: Path, expected: tuple[str, ...], key: str = "id") -> Table:
            """The file read as a table; its checksum is computed on the side (hashlib frees the GIL)."""
            stored = read_stored(path, max_input_bytes)
            checksums[path.name] = pool.submit(sha256, stored)
            data = [decompress(path, stored, max_input_bytes)]
            del stored  # read_table holds the only reference to the bytes (popped into the call), so
            # that it can free them early (a cp1252 file: once converted to UTF-8)
            table = read_table(data.pop(), path, expected, max_input_lines, key=key, ragged_texts=limit)
            encodings[path.name] = table.encoding
            if table.encoding != "utf-8":
                log.warning("%s is not UTF-8: read as %s", path.name, table.encoding)
            return table

        sizes = [declared_size(p) for p in inputs]
        side_by_side = None not in sizes and sum(s or 0 for s in sizes) <= SIDE_BY_SIDE_BYTES
        if not side_by_side:
            log.info("inputs larger than %s MiB together: read one after the other", SIDE_BY_SIDE_BYTES >> 20)
        credits_future = pool.submit(_read_and_parse_credits, credits_path, load) if side_by_side else None
        movies, nested, entries, movies_account = _movies(movies_path, load, timer, limit, caps)
        accounts = {"movies": movies_account}
        tables: dict[str, pl.DataFrame] = {"movies": movies, **nested}
        if keywords_path is not None:
            tables["keywords"], found, accounts["keywords"] = _keywords(keywords_path, load, movies["id"], limit, caps)
            entries.append(found)
            timer.step("keywords", f"{tables['keywords'].height:,} keywords")
        else:
            tables["keywords"] = pl.DataFrame(
                schema={"movie_id": pl.Int64, "keyword_id": pl.Int64, "keyword": pl.String}
            )
        tables["titles"] = empty_titles()
        if titles_path is not None:
            tables["titles"], found, accounts["titles"] = _titles(
                titles_path, load, movies["id"], limit, caps, max_titles
            )
            entries.append(found)
            timer.step("titles", f"{tables['titles'].height:,} Spanish titles")

        credits_read = credits_future.result() if credits_future else _read_and_parse_credits(credits_path, load)
        cast, crew, found, accounts["credits"] = _credits(credits_path, credits_read, movies["id"], limit, caps)
        del credits_read
        tables["cast"], tables["crew"] = cast, crew
        entries.append(found)
        timer.step("credits", f"{tables['cast'].height:,} cast, {tables['crew'].height:,} crew")
        sums = {p.name: checksums[p.name].result() for p in inputs}

    quarantine = pl.concat(entries).sort("source", "record")
    del entries  # the sorted copy is what is written
    report: dict[str, object] = {name: account.as_dict() for name, account in accounts.items()}
    report["tables"] = {name: tables[name].height for name in TABLE_NAMES}
    report["inputs"] = sums
    report["encodings"] = {p.name: encodings[p.name] for p in inputs}
    report["quarantine"] = _quarantine_note(quarantine, limit)
    _write(out_dir, raw_dir, tables, quarantine, report, timer)
    return report


Load = Callable[..., Table]  # (path, expected columns, key column="id")


def _movies(
    path: Path, load: Load, timer: Timer, limit: int, caps: FieldCaps
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame], list[pl.DataFrame], etl.Account]:
    """(movies, nested tables, quarantine entries, account); the raw text frame dies on return."""
    table = load(path, MOVIES_COLUMNS)
    timer.step("read movies", f"{table.rows_read:,} records")
    frame, ragged_entries = _movies_frame(table, path.name, limit)
    del table
    movies, nested, movie_entries, account = etl.clean_movies(frame, path.name, limit, caps)
    del frame  # the outputs get their own text: then the raw text's memory is freed (compact.py)
    movies, movie_entries = compact(movies), compact(movie_entries)
    nested = {name: compact(records) for name, records in nested.items()}
    account.add_quarantined(ragged_entries.filter(pl.col("outcome") == "quarantined"))
    timer.step("clean movies", f"{movies.height:,} kept, {account.quarantined:,} quarantined")
    return movies, nested, [ragged_entries, movie_entries], account


def _keywords(
    path: Path, load: Load, movie_ids: pl.Series, limit: int, caps: FieldCaps
) -> tuple[pl.DataFrame, pl.DataFrame, etl.Account]:
    table = load(path, KEYWORDS_COLUMNS)
    parsed, bad = etl.parse_child(table.frame, {"keywords": etl.KEYWORD_SCHEMA})
    kept, found, account = etl.account_child(table.frame, bad, movie_ids, path.name, limit)
    entries = [found]
    _add_ragged(table, path.name, account, entries, limit)
    keywords = _restrict(parsed["keywords"], kept).rename({"id": "keyword_id", "name": "keyword"})
    clipped = _clip_child({"keywords": keywords}, caps, table, kept, path.name, account, entries, limit)
    return compact(clipped["keywords"]), compact(pl.concat(entries)), account


def _titles(
    path: Path, load: Load, movie_ids: pl.Series, limit: int, caps: FieldCaps, max_titles: int
) -> tuple[pl.DataFrame, pl.DataFrame, etl.Account]:
    table = load(path, TITLES_COLUMNS, "movie_id")
    titles, found, account = clean_titles(table.frame, movie_ids, path.name, limit, caps, max_titles)
    entries = [found]
    _add_ragged(table, path.name, account, entries, limit)
    return titles, pl.concat(entries), account


def _credits(
    path: Path,
    read: tuple[Table, dict[str, pl.DataFrame], pl.DataFrame],
    movie_ids: pl.Series,
    limit: int,
    caps: FieldCaps,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, etl.Account]:
    table, parsed, bad = read
    kept, found, account = etl.account_child(table.frame, bad, movie_ids, path.name, limit)
    entries = [found]
    _add_ragged(table, path.name, account, entries, limit)
    cast = (
        _restrict(parsed["cast"], kept)
        .rename({"id": "person_id"})
        .select("movie_id", "person_id", "name", "character", "order", "gender")
    )
    crew = (
        _restrict(parsed["crew"], kept)
        .rename({"id": "person_id"})
        .select("movie_id", "person_id", "name", "job", "department", "gender")
    )
    clipped = _clip_child({"cast": cast, "crew": crew}, caps, table, kept, path.name, account, entries, limit)
    return compact(clipped["cast"]), compact(clipped["crew"]), compact(pl.concat(entries)), account


def _clip_child(
    tables: dict[str, pl.DataFrame],
    caps: FieldCaps,
    table: Table,
    kept: pl.Series,
    source: str,
    account: etl.Account,
    entries: list[pl.DataFrame],
    limit: int,
) -> dict[str, pl.DataFrame]:
    """Credits/keywords text cut to its caps; a row with a cut value counts repaired, not kept."""
    tables, cuts = clip_tables(tables, caps, CHILD_FIELDS, "movie_id")
    if cuts.height:
        rows = table.frame.with_columns(_src=pl.int_range(pl.len(), dtype=pl.UInt32), _film=etl.positive_int("id"))
        found, per_field = repaired_entries(
            rows,
            "_film",
            cuts,
            source,
            [c for c in table.frame.columns if not c.startswith("_")],
            limit,
            caps,
            where=pl.col("_src").is_in(kept.implode()),
        )  # one kept row per film
        account.kept, account.repaired = account.kept - found.height, account.repaired + found.height
        account.fixes.update(per_field)
        entries.append(found)
    return tables


def _read_and_parse_credits(path: Path, load: Load) -> tuple[Table, dict[str, pl.DataFrame], pl.DataFrame]:
    """Read credits, then parse cast and crew side by side (Polars releases the GIL)."""
    table = load(path, CREDITS_COLUMNS)
    with (
        _progress("parsing cast and crew", 2 * table.frame.height) as advance,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        cast = pool.submit(etl.parse_child, table.frame, {"cast": etl.CAST_SCHEMA}, advance)
        crew_parsed, crew_bad = etl.parse_child(table.frame, {"crew": etl.CREW_SCHEMA}, advance)
        cast_parsed, cast_bad = cast.result()
    bad = etl.first_reason_per_row([cast_bad, crew_bad])
    return table, {**cast_parsed, **crew_parsed}, bad


@contextmanager
def _progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on an interactive terminal (credits take seconds on the full data)."""
    if not sys.stderr.isatty():
        yield lambda _: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda rows: progress.advance(task, rows)


def _restrict(records: pl.DataFrame, kept_rows: pl.Series) -> pl.DataFrame:
    """The records of the kept source rows, without the row positions."""
    return records.filter(pl.col("_src").is_in(kept_rows.implode())).drop("_src")


def _add_ragged(table: Table, source: str, account: etl.Account, entries: list[pl.DataFrame], limit: int) -> None:
    """Credits/keywords records with a wrong field count: quarantined as they are."""
    columns = [c for c in table.frame.columns if not c.startswith("_")]
    items = [(r.record, r.line, r.key, r.text, malformed(r.width, len(columns)), "quarantined") for r in table.ragged]
    found = entries_frame(source, items, limit)
    account.add_quarantined(found)
    entries.append(found)


def _quarantine_note(quarantine: pl.DataFrame, limit: int) -> dict[str, object]:
    """The quarantine's part of the report: how many entries lack their raw fields, and where they are."""
    omitted = omitted_fields(quarantine)
    note: dict[str, object] = {
        "entries": quarantine.height,
        "fields_per_reason": limit,
        "fields_omitted": sum(n for reasons in omitted.values() for n in reasons.values()),
    }
    if omitted:
        note["fields_omitted_by_source"] = omitted
        note["where"] = (
            "entries past the first fields_per_reason of a (source, reason) have null fields: "
            "the raw file (source) holds them at the entry's line (MOVIEREC_QUARANTINE_FIELDS_PER_REASON "
            "keeps more)"
        )
    return note


def _write(
    out_dir: Path,
    raw_dir: Path,
    tables: dict[str, pl.DataFrame],
    quarantine: pl.DataFrame,
    report: dict[str, object],
    timer: Timer,
) -> None:
    """Write into a hidden sibling folder, then swap it in: readers never see half a build."""

    def write(folder: Path) -> None:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(
                pool.map(
                    lambda item: item[1].write_parquet(folder / f"{item[0]}.parquet"),
                    [*tables.items(), ("quarantine", quarantine)],
                )
            )
        timer.step("write", f"{len(tables) + 1} tables")
        report["seconds"] = timer.total
        report["steps"] = timer.steps
        (folder / REPORT).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    write_output(out_dir, raw_dir, OUTPUT_FILES, write)
