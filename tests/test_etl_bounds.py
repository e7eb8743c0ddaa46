"""The ETL's bounds on text (issue 19): every kept text field cut to its cap, the row kept and
counted repaired, the fields named in the quarantine; ids in ASCII digits only."""

from __future__ import annotations

import ast
import csv
import gzip
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from tests.helpers import COLUMNS, TOY, csv_text, movie
from typer.testing import CliRunner

from movierec.cli import app
from movierec.etl.lengths import TOO_LONG
from movierec.etl.run import run_etl
from movierec.raw.caps import FieldCaps

NAME, TEXT = 20, 100  # the smallest caps the settings allow
CAPS = FieldCaps(name=NAME, text=TEXT)


def raw_rows(sample_raw: Path, name: str) -> Iterator[dict[str, str]]:
    with gzip.open(sample_raw / f"{name}.gz", "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def first_by_id(rows: Iterator[dict[str, str]], ids: set[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for row in rows:
        key = row["id"].strip()
        if key.isascii() and key.isdigit() and int(key) in ids:
            out.setdefault(int(key), row)
    return out


def names(cell: str, *keys: str) -> list[str]:
    """The string values of ``keys`` in a Python-literal cell (a list of dicts, or one dict)."""
    value = ast.literal_eval(cell) if cell.strip() else []
    items = value if isinstance(value, list) else [value]
    return [item[k] for item in items if isinstance(item, dict) for k in keys if isinstance(item.get(k), str)]


@pytest.fixture(scope="module")
def cut_sample(sample_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("cut") / "tables"
    return run_etl(sample_raw, out, caps=CAPS), out


@pytest.mark.slow
def test_the_sample_at_the_smallest_caps(cut_sample: tuple[dict, Path], sample_raw: Path) -> None:
    """Counted here with the csv module and ast.literal_eval over the raw files: the films with
    a value over its cap, per field and in all, equal the ETL's repaired rows and fixes."""
    report, out = cut_sample
    movies = pl.read_parquet(out / "movies.parquet")
    raw = first_by_id(raw_rows(sample_raw, "movies_metadata.csv"), set(movies["id"]))
    assert len(raw) == movies.height == 2993
    fields = {
        "title": lambda r: [r["title"]],
        "original_title": lambda r: [r["original_title"]],
        "overview": lambda r: [r["overview"]],
        "tagline": lambda r: [r["tagline"]],
        "status": lambda r: [r["status"]],
        "original_language": lambda r: [r["original_language"]],
        "belongs_to_collection.name": lambda r: names(r["belongs_to_collection"], "name"),
        "genres.name": lambda r: names(r["genres"], "name"),
        "production_companies.name": lambda r: names(r["production_companies"], "name"),
        "production_countries.name": lambda r: names(r["production_countries"], "name"),
        "production_countries.iso_3166_1": lambda r: names(r["production_countries"], "iso_3166_1"),
        "spoken_languages.name": lambda r: names(r["spoken_languages"], "name"),
        "spoken_languages.iso_639_1": lambda r: names(r["spoken_languages"], "iso_639_1"),
    }
    prose = {"overview", "tagline"}
    cut = {
        field: {i for i, r in raw.items() if any(len(v) > (TEXT if field in prose else NAME) for v in get(r))}
        for field, get in fields.items()
    }
    account = report["movies"]
    expected_fixes = {f"{TOO_LONG}: {field}": len(ids) for field, ids in cut.items() if ids}
    assert {k: v for k, v in account["fixes"].items() if k.startswith(TOO_LONG)} == expected_fixes
    assert len(cut["title"]) == 611 and len(cut["overview"]) == 2818  # most of the sample: the caps are tiny
    films_cut = set().union(*cut.values())
    assert (account["kept"], account["repaired"]) == (2993 - len(films_cut), len(films_cut))
    assert account["rows_read"] == account["kept"] + account["repaired"] + account["quarantined"]

    titles = dict(movies.select("id", "title").iter_rows())
    for movie_id, row in raw.items():
        title = row["title"] or None
        assert titles[movie_id] == (title if title is None or len(title) <= NAME else title[: NAME - 1] + "…")
    for column, cap in (("overview", TEXT), ("tagline", TEXT), ("title", NAME), ("collection", NAME)):
        assert movies[column].str.len_chars().max() <= cap, column

    quarantine = pl.read_parquet(out / "quarantine.parquet")
    repaired = quarantine.filter((pl.col("source") == "movies_metadata.csv.gz") & (pl.col("outcome") == "repaired"))
    assert sorted(int(i) for i in repaired["raw_id"]) == sorted(films_cut)
    toy = repaired.filter(pl.col("raw_id") == "862").row(0, named=True)
    # the fields in column order; "Pixar Animation Studios" has 23 characters
    assert toy["reason"] == f"{TOO_LONG}: overview, production_companies.name, production_countries.name"
    # Its raw fields, each within the prose cap (a 500 MB title is not copied into the quarantine).
    assert toy["fields"][COLUMNS.index("overview")] == raw[862]["overview"][: TEXT - 1] + "…"
    assert toy["fields"][COLUMNS.index("title")] == "Toy Story"
    assert toy["fields"][COLUMNS.index("belongs_to_collection")] == raw[862]["belongs_to_collection"][: TEXT - 1] + "…"
    assert len(raw[862]["belongs_to_collection"]) > TEXT


def test_keywords_and_credits_at_the_smallest_caps(cut_sample: tuple[dict, Path], sample_raw: Path) -> None:
    report, out = cut_sample
    films = set(pl.read_parquet(out / "movies.parquet")["id"])
    keywords = first_by_id(raw_rows(sample_raw, "keywords.csv"), films)
    cut = {i for i, r in keywords.items() if any(len(n) > NAME for n in names(r["keywords"], "name"))}
    account = report["keywords"]
    assert account["repaired"] == len(cut) == account["fixes"][f"{TOO_LONG}: keywords.name"] == 485
    assert account["rows_read"] == account["kept"] + account["repaired"] + account["quarantined"] + account["dropped"]
    table = pl.read_parquet(out / "keywords.parquet")
    assert table["keyword"].str.len_chars().max() == NAME
    assert table.filter(pl.col("keyword").str.ends_with("…"))["movie_id"].unique().sort().to_list() == sorted(cut)
    credits = report["credits"]
    assert credits["rows_read"] == credits["kept"] + credits["repaired"] + credits["quarantined"] + credits["dropped"]
    cast = pl.read_parquet(out / "cast.parquet")
    assert cast["character"].str.len_chars().max() == NAME
    cut_cast = cast.filter(pl.col("character").str.ends_with("…") | pl.col("name").str.ends_with("…"))
    assert (
        credits["fixes"][f"{TOO_LONG}: cast.character"]
        == cast.filter(pl.col("character").str.ends_with("…"))["movie_id"].n_unique()
    )
    assert credits["repaired"] >= cut_cast["movie_id"].n_unique() > 0


def test_default_caps_leave_the_sample_as_it_is(sample_tables: Path) -> None:
    """At 500 / 5,000 characters no value of the real sample is cut: the published tables hold no
    repaired row of that reason (the sample's longest overview has 991 characters)."""
    quarantine = pl.read_parquet(sample_tables / "quarantine.parquet")
    assert quarantine.filter(pl.col("reason").str.starts_with(TOO_LONG)).height == 0


@pytest.mark.slow
def test_one_ten_million_character_title_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's title, through `movierec etl` with MOVIEREC_MAX_NAME_CHARS: cut, kept, counted."""
    raw = tmp_path / "raw"
    raw.mkdir()
    huge = "Ω" * 10_000_000
    (raw / "movies_metadata.csv").write_text(csv_text([COLUMNS, TOY, movie("5", huge, overview="short")]))
    (raw / "credits.csv").write_text("cast,crew,id\n")
    monkeypatch.setenv("MOVIEREC_MAX_NAME_CHARS", "40")
    result = CliRunner().invoke(app, ["etl", "--raw", str(raw), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "1 films kept, 1 repaired, 0 quarantined" in result.output
    movies = pl.read_parquet(tmp_path / "out" / "movies.parquet")
    assert movies["title"].to_list() == movies["original_title"].to_list() == ["Toy Story", "Ω" * 39 + "…"]
    entry = pl.read_parquet(tmp_path / "out" / "quarantine.parquet").row(0, named=True)
    assert (entry["raw_id"], entry["reason"], entry["outcome"]) == (
        "5",
        f"{TOO_LONG}: title, original_title",
        "repaired",
    )


def test_ids_and_nested_numbers_are_ascii_digits(tmp_path: Path) -> None:
    """Polars' "\\d" matches "٣" and "３": such an id is invalid, such a person id unparseable."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "movies_metadata.csv").write_text(
        csv_text([COLUMNS, TOY, movie("٣", "Tres"), movie("３", "Tres ancho"), movie("7", "Siete")])
    )
    (raw / "credits.csv").write_text(
        csv_text(
            [
                ["cast", "crew", "id"],
                ["[{'id': ٣, 'name': 'A', 'character': 'B', 'order': 0, 'gender': 1}]", "[]", "862"],
                ["[{'id': 3, 'name': 'A', 'character': 'B', 'order': 0, 'gender': 1}]", "[]", "7"],
            ]
        )
    )
    report = run_etl(raw, tmp_path / "out")
    assert report["movies"]["reasons"] == {"invalid id": 2}
    assert report["credits"]["reasons"] == {"unparseable cast": 1}
    assert pl.read_parquet(tmp_path / "out" / "cast.parquet")["movie_id"].to_list() == [7]
