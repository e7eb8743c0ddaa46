"""The ETL's titles: original_title kept in movies.parquet (checked against the real sample with the
csv module), and titles.parquet from an optional titles.csv, every row accounted for."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from tests.helpers import COLUMNS, csv_text, movie

from movierec.etl.run import run_etl
from movierec.etl.titles import TITLES_SCHEMA
from movierec.raw.caps import FieldCaps
from movierec.raw.files import InputError

HEADER = "movie_id,iso_639_1,iso_3166_1,title,kind\n"
TITLES = [  # (raw line, what becomes of it)
    "862,es,ES,Toy Story: Juguetes,translation",  # 0 kept
    "862, ES ,mx, Toy Story: Juguetes ,Translation",  # 1 the same title once more
    "862,,AR,Juguetes,alternative",  # 2 kept: an alternative title of Argentina is Spanish
    "862,,CL,Toy Story (Chile),alternative",  # 3 past the cap of 2 titles a film
    "2,es,,Un título demasiado largo para el límite,translation",  # 4 cut to 20 characters: repaired
    "2,fr,FR,Petit budget,translation",  # 5 dropped: French
    "2,,US,Tiny,alternative",  # 6 dropped: an alternative title of the US
    "5,es,ES,Sin fecha,translation",  # 7 dropped: film 5 is quarantined (no date)
    "x1,es,ES,Malo,translation",  # 8 invalid id
    "2,es,ES,   ,translation",  # 9 empty title
    "2,es,ES,Otro,rumor",  # 10 invalid kind
    "2,spa,ES,Otro,translation",  # 11 invalid iso_639_1
    "2,es,ESP,Otro,translation",  # 12 invalid iso_3166_1
    "2,es,ES,Dos,translation,extra",  # 13 six fields
]


def raw_folder(tmp_path: Path, titles: str | None) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "movies_metadata.csv").write_text(
        csv_text(
            [COLUMNS, movie("862", "Toy Story", original_title="Toy"), movie("2", "Tiny"), movie("5", "No Date", "")]
        )
    )
    (raw / "credits.csv").write_text("cast,crew,id\n")
    if titles is not None:
        (raw / "titles.csv.gz").write_bytes(gzip.compress(titles.encode()))
    return raw


def test_titles_every_row_accounted(tmp_path: Path) -> None:
    raw = raw_folder(tmp_path, HEADER + "\n".join(TITLES) + "\n")
    report = run_etl(raw, tmp_path / "out", caps=FieldCaps(name=20, text=100), max_titles=2)
    titles = pl.read_parquet(tmp_path / "out" / "titles.parquet")
    assert titles.schema == pl.Schema(TITLES_SCHEMA)
    assert titles.rows() == [
        (862, "es", "ES", "Toy Story: Juguetes", "translation"),
        (862, "es", "AR", "Juguetes", "alternative"),
        (2, "es", None, "Un título demasiado…", "translation"),
    ]
    assert report["titles"] == {
        "rows_read": 14,
        "kept": 2,
        "repaired": 1,
        "quarantined": 8,
        "dropped": 3,
        "reasons": {
            "duplicate title": 1,
            "empty title": 1,
            "film not kept": 1,
            "invalid id": 1,
            "invalid iso_3166_1": 1,
            "invalid iso_639_1": 1,
            "invalid kind": 1,
            "malformed record: 6 fields, expected 5": 1,
            "not a Spanish title": 2,
            "over MOVIEREC_MAX_TITLES_PER_FILM": 1,
        },
        "fixes": {"field too long: title": 1},
    }
    assert report["tables"]["titles"] == 3 and "titles.csv.gz" in report["inputs"]  # type: ignore[index]
    entries = pl.read_parquet(tmp_path / "out" / "quarantine.parquet").filter(pl.col("source") == "titles.csv.gz")
    assert entries.select("record", "line", "raw_id", "outcome").rows() == [
        (1, 3, "862", "quarantined"),
        (3, 5, "862", "quarantined"),
        (4, 6, "2", "repaired"),
        (8, 10, "x1", "quarantined"),
        (9, 11, "2", "quarantined"),
        (10, 12, "2", "quarantined"),
        (11, 13, "2", "quarantined"),
        (12, 14, "2", "quarantined"),
        (13, 15, "2", "quarantined"),
    ]
    assert entries.row(0, named=True)["fields"] == ["862", " ES ", "mx", " Toy Story: Juguetes ", "Translation"]
    movies = pl.read_parquet(tmp_path / "out" / "movies.parquet")
    assert movies.select("id", "title", "original_title").rows() == [(862, "Toy Story", "Toy"), (2, "Tiny", "Tiny")]


def test_without_titles_the_table_is_empty(tmp_path: Path) -> None:
    report = run_etl(raw_folder(tmp_path, None), tmp_path / "out")
    titles = pl.read_parquet(tmp_path / "out" / "titles.parquet")
    assert titles.height == 0 and titles.schema == pl.Schema(TITLES_SCHEMA)
    assert "titles" not in report and report["tables"]["titles"] == 0  # type: ignore[index]
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["tables"]["titles"] == 0


def test_a_titles_file_with_bad_columns_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"titles\.csv\.gz: missing columns kind"):
        run_etl(raw_folder(tmp_path, "movie_id,iso_639_1,iso_3166_1,title\n862,es,ES,x\n"), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_sample_original_titles(tmp_path: Path, sample_raw: Path) -> None:
    """Read with the csv module: each kept film's original_title is the raw one (276 of the kept
    2,993 differ from the title; 277 of the 2,996 rows, one of them in a quarantined row)."""
    run_etl(sample_raw, tmp_path / "out")
    movies = pl.read_parquet(tmp_path / "out" / "movies.parquet", columns=["id", "title", "original_title"])
    with gzip.open(sample_raw / "movies_metadata.csv.gz", "rt", encoding="utf-8", newline="") as handle:
        raw: dict[int, str] = {}
        for row in csv.DictReader(handle):
            if row["id"].isdigit():
                raw.setdefault(int(row["id"]), row["original_title"])
    assert all(raw[i] == original for i, original in movies.select("id", "original_title").iter_rows())
    differ = movies.filter(pl.col("original_title") != pl.col("title"))
    assert differ.height == 276
    assert ("All About My Mother", "Todo sobre mi madre") in differ.select("title", "original_title").rows()


def test_a_release_built_without_tmdb_has_no_spanish_title(sample_data: Path) -> None:
    """The Kaggle files alone: the original titles only, an empty titles table, nothing in raw/."""
    release = sample_data / "current"
    titles = pl.read_parquet(release / "tables" / "titles.parquet")
    assert titles.height == 0 and titles.schema == pl.Schema(TITLES_SCHEMA)
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["tables"]["titles"] == 0 and manifest["tables"]["movies"] == 2993
    assert not any(p.name.startswith("titles") for p in (release / "raw").iterdir())
    movies = pl.read_parquet(release / "tables" / "movies.parquet", columns=["original_title"])
    assert movies["original_title"].null_count() == 0
