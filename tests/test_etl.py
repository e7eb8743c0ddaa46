"""The ETL on a hand-written raw folder with every kind of dirt, and on the real sample."""

from __future__ import annotations

import ast
import csv
import gzip
import json
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from tests.helpers import COLUMNS, TOY, broken_record, csv_text, movie
from typer.testing import CliRunner

from movierec.cli import app
from movierec.etl.run import TABLE_NAMES, run_etl
from movierec.raw.files import InputError

MOVIE_LINES = [
    csv_text([COLUMNS]),
    csv_text([TOY]),  # line 2
    csv_text([movie("2", "Tiny Budget", "2001-05-06", budget="5", revenue="12000000", original_title=" ")]),  # 3
    csv_text([movie("862", "Toy Story again")]),  # 4: duplicate id
    csv_text([movie("abc", "Bad Id")]),  # 5
    csv_text([movie("5", "No Date", "")]),  # 6
    csv_text([movie("6", "Bad Date", "1999-02-30")]),  # 7
    broken_record(movie("7", "Broken Overview", "2003-03-03", revenue="999")),  # 8-9
    csv_text([movie("8", "Bad Genres", genres="[{'id': 1, 'name': 'x'")]),  # 10
    csv_text(
        [
            movie(  # 11
                "9",
                'Say "Hi" / Face?',
                "2004-12-31",
                budget="abc",
                revenue="",
                production_companies="""[{'name': "O'Brien Films", 'id': 9}]""",
                overview="Quoted, with a\nline break inside quotes",
            )
        ]
    ),
    csv_text([["False", "", "0", "[]", "a lone ragged record"]]),  # 13 (12 is the quoted break)
    csv_text([movie("-3", "Negative Id")]),  # 14
]
CREDITS = [
    ["cast", "crew", "id"],
    [
        "[{'cast_id': 1, 'character': 'Woody (voice)', 'credit_id': 'a', 'gender': 2, 'id': 31, 'name': 'Tom Hanks', 'order': 0, 'profile_path': None}]",
        "[{'credit_id': 'b', 'department': 'Directing', 'gender': 2, 'id': 7879, 'job': 'Director', 'name': 'John Lasseter', 'profile_path': None}]",
        "862",
    ],
    ["oops", "[]", "2"],
    [
        "[{'cast_id': 2, 'character': \"O'Hara\", 'credit_id': 'c', 'gender': 1, 'id': 5, 'name': 'Ann', 'order': 0, 'profile_path': None}]",
        "[]",
        "7",
    ],
    ["[]", "[]", "862"],  # duplicate
    ["[]", "[]", "400"],  # film not in the catalogue
    ["[]", "[]", "x"],  # invalid id
    ["[]", "[]", "8"],  # film quarantined by the movies rules
]
KEYWORDS = [
    ["id", "keywords"],
    ["862", "[{'id': 931, 'name': 'jealousy'}, {'id': 4290, 'name': 'toy'}]"],
    ["7", "[]"],
    ["862", "[]"],
    ["9", "[{'id': 1, 'name': \"o'clock\"}]"],
]


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "movies_metadata.csv").write_text("".join(MOVIE_LINES), encoding="utf-8")
    (folder / "credits.csv").write_text(csv_text(CREDITS), encoding="utf-8")
    (folder / "keywords.csv").write_text(csv_text(KEYWORDS), encoding="utf-8")
    return folder


def test_every_row_is_accounted_for(raw: Path, tmp_path: Path) -> None:
    report = run_etl(raw, tmp_path / "out")
    movies = report["movies"]
    # 12 records as a CSV reader sees them (the broken record counts twice): 4 kept (862, 2, 7
    # and 9), 1 repaired (the broken record's second half), 7 quarantined.
    assert movies == {
        "rows_read": 12,
        "kept": 4,
        "repaired": 1,
        "quarantined": 7,
        "reasons": {
            "duplicate id": 1,
            "invalid id": 2,
            "invalid release_date": 1,
            "malformed record: 5 fields, expected 24": 1,
            "missing release_date": 1,
            "unparseable genres": 1,
        },
        "fixes": {
            "budget: 1–999 (typed in millions) → 0": 1,
            "budget: unparseable → 0": 1,
            "revenue: 1–999 (typed in millions) → 0": 1,
            "revenue: missing → 0": 1,
        },
    }
    assert movies["rows_read"] == movies["kept"] + movies["repaired"] + movies["quarantined"]
    assert report["credits"] == {
        "rows_read": 7,
        "kept": 2,
        "repaired": 0,
        "quarantined": 3,
        "dropped": 2,
        "reasons": {"duplicate id": 1, "film not kept": 2, "invalid id": 1, "unparseable cast": 1},
    }
    assert report["keywords"] == {
        "rows_read": 4,
        "kept": 3,
        "repaired": 0,
        "quarantined": 1,
        "reasons": {"duplicate id": 1},
    }
    assert set(report["inputs"]) == {"movies_metadata.csv", "credits.csv", "keywords.csv"}
    assert json.loads((tmp_path / "out" / "report.json").read_text())["movies"] == movies


def test_movies_table(raw: Path, tmp_path: Path) -> None:
    run_etl(raw, tmp_path / "out")
    movies = pl.read_parquet(tmp_path / "out" / "movies.parquet")
    assert movies["id"].to_list() == [862, 2, 7, 9]
    toy = movies.row(0, named=True)
    assert toy["title"] == "Toy Story" and toy["release_date"] == date(1995, 10, 30)
    assert toy["release_year"] == 1995 and toy["budget"] == 30_000_000 and toy["revenue"] == 373_554_033
    assert toy["return"] == pytest.approx(373_554_033 / 30_000_000)
    assert (toy["collection_id"], toy["collection"]) == (10194, "Toy Story Collection")
    assert (toy["vote_count"], toy["vote_average"], toy["popularity"]) == (5415, 7.7, 1.5)
    tiny = movies.row(1, named=True)
    assert (tiny["budget"], tiny["revenue"], tiny["return"]) == (0, 12_000_000, 0.0)
    broken = movies.row(2, named=True)
    assert broken["overview"] == "First half of the overview\n - Written by an editor"
    assert (broken["title"], broken["revenue"], broken["release_year"]) == ("Broken Overview", 0, 2003)
    quoted = movies.row(3, named=True)
    assert quoted["title"] == 'Say "Hi" / Face?' and quoted["budget"] == 0 and quoted["revenue"] == 0
    assert quoted["overview"] == "Quoted, with a\nline break inside quotes"
    assert quoted["collection"] is None and quoted["tagline"] is None
    assert movies["original_title"].to_list() == ["Toy Story", None, "Broken Overview", 'Say "Hi" / Face?']
    for dropped in ("video", "imdb_id", "adult", "poster_path", "homepage"):
        assert dropped not in movies.columns
    assert movies.schema["id"] == pl.Int64 and movies.schema["vote_count"] == pl.Int64


def test_nested_tables(raw: Path, tmp_path: Path) -> None:
    run_etl(raw, tmp_path / "out")

    def read(name: str) -> list:
        return pl.read_parquet(tmp_path / "out" / f"{name}.parquet").rows()

    assert read("genres") == [(862, 16, "Animation"), (862, 35, "Comedy")]
    assert read("companies") == [(862, 3, "Pixar Animation Studios"), (9, 9, "O'Brien Films")]
    assert read("countries") == [(862, "US", "United States of America")]
    assert read("languages") == [(862, "en", "English")]
    assert read("keywords") == [(862, 931, "jealousy"), (862, 4290, "toy"), (9, 1, "o'clock")]
    assert read("cast") == [(862, 31, "Tom Hanks", "Woody (voice)", 0, 2), (7, 5, "Ann", "O'Hara", 0, 1)]
    assert read("crew") == [(862, 7879, "John Lasseter", "Director", "Directing", 2)]
    assert set(p.stem for p in (tmp_path / "out").glob("*.parquet")) == {*TABLE_NAMES, "quarantine"}


def test_quarantine_lists_every_row_not_kept_as_is(raw: Path, tmp_path: Path) -> None:
    run_etl(raw, tmp_path / "out")
    q = pl.read_parquet(tmp_path / "out" / "quarantine.parquet")
    movies = q.filter(pl.col("source") == "movies_metadata.csv").sort("line")
    assert movies.select("line", "raw_id", "reason", "outcome").rows() == [
        (4, "862", "duplicate id", "quarantined"),
        (5, "abc", "invalid id", "quarantined"),
        (6, "5", "missing release_date", "quarantined"),
        (7, "6", "invalid release_date", "quarantined"),
        (8, "7", "broken record joined with the next line", "repaired"),
        (9, "2003-03-03", "broken record joined with the next line", "repaired"),  # id column as read
        (10, "8", "unparseable genres", "quarantined"),
        (13, None, "malformed record: 5 fields, expected 24", "quarantined"),
        (14, "-3", "invalid id", "quarantined"),
    ]
    # record numbers are what pandas calls the rows
    assert movies.filter(pl.col("line") == 13)["record"].item() == 10
    assert movies.filter(pl.col("line") == 13)["fields"].item().to_list() == [
        "False",
        "",
        "0",
        "[]",
        "a lone ragged record",
    ]
    assert movies.filter(pl.col("raw_id") == "abc")["fields"].item().to_list() == movie("abc", "Bad Id")
    credits = q.filter(pl.col("source") == "credits.csv").sort("record")
    assert credits.select("record", "raw_id", "reason").rows() == [
        (1, "2", "unparseable cast"),
        (3, "862", "duplicate id"),
        (5, "x", "invalid id"),
    ]


def test_compressed_and_renamed_inputs_give_the_same_tables(raw: Path, tmp_path: Path) -> None:
    run_etl(raw, tmp_path / "plain")
    packed = tmp_path / "packed"
    packed.mkdir()
    (packed / "movies_dataset.csv.gz").write_bytes(gzip.compress((raw / "movies_metadata.csv").read_bytes()))
    with zipfile.ZipFile(packed / "credits.csv.zip", "w") as archive:
        archive.write(raw / "credits.csv", "credits.csv")
    (packed / "keywords.csv").write_bytes((raw / "keywords.csv").read_bytes())
    report = run_etl(packed, tmp_path / "out")
    assert set(report["inputs"]) == {"movies_dataset.csv.gz", "credits.csv.zip", "keywords.csv"}
    for table in TABLE_NAMES:
        assert pl.read_parquet(tmp_path / "out" / f"{table}.parquet").equals(
            pl.read_parquet(tmp_path / "plain" / f"{table}.parquet")
        ), table


def test_keywords_are_optional(raw: Path, tmp_path: Path) -> None:
    (raw / "keywords.csv").unlink()
    report = run_etl(raw, tmp_path / "out")
    assert "keywords" not in report
    assert pl.read_parquet(tmp_path / "out" / "keywords.parquet").height == 0


def test_missing_file_names_it_and_exits_2(raw: Path, tmp_path: Path) -> None:
    (raw / "credits.csv").unlink()
    with pytest.raises(InputError, match=r"credits\.csv"):
        run_etl(raw, tmp_path / "out")
    result = CliRunner().invoke(app, ["etl", "--raw", str(raw), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "missing input file" in result.output and "credits.csv" in result.output
    assert not (tmp_path / "out").exists()


def test_missing_columns_are_listed(raw: Path, tmp_path: Path) -> None:
    (raw / "credits.csv").write_text("cast,identifier\n[],1\n")
    result = CliRunner().invoke(app, ["etl", "--raw", str(raw), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "missing columns crew, id" in result.output


def test_empty_file_is_a_clear_error(raw: Path, tmp_path: Path) -> None:
    (raw / "movies_metadata.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        run_etl(raw, tmp_path / "out")


def test_failed_run_leaves_the_previous_output(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_etl(raw, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (raw / "credits.csv").write_text("cast,crew\n")
    with pytest.raises(InputError):
        run_etl(raw, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_etl_writes_tables(raw: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["etl", "--raw", str(raw), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "4 films kept, 1 repaired, 7 quarantined" in result.output


# --- the real sample, checked against an independent csv + ast.literal_eval reading ---------------


def _independent_sample(sample_raw: Path) -> dict[str, object]:
    with gzip.open(sample_raw / "movies_metadata.csv.gz", "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    seen: set[int] = set()
    kept, reasons = [], {}
    for row in rows:
        raw_id = row["id"].strip()
        reason = None
        if not raw_id.isdigit() or int(raw_id) <= 0:
            reason = "invalid id"
        elif int(raw_id) in seen:
            reason = "duplicate id"
        elif not row["release_date"].strip():
            reason = "missing release_date"
        if raw_id.isdigit():
            seen.add(int(raw_id))
        if reason:
            reasons[reason] = reasons.get(reason, 0) + 1
        else:
            kept.append(row)
    return {"rows": rows, "kept": kept, "reasons": reasons}


@pytest.mark.slow
def test_real_sample_exact(sample_raw: Path, tmp_path: Path) -> None:
    report = run_etl(sample_raw, tmp_path / "out")
    truth = _independent_sample(sample_raw)
    kept = truth["kept"]
    assert report["movies"]["rows_read"] == len(truth["rows"]) == 2996
    assert report["movies"]["kept"] == len(kept) == 2993
    assert report["movies"]["reasons"] == truth["reasons"] == {"duplicate id": 1, "missing release_date": 2}
    tiny_budgets = sum(1 for r in kept if 1 <= float(r["budget"] or 0) < 1000)
    assert report["movies"]["fixes"]["budget: 1–999 (typed in millions) → 0"] == tiny_budgets == 17

    out = tmp_path / "out"
    movies = pl.read_parquet(out / "movies.parquet")
    assert movies["id"].to_list() == [int(r["id"]) for r in kept]
    genres = sum(len(ast.literal_eval(r["genres"])) for r in kept)
    assert pl.read_parquet(out / "genres.parquet").height == genres == 7136

    with gzip.open(sample_raw / "credits.csv.gz", "rt", encoding="utf-8", newline="") as handle:
        credits = list(csv.DictReader(handle))
    kept_ids = {int(r["id"]) for r in kept}
    first: dict[int, dict[str, str]] = {}
    for row in credits:
        first.setdefault(int(row["id"]), row)
    cast = sum(len(ast.literal_eval(r["cast"])) for i, r in first.items() if i in kept_ids)
    crew = sum(len(ast.literal_eval(r["crew"])) for i, r in first.items() if i in kept_ids)
    assert pl.read_parquet(out / "cast.parquet").height == cast == 16039
    assert pl.read_parquet(out / "crew.parquet").height == crew == 5248
    directors = pl.read_parquet(out / "crew.parquet").filter(pl.col("job") == "Director")
    assert directors.filter(pl.col("movie_id") == 862)["name"].to_list() == ["John Lasseter"]
    toy = movies.filter(pl.col("id") == 862).row(0, named=True)
    assert (toy["title"], toy["vote_count"], toy["return"]) == ("Toy Story", 5415, pytest.approx(373554033 / 30000000))


def test_standin_broken_records_are_rejoined(standin_raw: Path, tmp_path: Path) -> None:
    """The stand-in reproduces the real file's three broken records and duplicates."""
    report = run_etl(standin_raw, tmp_path / "out")
    with open(standin_raw / "movies_metadata.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    short = [i for i, r in enumerate(rows) if len(r) != len(COLUMNS)]
    assert [len(rows[i]) for i in short] == [10, 15] * 3
    ids = [r[COLUMNS.index("id")] for r in rows if len(r) == len(COLUMNS)] + [rows[i][5] for i in short[::2]]
    duplicates = len(ids) - len(set(ids))
    movies = report["movies"]
    assert movies["rows_read"] == len(rows)
    assert movies["repaired"] == 3
    assert movies["reasons"]["duplicate id"] == duplicates
    assert movies["rows_read"] == movies["kept"] + movies["repaired"] + movies["quarantined"]
    q = pl.read_parquet(tmp_path / "out" / "quarantine.parquet").filter(pl.col("outcome") == "repaired")
    assert sorted(q["record"].to_list()) == short
    overview = pl.read_parquet(tmp_path / "out" / "movies.parquet").filter(
        pl.col("overview").str.contains("three friends must face\n - Written by", literal=True)
    )
    assert overview.height == 3


def test_record_with_extra_fields_is_quarantined(raw: Path, tmp_path: Path) -> None:
    """A record with more fields than the header takes the Arrow reader's path; nothing is lost."""
    lines = list(MOVIE_LINES)
    lines.insert(3, csv_text([[*movie("77", "Too Wide"), "extra", "fields"]]))  # line 4
    (raw / "movies_metadata.csv").write_text("".join(lines), encoding="utf-8")
    report = run_etl(raw, tmp_path / "out")
    movies = report["movies"]
    assert (movies["rows_read"], movies["kept"], movies["repaired"], movies["quarantined"]) == (13, 4, 1, 8)
    assert movies["reasons"]["malformed record: 26 fields, expected 24"] == 1
    q = pl.read_parquet(tmp_path / "out" / "quarantine.parquet").filter(pl.col("source") == "movies_metadata.csv")
    wide = q.filter(pl.col("reason").str.contains("26 fields"))
    assert wide.select("record", "line", "raw_id").row(0) == (2, 4, "77")
    # every other record keeps its number and line
    assert q.filter(pl.col("raw_id") == "abc").select("record", "line").row(0) == (4, 6)
    assert q.filter(pl.col("outcome") == "repaired").select("record", "line").rows() == [(7, 9), (8, 10)]
