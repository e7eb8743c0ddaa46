"""Hostile-TMDB benchmark: peak memory and wall time of `movierec tmdb-sync` against a fake TMDB
that misbehaves (issue 19, points 2, 3, 5, 6, 7 and 13), at the default settings where feasible.

Target: every case at most 1 GB peak RSS and ended within its bound (the request deadline, the
sync budget), with exit 0 (every film fetched), 1 (some films failed, batch written) or a one-line
refusal with exit 2.

Cases (each a fresh fake TMDB on loopback, served from this process; one day of changes):
  baseline                    200 ordinary films
  title 300 MB, announced     20 films answering a 300 MB title with its Content-Length
  title 300 MB, streamed      20 films streaming a 300 MB title without a length
  gzip bomb 0.5 MB -> 500 MB  20 films answering a gzip body that inflates to 500 MB (the issue's)
  answers under the cap       20 films answering ~8 MB of empty cast entries (parse cost)
  total_pages 1e9             a change list claiming 1e9 pages (100 ids a page, the same ids)
  fat pages                   50 pages (MOVIEREC_TMDB_MAX_PAGES=50) of ~7.8 MB each (600,000 entries a page)
  drip 1 byte / 20 s          one film answering a byte every 20 s, forever (the request deadline ends it)
  Retry-After 999999          20 films answering 429 with Retry-After 999999, forever
  budget 20 s                 200 films dripping a byte a second (MOVIEREC_TMDB_BUDGET=20)
  hostile ids, bad films      change-list entries -7, 0, true, 1e25, "8"...; malformed answers; the key echoed

Each case runs `python -m movierec tmdb-sync` as a child, measured with os.wait4 (exact peak RSS);
the fake TMDB of each case runs in a process of its own, so the measuring process stays small.

Usage:
  python bench/tmdb_hostile.py [--only NAME ...] [--json PATH]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]  # run as a script: _common and the fake TMDB

from _common import print_machine_info, print_table, run_measured  # noqa: E402
from fake_tmdb import FakeTmdb, Reply, make_movie  # noqa: E402
from movierec.config import Settings  # noqa: E402

REPO = HERE.parent
DAY = date(2024, 5, 31)
KEY = "bench-hostile-key-0123456789abcdef"
MAX_RSS_MB = 1024.0
MB = 1 << 20


@dataclass
class Outcome:
    case: str
    seconds: float
    peak_rss_mb: float
    exit_code: int
    message: str
    bound_s: float  # when the case must have ended (its deadline or budget, plus slack)

    @property
    def passed(self) -> bool:
        ok_exit = self.exit_code in (0, 1) or (self.exit_code == 2 and self.message.startswith("error: "))
        return self.peak_rss_mb <= MAX_RSS_MB and ok_exit and self.seconds <= self.bound_s


def _title_chunks(size: int) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        yield b'{"title": "'
        for _ in range(size // MB):
            yield b"a" * MB
        yield b'"}'

    return chunks


def _gzip_bomb(inflated: int) -> bytes:
    pack = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [pack.compress(b'{"title": "')]
    block = b"a" * MB
    parts += [pack.compress(block) for _ in range(inflated // MB)]
    parts.append(pack.compress(b'"}') + pack.flush())
    return b"".join(parts)


def _films(fake: FakeTmdb, count: int, reply: Reply | None = None) -> None:
    for i in range(1, count + 1):
        fake.add(make_movie(i), DAY)
        if reply is not None:
            fake.always[f"/movie/{i}"] = reply


def _fat_pages(fake: FakeTmdb) -> None:
    entries = b",".join(b'{"id": %d}' % (i % 2000 + 1) for i in range(600_000))
    page = b'{"page": 1, "total_pages": 50, "results": [' + entries + b"]}"
    fake.always["/movie/changes"] = Reply(200, raw=page)


def _hostile_mix(fake: FakeTmdb) -> None:
    _films(fake, 50)
    fake.extra_entries = [{"id": -7}, {"id": 0}, {"id": True}, {"id": 10**25}, {"id": "8"}, {"id": 7.5}, "x"]
    bad = [
        b'{"budget": Infinity}',
        b'{"budget": 1e400}',
        b"[" * 200_000,
        b'{"title": "\xff"}',
        b'{"genres": {"id": 1}}',
        b'{"budget": "12"}',
    ]
    for i, raw in enumerate(bad, start=1):
        fake.always[f"/movie/{i}"] = Reply(200, raw=raw)
    echoed = {**make_movie(10), "title": f"echo {KEY}", "overview": KEY * 100}
    fake.always["/movie/10"] = Reply(200, body=echoed)


CASES: list[tuple[str, Callable[[FakeTmdb], None], dict[str, str], float]] = [
    ("baseline", lambda f: _films(f, 200), {}, 120),
    (
        "title 300 MB, announced",
        lambda f: _films(f, 20, Reply(200, {"Content-Length": str(300 * MB + 13)}, chunks=_title_chunks(300 * MB))),
        {},
        120,
    ),
    ("title 300 MB, streamed", lambda f: _films(f, 20, Reply(200, chunks=_title_chunks(300 * MB))), {}, 120),
    (
        "gzip bomb 0.5 MB -> 500 MB",
        lambda f: _films(f, 20, Reply(200, {"Content-Encoding": "gzip"}, raw=_gzip_bomb(500 * MB))),
        {},
        120,
    ),
    (
        "answers under the cap",
        lambda f: _films(
            f, 20, Reply(200, raw=b'{"credits": {"cast": [' + b",".join(itertools.repeat(b"{}", 2_700_000)) + b"]}}")
        ),
        {},
        300,
    ),
    ("total_pages 1e9", lambda f: (_films(f, 100), setattr(f, "total_pages", 1e9)), {}, 300),
    ("fat pages", _fat_pages, {"MOVIEREC_TMDB_MAX_PAGES": "50"}, 600),
    (
        "drip 1 byte / 20 s",
        lambda f: _films(f, 1, Reply(200, chunks=lambda: itertools.repeat(b" "), drip=20)),
        {},
        60 + 30,
    ),
    ("Retry-After 999999", lambda f: _films(f, 20, Reply(429, {"Retry-After": "999999"})), {}, 60 + 30),
    (
        "budget 20 s",
        lambda f: _films(f, 200, Reply(200, chunks=lambda: itertools.repeat(b" "), drip=1)),
        {"MOVIEREC_TMDB_BUDGET": "20"},
        20 + 30,
    ),
    ("hostile ids, bad films", _hostile_mix, {}, 120),
]


def serve(name: str, url_file: Path) -> None:
    """The fake TMDB of one case, in its own process until it is terminated: the measuring
    process stays small (a child's peak RSS starts at its parent's, the high-water mark of the
    memory it was forked from, so a big parent would inflate every figure)."""
    setup = next(c[1] for c in CASES if c[0] == name)
    with FakeTmdb(api_key=KEY) as fake:
        setup(fake)
        url_file.write_text(fake.url)
        signal.sigwait({signal.SIGTERM})


def run_case(name: str, env_extra: dict[str, str], bound: float, work: Path) -> Outcome:
    out, log, url_file = work / "batch", work / "child.log", work / "url"
    shutil.rmtree(out, ignore_errors=True)
    url_file.unlink(missing_ok=True)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # inherited: the server waits for it
    server = subprocess.Popen([sys.executable, __file__, "--serve", name, "--url-file", str(url_file)], cwd=REPO)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    try:
        while not url_file.exists() or not url_file.read_text():
            if server.poll() is not None:
                raise SystemExit(f"the fake TMDB of {name!r} stopped (exit {server.returncode})")
            time.sleep(0.1)
        env = {**os.environ, "TMDB_API_KEY": KEY, "MOVIEREC_TMDB_URL": url_file.read_text(), **env_extra}
        result = run_measured(
            [
                sys.executable,
                "-m",
                "movierec",
                "tmdb-sync",
                "--since",
                DAY.isoformat(),
                "--until",
                DAY.isoformat(),
                "--out",
                str(out),
            ],
            log=log,
            cwd=REPO,
            env=env,
        )
    finally:
        server.terminate()
        server.wait()
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    errors = [line for line in lines if line.startswith(("error: ", "warning: "))]
    summary = [line for line in lines if line.startswith(str(out))]
    message = (errors or summary or lines[-1:] or [""])[-1].replace(str(work), "WORK")
    leaked = (
        [p.name for p in out.iterdir() if KEY in p.read_text(encoding="utf-8", errors="replace")]
        if out.exists()
        else []
    )
    if leaked or any(KEY in line for line in lines):
        message = f"KEY LEAKED in {leaked or 'the log'}; {message}"
        bound = -1.0
    print(f"  {name}: exit {result.returncode}, {result.seconds:.1f} s, {result.peak_rss_mb:.0f} MB", flush=True)
    return Outcome(name, round(result.seconds, 2), round(result.peak_rss_mb, 1), result.returncode, message, bound)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    parser.add_argument("--only", nargs="*", help="run only the cases whose name starts with one of these")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # internal: the fake TMDB of one case
    parser.add_argument("--url-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.url_file)
        return 0
    machine = print_machine_info()
    settings = Settings.from_env()
    print(
        f"settings: answer cap {settings.tmdb_max_response_bytes:,} B, {settings.tmdb_max_pages} pages, "
        f"deadline {settings.tmdb_request_deadline:g} s, Retry-After <= {settings.tmdb_max_wait:g} s, "
        f"budget {settings.tmdb_budget:g} s; target <= {MAX_RSS_MB:,.0f} MB peak, ended within its bound",
        flush=True,
    )
    cases = [c for c in CASES if not args.only or any(c[0].startswith(o) for o in args.only)]
    work = Path(tempfile.mkdtemp(prefix="bench-tmdb-hostile-"))
    try:
        outcomes = [run_case(name, env, bound, work) for name, _, env, bound in cases]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print_table(
        ["case", "wall s", "bound s", "peak RSS MB", "exit", "message"],
        [[o.case, o.seconds, o.bound_s, o.peak_rss_mb, o.exit_code, o.message[:120]] for o in outcomes],
    )
    passed = all(o.passed for o in outcomes)
    print(
        f"\noverall: {'PASS' if passed else 'FAIL'} (every case <= {MAX_RSS_MB:,.0f} MB peak, within its bound, "
        "exit 0/1 or a one-line refusal with exit 2, the key never written)"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine, "passed": passed, "cases": [asdict(o) for o in outcomes]}, indent=2) + "\n"
        )
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
