"""Hostile-input benchmark: peak memory and time of `movierec etl` on pathological raw files
(issue 13, point 4), against the full-size stand-in's ETL measured in the same invocation.

Target: every case at most 2 GB peak RSS, or refused with one `error:` line and exit code 2.

Cases (built in a work folder under /tmp; the other input of each case is the real sample's):
  baseline (stand-in)         the full-size stand-in (45,466 films, ~270 MB): the reference run
  repeated row, 1 GiB         movies_metadata.csv.zip: one movies row repeated to 1 GiB (the issue's)
  NUL bytes, 1 GiB            movies_metadata.csv.zip: 1 GiB of NUL bytes (a 1 MB zip)
  no line break, 200 MB       movies_metadata.csv: 200 MB without a line break
  credits repeated, 500 MB    credits.csv: one credits row (~4 KB) repeated to ~500 MB
  repeated row under cap      movies_metadata.csv.zip: one movies row repeated to just under the byte cap
  films at both caps          movies_metadata.csv: distinct valid films, just under both caps (bytes, lines)
  short records at both caps  the same with a field missing in every record (all quarantined)
  long records at both caps   the same with a field too many in every record (the Arrow reader's path)
  cp1252 films at both caps   the valid films with a cp1252 title (read as cp1252: converted to UTF-8 first)
  over the line cap           movies_metadata.csv: one line more than the line cap (short lines)
  credits under cap           a stand-in scaled so that its credits.csv is just under the byte cap
  repeated row + credits      the two files under the cap together (1 GiB of input in all)
  long titles under byte cap  distinct valid films, each with a 600-character title (over the 500
                              cap: every film cut and listed as repaired)
  one 10M-character title     movies_metadata.csv: one film whose title has 10 million characters
  one title under the cap     movies_metadata.csv: one film whose title is just under the byte cap

The caps are MOVIEREC_MAX_INPUT_BYTES and MOVIEREC_MAX_INPUT_LINES as the children see them (the
defaults unless set); each case runs as a fresh `python -m movierec etl` child, measured with
os.wait4 (exact peak RSS of the child). The machine may be shared: wall times are indicative,
peak RSS barely depends on other load.

Usage:
  python bench/hostile.py [--work-dir /tmp] [--standin DIR] [--keep] [--only NAME ...] [--json PATH]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: find _common

from _common import print_machine_info, print_table, ru_maxrss_mb
from movierec.raw.files import MOVIES_COLUMNS

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO.parent / "shared" / "data" / "the-movies-dataset"
SCALE_TOOL = REPO.parent / "shared" / "tools" / "scale_dataset.py"
MAX_RSS_MB = 2048.0
GIB = 1 << 30
CHUNK = 1 << 20
STANDIN_MOVIES = 45_466
STANDIN_CREDITS_BYTES = 220_835_355  # credits.csv of the 45,466-film stand-in


@dataclass
class Outcome:
    """One measured `movierec etl` run."""

    case: str
    input_mb: float  # the hostile file, decompressed
    seconds: float
    peak_rss_mb: float
    exit_code: int
    message: str  # the `error:` line of a refusal, else the summary line on stdout

    @property
    def passed(self) -> bool:
        refused = self.exit_code == 2 and self.message.startswith("error: ")
        return self.peak_rss_mb <= MAX_RSS_MB and (self.exit_code == 0 or refused)


def caps() -> tuple[int, int]:
    """The (bytes, lines) caps the children will apply: MOVIEREC_MAX_INPUT_BYTES/LINES, else the defaults."""
    from movierec.config import Settings

    settings = Settings.from_env()
    return settings.max_input_bytes, settings.max_input_lines


# --- building the inputs --------------------------------------------------------------------------


def sample_rows(name: str) -> tuple[bytes, list[bytes]]:
    """The header and the physical lines of a sample file (its rows hold no line break but 3)."""
    lines = gzip.decompress((SAMPLE / f"{name}.gz").read_bytes()).split(b"\n")
    return lines[0] + b"\n", [line + b"\n" for line in lines[1:] if line]


def write_repeated(handle: BinaryIO, head: bytes, row: bytes, total: int) -> int:
    """``head`` then ``row`` repeated while the whole stays within ``total`` bytes; returns the
    size written."""
    block = row * max(1, CHUNK // len(row))
    handle.write(head)
    written = len(head)
    while written + len(block) <= total:
        handle.write(block)
        written += len(block)
    rest = (total - written) // len(row)
    handle.write(row * rest)
    return written + rest * len(row)


def zip_repeated(path: Path, head: bytes, row: bytes, total: int) -> int:
    # Level 1: the data is one repeated pattern, any level compresses it ~1000x; 1 is the fastest.
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open(path.stem, "w", force_zip64=True) as member,
    ):
        return write_repeated(member, head, row, total)


def file_repeated(path: Path, head: bytes, row: bytes, total: int) -> int:
    with path.open("wb") as handle:
        return write_repeated(handle, head, row, total)


def companion(raw: Path, name: str) -> None:
    shutil.copyfile(SAMPLE / f"{name}.gz", raw / f"{name}.gz")


def typical_credits_row(rows: list[bytes]) -> bytes:
    """The sample credits row closest to the real file's mean (~4.2 KB) with a cast and a crew."""
    return min(rows, key=lambda r: abs(len(r) - 4200))


def films(path: Path, count: int, total: int, width: int, title: bytes = b"T") -> int:
    """``count`` films with distinct ids and ``width`` fields (24 is right, 23 too few, 25 too
    many), their overview sized so that the file holds about ``total`` bytes."""
    head = b",".join(c.encode() for c in MOVIES_COLUMNS) + b"\n"
    fields = {
        "adult": b"False",
        "budget": b"1000000",
        "genres": b"\"[{'id': 16, 'name': 'Animation'}]\"",
        "original_language": b"en",
        "popularity": b"1.5",
        "production_companies": b"[]",
        "production_countries": b"[]",
        "release_date": b"2000-01-01",
        "runtime": b"90",
        "spoken_languages": b"[]",
        "status": b"Released",
        "title": title,
        "video": b"False",
        "vote_average": b"5",
        "vote_count": b"10",
    }
    base = [fields.get(c, b"") for c in MOVIES_COLUMNS]
    base = base[:width] if width <= len(base) else base + [b"surplus"] * (width - len(base))
    pad = max(1, (total - len(head)) // count - len(b",".join(base)) - 9)
    base[MOVIES_COLUMNS.index("overview")] = b"o" * pad
    template = b",".join(
        b"%d" if c == "id" else v.replace(b"%", b"%%") for c, v in zip(MOVIES_COLUMNS, base, strict=True)
    )
    template += b"".join(b"," + v for v in base[len(MOVIES_COLUMNS) :]) + b"\n"
    with path.open("wb") as out:
        out.write(head)
        for start in range(1, count + 1, 100_000):
            out.write(b"".join(template % i for i in range(start, min(count + 1, start + 100_000))))
    return path.stat().st_size


def long_title(path: Path, head: bytes, rows: list[bytes], chars: int) -> int:
    """The sample's movies (one line each: the three broken records left out) plus one film whose
    title has ``chars`` characters, written in chunks (a case's input is never held here: the
    children inherit this process's peak RSS)."""
    width = len(MOVIES_COLUMNS)
    whole = [r for r in rows if len(next(csv.reader([r.decode()]))) == width]
    fields = next(csv.reader([whole[0].decode()]))
    fields[MOVIES_COLUMNS.index("id")], fields[MOVIES_COLUMNS.index("title")] = "990001", "@TITLE@"
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(fields)
    before, after = line.getvalue().encode().split(b"@TITLE@")
    with path.open("wb") as out:
        out.write(head + b"".join(whole) + before)
        block = b"T" * CHUNK
        for start in range(0, chars, CHUNK):
            out.write(block[: min(CHUNK, chars - start)])
        out.write(after)
    return path.stat().st_size


def build(
    work: Path, cap: int, max_lines: int, standin: Path | None, only: list[str] | None = None
) -> list[tuple[str, Path, float]]:
    """Every case (or those whose name starts with one of ``only``) as (name, raw folder, hostile
    file's decompressed MB)."""
    movies_head, movies_rows = sample_rows("movies_metadata.csv")
    credits_head, credits_rows = sample_rows("credits.csv")
    cases: list[tuple[str, Path, float]] = []
    under = cap - 4 * CHUNK

    def wanted(name: str) -> bool:
        if name == "repeated row under cap" and wanted("repeated row + credits, both under cap"):
            return True  # that case reads this one's file
        return not only or any(name.startswith(o) for o in only)

    def case(name: str, make: Callable[[Path], int], companions: tuple[str, ...]) -> None:
        if not wanted(name):
            return
        raw = work / name.replace(" ", "-").replace(",", "")
        raw.mkdir(parents=True)
        start = time.perf_counter()
        size = make(raw)
        for other in companions:
            companion(raw, other)
        print(f"  built {name}: {size / 1e6:,.0f} MB in {time.perf_counter() - start:.0f} s", flush=True)
        cases.append((name, raw, size / 1e6))

    if standin is None:
        standin = work / "standin"
        scale(standin, STANDIN_MOVIES)
    cases.append(("baseline (stand-in)", standin, sum(p.stat().st_size for p in standin.glob("*.csv")) / 1e6))
    case(
        "repeated row, 1 GiB",
        lambda raw: zip_repeated(raw / "movies_metadata.csv.zip", movies_head, movies_rows[0], GIB),
        ("credits.csv",),
    )
    case(
        "NUL bytes, 1 GiB",
        lambda raw: zip_repeated(raw / "movies_metadata.csv.zip", b"", b"\x00", GIB),
        ("credits.csv",),
    )
    case(
        "no line break, 200 MB",
        lambda raw: file_repeated(raw / "movies_metadata.csv", b"", b"a", 200_000_000),
        ("credits.csv",),
    )
    case(
        "credits repeated, 500 MB",
        lambda raw: file_repeated(
            raw / "credits.csv", credits_head, typical_credits_row(credits_rows), min(500_000_000, under)
        ),
        ("movies_metadata.csv",),
    )
    case(
        "repeated row under cap",
        lambda raw: zip_repeated(raw / "movies_metadata.csv.zip", movies_head, movies_rows[0], under),
        ("credits.csv",),
    )
    lines = max_lines - 1  # the header is a line too
    case("films at both caps", lambda raw: films(raw / "movies_metadata.csv", lines - 1, under, 24), ("credits.csv",))
    case(
        "short records at both caps",
        lambda raw: films(raw / "movies_metadata.csv", lines - 1, under, 23),
        ("credits.csv",),
    )
    case(
        "long records at both caps",
        lambda raw: films(raw / "movies_metadata.csv", lines - 1, under, 25),
        ("credits.csv",),
    )
    case(
        "cp1252 films at both caps",
        lambda raw: films(raw / "movies_metadata.csv", lines - 1, under, 24, b"Caf\xe9"),
        ("credits.csv",),
    )
    case(
        "over the line cap",
        lambda raw: films(raw / "movies_metadata.csv", max_lines + 1, 100 * (max_lines + 1), 24),
        ("credits.csv",),
    )
    # 600 characters (over the 500 cap) and about 715 bytes a film: as many as the byte cap holds.
    case(
        "long titles under the byte cap",
        lambda raw: films(raw / "movies_metadata.csv", min(lines - 1, under // 750), under, 24, b"T" * 600),
        ("credits.csv",),
    )
    case(
        "one 10M-character title",
        lambda raw: long_title(raw / "movies_metadata.csv", movies_head, movies_rows, 10_000_000),
        ("credits.csv",),
    )
    case(
        "one title under the cap",
        lambda raw: long_title(raw / "movies_metadata.csv", movies_head, movies_rows, under - 2_000_000),
        ("credits.csv",),
    )
    if not any(wanted(n) for n in ("credits under cap", "repeated row + credits")):
        return cases
    credits = work / "credits-under-cap"
    scale(credits, int(STANDIN_MOVIES * 0.97 * cap / STANDIN_CREDITS_BYTES))
    size = (credits / "credits.csv").stat().st_size
    if size > cap:
        raise SystemExit(f"the scaled credits.csv ({size:,} bytes) is over the cap ({cap:,})")
    cases.append(("credits under cap (distinct films)", credits, size / 1e6))
    both = work / "movies-and-credits-under-cap"
    both.mkdir()
    (both / "credits.csv").symlink_to(credits / "credits.csv")
    (both / "movies_metadata.csv.zip").symlink_to(work / "repeated-row-under-cap" / "movies_metadata.csv.zip")
    cases.append(("repeated row + credits, both under cap", both, (size + under) / 1e6))
    return cases


def scale(out: Path, movies: int) -> None:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, str(SCALE_TOOL), str(out), "--movies", str(movies)], check=True, stdout=subprocess.DEVNULL
    )
    print(f"  built stand-in of {movies:,} films in {out} in {time.perf_counter() - start:.0f} s", flush=True)


# --- running ----------------------------------------------------------------------------------------


def run_etl(case: str, raw: Path, out: Path, input_mb: float) -> Outcome:
    """`python -m movierec etl` as a child: wall time, exact peak RSS (os.wait4), the message."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "movierec", "etl", "--raw", str(raw), "--out", str(out)]
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, cwd=REPO)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = code = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        errors = [line for line in stderr.read().decode("utf-8", "replace").splitlines() if line.startswith("error: ")]
        said = stdout.read().decode("utf-8", "replace").strip().splitlines()
    message = errors[0] if errors else (said[-1] if said else "")
    outcome = Outcome(
        case,
        round(input_mb),
        round(seconds, 1),
        round(ru_maxrss_mb(usage.ru_maxrss)),
        code,
        message.replace(str(out), "OUT"),
    )
    print(
        f"  {case}: {outcome.seconds:.1f} s, {outcome.peak_rss_mb:,.0f} MB peak, exit {code}: {outcome.message[:160]}",
        flush=True,
    )
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp"), help="where the inputs are built")
    parser.add_argument("--standin", type=Path, help="an existing full-size stand-in (default: generate one)")
    parser.add_argument("--keep", action="store_true", help="keep the built inputs")
    parser.add_argument("--only", nargs="*", help="run only the cases whose name starts with one of these")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    machine = print_machine_info()
    cap, max_lines = caps()
    print(
        f"caps: MOVIEREC_MAX_INPUT_BYTES {cap:,} bytes, MOVIEREC_MAX_INPUT_LINES {max_lines:,}; target: <= {MAX_RSS_MB:,.0f} MB peak or refused "
        f"(one error line, exit 2)\nnote: the machine may be shared with other work; peak RSS does not "
        f"depend on it, wall times do",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="bench-hostile-", dir=args.work_dir))
    try:
        cases = build(work / "raw", cap, max_lines, args.standin.resolve() if args.standin else None, args.only)
        outcomes = [run_etl(name, raw, work / "out", mb) for name, raw, mb in cases]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    base = outcomes[0]
    print()
    print_table(
        ["case", "input MB", "wall s", "x base", "peak RSS MB", "x base", "exit", "message"],
        [
            [
                o.case,
                o.input_mb,
                o.seconds,
                round(o.seconds / base.seconds, 2),
                o.peak_rss_mb,
                round(o.peak_rss_mb / base.peak_rss_mb, 2),
                o.exit_code,
                o.message[:110],
            ]
            for o in outcomes
        ],
    )
    passed = all(o.passed for o in outcomes)
    print(
        f"\noverall: {'PASS' if passed else 'FAIL'} (every case <= {MAX_RSS_MB:,.0f} MB peak, exit 0 or a "
        "one-line refusal with exit 2)"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine,
                    "cap": cap,
                    "max_lines": max_lines,
                    "passed": passed,
                    "cases": [asdict(o) for o in outcomes],
                },
                indent=2,
            )
            + "\n"
        )
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
