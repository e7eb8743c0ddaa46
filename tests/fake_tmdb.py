"""A scripted fake of the TMDB API v3 on loopback, for the tmdb-sync tests.

It serves ``/3/movie/changes`` (paginated, 100 ids a page unless told otherwise, refusing ranges
over 14 days like the real API) and ``/3/movie/{id}`` (404 with ``status_code`` 34 for unknown or
deleted films), checks the credentials (``api_key`` parameter or ``Authorization: Bearer``), records every request
with its arrival time, counts the requests in flight, and plays canned replies per path first
(``fake.script["/movie/7"] = [Reply(429, {"Retry-After": "1"})]``), then the reply it always gives
for a path (``fake.always["/movie/7"] = Reply(200, raw=b"[")``).

A hostile upstream is a :class:`Reply` too: raw bytes as the body (malformed JSON, gzip bombs),
a streamed body of any size without Content-Length (``chunks``), dripped (``drip`` seconds between
chunks), or a lying Content-Length header; ``total_pages`` and ``extra_entries`` make the change
list claim any page count and list any entries.

:func:`make_movie` builds a detail answer shaped like today's API (more keys than Kaggle kept, in
the API's order), with text that is hard to write as CSV and Python literals.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

PAGE_SIZE = 100
APPENDABLE = ("credits", "keywords", "translations", "alternative_titles")  # sent only when appended
INVALID_KEY = {
    "status_code": 7,
    "status_message": "Invalid API key: You must be granted a valid key.",
    "success": False,
}
NOT_FOUND = {"success": False, "status_code": 34, "status_message": "The resource you requested could not be found."}


@dataclass(frozen=True)
class Reply:
    """A canned answer: status, headers, JSON body (an empty object by default)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw: bytes | None = None  # sent as is instead of the JSON body
    chunks: Callable[[], Iterable[bytes]] | None = None  # streamed until exhausted, then the connection closes
    drip: float = 0.0  # seconds before each chunk


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it."""

    at: float  # time.monotonic() on arrival
    path: str  # without the /3 prefix
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    status: int


class FakeTmdb:
    """The fake server; ``with FakeTmdb() as fake:`` starts it on a free port."""

    def __init__(
        self,
        *,
        api_key: str | None = "v3-test-key",
        bearer: str | None = None,
        delay: float = 0.0,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.api_key, self.bearer, self.delay, self.page_size = api_key, bearer, delay, page_size
        self.movies: dict[int, dict[str, Any]] = {}
        self.changes: list[tuple[date, int, bool | None]] = []  # (day, id, adult flag)
        self.deleted: set[int] = set()
        self.script: dict[str, list[Reply]] = defaultdict(list)
        self.always: dict[str, Reply] = {}
        self.total_pages: Any = None  # what page 1.. of the change list claim, when set
        self.extra_entries: list[Any] = []  # listed on page 1 of every change list, as they are
        self.requests: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False  # keep-alive connections must not block stop()
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # resets by a client giving up
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/3"

    def __enter__(self) -> FakeTmdb:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, movie: dict[str, Any], day: date, *, adult: bool | None = False) -> None:
        """Serve ``movie`` and list it as changed on ``day``."""
        self.movies[movie["id"]] = movie
        self.changes.append((day, movie["id"], adult))

    def seen(self, prefix: str) -> list[Seen]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def answer(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Reply:
        """What the real API would answer (after the canned replies)."""
        if not self._authorized(query, headers):
            return Reply(401, body=INVALID_KEY)
        with self._lock:
            canned = self.script.get(path)
            if canned:
                return canned.pop(0)
        if path in self.always:
            return self.always[path]
        if path == "/movie/changes":
            return self._changes(query)
        if path.startswith("/movie/"):
            movie_id = int(path.rsplit("/", 1)[1])
            movie = self.movies.get(movie_id)
            if movie is None or movie_id in self.deleted:
                return Reply(404, body=NOT_FOUND)
            appended = set(query.get("append_to_response", "").split(","))
            return Reply(200, body={k: v for k, v in movie.items() if k not in APPENDABLE or k in appended})
        return Reply(404, body=NOT_FOUND)

    def _authorized(self, query: dict[str, str], headers: dict[str, str]) -> bool:
        if self.bearer is not None:
            return headers.get("authorization") == f"Bearer {self.bearer}"
        return query.get("api_key") == self.api_key

    def _changes(self, query: dict[str, str]) -> Reply:
        start, end = date.fromisoformat(query["start_date"]), date.fromisoformat(query["end_date"])
        if (end - start).days >= 14 or end < start:
            return Reply(
                422,
                body={
                    "success": False,
                    "status_code": 22,
                    "status_message": "Invalid date range: Should be a range no longer than 14 days.",
                },
            )
        items = [{"id": i, "adult": adult} for day, i, adult in self.changes if start <= day <= end]
        page = int(query.get("page", "1"))
        total_pages = max(1, math.ceil(len(items) / self.page_size)) if self.total_pages is None else self.total_pages
        chunk = items[(page - 1) * self.page_size : page * self.page_size]
        if page == 1:
            chunk = [*chunk, *self.extra_entries]
        return Reply(
            200, body={"results": chunk, "page": page, "total_pages": total_pages, "total_results": len(items)}
        )


def _handler(fake: FakeTmdb) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as httpx pools connections

        def do_GET(self) -> None:
            arrived = time.monotonic()
            with fake._lock:
                fake.in_flight += 1
                fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            try:
                parts = urlsplit(self.path)
                path = parts.path.removeprefix("/3")
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if fake.delay:
                    time.sleep(fake.delay)
                reply = fake.answer(path, query, headers)
                with fake._lock:
                    fake.requests.append(Seen(arrived, path, query, headers, reply.status))
                self._send(reply)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up on a hostile answer: expected
            finally:
                with fake._lock:
                    fake.in_flight -= 1

        def _send(self, reply: Reply) -> None:
            if reply.raw is not None:
                data = reply.raw
            else:
                data = json.dumps({} if reply.body is None else reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            if reply.chunks is not None:  # no length: the body ends when the connection closes
                self.send_header("Connection", "close")
                self.close_connection = True
            elif "content-length" not in {k.lower() for k in reply.headers}:
                self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            for chunk in [data] if reply.chunks is None else reply.chunks():
                if reply.drip:
                    time.sleep(reply.drip)
                self.wfile.write(chunk)
                self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet test output

    return Handler


_TRICKY = [
    # (title, overview, tagline): quotes of both kinds, separators, line breaks, non-ASCII.
    ("L'Auberge espagnole", 'Xavier says "ciao", then goodbye.\nA second line.', None),
    ('The "Quoted" Film', "Commas, commas, and a tab\there", "Tagline with 'single' and \"double\""),
    ("Amélie, ou l'œuvre", "Überraschung – ñandú – 東京物語", ""),
    ("Back\\slash", "Ends with a backslash \\", "Carriage\r\nreturn"),
]


def make_movie(
    movie_id: int, *, collection: bool | None = None, cast: int = 3, crew: int = 2, keywords: int = 2
) -> dict[str, Any]:
    """A movie detail with credits and keywords, as ``/movie/{id}?append_to_response=...`` answers."""
    title, overview, tagline = _TRICKY[movie_id % len(_TRICKY)]
    title = f"{title} #{movie_id}"
    collection = movie_id % 3 == 0 if collection is None else collection
    return {
        "adult": False,
        "backdrop_path": f"/bd{movie_id}.jpg",
        "belongs_to_collection": {
            "id": 9000 + movie_id,
            "name": f"Saga d'O'Brien {movie_id}",
            "poster_path": None if movie_id % 2 else f"/col{movie_id}.jpg",
            "backdrop_path": "/colbd.jpg",
        }
        if collection
        else None,
        "budget": 0 if movie_id % 4 == 0 else 1_000_000 * movie_id,
        "genres": [{"id": 16, "name": "Animation"}, {"id": 10751 + movie_id, "name": f"Genre {movie_id}"}],
        "homepage": "" if movie_id % 2 else f"https://example.org/{movie_id}",
        "id": movie_id,
        "imdb_id": None if movie_id % 5 == 0 else f"tt{movie_id:07d}",
        "origin_country": ["FR"],
        "original_language": "fr",
        "original_title": f"Titre original {movie_id}",
        "overview": overview,
        "popularity": round(movie_id * 1.125 + 0.000001, 6),
        "poster_path": f"/p{movie_id}.jpg",
        "production_companies": [
            {"id": 3, "logo_path": "/pixar.png", "name": "Pixar", "origin_country": "US"},
            {"id": 100 + movie_id, "logo_path": None, "name": f"Studio O'Neil {movie_id}", "origin_country": ""},
        ],
        "production_countries": [
            {"iso_3166_1": "FR", "name": "France"},
            {"iso_3166_1": "US", "name": "United States of America"},
        ],
        "release_date": f"20{movie_id % 25:02d}-0{movie_id % 9 + 1}-1{movie_id % 10}",
        "revenue": 5_000_000 * movie_id,
        "runtime": None if movie_id % 7 == 0 else 80 + movie_id,
        "spoken_languages": [{"english_name": "French", "iso_639_1": "fr", "name": "Français"}],
        "status": "Released",
        "tagline": tagline,
        "title": title,
        "video": False,
        "vote_average": round(5 + (movie_id % 50) / 10, 1),
        "vote_count": 10 * movie_id,
        "credits": {
            "id": movie_id,
            "cast": [
                {
                    "adult": False,
                    "gender": k % 3,
                    "id": 50_000 + movie_id * 10 + k,
                    "known_for_department": "Acting",
                    "name": f'Actor {k} O\'Hara-"Jr"',
                    "original_name": f"Actor {k}",
                    "popularity": 1.5,
                    "profile_path": None if k % 2 else f"/a{k}.jpg",
                    "cast_id": 100 + k,
                    "character": f"Role {k}, the {'first' if k == 0 else 'next'}",
                    "credit_id": f"52fe{movie_id:04d}{k:04d}",
                    "order": k,
                }
                for k in range(cast)
            ],
            "crew": [
                {
                    "adult": False,
                    "gender": 2,
                    "id": 70_000 + movie_id * 10 + k,
                    "known_for_department": "Directing",
                    "name": f"Crew {k} Ñúñez",
                    "original_name": f"Crew {k}",
                    "popularity": 0.6,
                    "profile_path": None,
                    "credit_id": f"53aa{movie_id:04d}{k:04d}",
                    "department": ("Directing", "Writing")[k % 2],
                    "job": ("Director", "Screenplay")[k % 2],
                }
                for k in range(crew)
            ],
        },
        "keywords": {
            "id": movie_id,
            "keywords": [
                {"id": 800 + movie_id * 10 + k, "name": f"keyword {k} {{brace}} 'q'"} for k in range(keywords)
            ],
        },
    }


def spanish_titles(movie_id: int, *, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The ``translations`` and ``alternative_titles`` a film answers with when appended, in the
    real API's shape: es-MX and es-ES translations (Spain's expected first), a translation of the
    overview alone (empty title), a French one, a Mexican alternative title repeating a
    translation, an Argentine one and a US one (not Spanish). Its Spanish titles, as the batch must
    hold them: :func:`expected_spanish`."""

    def translation(country: str, language: str, name: str, title: str) -> dict[str, Any]:
        return {
            "iso_3166_1": country,
            "iso_639_1": language,
            "name": name,
            "english_name": name,
            "data": {"homepage": "", "overview": f"Resumen {movie_id}", "runtime": 90, "tagline": "", "title": title},
        }

    return {
        "translations": {
            "translations": [
                translation("MX", "es", "Español", f"La película {movie_id}"),
                translation("ES", "es", "Español", f"  La peli «{movie_id}», ¿no? "),
                translation("CO", "es", "Español", ""),
                translation("FR", "fr", "Français", f"Le film {movie_id}"),
                *(extra or []),
            ]
        },
        "alternative_titles": {
            "titles": [
                {"iso_3166_1": "MX", "title": f"La película {movie_id}", "type": ""},
                {"iso_3166_1": "AR", "title": f"Película n.º {movie_id}", "type": "working title"},
                {"iso_3166_1": "US", "title": f"Movie {movie_id}", "type": ""},
            ]
        },
    }


def expected_spanish(movie_id: int) -> list[tuple[int, str, str, str, str]]:
    """The titles.csv rows of :func:`spanish_titles` (written here from TMDB's shape, not by the code
    under test): es translations, Spain's first, trimmed; then Spanish-speaking countries'
    alternative titles; each title once."""
    return [
        (movie_id, "es", "ES", f"La peli «{movie_id}», ¿no?", "translation"),
        (movie_id, "es", "MX", f"La película {movie_id}", "translation"),
        (movie_id, "es", "AR", f"Película n.º {movie_id}", "alternative"),
    ]
