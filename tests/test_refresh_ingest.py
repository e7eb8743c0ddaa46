"""`movierec ingest`: the merge rules on a hand-written batch, the ingested release checked against
an independent merge (csv module) run through the ETL, bad batches, and the record reader/writer."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import polars as pl
import pytest
from tests.helpers import (
    COLUMNS,
    TITLES_HEADER,
    batch_movie,
    broken_record,
    cast,
    copy_data,
    csv_text,
    sample_rows,
    tables,
    write_batch,
)
from typer.testing import CliRunner

from movierec.cli import app
from movierec.config import Settings
from movierec.etl.run import run_etl
from movierec.raw.csv_table import read_table
from movierec.raw.files import CREDITS_COLUMNS, KEYWORDS_COLUMNS, MOVIES_COLUMNS
from movierec.refresh.ingest import ingest
from movierec.refresh.records import read_records, write_records
from movierec.release.store import ReleaseStore

SETTINGS = {"evaluate_on_publish": False}


@pytest.fixture
def data(ingest_base: Path, tmp_path: Path) -> Path:
    """A copy of the ingest tests' base release (conftest's ``ingest_base``)."""
    return copy_data(ingest_base, tmp_path / "data")


def test_merge_rules(data: Path, tmp_path: Path, sample_raw: Path) -> None:
    base = ReleaseStore(data).current()
    assert base is not None
    toy = next(r for r in sample_rows(sample_raw, "movies_metadata.csv", 200) if r[COLUMNS.index("id")] == "862")
    toy = [*toy]
    toy[COLUMNS.index("title")], toy[COLUMNS.index("popularity")] = "Toy Story (edición 2026)", "50.5"
    batch = write_batch(
        tmp_path / "batch",
        [
            COLUMNS,
            toy,
            batch_movie("900002", "Broken Fixed"),
            batch_movie("900001", "Dup Fixed"),  # replace a broken record, a duplicate
            batch_movie("910001", "Nueva Película", "2026-11-20"),
            batch_movie("910002", "Fecha Mala", "2020-02-30"),  # quarantined: invalid date
            batch_movie("910003", "Géneros Malos", genres="[{'id': 1"),  # quarantined: unparseable genres
            batch_movie("910001", "Nueva Duplicada"),  # quarantined: the first record of an id wins
            batch_movie("xyz", "Id Malo"),  # quarantined: invalid id
            batch_movie("910004", "Borrada"),
        ],  # in the batch and deleted: deletion wins
        credits=[
            list(CREDITS_COLUMNS),
            [cast(777001, "Actor Nuevo"), "[]", "862"],
            [cast(777001, "Actor Nuevo"), "[]", "910001"],
        ],
        keywords=[list(KEYWORDS_COLUMNS), ["910001", "[{'id': 9, 'name': 'estreno'}]"]],
        deleted="900003\n\n# a comment\n910004\n555555\n",
    )
    (batch / "titles.csv").write_text(
        TITLES_HEADER + "862,es,ES,Toy Story: la edición,translation\n"
        "910001,es,MX,La nueva,translation\n910004,es,ES,Borrada,translation\n"
    )
    manifest = ingest(batch, data, Settings(data_dir=data, **SETTINGS))
    assert manifest is not None
    release = ReleaseStore(data).current()
    assert release is not None and release.name == manifest["release"] != base.name
    assert manifest["built_on"] == base.name

    before, after = tables(base, "movies"), tables(release, "movies")
    assert sorted(after["id"]) == sorted((set(before["id"]) - {900003}) | {910001})
    films = {r["id"]: r for r in after.rows(named=True)}
    assert (films[862]["title"], films[862]["popularity"]) == ("Toy Story (edición 2026)", 50.5)
    assert films[900002]["title"] == "Broken Fixed" and films[900001]["title"] == "Dup Fixed"
    assert films[910001]["title"] == "Nueva Película"
    untouched = before.filter(~pl.col("id").is_in([862, 900001, 900002, 900003]))
    assert after.filter(pl.col("id").is_in(untouched["id"].implode())).equals(untouched)

    cast_before, cast_after = tables(base, "cast"), tables(release, "cast")
    assert cast_after.filter(pl.col("movie_id") == 862)["person_id"].to_list() == [777001]
    assert cast_after.filter(pl.col("person_id") == 777001)["movie_id"].to_list() == [862, 910001]
    assert cast_after.filter(pl.col("movie_id") == 900002)["name"].to_list() == ["Base Actor"]  # not in the batch
    others = cast_before.filter(~pl.col("movie_id").is_in([862, 900003]))
    assert cast_after.filter(~pl.col("movie_id").is_in([862, 910001])).equals(others)
    keywords = tables(release, "keywords")
    assert keywords.filter(pl.col("movie_id") == 910001)["keyword"].to_list() == ["estreno"]
    assert keywords.filter(pl.col("movie_id") == 862).equals(tables(base, "keywords").filter(pl.col("movie_id") == 862))

    summary = manifest["ingest"]
    assert summary["files"] == {
        "movies_metadata.csv": {
            "batch_records": 9,
            "added": 3,
            "updated": 3,
            "removed": 1,
            "rejected": 0,
            "rejected_ids": [],
            "quarantined": 4,
            "repaired": 0,
        },
        "credits.csv": {
            "batch_records": 2,
            "added": 1,
            "updated": 1,
            "removed": 1,
            "rejected": 0,
            "rejected_ids": [],
            "quarantined": 0,
            "repaired": 0,
        },
        "keywords.csv": {
            "batch_records": 1,
            "added": 1,
            "updated": 0,
            "removed": 0,
            "rejected": 0,
            "rejected_ids": [],
            "quarantined": 0,
            "repaired": 0,
        },
        "titles.csv": {
            "batch_records": 3,
            "added": 1,
            "updated": 1,
            "removed": 1,
            "rejected": 0,
            "rejected_ids": [],
            "quarantined": 0,
            "repaired": 0,
        },
    }
    # A film the batch brings titles for has exactly those; the others keep theirs; deleted films lose theirs.
    assert tables(base, "titles").rows() == [
        (862, "es", "ES", "Toy Story (juguetes)", "translation"),
        (862, "es", "MX", "Toy Story: juguetes", "alternative"),
        (8844, "es", "ES", "Jumanji", "translation"),
        (900003, "es", "ES", "Para borrar", "translation"),
    ]
    assert tables(release, "titles").rows() == [
        (8844, "es", "ES", "Jumanji", "translation"),
        (862, "es", "ES", "Toy Story: la edición", "translation"),
        (910001, "es", "MX", "La nueva", "translation"),
    ]
    with gzip.open(release / "raw" / "titles.csv.gz", "rt", encoding="utf-8") as handle:
        assert handle.read() == TITLES_HEADER + (
            "8844,es,ES,Jumanji,translation\n862,es,ES,Toy Story: la edición,"
            "translation\n910001,es,MX,La nueva,translation\n"
        )
    assert summary["deleted_ids"] == {"requested": 3, "removed": 1, "unknown": 2, "unknown_ids": [555555, 910004]}
    quarantine = tables(release, "quarantine").filter(pl.col("source") == "movies_metadata.csv")
    reasons = quarantine.filter(pl.col("raw_id").is_in(["910001", "910002", "910003", "xyz"]))["reason"]
    assert sorted(reasons) == ["duplicate id", "invalid id", "invalid release_date", "unparseable genres"]
    # The broken base record went with its id, both halves: nothing is left to rejoin nor ragged.
    assert tables(base, "quarantine").filter(pl.col("outcome") == "repaired").height == 2
    assert quarantine.filter(pl.col("outcome") == "repaired").height == 0
    assert quarantine.filter(pl.col("reason").str.starts_with("malformed")).height == 0
    assert quarantine.filter(pl.col("raw_id") == "abc").height == 1
    # The next ingest merges into this release's own raw inputs, kept compressed.
    assert (
        sorted(manifest["raw"])
        == sorted(p.name for p in (release / "raw").iterdir())
        == [
            "credits.csv.gz",
            "keywords.csv.gz",
            "links.csv.gz",
            "movies_metadata.csv.gz",
            "ratings_small.csv.gz",
            "titles.csv.gz",
        ]
    )
    assert json.loads((release / "manifest.json").read_text())["ingest"] == summary


@pytest.mark.slow
def test_ingest_equals_an_independent_merge(tmp_path: Path, sample_raw: Path, sample_data: Path) -> None:
    """The whole sample with 30 films changed, 20 added (columns in another order) and 10 deleted:
    the release's tables equal the ETL of the same merge done here with the csv module."""
    data = copy_data(sample_data, tmp_path / "data")  # the sample's release, as publish builds it
    files = {name: sample_rows(sample_raw, name) for name in ("movies_metadata.csv", "credits.csv", "keywords.csv")}
    movies = files["movies_metadata.csv"]
    id_at, title_at, pop_at = (COLUMNS.index(c) for c in ("id", "title", "popularity"))
    changed = [[*row[:title_at], f"{row[title_at]} (remasterizada)", *row[title_at + 1 :]] for row in movies[1:31]]
    changed = [[*row[:pop_at], "77.25", *row[pop_at + 1 :]] for row in changed]
    new_ids = {row[id_at]: str(5_000_000 + n) for n, row in enumerate(movies[100:120])}
    added = [[new_ids[row[id_at]] if i == id_at else value for i, value in enumerate(row)] for row in movies[100:120]]
    deleted = [row[id_at] for row in movies[200:210]]
    batch_movies = changed + added

    def renamed(name: str, at: int) -> list[list[str]]:
        return [[*row[:at], new_ids[row[at]], *row[at + 1 :]] for row in files[name][1:] if row[at] in new_ids]

    batch = {
        "movies_metadata.csv": batch_movies,
        "credits.csv": renamed("credits.csv", 2),
        "keywords.csv": renamed("keywords.csv", 0),
    }
    folder = tmp_path / "batch"
    folder.mkdir()
    reversed_header = movies[0][::-1]  # the batch's columns in another order than the base's
    (folder / "movies_metadata.csv").write_text(csv_text([reversed_header, *(r[::-1] for r in batch_movies)]))
    for name in ("credits.csv", "keywords.csv"):
        (folder / name).write_text(csv_text([files[name][0], *batch[name]]))
    (folder / "deleted_ids.txt").write_text("\n".join(deleted) + "\n")
    manifest = ingest(folder, data, Settings(data_dir=data, **SETTINGS))
    assert manifest is not None

    expected_raw = tmp_path / "expected-raw"
    expected_raw.mkdir()
    for name, rows in files.items():
        at = rows[0].index("id")
        gone = {r[at].strip() for r in batch[name]} | set(deleted)
        kept = [r for r in rows[1:] if r[at].strip() not in gone] + [r for r in batch[name] if r[at] not in deleted]
        (expected_raw / name).write_text(csv_text([rows[0], *kept]))
    run_etl(expected_raw, tmp_path / "expected")
    release = ReleaseStore(data).current()
    assert release is not None
    for table in ("movies", "genres", "companies", "keywords", "cast", "crew"):
        assert tables(release, table).equals(pl.read_parquet(tmp_path / "expected" / f"{table}.parquet")), table
    assert manifest["tables"]["movies"] == 2993 - 10 + 20
    assert manifest["ingest"]["files"]["movies_metadata.csv"] == {
        "batch_records": 50,
        "added": 20,
        "updated": 30,
        "removed": 10,
        "rejected": 0,
        "rejected_ids": [],
        "quarantined": 0,
        "repaired": 0,
    }


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"movies_metadata.csv": "adult,id\nFalse,1\n"}, "movies_metadata.csv: missing columns belongs_to_collection"),
        ({"movies_metadata.csv.gz": "this is not gzip"}, "movies_metadata.csv.gz: not a valid gzip file"),
        (
            {"movies_metadata.csv": csv_text([COLUMNS]), "credits.csv": "cast,id\n[],1\n"},
            "credits.csv: missing columns crew",
        ),
        (
            {"movies_metadata.csv": csv_text([COLUMNS]), "deleted_ids.txt": "12\nDune\n"},
            "deleted_ids.txt line 2: 'Dune' is not a TMDB id",
        ),
        (
            {"keywords.csv": "id,keywords\n1,[]\n"},
            "expected movies_metadata.csv[.gz|.zip], titles.csv[.gz|.zip] or deleted_ids.txt",
        ),
    ],
)
def test_a_bad_batch_publishes_nothing(data: Path, tmp_path: Path, files: dict[str, str], message: str) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    before = sorted(p.name for p in (data / "releases").iterdir())
    current = ReleaseStore(data).current()
    result = CliRunner().invoke(app, ["ingest", str(folder), "--data", str(data)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert sorted(p.name for p in (data / "releases").iterdir()) == before  # no release, no debris
    assert ReleaseStore(data).current() == current


def test_an_empty_batch_publishes_nothing(data: Path, tmp_path: Path) -> None:
    folder = write_batch(tmp_path / "batch", [COLUMNS])
    before = sorted(p.name for p in (data / "releases").iterdir())
    result = CliRunner().invoke(app, ["ingest", str(folder), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "nothing published" in result.output
    assert sorted(p.name for p in (data / "releases").iterdir()) == before


def test_cli_ingest_reports_the_counts(data: Path, tmp_path: Path) -> None:
    folder = write_batch(tmp_path / "batch", [COLUMNS, batch_movie("920001", "Otra Nueva")], deleted="900003\n")
    result = CliRunner().invoke(app, ["ingest", str(folder), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "published release" in result.output
    printed = json.loads(result.output[result.output.index("{") :])
    assert printed["files"]["movies_metadata.csv"]["added"] == 1
    assert printed["deleted_ids"]["removed"] == 1


def test_records_are_written_back_as_read(tmp_path: Path, sample_raw: Path) -> None:
    """Every record of the real sample and of a file with dirt, read by the ETL's reader, written,
    and read again: the same fields, the same ragged records, in the same order."""
    dirty = (
        csv_text([COLUMNS, batch_movie("1", "Say \"Hi\", 'you'", overview="two\nlines")])
        + broken_record(batch_movie("2", "Broken"))
        + csv_text([["False", "", "a lone ragged record"], batch_movie("3", "Last", overview="x\r\ny")])
    )
    inputs = [
        (sample_raw / f"{n}.gz", gzip.decompress((sample_raw / f"{n}.gz").read_bytes()), c)
        for n, c in (
            ("movies_metadata.csv", MOVIES_COLUMNS),
            ("credits.csv", CREDITS_COLUMNS),
            ("keywords.csv", KEYWORDS_COLUMNS),
        )
    ]
    inputs.append((tmp_path / "movies_metadata.csv", dirty.encode(), MOVIES_COLUMNS))
    for path, data, columns in inputs:
        records = read_records(data, path, columns, rejoin=True)
        out = io.BytesIO()
        write_records(out, records.header, [records])
        again, first = read_table(out.getvalue(), path, columns), read_table(data, path, columns)
        assert again.frame.drop("_line").equals(first.frame.drop("_line")), path
        assert [(r.record, r.fields()) for r in again.ragged] == [(r.record, r.fields()) for r in first.ragged], path
    dirty_records = read_records(dirty.encode(), tmp_path / "movies_metadata.csv", MOVIES_COLUMNS, rejoin=True)
    assert [r.key for r in dirty_records.ragged] == [2, 2, None]  # both halves of film 2


def test_backfilled_spanish_titles_reach_the_release(data: Path, tmp_path: Path) -> None:
    """`tmdb-sync --titles` against the fake TMDB (translations and alternative titles in the real
    shape) for the 5 most voted films without titles, then `ingest` of that titles-only batch."""
    from tests.fake_tmdb import FakeTmdb, expected_spanish, make_movie, spanish_titles

    from movierec.refresh.tmdb_titles import backfill

    base = ReleaseStore(data).current()
    assert base is not None
    films = tables(base, "movies")
    titled = set(tables(base, "titles")["movie_id"])
    assert titled == {862, 8844, 900003}
    ranked = sorted(((-votes, i) for i, votes in films.select("id", "vote_count").iter_rows() if i not in titled))
    wanted = [i for _, i in ranked[:5]]
    with FakeTmdb() as fake:
        for i in films["id"]:
            fake.movies[i] = {**make_movie(i), **spanish_titles(i)}
        result = backfill(
            data,
            tmp_path / "titles",
            limit=5,
            settings=Settings(data_dir=data),
            api_key="v3-test-key",
            base_url=fake.url,
            progress=False,
        )
    assert (result.fetched, result.titles) == (5, 15)
    assert sorted(int(r.path.rsplit("/", 1)[1]) for r in fake.requests) == sorted(wanted)
    manifest = ingest(tmp_path / "titles", data, Settings(data_dir=data, **SETTINGS))
    assert manifest is not None
    release = ReleaseStore(data).current()
    assert release is not None and release != base
    assert sorted(tables(release, "titles").rows()) == sorted(
        [*tables(base, "titles").rows(), *(row for i in wanted for row in expected_spanish(i))]
    )
    assert manifest["ingest"]["files"]["titles.csv"]["added"] == 5  # type: ignore[index]
    assert tables(release, "movies").equals(films)
    # and the answers: a Spanish title finds its film (any case, without accents), which is shown
    # with Spain's title; /health counts the films with one
    from fastapi.testclient import TestClient

    from movierec.api.app import create_app

    first = wanted[0]
    title = films.filter(pl.col("id") == first)["title"][0]
    with TestClient(create_app(data, Settings(data_dir=data))) as api:
        body = api.get(f"/score_titulo/LA PELICULA {first}").json()
        assert (body["id"], body["titulo"], body["titulo_es"]) == (first, title, f"La peli «{first}», ¿no?")
        assert api.get(f"/votos_titulo/Película n.º {first}").json()["id"] == first
        assert api.get("/health").json()["titulos_es"] == len(titled) + 5
