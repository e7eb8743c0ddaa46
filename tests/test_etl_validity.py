"""Issue 7's ETL defects: an escape the grammar admits but Python rejects quarantines its row
(never a traceback), and of the rows of a repeated id the first VALID one wins."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import polars as pl
import pytest
from tests.helpers import COLUMNS, csv_text, movie

from movierec.etl.run import run_etl

CAST = (
    "[{{'cast_id': 1, 'character': 'Hero', 'credit_id': 'c', 'gender': 2, 'id': {person}, "
    "'name': '{name}', 'order': 0, 'profile_path': None}}]"
)


def _write(folder: Path, movies: list[list[str]], credits: list[list[str]], keywords: list[list[str]]) -> Path:
    folder.mkdir()
    (folder / "movies_metadata.csv").write_text(csv_text([COLUMNS, *movies]))
    (folder / "credits.csv").write_text(csv_text([["cast", "crew", "id"], *credits]))
    (folder / "keywords.csv").write_text(csv_text([["id", "keywords"], *keywords]))
    return folder


@pytest.mark.parametrize("escape", [r"\U00110000", r"\N{NOPE}", r"\x4", r"\u12"])
def test_an_escape_python_rejects_quarantines_the_row(tmp_path: Path, escape: str) -> None:
    cell = f"[{{'id': 16, 'name': 'Bad{escape}'}}]"
    with pytest.raises(SyntaxError):
        ast.literal_eval(cell)  # the yardstick: Python rejects the cell
    raw = _write(
        tmp_path / "raw",
        [movie("1", "Good"), movie("2", "Bad Genres", genres=cell), movie("3", "Bad Cast")],
        [
            [CAST.format(person=10, name="Ann"), "[]", "1"],
            [CAST.format(person=11, name="Bob"), "[]", "2"],
            [CAST.format(person=12, name=f"Eve{escape}"), "[]", "3"],
        ],
        [["1", f"[{{'id': 5, 'name': 'kw{escape}'}}]"], ["3", "[{'id': 6, 'name': 'fine'}]"]],
    )
    report = run_etl(raw, tmp_path / "out")
    quarantine = pl.read_parquet(tmp_path / "out" / "quarantine.parquet")
    reasons = {(row["source"], row["raw_id"]): row["reason"] for row in quarantine.iter_rows(named=True)}
    assert reasons == {
        ("movies_metadata.csv", "2"): "unparseable genres",
        ("credits.csv", "3"): "unparseable cast",
        ("keywords.csv", "1"): "unparseable keywords",
    }
    assert report["movies"]["kept"] == 2  # film 3's credits row is bad, not the film
    assert report["credits"]["quarantined"] == 1 and report["credits"]["dropped"] == 1  # film 2 is gone
    assert pl.read_parquet(tmp_path / "out" / "cast.parquet")["name"].to_list() == ["Ann"]


def test_the_first_valid_row_of_an_id_wins(tmp_path: Path) -> None:
    raw = _write(
        tmp_path / "raw",
        [
            movie("5", "Undated", ""),  # invalid: no date
            movie("5", "Dated", "2001-02-03"),  # the first VALID row of id 5: kept
            movie("5", "Dated Again", "2002-02-03"),  # a duplicate of a valid row
            movie("6", "Bad Cell", genres="[{'id': 1"),  # invalid cell
            movie("6", "Good Cell", genres="[{'id': 18, 'name': 'Drama'}]"),  # kept
        ],
        [
            ["[{'id': 1", "[]", "5"],  # unparseable: not the credits of film 5
            [CAST.format(person=20, name="Kept Actor"), "[]", "5"],  # first valid: kept
            [CAST.format(person=21, name="Second Valid"), "[]", "5"],  # duplicate
            [CAST.format(person=22, name="Six"), "[]", "6"],
        ],
        [["5", "[]"]],
    )
    report = run_etl(raw, tmp_path / "out")
    movies = pl.read_parquet(tmp_path / "out" / "movies.parquet")
    assert movies.select("id", "title").rows() == [(5, "Dated"), (6, "Good Cell")]
    assert pl.read_parquet(tmp_path / "out" / "genres.parquet").rows() == [(6, 18, "Drama")]
    cast = pl.read_parquet(tmp_path / "out" / "cast.parquet")
    assert cast.select("movie_id", "name").rows() == [(5, "Kept Actor"), (6, "Six")]
    quarantine = pl.read_parquet(tmp_path / "out" / "quarantine.parquet").sort("source", "record")
    assert quarantine.select("source", "record", "reason").rows() == [
        ("credits.csv", 0, "unparseable cast"),
        ("credits.csv", 2, "duplicate id"),
        ("movies_metadata.csv", 0, "missing release_date"),
        ("movies_metadata.csv", 2, "duplicate id"),
        ("movies_metadata.csv", 3, "unparseable genres"),
    ]
    for name in ("movies", "credits"):
        part = report[name]
        assert part["rows_read"] == part["kept"] + part["repaired"] + part["quarantined"] + part.get("dropped", 0)
    assert json.loads((tmp_path / "out" / "report.json").read_text())["movies"]["reasons"] == {
        "missing release_date": 1,
        "duplicate id": 1,
        "unparseable genres": 1,
    }
