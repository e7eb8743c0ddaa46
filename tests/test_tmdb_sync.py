"""tmdb-sync against a scripted fake TMDB on loopback (tests/fake_tmdb.py); no real network.

The batch is checked the way production reads it: the project's ETL parses the written files and
its tables must equal, cell by cell, what the fake server served.
"""

from __future__ import annotations

import ast
import csv
import email.utils
import gzip
import io
import itertools
import json
import logging
import socket
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.fake_tmdb import INVALID_KEY, FakeTmdb, Reply, make_movie
from tests.tmdb_expected import expected_tables, kaggle_nested, ordered, parsed_tables

from movierec.etl.run import run_etl
from movierec.raw.files import MOVIES_COLUMNS as ETL_MOVIES_COLUMNS
from movierec.refresh import kaggle_format as kf
from movierec.refresh.tmdb import RetryPolicy, SyncResult, TmdbError, sync

csv.field_size_limit(sys.maxsize)

UNTIL = date(2024, 5, 31)
KEY = "v3-test-key"
FAST = RetryPolicy(attempts=3, wait_initial=0.01, wait_max=0.05, wait_jitter=0.0)
BATCH_FILES = [
    "credits.csv",
    "deleted_ids.txt",
    "failed_ids.txt",
    "keywords.csv",
    "movies_metadata.csv",
    "sync.json",
    "titles.csv",
]


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    monkeypatch.delenv("MOVIEREC_TMDB_URL", raising=False)


@pytest.fixture
def fake() -> Any:
    with FakeTmdb(api_key=KEY) as server:
        yield server


def run(fake: FakeTmdb, out: Path, *, since: date = UNTIL - timedelta(days=3), **options: Any) -> SyncResult:
    options = {"until": UNTIL, "api_key": KEY, "base_url": fake.url, "progress": False, "retry": FAST, **options}
    return sync(since, out, **options)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------- change lists


def test_windows_of_14_days_pages_and_a_500_on_the_change_list(tmp_path: Path) -> None:
    since = UNTIL - timedelta(days=40)
    fake = FakeTmdb(api_key=KEY, page_size=10)  # small pages keep the test fast
    for i in range(1, 26):  # 25 ids in the first window: pages 1, 2 and 3
        fake.add(make_movie(i), since + timedelta(days=i % 14))
    for i in range(26, 31):
        fake.add(make_movie(i), date(2024, 5, 10))
    fake.changes.append((date(2024, 5, 30), 7, False))  # changed again later: fetched once
    fake.script["/movie/changes"] = [Reply(500)]

    with fake:
        result = run(fake, tmp_path / "batch", since=since)

    spans = [
        (date(2024, 4, 21), date(2024, 5, 4)),
        (date(2024, 5, 5), date(2024, 5, 18)),
        (date(2024, 5, 19), date(2024, 5, 31)),
    ]
    assert result.windows == tuple(spans)
    asked = sorted(
        (r.query["start_date"], r.query["end_date"], int(r.query["page"]), r.status)
        for r in fake.seen("/movie/changes")
    )
    ok = [
        (a.isoformat(), b.isoformat(), page, 200)
        for (a, b), page in [(spans[0], 1), (spans[0], 2), (spans[0], 3), (spans[1], 1), (spans[2], 1)]
    ]
    assert [a for a in asked if a[3] == 200] == ok
    assert [a[2:] for a in asked if a[3] == 500] == [(1, 500)]  # retried, then answered
    details = [r for r in fake.seen("/movie/") if r.path != "/movie/changes"]
    assert sorted(int(r.path.rsplit("/", 1)[1]) for r in details) == list(range(1, 31))
    assert {r.query["append_to_response"] for r in details} == {"credits,keywords,translations,alternative_titles"}
    assert (result.changed, result.adult_skipped, result.fetched, result.deleted, result.failed) == (30, 0, 30, 0, 0)
    report = json.loads((tmp_path / "batch" / "sync.json").read_text())
    assert report["windows"] == [[a.isoformat(), b.isoformat()] for a, b in spans]
    assert (report["since"], report["until"]) == ("2024-04-21", "2024-05-31")
    assert report["counts"] == {
        "changed": 30,
        "adult_skipped": 0,
        "fetched": 30,
        "deleted": 0,
        "failed": 0,
        "invalid_ids": 0,
        "retried": 0,
    }
    assert (report["complete"], report["budget_exhausted"], report["pages_capped"]) == (True, False, [])
    assert len(read_csv(tmp_path / "batch" / "movies_metadata.csv")) == 30


def test_a_change_list_that_keeps_failing_stops_the_sync(fake: FakeTmdb, tmp_path: Path) -> None:
    fake.script["/movie/changes"] = [Reply(503, body={"status_code": 11, "status_message": "Internal error."})] * 3
    with pytest.raises(TmdbError) as error:
        run(fake, tmp_path / "batch")
    assert str(error.value) == (
        "TMDB /movie/changes (2024-05-28..2024-05-31, page 1) answered HTTP 503: Internal error."
    )
    assert len(fake.seen("/movie/changes")) == 3
    assert not (tmp_path / "batch").exists()


# ---------------------------------------------------------------- the batch, parsed back


@pytest.mark.slow
def test_the_batch_parses_back_to_what_tmdb_served(fake: FakeTmdb, tmp_path: Path) -> None:
    day = UNTIL - timedelta(days=1)
    served = [make_movie(i, cast=i % 4, crew=i % 3, keywords=i % 3) for i in range(1, 15)]
    for movie in served:
        fake.add(movie, day)
    fake.add(make_movie(20), day, adult=True)  # skipped from the change list, never fetched
    late_adult = {**make_movie(21), "adult": True}  # the change list did not know yet
    fake.add(late_adult, day, adult=None)
    fake.add(make_movie(22), day)
    fake.deleted.add(22)  # listed as changed, then gone: 404 with status_code 34
    out = tmp_path / "batch"

    result = run(fake, out)

    assert (result.changed, result.adult_skipped, result.fetched, result.deleted, result.failed) == (17, 2, 14, 1, 0)
    assert listing(out) == BATCH_FILES
    assert sorted(p.name for p in result.files) == BATCH_FILES
    assert "/movie/20" not in {r.path for r in fake.requests}
    assert (out / "deleted_ids.txt").read_text() == "22\n"
    assert (out / "failed_ids.txt").read_text() == ""

    headers = {name: list(read_csv(out / name)[0]) for name in ("movies_metadata.csv", "credits.csv", "keywords.csv")}
    assert headers == {
        "movies_metadata.csv": list(ETL_MOVIES_COLUMNS),
        "credits.csv": ["cast", "crew", "id"],
        "keywords.csv": ["id", "keywords"],
    }

    # Every nested cell is a Python literal with exactly the Kaggle keys, in the Kaggle order.
    by_id = {m["id"]: m for m in served}
    movies = {int(r["id"]): r for r in read_csv(out / "movies_metadata.csv")}
    credits = {int(r["id"]): r for r in read_csv(out / "credits.csv")}
    keywords = {int(r["id"]): r for r in read_csv(out / "keywords.csv")}
    assert sorted(movies) == sorted(credits) == sorted(keywords) == list(range(1, 15))
    for movie_id, movie in by_id.items():
        want = kaggle_nested(movie)
        cells = {
            **{
                k: movies[movie_id][k]
                for k in (
                    "belongs_to_collection",
                    "genres",
                    "production_companies",
                    "production_countries",
                    "spoken_languages",
                )
            },
            "cast": credits[movie_id]["cast"],
            "crew": credits[movie_id]["crew"],
            "keywords": keywords[movie_id]["keywords"],
        }
        got = {k: (ast.literal_eval(v) if v else None) for k, v in cells.items()}
        assert ordered(got) == ordered(want), movie_id
        row = movies[movie_id]
        assert (row["adult"], row["video"]) == ("False", "False")
        assert row["runtime"] == ("" if movie["runtime"] is None else f"{movie['runtime']}.0")
        assert row["homepage"] == movie["homepage"] and row["imdb_id"] == (movie["imdb_id"] or "")
        assert row["popularity"] == repr(movie["popularity"]) and row["vote_count"] == str(movie["vote_count"])

    # The project's ETL reads the batch and its tables equal what was served, cell by cell.
    report = run_etl(out, tmp_path / "tables")
    assert report["movies"]["kept"] == 14 and report["movies"]["quarantined"] == 0
    assert report["credits"]["kept"] == 14 and report["keywords"]["kept"] == 14
    assert parsed_tables(tmp_path / "tables") == expected_tables(served)


def test_one_film_is_written_exactly_as_the_kaggle_files_write_it(fake: FakeTmdb, tmp_path: Path) -> None:
    fake.add(make_movie(6, cast=1, crew=1, keywords=1), UNTIL)
    run(fake, tmp_path / "batch")
    lines = {
        name: (tmp_path / "batch" / name).read_text(encoding="utf-8").split("\n", 1)[1]
        for name in ("movies_metadata.csv", "credits.csv", "keywords.csv")
    }
    assert lines["movies_metadata.csv"] == (
        "False,\"{'id': 9006, 'name': \"\"Saga d'O'Brien 6\"\", 'poster_path': '/col6.jpg', "
        "'backdrop_path': '/colbd.jpg'}\",6000000,\"[{'id': 16, 'name': 'Animation'}, "
        "{'id': 10757, 'name': 'Genre 6'}]\",https://example.org/6,6,tt0000006,fr,Titre original 6,"
        "Überraschung – ñandú – 東京物語,6.750001,/p6.jpg,\"[{'name': 'Pixar', 'id': 3}, "
        "{'name': \"\"Studio O'Neil 6\"\", 'id': 106}]\",\"[{'iso_3166_1': 'FR', 'name': 'France'}, "
        "{'iso_3166_1': 'US', 'name': 'United States of America'}]\",2006-07-16,30000000,86.0,"
        "\"[{'iso_639_1': 'fr', 'name': 'Français'}]\",Released,,\"Amélie, ou l'œuvre #6\",False,5.6,60\n"
    )
    assert lines["credits.csv"] == (
        "\"[{'cast_id': 100, 'character': 'Role 0, the first', 'credit_id': '52fe00060000', 'gender': 0, "
        "'id': 50060, 'name': 'Actor 0 O\\'Hara-\"\"Jr\"\"', 'order': 0, 'profile_path': '/a0.jpg'}]\","
        "\"[{'credit_id': '53aa00060000', 'department': 'Directing', 'gender': 2, 'id': 70060, "
        "'job': 'Director', 'name': 'Crew 0 Ñúñez', 'profile_path': None}]\",6\n"
    )
    assert lines["keywords.csv"] == "6,\"[{'id': 860, 'name': \"\"keyword 0 {brace} 'q'\"\"}]\"\n"


def test_the_format_reproduces_the_real_kaggle_files_byte_for_byte(sample_raw: Path) -> None:
    """Real rows turned back into API answers (with today's extra keys, in the API's key order)
    must be written exactly as the Kaggle files hold them."""

    def lit(text: str) -> Any:
        return ast.literal_eval(text) if text else None

    def api_movie(r: dict[str, str]) -> dict[str, Any]:
        return {
            "adult": r["adult"] == "True",
            "backdrop_path": None,
            "belongs_to_collection": lit(r["belongs_to_collection"]),
            "budget": int(r["budget"]),
            "genres": lit(r["genres"]),
            "homepage": r["homepage"] or None,
            "id": int(r["id"]),
            "imdb_id": r["imdb_id"] or None,
            "origin_country": ["US"],
            "original_language": r["original_language"],
            "original_title": r["original_title"],
            "overview": r["overview"],
            "popularity": float(r["popularity"]),
            "poster_path": r["poster_path"] or None,
            "production_companies": [
                {"id": c["id"], "logo_path": None, "name": c["name"], "origin_country": ""}
                for c in lit(r["production_companies"])
            ],
            "production_countries": lit(r["production_countries"]),
            "release_date": r["release_date"],
            "revenue": int(r["revenue"]),
            "runtime": int(float(r["runtime"])) if r["runtime"] else None,
            "spoken_languages": [{"english_name": "?", **x} for x in lit(r["spoken_languages"])],
            "status": r["status"] or None,
            "tagline": r["tagline"] or None,
            "title": r["title"],
            "video": r["video"] == "True",
            "vote_average": float(r["vote_average"]),
            "vote_count": int(r["vote_count"]),
        }

    def api_credits(r: dict[str, str]) -> dict[str, Any]:
        cast = [
            {"adult": False, "known_for_department": "Acting", "original_name": c["name"], **c, "popularity": 1.0}
            for c in lit(r["cast"])
        ]
        crew = [{"adult": False, "known_for_department": "Crew", **c} for c in lit(r["crew"])]
        return {"id": int(r["id"]), "credits": {"id": int(r["id"]), "cast": cast, "crew": crew}}

    def api_keywords(r: dict[str, str]) -> dict[str, Any]:
        return {"id": int(r["id"]), "keywords": {"id": int(r["id"]), "keywords": lit(r["keywords"])}}

    # Every movies row (all real); credits: the 99 real rows and 500 rebuilt ones; keywords: 2,000.
    cases = [
        ("movies_metadata.csv.gz", kf.movie_row, api_movie, 2996),
        ("credits.csv.gz", kf.credits_row, api_credits, 600),
        ("keywords.csv.gz", kf.keywords_row, api_keywords, 2000),
    ]
    for name, to_row, to_api, limit in cases:
        text = gzip.decompress((sample_raw / name).read_bytes()).decode("utf-8")
        records = csv.DictReader(io.StringIO(text, newline=""))
        written = io.StringIO()
        writer = csv.writer(written, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(records.fieldnames)
        written_rows = 0
        for record in records:
            writer.writerow(to_row(to_api(record)))
            written_rows += 1
            if written_rows == limit:
                break
        assert written_rows == limit, name
        got = written.getvalue()
        # The sample files end without a final line break; pandas writes one.
        assert text.startswith(got.rstrip("\n")) and text[len(got) - 1 : len(got)] in ("\n", ""), name


# ---------------------------------------------------------------- retries


@pytest.mark.slow
def test_retries_honour_retry_after_in_seconds_and_as_a_date(
    fake: FakeTmdb, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for i in range(1, 7):
        fake.add(make_movie(i), UNTIL)
    in_two_seconds = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    fake.script["/movie/1"] = [Reply(429, {"Retry-After": "1"})]
    fake.script["/movie/2"] = [Reply(429, {"Retry-After": in_two_seconds})]
    fake.script["/movie/3"] = [Reply(429)]  # no Retry-After: the backoff
    fake.script["/movie/4"] = [Reply(500), Reply(502)]  # third attempt succeeds
    fake.script["/movie/5"] = [Reply(503)] * 3  # every attempt fails
    fake.script["/movie/6"] = [Reply(429, {"Retry-After": "not a number"})]  # unreadable: the backoff
    caplog.set_level(logging.INFO)

    result = run(fake, tmp_path / "batch")

    def gaps(movie_id: int) -> list[float]:
        times = [r.at for r in fake.seen(f"/movie/{movie_id}")]
        return [b - a for a, b in itertools.pairwise(times)]

    def statuses(movie_id: int) -> list[int]:
        return [r.status for r in fake.seen(f"/movie/{movie_id}")]

    assert statuses(1) == statuses(2) == statuses(3) == statuses(6) == [429, 200]
    assert statuses(4) == [500, 502, 200] and statuses(5) == [503, 503, 503]
    assert 1.0 <= gaps(1)[0] < 1.5
    assert 0.9 <= gaps(2)[0] < 2.5
    assert gaps(3)[0] < 0.5 and max(gaps(4)) < 0.5 and gaps(6)[0] < 0.5
    assert (result.fetched, result.failed, result.deleted) == (5, 1, 0)
    assert (tmp_path / "batch" / "failed_ids.txt").read_text() == "5\n"
    assert "GET /movie/1: HTTP 429, retrying in 1.0 s (Retry-After)" in caplog.messages
    assert "GET /movie/3: HTTP 429, retrying with backoff" in caplog.messages
    assert "GET /movie/5: HTTP 503: Service Unavailable" in caplog.messages


def test_a_long_retry_after_is_capped(fake: FakeTmdb, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fake.add(make_movie(1), UNTIL)
    fake.script["/movie/1"] = [Reply(429, {"Retry-After": "3600"})]
    caplog.set_level(logging.INFO)
    result = run(fake, tmp_path / "batch", retry=RetryPolicy(attempts=2, wait_initial=0.01, retry_after_max=0.3))
    times = [r.at for r in fake.seen("/movie/1")]
    assert result.fetched == 1 and len(times) == 2
    assert 0.3 <= times[1] - times[0] < 1.0
    assert "GET /movie/1: HTTP 429, retrying in 0.3 s (Retry-After)" in caplog.messages


# ---------------------------------------------------------------- authentication and fatal errors


@pytest.mark.parametrize("kind", ["api_key", "bearer"])
def test_the_key_is_sent_as_api_key_or_bearer_and_never_written(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key = "0123456789abcdef0123456789abcdef" if kind == "api_key" else "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln"
    with FakeTmdb(api_key=key if kind == "api_key" else None, bearer=key if kind == "bearer" else None) as server:
        server.add(make_movie(1), UNTIL)
        server.script["/movie/1"] = [Reply(500)]
        monkeypatch.setenv("TMDB_API_KEY", key)  # the defaults come from the environment
        monkeypatch.setenv("MOVIEREC_TMDB_URL", server.url)
        caplog.set_level(logging.DEBUG)
        result = sync(UNTIL, tmp_path / "batch", until=UNTIL, progress=False, retry=FAST)
    assert result.fetched == 1
    assert len(server.requests) == 3
    for request in server.requests:
        if kind == "api_key":
            assert request.query["api_key"] == key and "authorization" not in request.headers
        else:
            assert request.headers["authorization"] == f"Bearer {key}" and "api_key" not in request.query
    report = json.loads((tmp_path / "batch" / "sync.json").read_text())
    assert (report["auth"], report["base_url"]) == (kind, server.url)
    assert key not in (tmp_path / "batch" / "sync.json").read_text()
    assert caplog.records and all(key not in r.getMessage() for r in caplog.records)


def test_a_rejected_key_stops_with_a_clear_message_and_leaves_the_folder_as_it_was(
    fake: FakeTmdb, tmp_path: Path
) -> None:
    out = tmp_path / "batch"
    out.mkdir()
    (out / "movies_metadata.csv").write_text("previous batch\n")
    (out / "sync.json").write_text("{}\n")
    fake.add(make_movie(1), UNTIL)
    with pytest.raises(TmdbError) as error:
        run(fake, out, api_key="wrong-key")
    assert str(error.value) == (
        "TMDB rejected the credentials in TMDB_API_KEY (HTTP 401, sent as the api_key "
        "parameter): Invalid API key: You must be granted a valid key."
    )
    assert "wrong-key" not in str(error.value)
    assert [r.status for r in fake.requests] == [401]  # a 401 is not retried
    assert listing(out) == ["movies_metadata.csv", "sync.json"]
    assert (out / "movies_metadata.csv").read_text() == "previous batch\n"


def test_a_401_in_the_middle_of_the_films_aborts_without_a_half_batch(fake: FakeTmdb, tmp_path: Path) -> None:
    for i in range(1, 13):
        fake.add(make_movie(i), UNTIL)
    fake.script["/movie/8"] = [Reply(401, body=INVALID_KEY)]
    with pytest.raises(TmdbError, match=r"^TMDB rejected the credentials in TMDB_API_KEY \(HTTP 401"):
        run(fake, tmp_path / "batch", concurrency=2)
    assert not (tmp_path / "batch").exists()


def test_an_unreachable_server_stops_after_the_retries(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TmdbError) as error:
        sync(
            UNTIL,
            tmp_path / "batch",
            until=UNTIL,
            api_key=KEY,
            base_url=f"http://127.0.0.1:{port}/3",
            progress=False,
            retry=FAST,
        )
    assert str(error.value).startswith(f"cannot reach TMDB at http://127.0.0.1:{port}/3 after 3 attempts: ConnectError")
    assert not (tmp_path / "batch").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"api_key": None},
            "TMDB_API_KEY is not set: export a TMDB v3 API key or a v4 read access token "
            "(https://www.themoviedb.org/settings/api)",
        ),
        (
            {"api_key": "  "},
            "TMDB_API_KEY is not set: export a TMDB v3 API key or a v4 read access token "
            "(https://www.themoviedb.org/settings/api)",
        ),
        ({"since": UNTIL + timedelta(days=1)}, "--since 2024-06-01 is after --until 2024-05-31"),
        ({"concurrency": 21}, "concurrency must be between 1 and 20, not 21"),
        ({"out": "file"}, "{tmp}/file exists and is not a folder"),
    ],
)
def test_unusable_arguments_are_refused_before_any_request(
    fake: FakeTmdb, tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    out = tmp_path / options.pop("out", "batch")
    if out.name == "file":
        out.write_text("not a batch\n")
    with pytest.raises(TmdbError) as error:
        run(fake, out, **options)
    assert str(error.value) == message.format(tmp=tmp_path)
    assert fake.requests == [] and not (tmp_path / "batch").exists()


# ---------------------------------------------------------------- concurrency and progress


def test_never_more_requests_in_flight_than_the_limit(tmp_path: Path) -> None:
    with FakeTmdb(api_key=KEY, delay=0.05) as server:
        for i in range(1, 25):
            server.add(make_movie(i), UNTIL - timedelta(days=i))  # 24 films over 2 windows
        result = run(server, tmp_path / "batch", since=UNTIL - timedelta(days=24), concurrency=4)
    assert result.fetched == 24
    assert server.max_in_flight == 4


def test_log_lines_every_n_films_without_a_terminal(
    fake: FakeTmdb, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for i in range(1, 13):
        fake.add(make_movie(i), UNTIL)
    fake.deleted.add(12)
    caplog.set_level(logging.INFO, logger="movierec.tmdb")
    run(fake, tmp_path / "batch", log_every=5, concurrency=1)
    progress = [m.split(":")[0] for m in caplog.messages if m.startswith("films ")]
    assert progress == ["films 5/12", "films 10/12", "films 12/12"]
    assert caplog.messages[-2].startswith("films 12/12: 11 fetched, 1 deleted, 0 failed, ")
    assert caplog.messages[-2].endswith(" films/s")
    assert caplog.messages[-1].startswith(
        "12 changed films from 2024-05-28 to 2024-05-31: 11 fetched, 1 deleted, 0 adult skipped, 0 failed in "
    )


def test_a_progress_bar_replaces_the_log_lines(
    fake: FakeTmdb, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    for i in range(1, 4):
        fake.add(make_movie(i), UNTIL)
    caplog.set_level(logging.INFO, logger="movierec.tmdb")
    result = run(fake, tmp_path / "batch", progress=True, log_every=1)
    assert result.fetched == 3
    assert not [m for m in caplog.messages if m.startswith("films ")]
    assert capsys.readouterr().out == ""  # the bar is drawn on stderr, stdout stays clean


def test_empty_change_list_writes_an_empty_batch(fake: FakeTmdb, tmp_path: Path) -> None:
    # Datetimes, as typer's --since/--until with formats=["%Y-%m-%d"] give them, are days.
    result = run(fake, tmp_path / "batch", since=datetime(2024, 5, 28), until=datetime(2024, 5, 31, 23, 59))
    assert (result.since, result.until, result.windows) == (date(2024, 5, 28), UNTIL, ((date(2024, 5, 28), UNTIL),))
    assert type(result.since) is date and type(result.until) is date
    assert (result.changed, result.fetched) == (0, 0)
    assert listing(tmp_path / "batch") == BATCH_FILES
    assert (tmp_path / "batch" / "movies_metadata.csv").read_text().count("\n") == 1
    assert json.loads((tmp_path / "batch" / "sync.json").read_text())["counts"]["changed"] == 0


def test_an_earlier_syncs_failed_films_are_asked_for_again(fake: FakeTmdb, tmp_path: Path) -> None:
    fake.add(make_movie(1), UNTIL)
    fake.movies[2] = make_movie(2)  # not in any change list: only asked because an earlier sync failed it
    result = run(fake, tmp_path / "batch", retry_ids=[2, 1, 77, 2, -3, True, "4", 10**25])
    asked = sorted(int(r.path.rsplit("/", 1)[1]) for r in fake.seen("/movie/") if r.path != "/movie/changes")
    assert asked == [1, 2, 77]  # 1 once (it is in the change list too); 77 is gone from TMDB
    assert (result.changed, result.retried, result.fetched, result.deleted, result.failed) == (1, 2, 2, 1, 0)
    assert sorted(row["id"] for row in read_csv(tmp_path / "batch" / "movies_metadata.csv")) == ["1", "2"]
    assert (tmp_path / "batch" / "deleted_ids.txt").read_text() == "77\n"
    assert json.loads((tmp_path / "batch" / "sync.json").read_text())["counts"]["retried"] == 2
