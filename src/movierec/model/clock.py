"""Each step's seconds and the process's peak memory, for the training's record (the manifest's
``steps`` and ``peak_rss_mb``) and its log."""

from __future__ import annotations

import logging
import resource
import time

log = logging.getLogger("movierec.train")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class StepClock:
    """Seconds and peak resident memory (so far) at the end of each step.

    >>> clock = StepClock()
    >>> clock.lap("features")
    >>> list(clock.steps), list(clock.memory)
    (['features'], ['features'])
    """

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self.memory: dict[str, float] = {}
        self.start = self.last = time.perf_counter()

    def record(self, steps: dict[str, float]) -> None:
        """Steps timed elsewhere, up to now."""
        self.steps.update(steps)
        self.memory.update({name: peak_rss_mb() for name in steps})
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        """The step ``name`` ends now: its seconds since the previous lap, and the peak memory."""
        now = time.perf_counter()
        self.steps[name], self.memory[name] = round(now - self.last, 3), peak_rss_mb()
        log.info("%-12s %6.2f s  peak %6.0f MB", name, now - self.last, self.memory[name])
        self.last = now
