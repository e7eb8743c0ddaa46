"""Timing the steps of training: wall seconds, CPU seconds and peak memory at the end of each.

On a shared machine the wall time of a step depends on the neighbours' load; its CPU time (this
process's, every thread) much less, so both are recorded.
"""

from __future__ import annotations

import logging
import resource
import time

log = logging.getLogger("movierec.train")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class StepClock:
    """``lap(name)`` records the step that just ended: ``seconds``, ``cpu_seconds`` and
    ``peak_rss_mb`` (the peak so far), and logs it.

    >>> clock = StepClock()
    >>> clock.lap("nothing")
    >>> list(clock.seconds), clock.peak_rss_mb["nothing"] > 0
    (['nothing'], True)
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self.peak_rss_mb: dict[str, float] = {}
        self.start = self.last = time.perf_counter()
        self.last_cpu = time.process_time()

    def lap(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.seconds[name], self.cpu_seconds[name] = round(now - self.last, 3), round(cpu - self.last_cpu, 3)
        self.peak_rss_mb[name] = peak_rss_mb()
        log.info("%-12s %6.2f s  cpu %6.2f s  peak %6.0f MB", name, self.seconds[name], self.cpu_seconds[name],
                 self.peak_rss_mb[name])
        self.last, self.last_cpu = now, cpu

    def record(self, seconds: dict[str, float]) -> None:
        """Steps timed elsewhere (another process: no CPU time here), up to now."""
        self.seconds.update(seconds)
        self.peak_rss_mb.update({name: peak_rss_mb() for name in seconds})
        self.last, self.last_cpu = time.perf_counter(), time.process_time()

    def as_info(self) -> dict[str, dict[str, float]]:
        return {"steps": self.seconds, "cpu_seconds": self.cpu_seconds, "peak_rss_mb": self.peak_rss_mb}
