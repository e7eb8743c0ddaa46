"""Shared helpers for the benchmarks in bench/: timing statistics, measuring a child process
(wall time, CPU time, peak RSS), machine facts and plain-text tables.

Standard library only, so every benchmark can import it without extra dependencies.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunResult:
    """One measured child run."""

    cmd: list[str]
    seconds: float  # wall clock, from spawn to reaping
    cpu_seconds: float  # user + system of the child and its waited-for descendants
    peak_rss_mb: float  # max resident set size of the child (or its largest descendant)
    returncode: int
    log: str = ""  # path of the child's combined stdout/stderr

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def log_tail(self, lines: int = 20) -> str:
        if not self.log or not Path(self.log).exists():
            return ""
        text = Path(self.log).read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])


def run_measured(
    cmd: Sequence[str],
    *,
    log: str | os.PathLike[str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> RunResult:
    """Run cmd to completion and measure it.

    os.wait4 returns the kernel's rusage for the reaped child: ru_maxrss is exact (no polling
    gaps) and, on Linux, covers the child's waited-for descendants too (max, not sum). Output
    goes to a file, never a pipe, because nobody reads a pipe while we block in wait4.
    """
    argv = [str(c) for c in cmd]
    out = open(log, "wb") if log else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env)
        _, status, ru = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # we reaped it ourselves; keep Popen from waiting again
    return RunResult(
        cmd=argv,
        seconds=seconds,
        cpu_seconds=ru.ru_utime + ru.ru_stime,
        peak_rss_mb=ru_maxrss_mb(ru.ru_maxrss),
        returncode=code,
        log=str(log) if log else "",
    )


def ru_maxrss_mb(ru_maxrss: int) -> float:
    # Linux reports KiB, macOS bytes.
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


@dataclass
class Summary:
    """Statistics over repeated runs of one command."""

    label: str
    runs: list[RunResult] = field(default_factory=list)

    @property
    def times(self) -> list[float]:
        return [r.seconds for r in self.runs]

    @property
    def median_s(self) -> float:
        return median(self.times)

    @property
    def min_s(self) -> float:
        return min(self.times)

    @property
    def max_s(self) -> float:
        return max(self.times)

    @property
    def median_cpu_s(self) -> float:
        return median([r.cpu_seconds for r in self.runs])

    @property
    def peak_rss_mb(self) -> float:
        return max(r.peak_rss_mb for r in self.runs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "n": len(self.runs),
            "median_s": self.median_s,
            "min_s": self.min_s,
            "max_s": self.max_s,
            "median_cpu_s": self.median_cpu_s,
            "peak_rss_mb": self.peak_rss_mb,
            "runs": [asdict(r) for r in self.runs],
        }


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of no values")
    return statistics.median(values)


def machine_info() -> dict[str, Any]:
    """Facts a reader needs to judge the figures: CPUs usable by us, CPU model, RAM, Python."""
    cpu_model = platform.processor() or platform.machine()
    mem_total_mb: float | None = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total_mb = int(line.split()[1]) / 1024
                break
    except OSError:
        pass  # not Linux: keep the platform module's answer
    try:
        usable = len(os.sched_getaffinity(0))  # honours taskset/cgroup cpusets, unlike cpu_count
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "nproc": usable,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "mem_total_mb": round(mem_total_mb) if mem_total_mb else None,
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "platform": platform.platform(),
    }


def print_machine_info(info: Mapping[str, Any] | None = None) -> dict[str, Any]:
    info = dict(info or machine_info())
    mem = f"{info['mem_total_mb']} MB" if info.get("mem_total_mb") else "?"
    print(
        f"machine: nproc={info['nproc']} (cpu_count={info['cpu_count']}), "
        f"cpu={info['cpu_model']}, RAM={mem}, python={info['python']}, {info['platform']}"
    )
    return info


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-align the first column, right-align the rest (numbers)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=False)]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    print(format_table(headers, rows))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


class ChildFailed(RuntimeError):
    """A measured child exited with an error: the benchmark stops and says which."""


def wrk_script(paths: Sequence[str], delay_ms: int | None = None) -> str:
    """A wrk Lua script that cycles through ``paths`` (GET), each connection pausing ``delay_ms``
    between its requests when given (a paced load instead of flat out)."""
    listed = ", ".join(json.dumps(p) for p in paths)
    pause = "" if delay_ms is None else f"delay = function()\n  return {int(delay_ms)}\nend\n"
    return (
        f"local paths = {{{listed}}}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n"
        f'  return wrk.format("GET", paths[i])\nend\n{pause}'
    )


def parser_from_doc(doc: str) -> argparse.ArgumentParser:
    """A parser whose description is the script's docstring (first line, the rest as epilog),
    with the ``--json PATH`` option every benchmark has."""
    parser = argparse.ArgumentParser(
        description=doc.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(doc.splitlines()[2:]),
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser


def overall(checks: Mapping[str, bool]) -> bool:
    """Print and return whether every check passed, naming each."""
    passed = all(checks.values())
    print(f"\noverall: {verdict(passed)} ({', '.join(f'{k} {verdict(v)}' for k, v in checks.items())})")
    return passed


def print_load(report: dict[str, Any]) -> None:
    """Print the load average before a run (a latency figure on a busy machine says little) and
    record it in ``report``."""
    try:
        load = os.getloadavg()
    except OSError:
        return
    print(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    report["loadavg"] = load


def run_benchmark(
    body: Callable[[dict[str, Any]], bool],
    report: dict[str, Any],
    json_path: Path | None,
    *,
    strict: bool = False,
    errors: tuple[type[Exception], ...] = (ChildFailed,),
) -> int:
    """Run ``body(report)`` (it fills ``report`` and returns whether the targets were met), time
    it, and write ``report`` to ``json_path``. Exit code 0 even when a target is missed (the
    figures are the product) unless ``strict``; 1 when a child failed (one of ``errors``)."""
    started = time.perf_counter()
    try:
        report["passed"] = body(report)
        code = 1 if strict and not report["passed"] else 0
    except errors as exc:
        print(f"\nERROR: {exc}", file=sys.stderr)
        report["passed"], report["error"] = False, str(exc)
        code = 1
    print(f"(benchmark took {time.perf_counter() - started:.0f} s)")
    if json_path:
        json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        print(f"figures written to {json_path}")
    return code
