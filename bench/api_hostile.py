"""Hostile-release benchmark of `movierec serve` (issue 19, items 1 and 15): its memory after
loading a release whose every text is at the field caps, under thousands of distinct requests,
and the event loop's latency while hostile personal queries run.

Targets (issue 19):
  load      server RSS <= 300 MB after loading the release and building its suggestion indexes
  requests  server RSS <= 400 MB at every sample, under any sequence of requests
  loop      /health p99 stays low (<= 30 ms, the API's p99 target) while 2 clients send personal
            queries of 49 unknown titles each (``--data`` any release: the sample's too)

The release: the full-size stand-in (``--standin``, default /tmp/scale, never modified) copied
with every title, original title, overview, tagline, cast name and director name padded to
the caps (MOVIEREC_MAX_NAME_CHARS 500, MOVIEREC_MAX_TEXT_CHARS 5000) with a filler derived from
the value (distinct values stay distinct, one person keeps one name). Cast names and directors'
names are padded, the other crew names and the characters are not: the server never holds
those, and padding them too would take credits.csv over the ETL's input cap
(MOVIEREC_MAX_INPUT_BYTES, 512 MiB), outside what a release can be built from. ratings_small.csv only
(the ratings do not change the texts; the full ratings would add minutes of training). Published
with `movierec pipeline` (MOVIEREC_EVALUATE_ON_PUBLISH=false) into ``--data``; reused when
``--data`` already holds a release.

The requests (``--requests`` of each kind, distinct, 4 client threads): /sugerencias?q= (prefixes
of padded titles, random text up to 200 characters), /recomendacion/… and /score_titulo/…
(unknown titles: a 404 with fuzzy suggestions), /get_actor/…, /get_director/… (unknown names),
/peliculas/{id}/recomendaciones and the card page /?id= over every film in turn,
/recomendacion_usuario with 50 unknown titles or 50 ids. The server's VmRSS (and its anonymous
and file-backed parts) is sampled every 50 ms; VmHWM is read at the end.

Usage:
  python bench/api_hostile.py [--standin /tmp/scale] [--data /tmp/h19d-data] [--requests 2000]
                              [--skip-memory] [--skip-loop] [--json PATH]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import http.client
import os
import random
import re
import shutil
import string
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: find _common and api

from _common import (
    ChildFailed,
    overall,
    parser_from_doc,
    print_load,
    print_machine_info,
    run_benchmark,
    run_measured,
    verdict,
)
from api import free_port, get, start, stop

REPO = Path(__file__).resolve().parents[1]
NAME_CHARS, TEXT_CHARS = 500, 5000
MAX_LOAD_MB, MAX_REQUESTS_MB, MAX_P99_MS = 300.0, 400.0, 30.0
NAME_FIELDS = ("title", "original_title")
TEXT_FIELDS = ("overview", "tagline")
# a cast member's name, a director's name in a credits cell (a Python literal): single- or double-quoted
LITERAL = r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
CREDIT_TEXT = {
    "cast": re.compile(f"('name': ){LITERAL}"),
    "crew": re.compile(f"('job': 'Director', 'name': ){LITERAL}"),
}
WORDS = "alba bruma cauce dunas eco fiordo glaciar hondo isla jade kilo lince marea nube ocaso".split()

csv.field_size_limit(1 << 30)


def filler(value: str, length: int) -> str:
    """``length`` characters of words chosen by the value's hash: distinct values get distinct
    fillers, the same value the same one."""
    seed = hashlib.blake2b(value.encode(), digest_size=32).digest()
    head = " ".join(WORDS[b % len(WORDS)] + str(b % 10) for b in seed)  # ~200 characters
    return ((head + " ") * (length // (len(head) + 1) + 1))[:length]


def pad(value: str, cap: int) -> str:
    """``value`` lengthened to exactly ``cap`` characters (an empty value stays empty)."""
    if not value or len(value) >= cap:  # an empty or missing (None: a short row) value stays
        return value if value is None else value[:cap]
    return value + " " + filler(value, cap - len(value) - 1)


def _pad_literal(match: re.Match[str]) -> str:
    literal = match[2]
    quote_char, body = literal[0], literal[1:-1]
    # the filler holds no quote nor backslash: appended inside the literal, it stays valid
    return f"{match[1]}{quote_char}{pad(body, NAME_CHARS)}{quote_char}"


def padded_copy(standin: Path, raw: Path) -> None:
    """The stand-in with its texts at the caps (see the module doc), written to ``raw``."""
    raw.mkdir(parents=True, exist_ok=True)
    with (
        (standin / "movies_metadata.csv").open(newline="", encoding="utf-8") as src,
        (raw / "movies_metadata.csv").open("w", newline="", encoding="utf-8") as dst,
    ):
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        for row in reader:
            for name in NAME_FIELDS:
                row[name] = pad(row[name], NAME_CHARS)
            for name in TEXT_FIELDS:
                row[name] = pad(row[name], TEXT_CHARS)
            writer.writerow(row)
    with (
        (standin / "credits.csv").open(newline="", encoding="utf-8") as src,
        (raw / "credits.csv").open("w", newline="", encoding="utf-8") as dst,
    ):
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        for row in reader:
            for name in ("cast", "crew"):
                if row[name]:
                    row[name] = CREDIT_TEXT[name].sub(_pad_literal, row[name])
            writer.writerow(row)
    for name in ("keywords.csv", "links.csv", "ratings_small.csv"):
        shutil.copyfile(standin / name, raw / name)


def ensure_release(args: argparse.Namespace) -> Path:
    data = args.data.resolve()
    if (data / "current").exists():
        print(f"release: reusing {(data / 'current').resolve()}")
        return data
    raw = data.parent / f"{data.name}-raw"
    if not (raw / "credits.csv").exists():
        started = time.perf_counter()
        padded_copy(args.standin, raw)
        print(f"padded copy of {args.standin} in {raw}: {time.perf_counter() - started:.0f} s", flush=True)
    env = {**os.environ, "MOVIEREC_EVALUATE_ON_PUBLISH": "false"}
    cmd = [sys.executable, "-m", "movierec", "pipeline", "--raw", str(raw), "--data", str(data)]
    print(f"publishing: {' '.join(cmd)}", flush=True)
    result = run_measured(cmd, log=data.parent / f"{data.name}-pipeline.log", env=env)
    if not result.ok:
        raise ChildFailed(f"pipeline failed ({result.returncode}):\n{result.log_tail()}")
    print(f"  published in {result.seconds:.0f} s, peak RSS {result.peak_rss_mb:.0f} MB", flush=True)
    return data


# -- measuring the server ---------------------------------------------------------------------------
def memory(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon, RssFile and VmHWM of ``pid``, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


class Sampler(threading.Thread):
    """The largest VmRSS of a process, sampled every 50 ms until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            try:
                self.peak = max(self.peak, memory(self.pid)["VmRSS"])
            except (OSError, KeyError):
                return


def titles_and_names(data: Path, limit: int) -> tuple[list[tuple[int, str]], list[str]]:
    """(id, title) of the release's films and cast names, at most ``limit`` each."""
    import polars as pl

    tables = (data / "current").resolve() / "tables"
    films = pl.read_parquet(tables / "movies.parquet", columns=["id", "title"]).drop_nulls()
    names = pl.read_parquet(tables / "cast.parquet", columns=["name"])["name"].unique().head(limit).to_list()
    return list(zip(films["id"].to_list(), films["title"].to_list(), strict=True)), names


def hostile_paths(films: list[tuple[int, str]], names: list[str], count: int, seed: int) -> Iterator[tuple[str, str]]:
    """(kind, path) of ``count`` distinct requests of each kind, interleaved."""
    rng = random.Random(seed)
    letters = string.ascii_lowercase + " "

    def text(n: int) -> str:
        return "".join(rng.choice(letters) for _ in range(n)).strip() or "x"

    def unknown_title(i: int) -> str:  # a padded title's start, changed: a 404 with suggestions
        title = films[i % len(films)][1]
        cut = rng.randint(20, 199)
        return f"{title[: cut - 6]}{text(5)}{i}"[:200]

    for i in range(count):
        film_id, title = films[i % len(films)]
        query = title[: rng.randint(1, 200)] if i % 2 else text(rng.randint(1, 200))
        yield "sugerencias", f"/sugerencias?q={quote(query)}"
        yield "recomendacion 404", f"/recomendacion/{quote(unknown_title(i), safe='')}"
        yield "score_titulo 404", f"/score_titulo/{quote(unknown_title(i + 1), safe='')}"
        yield "get_actor 404", f"/get_actor/{quote((names[i % len(names)][:150] + text(8))[:200], safe='')}"
        yield "get_director 404", f"/get_director/{quote(text(rng.randint(5, 200)), safe='')}"
        yield "peliculas/id", f"/peliculas/{film_id}/recomendaciones"
        yield "pagina ?id=", f"/?id={film_id}"
        titles = "&".join(f"titulo={quote(unknown_title(i * 50 + k), safe='')}" for k in range(50))
        ids = "&".join(f"id={films[(i * 50 + k) % len(films)][0]}" for k in range(50))
        yield "personal", f"/recomendacion_usuario?{titles if i % 2 else ids}"


def hammer(port: int, paths: list[tuple[str, str]], threads: int = 4) -> dict[str, dict[str, float]]:
    """Send every path (``threads`` keep-alive clients); per kind: count, statuses, largest body."""
    stats: dict[str, dict[str, float]] = {}
    lock = threading.Lock()
    local = threading.local()

    def one(item: tuple[str, str]) -> None:
        kind, path = item
        conn = getattr(local, "conn", None) or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        local.conn = conn
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            status, body = response.status, response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            local.conn = None
            status, body = 0, b""
        with lock:
            entry = stats.setdefault(kind, {"requests": 0, "largest_body": 0})
            entry["requests"] += 1
            entry[str(status)] = entry.get(str(status), 0) + 1
            entry["largest_body"] = max(entry["largest_body"], len(body))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, paths))
    return stats


def health_latency(port: int, seconds: float, hostile: Callable[[], None] | None, clients: int = 2) -> dict[str, float]:
    """/health latencies (ms) over ``seconds``, one request every 5 ms, while ``clients`` threads
    run ``hostile`` in a loop."""
    stop_at = time.perf_counter() + seconds
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            hostile()  # type: ignore[misc]

    workers = [threading.Thread(target=loop, daemon=True) for _ in range(clients if hostile else 0)]
    for worker in workers:
        worker.start()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies = []
    while time.perf_counter() < stop_at:
        began = time.perf_counter()
        conn.request("GET", "/health")
        conn.getresponse().read()
        latencies.append((time.perf_counter() - began) * 1000)
        time.sleep(0.005)
    done.set()
    for worker in workers:
        worker.join()
    latencies.sort()
    return {
        "requests": len(latencies),
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[int(len(latencies) * 0.99)],
        "max_ms": latencies[-1],
    }


def benchmark(args: argparse.Namespace, report: dict[str, Any]) -> bool:
    print_machine_info()
    print_load(report)
    data = ensure_release(args)
    films, names = titles_and_names(data, 20_000)
    port = free_port()
    log = data.parent / f"{data.name}-serve.log"
    server, _ = start(
        [sys.executable, "-m", "movierec", "serve", "--data", str(data), "--port", str(port)], port, "/health", log
    )
    checks: dict[str, bool] = {}
    try:
        deadline = time.perf_counter() + 120
        while "suggestion indexes ready" not in log.read_text() and time.perf_counter() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        loaded = memory(server.pid)
        print(f"after loading and warm-up: {loaded}", flush=True)
        report["after_load_mb"] = loaded
        checks["load"] = loaded["VmRSS"] <= MAX_LOAD_MB
        if not args.skip_memory:
            sampler = Sampler(server.pid)
            sampler.start()
            started = time.perf_counter()
            paths = list(hostile_paths(films, names, args.requests, seed=19))
            stats = hammer(port, paths)
            sampler.done.set()
            sampler.join()
            end = memory(server.pid)
            report.update(
                requests=len(paths),
                request_seconds=time.perf_counter() - started,
                by_kind=stats,
                peak_rss_mb=sampler.peak,
                at_end_mb=end,
            )
            print(
                f"{len(paths)} requests in {report['request_seconds']:.0f} s; peak VmRSS {sampler.peak:.0f} MB, "
                f"at the end {end}",
                flush=True,
            )
            for kind, entry in stats.items():
                print(f"  {kind:<18} {entry}")
            checks["requests"] = max(sampler.peak, end["VmHWM"]) <= MAX_REQUESTS_MB
        if not args.skip_loop:
            unknown = "&".join(f"titulo={quote(f'{t[:60]} zq{k}')}" for k, (_, t) in enumerate(films[:49]))
            path = f"/recomendacion_usuario?{unknown}"

            def personal() -> None:
                get(port, path + f"&titulo=x{random.random()}")  # distinct: never the answer cache

            quiet = health_latency(port, args.loop_seconds, None)
            busy = health_latency(port, args.loop_seconds, personal)
            report.update(health_quiet=quiet, health_hostile=busy)
            print(f"/health alone: {quiet}\n/health with 2 clients of 49 unknown titles: {busy}")
            checks["loop"] = busy["p99_ms"] <= MAX_P99_MS
    finally:
        stop(server)
    for name, passed in checks.items():
        print(f"{name}: {verdict(passed)}")
    return overall(checks)


def main(argv: list[str] | None = None) -> int:
    parser = parser_from_doc(__doc__ or "")
    parser.add_argument("--standin", type=Path, default=Path("/tmp/scale"))
    parser.add_argument("--data", type=Path, default=Path("/tmp/h19d-data"))
    parser.add_argument("--requests", type=int, default=2000, help="distinct requests of each kind")
    parser.add_argument("--loop-seconds", type=float, default=10.0)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-loop", action="store_true")
    args = parser.parse_args(argv)
    return run_benchmark(lambda report: benchmark(args, report), {"bench": "api_hostile"}, args.json)


if __name__ == "__main__":
    sys.exit(main())
