"""Scale benchmark: `movierec pipeline` on the full-size stand-in WITH the full ratings file.

Input: the stand-in of ../shared/tools/scale_dataset.py with --ratings 26024289 (45,466 films,
26M ratings in ratings.csv, as in the Kaggle download); generated into --work-dir unless --raw
points at one. Runs, each `movierec pipeline` in a fresh child process (ETL, training, evaluation):

  small     MOVIEREC_RATINGS=small: the same stand-in trained on ratings_small.csv (the baseline:
            what the pipeline did before ratings.csv was read), measured in the same run
  local     ratings.csv, the local engine          targets: <= 180 s wall, <= 6144 MB peak RSS
  spark     ratings.csv, --engine spark (local[*]); its neighbours and co-like table must equal local's
  local 3x  (--scale-3x) 3x the ratings (78M), local engine: the growth ratios

For each run: wall time, CPU time, peak RSS of the largest process (os.wait4) and of the whole
process tree (Python + the Spark JVM, sampled every 0.2 s), and per stage (from the manifest)
seconds and the Python process's peak RSS so far (the JVM's own peak for Spark). Then the
evaluation on held-out users (userId % 5 == 0) of each ratings file side by side.

Usage:
  python bench/scale.py [--raw DIR] [--work-dir DIR] [--ratings 26024289] [--skip-spark]
                        [--skip-small] [--scale-3x] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: find _common

from _common import (
    ChildFailed,
    overall,
    parser_from_doc,
    print_machine_info,
    print_table,
    ru_maxrss_mb,
    run_benchmark,
    verdict,
)

REPO = Path(__file__).resolve().parents[1]
SCALE_TOOL = REPO.parent / "shared" / "tools" / "scale_dataset.py"
FULL_RATINGS = 26_024_289
MAX_SECONDS = 180.0
MAX_RSS_MB = 6144.0


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (psutil; 0 when it is gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20
    except psutil.Error:
        return 0.0


def run(label: str, cmd: list[str], logs: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child to completion: wall and CPU time, peak RSS (wait4) and peak tree RSS (sampled)."""
    log = logs / f"{label.replace(' ', '_')}.log"
    peak_tree = 0.0
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env={**os.environ, **(env or {})})
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_tree
            while not done.wait(0.2):
                peak_tree = max(peak_tree, tree_rss_mb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    result = {
        "label": label,
        "cmd": shlex.join(cmd),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(ru_maxrss_mb(usage.ru_maxrss)),
        "peak_tree_rss_mb": round(peak_tree),
        "exit": code,
    }
    print(
        f"  {label}: {result['seconds']} s wall, {result['cpu_seconds']} s cpu, {result['peak_rss_mb']} MB peak RSS "
        f"(largest process), {result['peak_tree_rss_mb']} MB peak tree RSS (sampled), exit {code}",
        flush=True,
    )
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise ChildFailed(f"{label} failed: {shlex.join(cmd)}\n--- log tail ---\n{tail}")
    return result


def generate(out: Path, ratings: int, logs: Path) -> Path:
    if not (out / "ratings.csv").is_file():
        run(
            f"generate stand-in ({ratings:,} ratings)",
            [sys.executable, str(SCALE_TOOL), str(out), "--ratings", str(ratings)],
            logs,
        )
    return out


def pipeline(
    label: str, raw: Path, data: Path, logs: Path, engine: str = "local", ratings: str = "auto"
) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "movierec", "pipeline", "--raw", str(raw), "--data", str(data), "--engine", engine]
    result = run(label, cmd, logs, env={"MOVIEREC_RATINGS": ratings})
    current = data / "current"
    manifest = json.loads((current / "manifest.json").read_text())
    evaluation = json.loads((current / "evaluation.json").read_text())
    model = manifest["model"]
    result.update(
        {
            "durations": manifest["durations"],
            "steps": model["steps"],
            "peak_rss_by_step_mb": model["peak_rss_mb"],
            "ratings": model["cf"].get("ratings"),
            "likes": model["cf"].get("likes"),
            "training_users": model["cf"].get("training_users"),
            "tuning_users": model["tuning"].get("validation_users"),
            "evaluation": {
                "users": evaluation["users"],
                "pairs": evaluation["pairs"],
                "seconds": evaluation["seconds"],
                "table": evaluation["table"],
            },
            "release": str(current.resolve()),
        }
    )
    return result


def print_stages(runs: list[dict[str, Any]]) -> None:
    """Seconds per stage and the Python process's peak RSS so far, for every run side by side."""
    stages: list[str] = []
    for r in runs:  # each run's stages in its order; another run's own stages go after their predecessor
        sequence = ["etl", *r["steps"], "evaluation"]
        for position, stage in enumerate(sequence):
            if stage not in stages:
                before = sequence[position - 1] if position else None
                stages.insert(stages.index(before) + 1 if before in stages else len(stages), stage)
    rows = []
    for stage in stages:
        row: list[Any] = [stage]
        for r in runs:
            seconds = r["durations"].get(stage) if stage in ("etl", "evaluation") else r["steps"].get(stage)
            peak = r["peak_rss_by_step_mb"].get(stage)
            row += ["" if seconds is None else f"{seconds:.1f}", "" if peak is None else f"{peak:.0f}"]
        rows.append(row)
    rows.append(["TOTAL (wall)", *[c for r in runs for c in (f"{r['seconds']:.1f}", f"{r['peak_tree_rss_mb']}")]])
    rows.append(["TOTAL (CPU)", *[c for r in runs for c in (f"{r['cpu_seconds']:.1f}", "")]])
    jvm = [r["peak_rss_by_step_mb"].get("jvm") for r in runs]
    if any(jvm):
        rows.append(["Spark JVM peak", *[c for j in jvm for c in ("", "" if j is None else f"{j:.0f}")]])
    print_table(["stage", *[c for r in runs for c in (f"{r['label']} s", "MB")]], rows)
    print(
        "(s: wall seconds; MB: the Python process's peak RSS so far at the end of the stage; TOTAL: the child's "
        "wall and CPU time (the JVM's CPU is not in it) and the peak RSS of the whole process tree, Python + JVM)"
    )


def compare_releases(local: dict[str, Any], spark: dict[str, Any]) -> dict[str, Any]:
    import polars as pl  # only here: the bench's own process stays light

    a, b = Path(local["release"]) / "model", Path(spark["release"]) / "model"
    neighbours = pl.read_parquet(a / "neighbours.parquet").equals(pl.read_parquet(b / "neighbours.parquet"))
    ca, cb = pl.read_parquet(a / "colikes.parquet"), pl.read_parquet(b / "colikes.parquet")
    ids = ca.drop("score").equals(cb.drop("score"))
    score = float((ca["score"] - cb["score"]).abs().max()) if ids and ca.height else float("nan")
    return {
        "neighbours_equal": neighbours,
        "colikes_ids_counts_equal": ids,
        "colikes_rows": ca.height,
        "colikes_max_score_diff": score,
        "equal": neighbours and ids and score <= 1e-9,
    }


def print_evaluations(runs: list[dict[str, Any]]) -> None:
    rows = []
    for r in runs:
        model = next(t for t in r["evaluation"]["table"] if t["method"] == "model")
        rows.append(
            [
                r["label"],
                r["ratings"],
                f"{r['evaluation']['users']:,}",
                f"{r['evaluation']['pairs']:,}",
                f"{model['precision_at_k']:.3f}",
                f"{model['coverage']:.1%}",
                f"{model['collection_recall']:.3f}",
                f"{r['evaluation']['seconds']:.0f}",
            ]
        )
    print_table(["run", "ratings", "eval users", "pairs", "p@5", "coverage", "coll. recall", "eval s"], rows)


def benchmark(args: argparse.Namespace, work: Path, report: dict[str, Any]) -> bool:
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    raw = args.raw.resolve() if args.raw else generate(work / "raw-1x", args.ratings, logs)
    runs = [] if args.skip_small else [pipeline("small", raw, work / "data-small", logs, ratings="small")]
    runs.append(local := pipeline("local", raw, work / "data-local", logs))
    if not args.skip_spark:
        runs.append(spark := pipeline("spark", raw, work / "data-spark", logs, engine="spark"))
    report["runs"] = runs
    print()
    print_stages(runs)
    checks = {"time": local["seconds"] <= MAX_SECONDS, "rss": local["peak_tree_rss_mb"] <= MAX_RSS_MB}
    print(
        f"\nlocal engine: {local['seconds']:.1f} s wall, target <= {MAX_SECONDS:.0f} s {verdict(checks['time'])}; "
        f"{local['peak_tree_rss_mb']} MB peak, target <= {MAX_RSS_MB:.0f} MB {verdict(checks['rss'])}"
    )
    if not args.skip_small:
        print(
            f"against training on ratings_small.csv (same run): wall x{local['seconds'] / runs[0]['seconds']:.2f}, "
            f"CPU x{local['cpu_seconds'] / runs[0]['cpu_seconds']:.2f}"
        )
    if not args.skip_spark:
        report["equality"] = same = compare_releases(local, spark)
        checks["spark equals local"] = same["equal"]
        print(
            f"spark engine: {spark['seconds']:.1f} s wall (x{spark['seconds'] / local['seconds']:.2f} local), "
            f"{spark['peak_tree_rss_mb']} MB peak tree RSS; neighbours equal: {same['neighbours_equal']}, "
            f"co-like table ({same['colikes_rows']:,} rows) ids and counts equal: {same['colikes_ids_counts_equal']}, "
            f"max score difference {same['colikes_max_score_diff']:.2g}  {verdict(same['equal'])}"
        )
    if args.scale_3x:
        print()
        raw3 = generate(work / "raw-3x", 3 * args.ratings, logs)
        triple = pipeline("local 3x", raw3, work / "data-3x", logs)
        runs.append(triple)
        print_stages([local, triple])
        report["growth_3x"] = {
            "time": triple["seconds"] / local["seconds"],
            "cpu": triple["cpu_seconds"] / local["cpu_seconds"],
            "rss": triple["peak_tree_rss_mb"] / local["peak_tree_rss_mb"],
        }
        print(
            f"growth at 3x ratings: wall time x{report['growth_3x']['time']:.2f}, CPU time "
            f"x{report['growth_3x']['cpu']:.2f}, peak RSS x{report['growth_3x']['rss']:.2f} (on a shared "
            f"machine the CPU ratio is the steadier one)"
        )
    print("\nevaluation on held-out users (userId % 5 == 0) of each run's ratings file:")
    print_evaluations(runs)
    report["checks"] = checks
    return overall(checks)


def main(argv: list[str] | None = None) -> int:
    parser = parser_from_doc(__doc__)
    parser.add_argument("--raw", type=Path, help="an existing stand-in with ratings.csv (default: generate one)")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path("/tmp/bench-scale"),
        help="where stand-ins, releases and logs go (kept; default /tmp/bench-scale)",
    )
    parser.add_argument("--ratings", type=int, default=FULL_RATINGS, help="ratings in the generated stand-in")
    parser.add_argument("--skip-spark", action="store_true", help="no --engine spark run")
    parser.add_argument("--skip-small", action="store_true", help="no ratings_small.csv baseline run")
    parser.add_argument("--scale-3x", action="store_true", help="also run the local engine on 3x the ratings")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {
        "machine": print_machine_info(),
        "targets": {"max_seconds": MAX_SECONDS, "max_rss_mb": MAX_RSS_MB},
    }
    return run_benchmark(lambda r: benchmark(args, args.work_dir, r), report, args.json)


if __name__ == "__main__":
    sys.exit(main())
