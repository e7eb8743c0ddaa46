"""`python -m movierec.report RELEASE [--out FILE] [--raw DIR] [--previous DIR]`: write the report
of one release folder (default: RELEASE/report/report.html and report.json beside it).

A stand-alone entry point for the benchmark and for use before `movierec report` is wired into
the CLI; exit code 2 when the release folder has no tables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from movierec.report.build import write_report
from movierec.report.load import REPORT_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m movierec.report", description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path, help="a release folder (holding tables/ and manifest.json)")
    parser.add_argument("--out", type=Path, help="the HTML to write (default: RELEASE/report/report.html)")
    parser.add_argument(
        "--raw", type=Path, help="folder with ratings_small.csv and links.csv (default: the manifest's raw_dir)"
    )
    parser.add_argument("--previous", type=Path, help="an older release folder to compare with")
    args = parser.parse_args(argv)
    release = args.release.resolve()
    if not (release / "tables" / "movies.parquet").is_file():
        print(f"error: {release} is not a release folder (no tables/movies.parquet)", file=sys.stderr)
        return 2
    out = args.out or release / REPORT_DIR / "report.html"
    figures = write_report(release, out, raw_dir=args.raw, previous=args.previous)
    print(f"{out} ({out.stat().st_size:,} bytes), {out.with_suffix('.json')}: {figures['peliculas']:,} films")
    return 0


if __name__ == "__main__":
    sys.exit(main())
