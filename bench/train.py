"""Training benchmark: `movierec train` on the full-size stand-in, and its growth at 3× the films.

Targets (from the issue), on the full-size stand-in (45,466 films tiled from the sample, with
ratings_small.csv and links.csv, so the collaborative signal and the weight tuning run too):
  time     median wall time of `movierec train` <= 60 s
  memory   peak RSS <= 2048 MB
  growth   with --scale-3x (136,398 films) the time and RSS ratios are printed (no target)

For each size: the stand-in is generated with ../shared/tools/scale_dataset.py, one release is
published from it with `movierec pipeline` (ETL plus a first, untimed training), then
`movierec train --data DATA` runs --repeat times, each in a fresh child process; wall time and
peak RSS come from os.wait4 (bench/_common.py). The step durations of the last run are read from
the manifest, and the artifact's size in memory (what the API holds) is printed.

Usage:
  python bench/train.py [--raw-dir DIR] [--repeat 3] [--scale-3x] [--repeat-3x 1]
                        [--work-dir DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: find _common

from _common import (
    ChildFailed,
    Summary,
    overall,
    parser_from_doc,
    print_machine_info,
    print_table,
    run_benchmark,
    run_measured,
    verdict,
)

REPO = Path(__file__).resolve().parents[1]
SCALE_TOOL = REPO.parent / "shared" / "tools" / "scale_dataset.py"

FULL_SIZE_MOVIES = 45_466
MAX_SECONDS = 60.0
MAX_RSS_MB = 2048.0
SUMMARY_HEADERS = ["command", "runs", "median s", "min s", "max s", "cpu s", "peak RSS MB"]


def run(label: str, cmd: list[str], logs: Path) -> Any:
    result = run_measured(cmd, log=logs / f"{label.replace(' ', '_')}.log", cwd=REPO)
    print(
        f"  {label}: {result.seconds:.2f} s wall, {result.cpu_seconds:.2f} s cpu, "
        f"{result.peak_rss_mb:.0f} MB peak RSS, exit {result.returncode}",
        flush=True,
    )
    if not result.ok:
        raise ChildFailed(f"{label} failed: {shlex.join(cmd)}\n--- log tail ---\n{result.log_tail()}")
    return result


def prepare(work: Path, name: str, movies: int, raw_dir: Path | None, logs: Path) -> Path:
    """A data folder with one release published from the (generated) stand-in."""
    raw = raw_dir
    if raw is None:
        raw = work / f"raw-{name}"
        run(
            f"generate {name} stand-in ({movies} films)",
            [sys.executable, str(SCALE_TOOL), str(raw), "--movies", str(movies)],
            logs,
        )
    data = work / f"data-{name}"
    run(
        f"pipeline {name} (untimed setup)",
        [sys.executable, "-m", "movierec", "pipeline", "--raw", str(raw), "--data", str(data)],
        logs,
    )
    return data


def time_training(label: str, data: Path, repeat: int, logs: Path) -> Summary:
    summary = Summary(label)
    for n in range(1, repeat + 1):
        cmd = [sys.executable, "-m", "movierec", "train", "--data", str(data)]
        summary.runs.append(run(f"{label} run {n}", cmd, logs))
    return summary


def release_facts(data: Path) -> dict[str, Any]:
    """Steps of the last training, and the artifact's rows and size in memory."""
    import polars as pl  # only here: the bench's own process stays light

    current = data / "current"
    model = json.loads((current / "manifest.json").read_text())["model"]
    artifact = pl.read_parquet(current / "model" / "neighbours.parquet")
    return {
        "films": model["films"],
        "rows": artifact.height,
        "artifact_mb_in_memory": round(artifact.estimated_size("mb"), 1),
        "artifact_mb_on_disk": round((current / "model" / "neighbours.parquet").stat().st_size / 2**20, 1),
        "steps": model["steps"],
        "cf": model["cf"]["used"],
        "tuning": {k: model["tuning"].get(k) for k in ("tuned", "trials", "full_rankings")},
        "coverage": model["coverage"],
        "collection_recall": model["collection_recall"],
    }


def print_facts(facts: dict[str, Any]) -> None:
    steps = ", ".join(f"{k} {v:.1f}" for k, v in facts["steps"].items())
    print(f"  last run's steps (s): {steps}")
    print(
        f"  artifact: {facts['rows']:,} rows for {facts['films']:,} films, "
        f"{facts['artifact_mb_in_memory']} MB in memory, {facts['artifact_mb_on_disk']} MB on disk; "
        f"collaborative signal: {facts['cf']}; tuning: {facts['tuning']}"
    )


def summary_row(summary: Summary) -> list[Any]:
    return [
        summary.label,
        len(summary.runs),
        summary.median_s,
        summary.min_s,
        summary.max_s,
        summary.median_cpu_s,
        summary.peak_rss_mb,
    ]


def benchmark(args: argparse.Namespace, work: Path, report: dict[str, Any]) -> bool:
    logs = work / "logs"
    logs.mkdir()
    data = prepare(work, "1x", args.movies, args.raw_dir.resolve() if args.raw_dir else None, logs)
    base = time_training("movierec train", data, args.repeat, logs)
    facts = release_facts(data)
    print()
    print_table(SUMMARY_HEADERS, [summary_row(base)])
    print_facts(facts)
    report["train"] = {**base.as_dict(), **facts}
    checks = {"time": base.median_s <= MAX_SECONDS, "rss": base.peak_rss_mb <= MAX_RSS_MB}
    print(f"\nmedian train time: {base.median_s:.1f} s  target <= {MAX_SECONDS:.0f} s  {verdict(checks['time'])}")
    print(f"peak RSS: {base.peak_rss_mb:.0f} MB  target <= {MAX_RSS_MB:.0f} MB  {verdict(checks['rss'])}")

    if args.scale_3x:
        print()
        data3 = prepare(work, "3x", 3 * args.movies, None, logs)
        triple = time_training(f"movierec train 3x ({3 * args.movies} films)", data3, args.repeat_3x, logs)
        facts3 = release_facts(data3)
        print()
        print_table(SUMMARY_HEADERS, [summary_row(base), summary_row(triple)])
        print_facts(facts3)
        growth = triple.median_s / base.median_s
        rss_growth = triple.peak_rss_mb / base.peak_rss_mb
        report["train_3x"] = {**triple.as_dict(), **facts3, "growth": growth, "rss_growth": rss_growth}
        print(
            f"\ngrowth at 3x films: time x{growth:.2f}, peak RSS x{rss_growth:.2f} "
            f"({triple.median_s:.1f} s, {triple.peak_rss_mb:.0f} MB)"
        )
        if args.raw_dir:
            print(f"note: growth is relative to --raw-dir; meaningful only if it holds {args.movies} films")

    report["checks"] = checks
    return overall(checks)


def main(argv: list[str] | None = None) -> int:
    parser = parser_from_doc(__doc__)
    parser.add_argument("--raw-dir", type=Path, help="existing raw input (default: generate the full-size stand-in)")
    parser.add_argument(
        "--movies", type=int, default=FULL_SIZE_MOVIES, help="films in the generated stand-in; --scale-3x uses 3x this"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of movierec train")
    parser.add_argument("--scale-3x", action="store_true", help="also time training on 3x the films")
    parser.add_argument("--repeat-3x", type=int, default=1, help="timed runs at 3x")
    parser.add_argument("--work-dir", type=Path, help="where stand-ins and data go (default: a temp dir, removed)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.repeat_3x < 1:
        parser.error("--repeat and --repeat-3x must be >= 1")
    if (not args.raw_dir or args.scale_3x) and not SCALE_TOOL.exists():
        parser.error(f"stand-in tool not found: {SCALE_TOOL}")

    report: dict[str, Any] = {
        "machine": print_machine_info(),
        "targets": {"max_seconds": MAX_SECONDS, "max_rss_mb": MAX_RSS_MB},
    }
    with tempfile.TemporaryDirectory(prefix="bench-train-", dir=args.work_dir) as tmp:
        return run_benchmark(lambda r: benchmark(args, Path(tmp), r), report, args.json)


if __name__ == "__main__":
    sys.exit(main())
