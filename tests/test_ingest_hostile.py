"""`movierec ingest` against a hostile batch (issue 19): a malformed update never loses a film, the
shrink guard looks at the lineage's largest release, batch files must be regular files, ids are
ASCII digits, over-long text is cut, a catalogue too small to recommend from is refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest
from tests.helpers import COLUMNS, batch_movie, cast, copy_data, csv_text, tables, write_batch
from typer.testing import CliRunner

from movierec.cli import app
from movierec.etl.lengths import TOO_LONG
from movierec.raw.files import CREDITS_COLUMNS, KEYWORDS_COLUMNS
from movierec.refresh.records import record_key
from movierec.release.store import ReleaseStore

NAME_CAP = 500  # MOVIEREC_MAX_NAME_CHARS's default


@pytest.fixture
def data(ingest_base: Path, tmp_path: Path) -> Path:
    """A copy of the ingest tests' base release (conftest's ``ingest_base``)."""
    return copy_data(ingest_base, tmp_path / "data")


def ingest_cli(batch: Path, data: Path, *extra: str) -> tuple[int, str, list[str]]:
    result = CliRunner().invoke(app, ["ingest", str(batch), "--data", str(data), *extra])
    return result.exit_code, result.output, [line for line in result.output.splitlines() if line.startswith("error: ")]


def film(release: Path, table: str, movie_id: int) -> pl.DataFrame:
    return tables(release, table).filter(pl.col("movie_id" if table != "movies" else "id") == movie_id)


def test_a_malformed_update_keeps_the_films_previous_records(data: Path, tmp_path: Path) -> None:
    """Toy Story's movies record with 9 fields, Jumanji's with an impossible date, Toy Story's
    credits unparseable and its keywords with a field too many: both films keep their previous
    records (counted as rejected, the CLI says so). A new film's malformed record is quarantined as
    before; an id in full-width digits matches nothing; a 100,000-character title and cast name are
    cut to the cap."""
    base = ReleaseStore(data).current()
    assert base is not None
    toy_story, jumanji = 862, 8844
    assert film(base, "movies", toy_story).height == film(base, "movies", jumanji).height == 1
    long_title, long_name = "T" * 100_000, "N" * 100_000
    batch = write_batch(
        tmp_path / "batch",
        [
            COLUMNS,
            batch_movie(str(toy_story), "Toy Story rota")[:9],  # 9 fields: malformed
            batch_movie(str(jumanji), "Jumanji rota", "2020-02-30"),
            batch_movie("930001", "Nueva rota")[:9],  # a new film, malformed: quarantined as before
            batch_movie("930002", long_title),
            batch_movie("８６２", "Toy Story en dígitos anchos"),
        ],  # not an id: quarantined, matches nothing
        credits=[list(CREDITS_COLUMNS), ["[{'id': 1", "[]", str(toy_story)], [cast(777002, long_name), "[]", "930002"]],
        keywords=[list(KEYWORDS_COLUMNS), [str(toy_story), "[]", "surplus"]],
    )
    code, output, errors = ingest_cli(batch, data)
    assert code == 0 and errors == [], output
    release = ReleaseStore(data).current()
    assert release is not None and release != base
    for table in ("movies", "genres", "cast", "crew", "keywords"):
        for movie_id in (toy_story, jumanji):
            assert film(release, table, movie_id).equals(film(base, table, movie_id)), (table, movie_id)
    assert film(release, "movies", 930001).height == 0
    assert film(release, "movies", 930002)["title"].to_list() == ["T" * (NAME_CAP - 1) + "…"]
    assert film(release, "cast", 930002)["name"].to_list() == ["N" * (NAME_CAP - 1) + "…"]

    manifest = json.loads((release / "manifest.json").read_text())
    files = manifest["ingest"]["files"]
    assert files["movies_metadata.csv"] == {
        "batch_records": 5,
        "added": 2,
        "updated": 0,
        "removed": 0,
        "rejected": 2,
        "rejected_ids": [toy_story, jumanji],
        "quarantined": 2,
        "repaired": 1,
    }
    assert files["credits.csv"] == {
        "batch_records": 2,
        "added": 1,
        "updated": 0,
        "removed": 0,
        "rejected": 1,
        "rejected_ids": [toy_story],
        "quarantined": 0,
        "repaired": 1,
    }
    assert files["keywords.csv"] == {
        "batch_records": 1,
        "added": 0,
        "updated": 0,
        "removed": 0,
        "rejected": 1,
        "rejected_ids": [toy_story],
        "quarantined": 0,
        "repaired": 0,
    }
    assert manifest["tables"]["movies"] == json.loads((base / "manifest.json").read_text())["tables"]["movies"] + 1
    quarantine = tables(release, "quarantine")
    batch_rows = quarantine.filter(pl.col("raw_id").is_in(["930001", "930002", "８６２"]))
    assert sorted(batch_rows.select("raw_id", "reason", "outcome").rows()) == [
        ("930001", "malformed record: 9 fields, expected 24", "quarantined"),
        ("930002", f"{TOO_LONG}: cast.name", "repaired"),
        # its original title is its title, its overview "About <title>"
        ("930002", f"{TOO_LONG}: title, original_title, overview", "repaired"),
        ("８６２", "invalid id", "quarantined"),
    ]
    assert (
        "warning: batch records that did not pass the ETL left the films' previous records in place: "
        "movies_metadata.csv: 2 (862, 8844); credits.csv: 1 (862); keywords.csv: 1 (862)"
    ) in output
    printed = json.loads(output[output.index("{") : output.index("\n}") + 2])
    assert printed["files"]["movies_metadata.csv"]["rejected_ids"] == [toy_story, jumanji]


def test_two_ingests_cannot_shrink_the_catalogue_by_creeping(data: Path, tmp_path: Path) -> None:
    """Each ingest deletes ~45% of the films: the first passes the 50% guard, the second is
    refused because it compares with the lineage's largest release, not only the previous one."""
    first = ReleaseStore(data).current()
    assert first is not None
    ids = sorted(tables(first, "movies")["id"].to_list())
    largest = len(ids)
    gone = ids[: largest * 45 // 100]
    code, output, errors = ingest_cli(write_batch(tmp_path / "b1", [COLUMNS], deleted="\n".join(map(str, gone))), data)
    assert code == 0, output
    second = ReleaseStore(data).current()
    left = largest - len(gone)
    assert json.loads((second / "manifest.json").read_text())["lineage_max_films"] == largest
    more = ids[len(gone) : len(gone) + left * 45 // 100]
    final = left - len(more)
    assert final >= left / 2 and final < largest / 2  # the previous-release guard alone would let it through
    code, output, errors = ingest_cli(write_batch(tmp_path / "b2", [COLUMNS], deleted="\n".join(map(str, more))), data)
    assert code == 2
    assert errors == [
        f"error: the new release has {final:,} films, fewer than 50% of the {largest:,} films of the "
        f"largest release in its lineage (the current release has {left:,}): not published (pass "
        "--allow-shrink if this is intended)"
    ]
    assert ReleaseStore(data).current() == second
    assert sorted(p.name for p in (data / "releases").iterdir()) == sorted([first.name, second.name])


def test_deleting_all_films_but_one_is_refused_before_training(data: Path, tmp_path: Path) -> None:
    base = ReleaseStore(data).current()
    assert base is not None
    ids = tables(base, "movies")["id"].to_list()
    batch = write_batch(tmp_path / "batch", [COLUMNS], deleted="\n".join(str(i) for i in ids if i != 862))
    code, output, errors = ingest_cli(batch, data, "--allow-shrink")
    assert code == 2 and "Traceback" not in output
    assert len(errors) == 1 and errors[0].startswith(
        "error: the new release was not published: the ETL kept 1 film in the catalogue, fewer than the 6 needed"
    )
    assert ReleaseStore(data).current() == base
    assert [p.name for p in (data / "releases").iterdir()] == [base.name]


@pytest.mark.parametrize("kind", ["symlink credits", "symlink deleted", "folder", "fifo"])
def test_a_batch_file_must_be_a_regular_file(data: Path, tmp_path: Path, kind: str) -> None:
    """A symbolic link is refused without reading its target (whose first line an error once
    quoted); so is a folder or a pipe under a batch file's name (a pipe would block the read)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:SECRET-LINE\n")
    folder = tmp_path / "batch"
    folder.mkdir()
    movies = folder / "movies_metadata.csv"
    if kind == "folder":
        movies.mkdir()
        offending = movies
    elif kind == "fifo":
        os.mkfifo(movies)
        offending = movies
    else:
        movies.write_text(csv_text([COLUMNS, batch_movie("930003", "Nueva")]))
        offending = folder / ("credits.csv" if kind == "symlink credits" else "deleted_ids.txt")
        offending.symlink_to(secret)
    current = ReleaseStore(data).current()
    code, output, errors = ingest_cli(folder, data)
    assert code == 2
    what = "a symbolic link" if kind.startswith("symlink") else "not a regular file"
    assert errors == [f"error: {offending}: {what}; a batch holds regular files only"]
    assert "SECRET" not in output
    assert ReleaseStore(data).current() == current


def test_ids_are_ascii_digits_only(data: Path, tmp_path: Path) -> None:
    """ "\\d" matches Arabic-Indic and full-width digits, which int() turns into numbers."""
    assert [record_key(v) for v in ("862", " 862 ", "٣", "８６２", "8٣")] == [862, 862, None, None, None]
    batch = write_batch(tmp_path / "batch", [COLUMNS], deleted="862\n٣\n")
    code, _output, errors = ingest_cli(batch, data)
    assert code == 2
    assert errors == ["error: deleted_ids.txt line 2: '٣' is not a TMDB id (a positive integer)"]
