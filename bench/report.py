"""Report benchmark: writing one release's HTML report and report.json on the full-size stand-in.

Targets (from the issue), on the full-size stand-in (45,466 films tiled from the sample, with
ratings_small.csv and links.csv, so the MovieLens sections are drawn too):
  time     median wall time of `movierec report --data DATA` <= 30 s
  memory   peak RSS <= 1024 MB
  size     the HTML <= 5 MB

The baseline, measured in the same run on the same release, is a child that only reads what the
report reads (tables, model, ratings; movierec.report.load.read_release) and builds nothing: the
printed ratio report / baseline is the price of the figures, charts and HTML over the reading.

Setup (untimed): the stand-in is generated with ../shared/tools/scale_dataset.py and one release
is published from it with `movierec pipeline` (or --data reuses a published data folder);
--evaluate also records the model's evaluation so that its table is in the report. Each timed run
is a fresh child process; wall time and peak RSS come from os.wait4 (bench/_common.py).

Usage:
  python bench/report.py [--raw-dir DIR | --data DIR] [--repeat 3] [--baseline-repeat 3]
                         [--evaluate] [--work-dir DIR] [--json PATH]
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
MAX_SECONDS = 30.0
MAX_RSS_MB = 1024.0
MAX_HTML_MB = 5.0
SUMMARY_HEADERS = ["command", "runs", "median s", "min s", "max s", "cpu s", "peak RSS MB"]
BASELINE_CODE = (
    "import sys; from pathlib import Path; from movierec.report.load import read_release; "
    "r = read_release(Path(sys.argv[1])); print(r.tables['movies'].height, 'films read')"
)


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


def prepare(args: argparse.Namespace, work: Path, logs: Path) -> Path:
    """The release folder to report on: DATA/current, published here unless --data is given."""
    if args.data:
        data = args.data.resolve()
    else:
        raw = args.raw_dir.resolve() if args.raw_dir else work / "raw"
        if not args.raw_dir:
            run(
                f"generate stand-in ({args.movies} films)",
                [sys.executable, str(SCALE_TOOL), str(raw), "--movies", str(args.movies)],
                logs,
            )
        data = work / "data"
        run(
            "pipeline (untimed setup)",
            [sys.executable, "-m", "movierec", "pipeline", "--raw", str(raw), "--data", str(data)],
            logs,
        )
    if args.evaluate:
        run("evaluate (untimed setup)", [sys.executable, "-m", "movierec", "evaluate", "--data", str(data)], logs)
    release = data / "current"
    if not (release / "tables" / "movies.parquet").is_file():
        raise ChildFailed(f"no published release in {data}")
    return release.resolve()


def timed(label: str, cmd: list[str], repeat: int, logs: Path) -> Summary:
    summary = Summary(label)
    for n in range(1, repeat + 1):
        summary.runs.append(run(f"{label} run {n}", cmd, logs))
    return summary


def row(summary: Summary) -> list[Any]:
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
    release = prepare(args, work, logs)
    out = work / "out" / "report.html"
    print(f"release: {release}")
    # The baseline first, so that both see the page cache warmed by the setup.
    baseline = timed(
        "read the release only (baseline)",
        [sys.executable, "-c", BASELINE_CODE, str(release)],
        args.baseline_repeat,
        logs,
    )
    build = timed(
        "movierec report",
        [sys.executable, "-m", "movierec", "report", "--data", str(release.parents[1]), "--out", str(out)],
        args.repeat,
        logs,
    )
    figures = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    html_mb = out.stat().st_size / 2**20
    charts = out.read_text(encoding="utf-8").count("<svg")
    ratio = build.median_s / baseline.median_s
    print()
    print_table(SUMMARY_HEADERS, [row(baseline), row(build)])
    print(
        f"\nreport: {figures['peliculas']:,} films, {charts} charts, HTML {html_mb:.2f} MB "
        f"({out.stat().st_size:,} bytes), report.json {out.with_suffix('.json').stat().st_size:,} bytes"
    )
    print(f"ratio report / baseline (median times): {ratio:.2f}x ({build.median_s:.2f} s / {baseline.median_s:.2f} s)")
    checks = {
        "time": build.median_s <= MAX_SECONDS,
        "rss": build.peak_rss_mb <= MAX_RSS_MB,
        "size": html_mb <= MAX_HTML_MB,
    }
    print(f"\nmedian report time: {build.median_s:.1f} s  target <= {MAX_SECONDS:.0f} s  {verdict(checks['time'])}")
    print(f"peak RSS: {build.peak_rss_mb:.0f} MB  target <= {MAX_RSS_MB:.0f} MB  {verdict(checks['rss'])}")
    print(f"HTML size: {html_mb:.2f} MB  target <= {MAX_HTML_MB:.0f} MB  {verdict(checks['size'])}")
    report.update(
        {
            "release": str(release),
            "films": figures["peliculas"],
            "charts": charts,
            "html_bytes": out.stat().st_size,
            "json_bytes": out.with_suffix(".json").stat().st_size,
            "baseline": baseline.as_dict(),
            "report": build.as_dict(),
            "ratio": ratio,
            "checks": checks,
            "figures": figures,
        }
    )
    return overall(checks)


def main(argv: list[str] | None = None) -> int:
    parser = parser_from_doc(__doc__)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--raw-dir", type=Path, help="existing raw input (default: generate the full-size stand-in)")
    source.add_argument("--data", type=Path, help="existing data folder with a published release (skips the setup)")
    parser.add_argument("--movies", type=int, default=FULL_SIZE_MOVIES, help="films in the generated stand-in")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the report")
    parser.add_argument("--baseline-repeat", type=int, default=3, help="timed runs of the baseline")
    parser.add_argument("--evaluate", action="store_true", help="record the model's evaluation before timing")
    parser.add_argument(
        "--work-dir", type=Path, help="where stand-ins, data and output go (default: a temp dir, removed)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.baseline_repeat < 1:
        parser.error("--repeat and --baseline-repeat must be >= 1")
    if not args.raw_dir and not args.data and not SCALE_TOOL.exists():
        parser.error(f"stand-in tool not found: {SCALE_TOOL}")

    report: dict[str, Any] = {
        "machine": print_machine_info(),
        "targets": {"max_seconds": MAX_SECONDS, "max_rss_mb": MAX_RSS_MB, "max_html_mb": MAX_HTML_MB},
    }
    with tempfile.TemporaryDirectory(prefix="bench-report-", dir=args.work_dir) as tmp:
        return run_benchmark(lambda r: benchmark(args, Path(tmp), r), report, args.json)


if __name__ == "__main__":
    sys.exit(main())
