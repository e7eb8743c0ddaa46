"""The Spark engine of the collaborative stage: equal to the local engine on the real sample
(co-like table, supports, validation likes, counts; then the published neighbours), both equal
to a brute-force oracle on a tiny fixture (ties and the per-user cap included), the split, bad
files, and `--engine spark` from the command line. One local Spark session serves every test."""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from movierec.cli import app
from movierec.config import Settings
from movierec.model import train as train_module
from movierec.model.cf import COLIKES_SCHEMA
from movierec.model.collaborative import COLIKES, STAGE, SUPPORT, VALIDATION, fit_collaborative, read_table, write_stage
from movierec.model.spark_cf import run_stage
from movierec.model.train import read_catalogue, train
from movierec.protocol.split import training_users
from movierec.raw.files import InputError
from movierec.raw.ratings import like_rows, read_likes

# ----------------------------------------------------------------------------------------------
# A tiny fixture and its brute-force oracle
# ----------------------------------------------------------------------------------------------

CATALOGUE_IDS = [300, 100, 500, 200, 400, 600, 700]  # row order differs from id order
# MovieLens 1..7 -> TMDB 100..700; 8 -> 100 too (two MovieLens films, one TMDB film);
# 9 has no TMDB id; 10 is a film outside the catalogue
LINKS = {1: 100, 2: 200, 3: 300, 4: 400, 5: 500, 6: 600, 7: 700, 8: 100, 9: None, 10: 999}
CAP, NEIGHBOURS, TUNING_USERS = 3, 2, 3  # the fixture's 5 validation users: 3 make the tuning sample


def fixture_ratings() -> list[tuple[int, int, float, int]]:
    """25 users (5, 10, … evaluate; 1, 6, … validate), timestamps from 0 to 3 so that many
    likes tie in time, ratings around the like threshold."""
    rng = np.random.default_rng(2)
    rows = []
    for user in range(1, 26):
        for movie in rng.choice(np.arange(1, 11), size=int(rng.integers(2, 10)), replace=False):
            rows.append((user, int(movie), float(rng.choice([2.0, 3.5, 4.0, 4.5, 5.0])), int(rng.integers(0, 4))))
    return rows


def write_fixture(folder: Path, ratings: list[tuple[int, int, float, int]], kind: str = "plain") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "links.csv").write_text(
        "movieId,imdbId,tmdbId\n" + "".join(f"{m},{m},{'' if t is None else t}\n" for m, t in LINKS.items())
    )
    text = ("userId,movieId,rating,timestamp\n" + "".join(f"{u},{m},{r},{t}\n" for u, m, r, t in ratings)).encode()
    if kind == "gz":
        (folder / "ratings.csv.gz").write_bytes(gzip.compress(text))
    elif kind == "zip":
        with zipfile.ZipFile(folder / "ratings.csv.zip", "w") as archive:
            archive.writestr("ratings.csv", text)
    else:
        (folder / "ratings.csv").write_bytes(text)
    return folder


def oracle(ratings: list[tuple[int, int, float, int]], alpha: float, shrink: float) -> dict[str, Any]:
    """The contract computed by brute force from the definitions, with exact rational scores for
    the ranking (alpha 1: co / (n_i + s); alpha 0.5: its square co² / ((n_i + s)(n_j + s)))."""
    row = {film: r for r, film in enumerate(CATALOGUE_IDS)}
    latest: dict[tuple[int, int], int] = {}
    for user, movie, rating, time in ratings:
        film = LINKS.get(movie)
        if user % 5 == 0 or rating < 4 or film not in row:
            continue
        latest[(user, film)] = max(latest.get((user, film), time), time)
    per_user: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for (user, film), time in latest.items():
        per_user[user].append((-time, row[film], film))
    capped = {user: [film for _, _, film in sorted(likes)[:CAP]] for user, likes in per_user.items()}
    validating = sorted({u for (u, _) in latest if u % 5 == 1}, key=lambda u: ((u * 48_271) % 2_147_483_647, u))
    sample = set(validating[:TUNING_USERS])
    out: dict[str, Any] = {
        "validation": sorted((u, f) for (u, f) in latest if u in sample),
        "colikes": [],
        "support": [],
        "counts": {},
    }
    s = Fraction(shrink)
    for signal, users in (("fit", [u for u in capped if u % 5 != 1]), ("training", list(capped))):
        support = Counter(film for user in users for film in capped[user])
        co = Counter((a, b) for user in users for a in capped[user] for b in capped[user] if a != b)
        for a in sorted(support):

            def exact(pair: tuple[int, int], a: int = a, support: Counter = support) -> Fraction:
                b, count = pair
                return (
                    Fraction(count) / (support[a] + s)
                    if alpha == 1
                    else Fraction(count) ** 2 / ((support[a] + s) * (support[b] + s))
                )

            pairs = [(b, count) for (x, b), count in co.items() if x == a]
            ranked = sorted(pairs, key=lambda pair: (-exact(pair), row[pair[0]]))[:NEIGHBOURS]
            for rank, (b, count) in enumerate(ranked, 1):
                score = count / ((support[a] + shrink) ** alpha * (support[b] + shrink) ** (1 - alpha))
                out["colikes"].append((signal, a, rank, b, count, score))
        out["support"] += [(signal, film, n) for film, n in sorted(support.items())]
        out["counts"][signal] = {"users": len(users), "likes": sum(len(capped[u]) for u in users)}
    return out


def colikes_table(folder: Path) -> pl.DataFrame:
    """The contract's co-like table in its declared types, sorted (signal, movie_id, rank)."""
    frame = read_table(folder, COLIKES)
    return frame.select(pl.col("signal").cast(pl.String), *(pl.col(c).cast(t) for c, t in COLIKES_SCHEMA.items())).sort(
        "signal", "movie_id", "rank"
    )


def contract(folder: Path) -> dict[str, Any]:
    """A contract folder (either engine's) in the oracle's shape."""
    stage = json.loads((folder / STAGE).read_text())
    return {
        "validation": sorted(read_table(folder, VALIDATION).select("user_id", "movie_id").rows()),
        "colikes": colikes_table(folder).rows(),
        "support": read_table(folder, SUPPORT).sort("signal", "movie_id").rows(),
        "counts": {s: stage[s] for s in ("fit", "training")},
    }


def assert_same(got: dict[str, Any], expected: dict[str, Any]) -> None:
    assert got["validation"] == expected["validation"]
    assert got["support"] == expected["support"]
    assert got["counts"] == expected["counts"]
    assert [row[:5] for row in got["colikes"]] == [row[:5] for row in expected["colikes"]]  # ids, ranks, counts
    assert (
        np.abs(np.array([r[5] for r in got["colikes"]]) - np.array([r[5] for r in expected["colikes"]])).max() <= 1e-9
    )


def params(alpha: float, shrink: float) -> dict[str, Any]:
    return {"alpha": alpha, "shrink": shrink, "neighbours": NEIGHBOURS, "max_likes_per_user": CAP}


ROW_INDEX = pl.DataFrame(
    {"id": CATALOGUE_IDS, "row": range(len(CATALOGUE_IDS))}, schema={"id": pl.Int64, "row": pl.Int64}
)


def local_contract(raw: Path, name: str, p: dict[str, Any], out: Path) -> dict[str, Any]:
    likes = like_rows(read_likes(raw / name, raw / "links.csv", training_users), ROW_INDEX)
    write_stage(fit_collaborative(likes, ROW_INDEX.height, p), out, np.array(CATALOGUE_IDS))
    return contract(out)


def test_the_fixture_has_ties_and_caps() -> None:
    """The oracle tests below mean something only if the cap and the ties bite."""
    ratings = fixture_ratings()
    latest: dict[tuple[int, int], int] = {}
    for user, movie, rating, time in ratings:
        if user % 5 and rating >= 4 and LINKS.get(movie) in CATALOGUE_IDS:
            key = (user, LINKS[movie])  # type: ignore[index]
            latest[key] = max(latest.get(key, time), time)
    times: dict[int, list[int]] = defaultdict(list)
    for (user, _), time in latest.items():
        times[user].append(time)
    newest = [sorted(t, reverse=True) for t in times.values()]
    assert any(len(t) > CAP for t in newest)  # some users lose likes to the cap
    # and for some, the last kept and the first dropped like share a timestamp: the row decides
    assert any(len(t) > CAP and t[CAP - 1] == t[CAP] for t in newest)
    # a user liked MovieLens 1 and 8, both TMDB 100, at different times
    assert any(
        u % 5
        and {(m, time) for uu, m, r, time in ratings if uu == u and m in (1, 8) and r >= 4}
        and len({time for uu, m, r, time in ratings if uu == u and m in (1, 8) and r >= 4}) == 2
        for u in range(1, 26)
    )
    expected = oracle(ratings, 1.0, 2.0)
    counts = defaultdict(list)
    for signal, film, _, _, count, _ in expected["colikes"]:
        counts[(signal, film)].append(count)
    assert any(len(c) == NEIGHBOURS and c[0] == c[1] for c in counts.values())  # tied neighbours
    assert {s for s, *_ in expected["colikes"]} == {"fit", "training"}


@pytest.fixture()
def small_tuning_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    from movierec.model import collaborative, spark_cf

    for module in (collaborative, spark_cf):
        monkeypatch.setattr(module, "MAX_TUNING_USERS", TUNING_USERS)


@pytest.mark.parametrize(
    ("kind", "evaluation_users", "alpha", "shrink"), [("plain", True, 1.0, 2.0), ("zip", False, 0.5, 1.0)]
)
@pytest.mark.usefixtures("small_tuning_sample")
def test_both_engines_equal_a_brute_force_oracle(
    spark: Any, tmp_path: Path, kind: str, evaluation_users: bool, alpha: float, shrink: float
) -> None:
    """Both engines equal the oracle of the whole fixture — also when the file lacks the
    evaluation users' ratings: they never reach the stage, whatever the file holds."""
    ratings = fixture_ratings()
    raw = write_fixture(tmp_path / "raw", [r for r in ratings if evaluation_users or r[0] % 5], kind)
    name = {"plain": "ratings.csv", "zip": "ratings.csv.zip"}[kind]
    expected = oracle(ratings, alpha, shrink)
    assert_same(local_contract(raw, name, params(alpha, shrink), tmp_path / "local"), expected)
    run_stage(spark, raw / name, raw / "links.csv", ROW_INDEX, params(alpha, shrink), tmp_path / "spark")
    got = contract(tmp_path / "spark")
    assert_same(got, expected)
    assert {user % 5 for user, _ in got["validation"]} == {1}
    assert not list((tmp_path / "spark").glob(".movierec-*"))  # the zip's copy is removed


def test_spark_wrong_columns_are_input_errors(spark: Any, tmp_path: Path) -> None:
    raw = write_fixture(tmp_path / "raw", fixture_ratings())
    (raw / "ratings.csv").write_text("userId,movieId,stars,timestamp\n1,1,4.0,0\n")
    with pytest.raises(InputError, match=r"^ratings.csv: missing columns rating \(found: userId, movieId, stars, "):
        run_stage(spark, raw / "ratings.csv", raw / "links.csv", ROW_INDEX, params(1.0, 2.0), tmp_path / "out")
    (raw / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,0\nx,2,4.0,0\n")
    with pytest.raises(InputError, match=r"^ratings\.csv: unreadable values"):
        run_stage(spark, raw / "ratings.csv", raw / "links.csv", ROW_INDEX, params(1.0, 2.0), tmp_path / "out")


# ----------------------------------------------------------------------------------------------
# The real sample: Spark equals local, and so do the published neighbours
# ----------------------------------------------------------------------------------------------


def test_spark_engine_equals_local_on_the_real_sample(
    spark: Any,
    sample_raw: Path,
    sample_data: Path,
    sample_tables: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept: list[Path] = []
    read_stage = train_module.read_stage

    def keep_a_copy(folder: Path, *args: Any) -> Any:  # the contract folder is removed after reading
        shutil.copytree(folder, tmp_path / "spark-contract")
        kept.append(tmp_path / "spark-contract")
        return read_stage(folder, *args)

    monkeypatch.setattr(train_module, "read_stage", keep_a_copy)
    settings = Settings(data_dir=tmp_path)
    model = train(sample_tables, tmp_path / "model", settings, raw_dir=sample_raw, engine="spark")
    assert kept and not (tmp_path / "model" / ".collaborative").exists()

    catalogue = read_catalogue(sample_tables)
    likes = like_rows(
        read_likes(sample_raw / "ratings_small.csv.gz", sample_raw / "links.csv.gz", training_users),
        catalogue.row_index(),
    )
    from movierec.model.estimator import NeighbourRecommender

    cf_params = NeighbourRecommender().cf_params()
    write_stage(fit_collaborative(likes, catalogue.movies.height, cf_params), tmp_path / "local", catalogue.ids)
    local, spark_stage = contract(tmp_path / "local"), contract(kept[0])
    assert len(local["colikes"]) > 100_000 and len(local["validation"]) > 4_000
    assert_same(spark_stage, local)
    assert max(r[5] for r in local["colikes"]) > 0.5  # real scores, not zeros

    published = sample_data / "current"
    manifest = json.loads((published / "manifest.json").read_text())["model"]
    for artifact in ("neighbours.parquet", "colikes.parquet"):
        assert pl.read_parquet(tmp_path / "model" / artifact).equals(pl.read_parquet(published / "model" / artifact))
    assert model["engine"] == "spark" and model["cf"]["engine"] == "spark"  # type: ignore[index]
    same = ("training_users", "likes", "films_with_likes", "ratings")
    assert {k: model["cf"][k] for k in same} == {k: manifest["cf"][k] for k in same}  # type: ignore[index]
    assert model["weights"] == manifest["weights"] and model["tuning"] == manifest["tuning"]
    assert "co-likes (spark)" in model["steps"]  # type: ignore[operator]


def test_cli_train_with_the_spark_engine(spark: Any, sample_data: Path, tmp_path: Path) -> None:
    """`movierec train --engine spark` publishes a release whose model came from Spark (here on
    the tiny fixture's ratings, linked to films of the sample)."""
    data = tmp_path / "data"
    release = (sample_data / "current").resolve()
    copy = data / "releases" / release.name
    shutil.copytree(release, copy)
    (data / "current").symlink_to(copy.relative_to(data))
    raw = write_fixture(tmp_path / "raw", fixture_ratings(), "gz")  # Spark reads .gz itself
    # the fixture's TMDB ids 100 … 700 become sample films
    sample_ids = pl.read_parquet(copy / "tables" / "movies.parquet", columns=["id"])["id"].head(7).to_list()
    (raw / "links.csv").write_text(
        "movieId,imdbId,tmdbId\n"
        + "".join(f"{m},{m},{sample_ids[(t // 100) - 1] if t and t < 999 else ''}\n" for m, t in LINKS.items())
    )
    result = CliRunner().invoke(app, ["train", "--data", str(data), "--raw", str(raw), "--engine", "spark"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(((data / "current").resolve() / "manifest.json").read_text())
    assert manifest["model"]["engine"] == "spark" and manifest["model"]["cf"]["ratings"] == "ratings.csv.gz"
    liked = {(u, LINKS[m]) for u, m, r, _ in fixture_ratings() if u % 5 and r >= 4 and LINKS[m] in CATALOGUE_IDS}
    assert manifest["model"]["cf"]["likes"] == len(liked)  # nobody reaches the cap of 500
    bad = CliRunner().invoke(app, ["train", "--data", str(data), "--engine", "hadoop"])
    assert bad.exit_code == 2 and "hadoop" in bad.output


def test_without_pyspark_the_spark_engine_stops_with_one_line(
    sample_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # as if the spark extra were not installed
    data = tmp_path / "data"
    release = (sample_data / "current").resolve()
    shutil.copytree(release, data / "releases" / release.name)
    (data / "current").symlink_to(Path("releases") / release.name)
    result = CliRunner().invoke(app, ["train", "--data", str(data), "--engine", "spark"])
    assert result.exit_code == 2
    assert (
        result.output.strip().splitlines()[-1]
        == "error: --engine spark needs PySpark: pip install 'movierec[spark]' (and Java 17+)"
    )
    assert (data / "current").resolve().name == release.name  # nothing published


def test_cli_pipeline_passes_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from movierec import pipeline

    called: dict[str, Any] = {}

    def publish(raw: Path, data: Path, settings: Settings, **options: Any) -> dict[str, Any]:
        called.update(options)
        return {"release": "r", "tables": {}}

    monkeypatch.setattr(pipeline, "publish", publish)
    result = CliRunner().invoke(app, ["pipeline", "--raw", str(tmp_path), "--data", str(tmp_path), "--engine", "spark"])
    assert result.exit_code == 0, result.output
    assert called == {"allow_shrink": False, "engine": "spark"}
