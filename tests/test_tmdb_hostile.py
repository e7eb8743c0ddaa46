"""tmdb-sync against a hostile TMDB (issue 19): what it writes, reads and holds is bounded.

Field caps and the key redacted before writing, pages capped, answers capped (as sent and once
inflated), only positive integer ids, malformed films counted failed. Tiny settings (a 64 KiB
answer cap, a few seconds of deadline) keep every case fast; bench/tmdb_hostile.py measures the
same cases at the default settings (peak memory, time).
"""

from __future__ import annotations

import ast
import csv
import gzip
import json
import logging
import sys
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.fake_tmdb import FakeTmdb, Reply, make_movie

from movierec.config import Settings
from movierec.etl.run import run_etl
from movierec.refresh.tmdb import RetryPolicy, SyncResult, TmdbError, sync

csv.field_size_limit(sys.maxsize)

UNTIL = date(2024, 5, 31)
KEY = "v3-hostile-key-0123456789"
FAST = RetryPolicy(attempts=3, wait_initial=0.01, wait_max=0.05, wait_jitter=0.0)
TINY = Settings(tmdb_max_response_bytes=64 << 10, tmdb_request_deadline=2.0, tmdb_budget=20.0)


@pytest.fixture
def fake() -> Any:
    with FakeTmdb(api_key=KEY) as server:
        yield server


def run(fake: FakeTmdb, out: Path, settings: Settings = TINY, **options: Any) -> SyncResult:
    options = {"until": UNTIL, "api_key": KEY, "base_url": fake.url, "progress": False, "retry": FAST, **options}
    return sync(UNTIL, out, settings=settings, **options)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def ids_in(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()]


def film_requests(fake: FakeTmdb, movie_id: int) -> int:
    return len(fake.seen(f"/movie/{movie_id}"))


# ---------------------------------------------------------------- 1. field caps


def test_every_string_written_is_cut_to_its_cap(fake: FakeTmdb, tmp_path: Path) -> None:
    movie = make_movie(3, cast=2, crew=2, keywords=2)
    long = "x" * 20_000
    movie.update(
        title=long,
        original_title=long,
        overview="o" * 30_000,
        tagline="t" * 30_000,
        homepage="h" * 30_000,
        status=long,
        imdb_id=long,
    )
    movie["belongs_to_collection"]["name"] = long
    movie["genres"][1]["name"] = long
    movie["production_companies"][1]["name"] = long
    movie["production_countries"][0]["name"] = long
    movie["spoken_languages"][0]["name"] = long
    movie["credits"]["cast"][0].update(name=long, character=long)
    movie["credits"]["crew"][1].update(name=long, job=long, department=long)
    movie["keywords"]["keywords"][0]["name"] = long
    fake.add(movie, UNTIL)
    out = tmp_path / "batch"
    settings = Settings(max_name_chars=40, max_text_chars=300, tmdb_max_response_bytes=1 << 20)

    result = run(fake, out, settings)

    assert (result.fetched, result.failed) == (1, 0)
    (row,) = rows(out / "movies_metadata.csv")
    cut = "x" * 39 + "…"
    assert (row["title"], row["original_title"], row["status"], row["imdb_id"]) == (cut, cut, cut, cut)
    assert (row["overview"], row["tagline"], row["homepage"]) == ("o" * 299 + "…", "t" * 299 + "…", "h" * 299 + "…")
    assert ast.literal_eval(row["belongs_to_collection"])["name"] == cut
    assert [g["name"] for g in ast.literal_eval(row["genres"])] == ["Animation", cut]
    assert [c["name"] for c in ast.literal_eval(row["production_companies"])] == ["Pixar", cut]
    assert ast.literal_eval(row["production_countries"])[0]["name"] == cut
    assert ast.literal_eval(row["spoken_languages"])[0]["name"] == cut
    (credit,) = rows(out / "credits.csv")
    cast, crew = ast.literal_eval(credit["cast"]), ast.literal_eval(credit["crew"])
    assert (cast[0]["name"], cast[0]["character"], cast[1]["name"]) == (cut, cut, 'Actor 1 O\'Hara-"Jr"')
    assert (crew[1]["name"], crew[1]["job"], crew[1]["department"]) == (cut, cut, cut)
    (keyword,) = rows(out / "keywords.csv")
    assert [k["name"] for k in ast.literal_eval(keyword["keywords"])] == [cut, "keyword 1 {brace} 'q'"]
    # The ETL reads the cut film as any other.
    report = run_etl(out, tmp_path / "tables")
    assert (report["movies"]["kept"], report["movies"]["quarantined"]) == (1, 0)


# ---------------------------------------------------------------- 2. pages


@pytest.mark.parametrize(
    ("claimed", "read", "capped"),
    [
        (1e9, 5, "1000000000.0"),
        (10**30, 5, str(10**30)[:40]),
        (3, 3, None),
        (2.5, 3, None),
        (-4, 1, None),
        (True, 1, None),
        ("9", 1, None),
        ([3], 1, None),
    ],
)
def test_the_page_count_a_change_list_claims_is_capped(
    tmp_path: Path, claimed: Any, read: int, capped: str | None
) -> None:
    with FakeTmdb(api_key=KEY, page_size=1) as server:
        for i in range(1, 4):
            server.add(make_movie(i), UNTIL)
        server.total_pages = claimed
        result = run(server, tmp_path / "batch", Settings(tmdb_max_pages=5), concurrency=2)
    pages = sorted(int(r.query["page"]) for r in server.seen("/movie/changes"))
    assert pages == list(range(1, read + 1))
    assert server.max_in_flight <= 2
    assert result.fetched == min(read, 3)
    report = json.loads((tmp_path / "batch" / "sync.json").read_text())
    want = [] if capped is None else [{"window": ["2024-05-31", "2024-05-31"], "total_pages": capped, "read": 5}]
    assert report["pages_capped"] == want and list(result.pages_capped) == want
    assert report["limits"]["max_pages"] == 5


# ---------------------------------------------------------------- 3. answer size


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9)


def test_answers_over_the_cap_fail_their_film_as_sent_or_once_inflated(
    fake: FakeTmdb, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for i in range(1, 8):
        fake.add(make_movie(i), UNTIL)
    bomb = gzipped(b'{"title": "' + b"a" * (20 << 20) + b'"}')  # 20 KB that inflate to 20 MB
    assert len(bomb) < 64 << 10
    fake.always["/movie/1"] = Reply(200, raw=b'{"title": "' + b"b" * (200 << 10) + b'"}')
    fake.always["/movie/2"] = Reply(200, {"Content-Length": str(10**12)}, raw=b"{}")  # refused up front
    fake.always["/movie/3"] = Reply(200, {"Content-Encoding": "gzip"}, raw=bomb)
    fake.always["/movie/4"] = Reply(200, chunks=lambda: (b" " * 4096 for _ in range(10_000)))  # 40 MB, no length
    fake.always["/movie/5"] = Reply(200, {"Content-Encoding": "br"}, raw=b"\x0b\x02\x80{}\x03")
    good_gzip = gzipped(json.dumps(make_movie(6)).encode())
    fake.always["/movie/6"] = Reply(200, {"Content-Encoding": "gzip"}, raw=good_gzip)
    fake.always["/movie/7"] = Reply(
        200, {"Content-Encoding": "deflate"}, raw=zlib.compress(json.dumps(make_movie(7)).encode())
    )

    caplog.set_level(logging.WARNING, logger="movierec.tmdb")
    result = run(fake, tmp_path / "batch")

    assert (result.fetched, result.failed) == (2, 5)
    assert sorted(m for m in caplog.messages if m.startswith("GET /movie/")) == [
        "GET /movie/1 failed: answer of 204,813 bytes announced, over 65,536",
        "GET /movie/2 failed: answer of 1,000,000,000,000 bytes announced, over 65,536",
        "GET /movie/3 failed: answer over 65,536 bytes once inflated (gzip)",
        "GET /movie/4 failed: answer over 65,536 bytes",
        "GET /movie/5 failed: unsupported Content-Encoding 'br'",
    ]
    assert ids_in(tmp_path / "batch" / "failed_ids.txt") == [1, 2, 3, 4, 5]
    assert [film_requests(fake, i) for i in range(1, 6)] == [1, 1, 1, 1, 1]  # not retried
    written = rows(tmp_path / "batch" / "movies_metadata.csv")
    assert [(r["id"], r["title"]) for r in written] in (
        [("6", make_movie(6)["title"]), ("7", make_movie(7)["title"])],
        [("7", make_movie(7)["title"]), ("6", make_movie(6)["title"])],
    )


def test_a_change_list_over_the_cap_stops_the_sync(fake: FakeTmdb, tmp_path: Path) -> None:
    fake.always["/movie/changes"] = Reply(
        200, {"Content-Encoding": "gzip"}, raw=gzipped(b'{"results": [' + b"0," * (5 << 20) + b"0]}")
    )
    with pytest.raises(TmdbError) as error:
        run(fake, tmp_path / "batch")
    assert str(error.value) == (
        "TMDB /movie/changes (2024-05-31..2024-05-31, page 1) failed: answer over 65,536 bytes once inflated (gzip)"
    )
    assert not (tmp_path / "batch").exists()


# ---------------------------------------------------------------- 6. ids


def test_only_positive_integer_ids_are_fetched_and_written(fake: FakeTmdb, tmp_path: Path) -> None:
    fake.add(make_movie(12), UNTIL)
    fake.movies[12]["id"] = 999  # the answer names another film: the id asked for is written
    fake.extra_entries = [
        {"id": -7},
        {"id": 0},
        {"id": True},
        {"id": 10**25},
        {"id": 10**18},
        {"id": 7.0},
        {"id": "8"},
        {"id": None},
        {"id": [9]},
        "junk",
        5,
        {"no id": 1},
        {"id": 12},
    ]

    result = run(fake, tmp_path / "batch")

    assert (result.changed, result.fetched, result.invalid_ids, result.failed, result.deleted) == (1, 1, 12, 0, 0)
    assert [r.path for r in fake.seen("/movie/") if r.path != "/movie/changes"] == ["/movie/12"]
    assert (tmp_path / "batch" / "deleted_ids.txt").read_text() == ""
    assert (tmp_path / "batch" / "failed_ids.txt").read_text() == ""
    assert [r["id"] for r in rows(tmp_path / "batch" / "movies_metadata.csv")] == ["12"]
    assert [r["id"] for r in rows(tmp_path / "batch" / "credits.csv")] == ["12"]
    assert json.loads((tmp_path / "batch" / "sync.json").read_text())["counts"]["invalid_ids"] == 12


# ---------------------------------------------------------------- 7. malformed films


MALFORMED = {
    1: b'{"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # RecursionError in json
    2: b'{"title": "A", "budget": Infinity}',
    3: b'{"title": "A", "budget": 1e400}',
    4: b'{"title": "A", "genres": {"id": 1, "name": "Drama"}}',  # a dict where a list is expected
    5: b'{"title": "A", "credits": [1, 2]}',  # a list where a dict is expected
    6: b'[{"title": "A"}]',  # not an object at all
    7: b'{"title": "caf\xe9"}',  # latin-1, not UTF-8
    8: b'{"title": "A", "budget": "12000000"}',  # text where a number is expected
    9: b'{"title": "A", "vote_average": 11.5}',  # out of range
    10: b'{"title": "A", "runtime": true}',  # a bool is not a number
    11: b'{"title": ["A"]}',  # a list where text is expected
    12: b'{"title": "A", "genres": [{"id": "16", "name": "Animation"}]}',
    13: b'{"title": "A", "popularity": NaN}',
    14: b'{"title": "A", "revenue": ' + b"9" * 5000 + b"}",  # over Python's int digits limit
    15: b'{"title": "A"',  # cut short
}


def test_a_malformed_film_is_counted_failed_and_the_rest_written(
    fake: FakeTmdb, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for i in [*MALFORMED, 20]:
        fake.add(make_movie(i), UNTIL)
    for i, raw in MALFORMED.items():
        fake.always[f"/movie/{i}"] = Reply(200, raw=raw)
    caplog.set_level(logging.WARNING, logger="movierec.tmdb")

    result = run(fake, tmp_path / "batch", Settings(tmdb_max_response_bytes=1 << 20))

    assert (result.fetched, result.failed) == (1, len(MALFORMED))
    assert ids_in(tmp_path / "batch" / "failed_ids.txt") == sorted(MALFORMED)
    assert [r["id"] for r in rows(tmp_path / "batch" / "movies_metadata.csv")] == ["20"]
    assert [r["id"] for r in rows(tmp_path / "batch" / "keywords.csv")] == ["20"]
    unusable = sorted(m.split(":")[0] for m in caplog.messages if "unusable answer" in m)
    assert unusable == sorted(f"GET /movie/{i}" for i in MALFORMED)
    assert all("\n" not in m and len(m) < 300 for m in caplog.messages)
    assert "GET /movie/4: unusable answer: MalformedAnswer: genres: dict where a list is expected" in caplog.messages
    assert "GET /movie/1: unusable answer: ValueError: JSON nested too deeply" in caplog.messages


# ---------------------------------------------------------------- 13. the key echoed back


def test_a_key_echoed_by_the_server_is_redacted_from_everything_written(
    fake: FakeTmdb, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    movie = make_movie(4)
    movie.update(title=f"Film {KEY}", overview=f"see https://x.example/?api_key={KEY}&q=1", homepage=KEY)
    movie["credits"]["cast"][0]["name"] = f"{KEY}{KEY}"
    movie["keywords"]["keywords"][0]["name"] = KEY
    movie["production_companies"][0]["name"] = f"Studio {KEY}"
    fake.add(movie, UNTIL)
    fake.add(make_movie(5), UNTIL)
    fake.always["/movie/5"] = Reply(418, body={"status_message": f"bad key {KEY}\nsecond line"})
    caplog.set_level(logging.DEBUG)

    result = run(fake, tmp_path / "batch")

    assert (result.fetched, result.failed) == (1, 1)
    for path in (tmp_path / "batch").iterdir():
        assert KEY not in path.read_text(encoding="utf-8"), path.name
    (row,) = rows(tmp_path / "batch" / "movies_metadata.csv")
    assert (row["title"], row["homepage"]) == ("Film ***", "***")
    assert row["overview"] == "see https://x.example/?api_key=***&q=1"
    assert "'name': '******'" in rows(tmp_path / "batch" / "credits.csv")[0]["cast"]
    assert all(KEY not in r.getMessage() for r in caplog.records)
    assert "GET /movie/5: HTTP 418: bad key *** second line" in caplog.messages


def test_nested_lists_keep_their_first_entries(
    fake: FakeTmdb, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    movie = make_movie(2, cast=1, crew=0, keywords=0)
    movie["credits"]["cast"] = [{"name": f"A{i}", "id": i} for i in range(5003)]
    movie["keywords"]["keywords"] = [{}] * 9000  # empty entries, each would become a full record
    fake.add(movie, UNTIL)
    caplog.set_level(logging.WARNING, logger="movierec.tmdb")
    result = run(fake, tmp_path / "batch", Settings(tmdb_max_response_bytes=1 << 20))
    assert result.fetched == 1
    cast = ast.literal_eval(rows(tmp_path / "batch" / "credits.csv")[0]["cast"])
    assert [c["name"] for c in cast] == [f"A{i}" for i in range(5000)]
    assert len(ast.literal_eval(rows(tmp_path / "batch" / "keywords.csv")[0]["keywords"])) == 5000
    assert sorted(m for m in caplog.messages if "entries" in m) == [
        "cast: 5003 entries, the first 5000 kept",
        "keywords: 9000 entries, the first 5000 kept",
    ]
