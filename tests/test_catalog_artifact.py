"""The catalog artifact: mapped from disk it answers exactly as the catalog built in memory, its hash
tables survive colliding keys, and a damaged or mismatched artifact is refused or rebuilt."""

from __future__ import annotations

import json
import mmap
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from movierec.api.answers import Answers
from movierec.api.errors import ApiError
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
    directors = (
        pl.read_parquet(release / "tables" / "crew.parquet", columns=["name", "job"])
        .filter(pl.col("job") == "Director")["name"]
        .unique()
        .sort()
    )
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


@pytest.mark.slow
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


def test_a_damaged_artifact_is_refused_and_a_mismatched_one_rebuilt(
    sample_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    release = tmp_path / "release"
    shutil.copytree((sample_data / "current").resolve(), release)
    data = release / "catalog" / DATA
    whole = data.read_bytes()
    data.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(ReleaseError, match=r"catalog artifact of release is unusable: .*array"):
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


def personal_answers(answers: Answers, release: Path) -> list[bytes]:
    """`/recomendacion_usuario` for every 11th film alone and for a few lists of films."""
    ids = pl.read_parquet(release / "tables" / "movies.parquet", columns=["id"])["id"].to_list()
    queries = [[str(i)] for i in ids[::11]] + [[str(i) for i in ids[start : start + 7]] for start in range(0, 700, 70)]
    return [answers.personal([], query) for query in queries]


def test_the_personal_index_is_served_from_the_artifact_alone(sample_data: Path, tmp_path: Path) -> None:
    """The published artifact holds the personal scorer's arrays: a release whose model files are
    gone answers `/recomendacion_usuario` as the original does, mapped, without polars; an artifact
    published before those arrays existed is answered from the model files, the same way."""
    original = (sample_data / "current").resolve()
    want = personal_answers(Answers(load_catalog(original, Settings()), Settings()), original)
    assert len(want) > 280 and all(json.loads(body)["peliculas"] for body in want)

    bare = tmp_path / "bare"
    shutil.copytree(original, bare)
    shutil.rmtree(bare / "model")
    catalog = load_catalog(bare, Settings())
    assert isinstance(catalog.arrays["personal_cols"].base.obj, mmap.mmap)
    assert personal_answers(Answers(catalog, Settings()), original) == want

    older = tmp_path / "older"
    shutil.copytree(original, older)
    meta = json.loads((older / "catalog" / META).read_text())
    meta.pop("personal")
    meta["arrays"] = {name: spec for name, spec in meta["arrays"].items() if not name.startswith("personal_")}
    (older / "catalog" / META).write_text(json.dumps(meta))
    assert personal_answers(Answers(load_catalog(older, Settings()), Settings()), original) == want
    shutil.rmtree(older / "model")  # an older serving-only archive: no personal picks, an empty answer
    assert load_catalog(older, Settings()).personal([0]) == []


@pytest.mark.slow
def test_a_personal_request_imports_neither_polars_nor_scipy(sample_data: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from movierec.api.answers import Answers; "
        "from movierec.catalog.indexes import load_catalog; from movierec.config import Settings; "
        "import movierec.api.app; "
        f"a = Answers(load_catalog(Path({str((sample_data / 'current').resolve())!r}), Settings()), Settings()); "
        "body = a.personal(['Toy Story', 'Heat (1995)'], []); "
        "print(len(body) > 500, 'polars' in sys.modules, 'scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False", "False"]
