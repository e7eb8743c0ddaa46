"""The catalog artifact: mapped from disk it answers exactly as the catalog built in memory, its hash
tables survive colliding keys, and a damaged or mismatched artifact is refused or rebuilt."""

from __future__ import annotations

import json
import mmap
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from movierec.api.answers import Answers, ApiError
from movierec.catalog import keys
from movierec.catalog.artifact import DATA, META
from movierec.catalog.build import build_arrays
from movierec.catalog.indexes import Catalog, ReleaseError, load_catalog
from movierec.catalog.keys import IdIndex, KeyIndex
from movierec.config import Settings
from movierec.release.layout import read_manifest


def every_answer(answers: Answers, release: Path) -> list[bytes]:
    movies = pl.read_parquet(release / "tables" / "movies.parquet", columns=["id", "title", "release_year"])
    names = pl.read_parquet(release / "tables" / "cast.parquet", columns=["name"])["name"].unique().sort()
    directors = pl.read_parquet(release / "tables" / "crew.parquet", columns=["name", "job"]).filter(
        pl.col("job") == "Director")["name"].unique().sort()
    out = []

    def put(call, *args: str) -> None:  # type: ignore[no-untyped-def]
        try:
            out.append(call(*args))
        except ApiError as exc:
            out.append(json.dumps([exc.status, exc.body]).encode())

    for film_id, title, year in movies.rows():
        put(answers.recommend_id, str(film_id))
        if title and title.strip():
            put(answers.score, title, str(year) if year else "")
            put(answers.votes, title)
            put(answers.recommend_title, title)
    for name in names.to_list()[::7]:
        put(answers.actor, name)
    for name in directors.to_list():
        put(answers.director, name)
    for text in ("Toy Stori", "star wa", "Tom Hnaks", "zzzz"):
        put(answers.score, text)
        put(answers.actor, text)
    return out


def test_the_mapped_artifact_answers_as_the_catalog_built_in_memory(sample_data: Path) -> None:
    release = (sample_data / "current").resolve()
    assert (release / "catalog" / DATA).is_file()
    mapped = load_catalog(release, Settings())
    arrays, meta = build_arrays(release, 5)
    built = Catalog(version=mapped.version, manifest=read_manifest(release) or {}, arrays=arrays, meta=meta)
    assert isinstance(mapped.arrays["film_id"].base.obj, mmap.mmap)  # a view of the file, not a copy
    mapped_answers = every_answer(Answers(mapped, Settings()), release)
    assert len(mapped_answers) > 10_000
    assert mapped_answers == every_answer(Answers(built, Settings()), release)


def test_look_ups_survive_keys_that_all_collide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "_key_slot", lambda key, mask: 3 & mask)
    monkeypatch.setattr(keys, "_id_slot", lambda value, mask: 5 & mask)
    words = ["toy story", "heat", "amélie", "", "x" * 300]
    index = KeyIndex.from_arrays(KeyIndex.pack(words, [[i, i + 10] for i in range(len(words))]))
    assert [index.find(w) for w in words] == list(range(len(words)))
    assert [index.members(i) for i in range(len(words))] == [[i, i + 10] for i in range(len(words))]
    assert index.find("heat ") is None and "alien" not in index
    ids = IdIndex.from_arrays(IdIndex.pack(np.array([862, 8844, 2**62, 862])))
    assert [ids.row(i) for i in (862, 8844, 2**62, 7)] == [0, 1, 2, None]  # a repeated id finds its first row


def test_a_damaged_artifact_is_refused_and_a_mismatched_one_rebuilt(sample_data: Path, tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    release = tmp_path / "release"
    shutil.copytree((sample_data / "current").resolve(), release)
    data = release / "catalog" / DATA
    whole = data.read_bytes()
    data.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(ReleaseError, match="catalog artifact of release is unusable: .*array"):
        load_catalog(release, Settings())
    data.write_bytes(whole)
    meta = json.loads((release / "catalog" / META).read_text())
    (release / "catalog" / META).write_text(json.dumps({**meta, "format": 99}))
    with pytest.raises(ReleaseError, match="is not format 1"):
        load_catalog(release, Settings())
    (release / "catalog" / META).write_text(json.dumps(meta))
    seven = load_catalog(release, Settings(recommendations=7))  # built for 5: indexed in memory instead
    assert "building it in memory" in caplog.text
    row = seven.find_title("Toy Story")
    assert row is not None and len(seven.recommend(row)) == 7
