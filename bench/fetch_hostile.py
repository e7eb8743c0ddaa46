"""Hostile-upstream benchmark of `movierec fetch` (issue 19, items 4 and 5): peak memory, wall time
and bytes written to disk against archives and servers built to hurt it, beside a real release.

Target: every case at most 1 GB peak RSS, ended within MOVIEREC_FETCH_BUDGET, nothing written past
MOVIEREC_RELEASE_MAX_BYTES, and every hostile case refused with one `error:` line and exit 2.

Cases (archives built in a work folder under /tmp, served by a loopback HTTP server):
  real release                the release of the sample (or --release DIR), packed as the workflow does
  bomb: 10 GiB, one member    raw/ratings.csv.gz of 10 GiB of zeros in a ~10 MB .tar.gz (over the cap)
  bomb: 3.2 GiB, one member   the same at 3.2 GiB (the issue's "14 MB archive wrote 3.2 GB"; under the cap)
  bomb: 10 × 1 GiB members    ten such files of 1 GiB each
  100,000 tiny members        distinct empty files under raw/
  sparse 1 GiB member         GNU tar --sparse of a 1 GiB hole
  incompressible 300 MB       a release-like archive within every cap whose catalog does not load: the
                              most a fetch writes before it refuses (plain .tar of random bytes)
  dripping server             headers, then one byte every 2 s (MOVIEREC_FETCH_BUDGET=20 for this case,
                              so the run takes 20 s rather than the default 900 s)

Each case is a fresh `python -m movierec fetch URL --data DATA` child measured with os.wait4: peak
RSS (ru_maxrss), wall time, and bytes written (ru_oublock × 512: every byte the child wrote to a
file, the downloaded archive included); a thread also samples DATA's size on disk every 20 ms.

Usage:
  python bench/fetch_hostile.py [--work-dir /tmp] [--release DIR] [--keep] [--only NAME ...] [--json PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import socketserver
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zlib
from dataclasses import asdict, dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: find _common

from _common import print_machine_info, print_table, ru_maxrss_mb

REPO = Path(__file__).resolve().parents[1]
MAX_RSS_MB = 1024.0
GIB = 1 << 30
MIB = 1 << 20


@dataclass
class Outcome:
    case: str
    archive_mb: float
    seconds: float
    peak_rss_mb: float
    written_mb: float  # what the child wrote to files (rusage)
    peak_data_mb: float  # DATA's largest size on disk, sampled
    exit_code: int
    message: str

    def passed(self, budget: float, cap: int, hostile: bool) -> bool:
        ends = self.seconds <= budget + 5  # the child's start-up and clean-up beside the budget
        refused = self.exit_code == 2 and self.message.startswith("error: ")
        return (
            self.peak_rss_mb <= MAX_RSS_MB
            and ends
            and self.written_mb * MIB <= cap + 64 * MIB
            and (refused if hostile else self.exit_code == 0)
        )


# --- building the archives ------------------------------------------------------------------------


def manifest_bytes() -> bytes:
    from datetime import UTC, datetime

    from movierec.release.layout import new_name

    return json.dumps(
        {"release": new_name(), "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "tables": {"movies": 1}}
    ).encode()


def header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(tarfile.PAX_FORMAT)  # sizes past 8 GiB need pax


def gzip_bomb(path: Path, files: list[tuple[str, int]]) -> None:
    """A .tar.gz holding a manifest, then ``files`` of zeros, compressed without ever holding or
    deflating more than 1 MiB: each MiB of zeros deflates (after a full flush) to the same bytes,
    repeated; the CRC is computed over the real stream."""
    block = bytes(MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflated_block = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    manifest = manifest_bytes()
    crc, total = 0, 0
    with open(path, "wb") as out:
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")

        def put(data: bytes) -> None:
            nonlocal crc, total
            out.write(deflate.compress(data) + deflate.flush(zlib.Z_FULL_FLUSH))
            crc, total = zlib.crc32(data, crc), total + len(data)

        put(header("manifest.json", len(manifest)) + manifest + bytes(-len(manifest) % 512))
        for name, size in files:
            put(header(name, size))
            for _ in range(size // MIB):
                out.write(deflated_block)
                crc = zlib.crc32(block, crc)
                total += MIB
            put(bytes(size % MIB) + bytes(-size % 512))
        put(bytes(1024))
        out.write(deflate.flush(zlib.Z_FINISH))
        out.write((crc & 0xFFFFFFFF).to_bytes(4, "little") + (total & 0xFFFFFFFF).to_bytes(4, "little"))


def many_members(path: Path, count: int) -> None:
    info = tarfile.TarInfo()
    with gzip.open(path, "wb", compresslevel=1) as out:
        manifest = manifest_bytes()
        out.write(header("manifest.json", len(manifest)) + manifest + bytes(-len(manifest) % 512))
        for i in range(count):
            info.name = f"raw/r{i}.csv.gz"
            out.write(info.tobuf())
        out.write(bytes(1024))


def sparse(path: Path, work: Path) -> None:
    source = work / "sparse-src"
    (source / "raw").mkdir(parents=True)
    (source / "manifest.json").write_bytes(manifest_bytes())
    with open(source / "raw" / "ratings.csv.gz", "wb") as handle:
        handle.truncate(GIB)
    subprocess.run(["tar", "--sparse", "-czf", str(path), "-C", str(source), "manifest.json", "raw"], check=True)
    shutil.rmtree(source)


def incompressible(path: Path, size: int) -> None:
    """Written a MiB at a time: a child's ru_maxrss starts at this process's RSS when it forks, so
    the bench must stay small itself."""
    manifest = manifest_bytes()
    with open(path, "wb") as out:
        out.write(header("manifest.json", len(manifest)) + manifest + bytes(-len(manifest) % 512))
        out.write(header("raw/ratings.csv.gz", size))
        for _ in range(size // MIB):
            out.write(os.urandom(MIB))
        out.write(os.urandom(size % MIB) + bytes(-size % 512) + bytes(1024))


def real_release(path: Path, work: Path, release: Path | None) -> None:
    if release is None:
        data = work / "built"
        subprocess.run(
            [sys.executable, "-m", "movierec", "pipeline", "--data", str(data)],
            cwd=REPO,
            check=True,
            env={**os.environ, "MOVIEREC_EVALUATE_ON_PUBLISH": "0"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        release = (data / "current").resolve()
    subprocess.run(["tar", "-czf", str(path), "-C", str(release.parent), release.name], check=True)


# --- the servers ----------------------------------------------------------------------------------


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _Drip(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
            for _ in range(1_000_000):
                self.wfile.write(b"\x1f")
                self.wfile.flush()
                time.sleep(2)
        except OSError:
            pass


def serve(handler: type, **kwargs: object) -> tuple[socketserver.BaseServer, int]:
    server_class = ThreadingHTTPServer if kwargs else socketserver.ThreadingTCPServer
    server_class.daemon_threads = True
    server = server_class(("127.0.0.1", 0), partial(handler, **kwargs) if kwargs else handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


# --- measuring ------------------------------------------------------------------------------------


def disk_usage(folder: Path) -> int:
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total


def measure(case: str, url: str, data: Path, archive: Path | None, env: dict[str, str], logs: Path) -> Outcome:
    if data.exists():
        shutil.rmtree(data)
    log = logs / f"{case.replace(' ', '_').replace(':', '').replace(',', '')}.log"
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], disk_usage(data) if data.exists() else 0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "movierec", "fetch", url, "--data", str(data)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env=env,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    message = next((line for line in lines if line.startswith("error: ")), lines[-1] if lines else "")
    return Outcome(
        case,
        archive.stat().st_size / MIB if archive else 0.0,
        seconds,
        ru_maxrss_mb(usage.ru_maxrss),
        usage.ru_oublock * 512 / MIB,
        peak[0] / MIB,
        proc.returncode,
        message[:160],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument(
        "--release", type=Path, help="a release folder to fetch as the real case (default: one built from the sample)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--only", nargs="*", help="cases whose name contains one of these")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from movierec.config import Settings

    settings = Settings.from_env()
    print_machine_info()
    print(
        f"caps: MOVIEREC_RELEASE_MAX_BYTES={settings.release_max_bytes:,}, MOVIEREC_RELEASE_MAX_FILES="
        f"{settings.release_max_files:,}, MOVIEREC_FETCH_BUDGET={settings.fetch_budget:g} s"
    )
    work = Path(tempfile.mkdtemp(prefix="fetch-hostile-", dir=args.work_dir))
    www, logs = work / "www", work / "logs"
    www.mkdir()
    logs.mkdir()
    files, files_port = serve(_Quiet, directory=str(www))
    drip, drip_port = serve(_Drip)
    base = f"http://127.0.0.1:{files_port}"
    drip_budget = 20.0
    cases: list[tuple[str, object, bool, float]] = [
        ("real release", lambda p: real_release(p, work, args.release), False, settings.fetch_budget),
        (
            "bomb: 10 GiB, one member",
            lambda p: gzip_bomb(p, [("raw/ratings.csv.gz", 10 * GIB)]),
            True,
            settings.fetch_budget,
        ),
        (
            "bomb: 3.2 GiB, one member",
            lambda p: gzip_bomb(p, [("raw/ratings.csv.gz", int(3.2 * GIB))]),
            True,
            settings.fetch_budget,
        ),
        (
            "bomb: 10 x 1 GiB members",
            lambda p: gzip_bomb(p, [(f"raw/r{i}.csv.gz", GIB) for i in range(10)]),
            True,
            settings.fetch_budget,
        ),
        ("100,000 tiny members", lambda p: many_members(p, 100_000), True, settings.fetch_budget),
        ("sparse 1 GiB member", lambda p: sparse(p, work), True, settings.fetch_budget),
        ("incompressible 300 MB", lambda p: incompressible(p, 300 * MIB), True, settings.fetch_budget),
        ("dripping server", None, True, drip_budget),
    ]
    outcomes: list[Outcome] = []
    verdicts: list[str] = []
    try:
        for n, (case, build, hostile, budget) in enumerate(cases):
            if args.only and not any(word in case for word in args.only):
                continue
            env = dict(os.environ)
            if build is None:
                url, archive = f"http://127.0.0.1:{drip_port}/release.tar.gz", None
                env["MOVIEREC_FETCH_BUDGET"] = f"{budget:g}"
            else:
                archive = www / f"case{n}.tar.gz"
                started = time.perf_counter()
                build(archive)  # type: ignore[operator]
                print(
                    f"built {case}: {archive.stat().st_size / MIB:,.1f} MB in {time.perf_counter() - started:.1f} s",
                    flush=True,
                )
                url = f"{base}/{archive.name}"
            outcome = measure(case, url, work / "data", archive, env, logs)
            if archive is not None:
                archive.unlink()
            outcomes.append(outcome)
            verdicts.append("PASS" if outcome.passed(budget, settings.release_max_bytes, hostile) else "FAIL")
            print(f"  {case}: {outcome.message}", flush=True)
    finally:
        files.shutdown()
        drip.shutdown()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print_table(
        ["case", "archive MB", "wall s", "peak RSS MB", "written MB", "peak DATA MB", "exit", "verdict"],
        [
            [o.case, o.archive_mb, o.seconds, o.peak_rss_mb, o.written_mb, o.peak_data_mb, o.exit_code, v]
            for o, v in zip(outcomes, verdicts, strict=True)
        ],
    )
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=2))
    sys.exit(0 if all(v == "PASS" for v in verdicts) else 1)


if __name__ == "__main__":
    main()
