"""`movierec etl`: raw Kaggle folder in, clean parquet tables and report.json out.

The I/O edge around :mod:`movierec.etl`: finds and reads the inputs, overlaps the slow parse of
credits with the movies work, writes everything into a temporary folder and renames it into place,
so a failed run never leaves a half-written output.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl

from movierec.etl import rules as etl
from movierec.raw.files import (
    CREDITS_COLUMNS, KEYWORDS_COLUMNS, MOVIES_COLUMNS, MOVIES_NAMES, Table, find_input,
    decompress, read_table, sha256,
)

log = logging.getLogger("movierec.etl")

TABLES = ("movies", "genres", "companies", "countries", "languages", "keywords", "cast", "crew")


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


def _movies_frame(table: Table, source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Well-formed records plus the rejoined broken ones, in file order; entries for the rest."""
    columns = [c for c in table.frame.columns if not c.startswith("_")]
    joined, items = etl.repair_broken_records(table.ragged, len(columns))
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
    return frame, etl.entries_frame(source, items, columns.index("id"))


def run_etl(raw_dir: Path, out_dir: Path) -> dict[str, object]:
    """Build every table from ``raw_dir`` into ``out_dir``; returns the report (also written)."""
    timer = Timer()
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    movies_path = find_input(raw_dir, MOVIES_NAMES)
    credits_path = find_input(raw_dir, ("credits.csv",))
    keywords_path = find_input(raw_dir, ("keywords.csv",), required=False)
    inputs = [p for p in (movies_path, credits_path, keywords_path) if p is not None]
    assert movies_path is not None and credits_path is not None

    with ThreadPoolExecutor(max_workers=3) as pool:
        checksums: dict[str, Future[str]] = {}

        def load(path: Path) -> bytes:
            """The file's CSV bytes; its checksum is computed on the side (hashlib frees the GIL)."""
            data = path.read_bytes()
            checksums[path.name] = pool.submit(sha256, data)
            return decompress(path, data)

        credits_future = pool.submit(_read_and_parse_credits, credits_path, load)
        movies_table = read_table(load(movies_path), movies_path, MOVIES_COLUMNS)
        timer.step("read movies", f"{movies_table.rows_read:,} records")
        frame, ragged_entries = _movies_frame(movies_table, movies_path.name)
        movies, nested, movie_entries, movies_account = etl.clean_movies(frame, movies_path.name)
        movies_account.add_quarantined(ragged_entries.filter(pl.col("outcome") == "quarantined"))
        timer.step("clean movies", f"{movies.height:,} kept, {movies_account.quarantined:,} quarantined")

        entries = [ragged_entries, movie_entries]
        accounts = {"movies": movies_account}
        tables: dict[str, pl.DataFrame] = {"movies": movies, **nested}
        if keywords_path is not None:
            keywords_frame = read_table(load(keywords_path), keywords_path, KEYWORDS_COLUMNS)
            parsed, bad = etl.parse_child(keywords_frame.frame, {"keywords": etl.KEYWORD_SCHEMA})
            kept, found, account = etl.account_child(
                keywords_frame.frame, bad, movies["id"], keywords_path.name
            )
            _add_ragged(keywords_frame, keywords_path.name, account, entries)
            tables["keywords"] = _restrict(parsed["keywords"], kept).rename(
                {"id": "keyword_id", "name": "keyword"}
            )
            accounts["keywords"] = account
            entries.append(found)
            timer.step("keywords", f"{tables['keywords'].height:,} keywords")
        else:
            tables["keywords"] = pl.DataFrame(schema={"movie_id": pl.Int64, "keyword_id": pl.Int64, "keyword": pl.String})

        credits_table, parsed, bad = credits_future.result()
        kept, found, account = etl.account_child(credits_table.frame, bad, movies["id"], credits_path.name)
        _add_ragged(credits_table, credits_path.name, account, entries)
        tables["cast"] = _restrict(parsed["cast"], kept).rename({"id": "person_id"}).select(
            "movie_id", "person_id", "name", "character", "order", "gender"
        )
        tables["crew"] = _restrict(parsed["crew"], kept).rename({"id": "person_id"}).select(
            "movie_id", "person_id", "name", "job", "department", "gender"
        )
        accounts["credits"] = account
        entries.append(found)
        timer.step("credits", f"{tables['cast'].height:,} cast, {tables['crew'].height:,} crew")
        sums = {p.name: checksums[p.name].result() for p in inputs}

    quarantine = pl.concat(entries).sort("source", "record")
    report: dict[str, object] = {name: account.as_dict() for name, account in accounts.items()}
    report["tables"] = {name: tables[name].height for name in TABLES}
    report["inputs"] = sums
    _write(out_dir, tables, quarantine, report, timer)
    return report


def _read_and_parse_credits(
    path: Path, load: Callable[[Path], bytes]
) -> tuple[Table, dict[str, pl.DataFrame], pl.DataFrame]:
    """Read credits, then parse cast and crew side by side (Polars releases the GIL)."""
    table = read_table(load(path), path, CREDITS_COLUMNS)
    with _progress("parsing cast and crew", 2 * table.frame.height) as advance, \
            ThreadPoolExecutor(max_workers=1) as pool:
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


def _add_ragged(table: Table, source: str, account: etl.Account, entries: list[pl.DataFrame]) -> None:
    """Credits/keywords records with a wrong field count: quarantined as they are."""
    columns = [c for c in table.frame.columns if not c.startswith("_")]
    items = [
        (record, line, fields, f"malformed record: {len(fields)} fields, expected {len(columns)}", "quarantined")
        for record, line, _, fields in table.ragged
    ]
    found = etl.entries_frame(source, items, columns.index("id"))
    account.add_quarantined(found)
    entries.append(found)


def _write(out_dir: Path, tables: dict[str, pl.DataFrame], quarantine: pl.DataFrame,
           report: dict[str, object], timer: Timer) -> None:
    """Write into a sibling temporary folder, then swap it in: readers never see half a build."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the published tables are for every reader
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda item: item[1].write_parquet(tmp / f"{item[0]}.parquet"),
                          [*tables.items(), ("quarantine", quarantine)]))
        timer.step("write", f"{len(tables) + 1} tables")
        report["seconds"] = timer.total
        report["steps"] = timer.steps
        (tmp / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}-old-{time.time_ns()}")
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
