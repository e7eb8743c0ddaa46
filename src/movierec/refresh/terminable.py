"""``asyncio.run`` for the commands that talk to an upstream (tmdb-sync, fetch), where SIGTERM
cancels the work instead of interrupting the event loop.

The CLI's SIGTERM handler raises ``SystemExit`` wherever the main thread happens to be. Inside a
running event loop that is some task's step: the exception is stored in that task, re-raised
through the loop, and the task is collected with an exception nobody retrieved (asyncio logs a
traceback). Here SIGTERM is a loop callback that cancels the main task instead: its ``finally``
blocks run (staging folders removed), the loop closes its transports, and only then does the
process exit, with the same code 143 as everywhere else.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

TERMINATED = 128 + signal.SIGTERM


def run(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)``; on SIGTERM (in the main thread) ``work`` is cancelled, then
    ``SystemExit(143)``. Elsewhere (a server's worker thread) the process's own handling stands.

    >>> async def answer() -> int:
    ...     return 42
    >>> run(answer())
    42
    """
    terminated = threading.Event()

    async def main() -> T:
        task = asyncio.current_task()
        if task is None or threading.current_thread() is not threading.main_thread():
            return await work
        loop = asyncio.get_running_loop()
        previous = signal.getsignal(signal.SIGTERM)

        def stop() -> None:
            terminated.set()
            task.cancel()

        loop.add_signal_handler(signal.SIGTERM, stop)
        try:
            return await work
        finally:
            loop.remove_signal_handler(signal.SIGTERM)  # resets to SIG_DFL: put the previous one back
            signal.signal(signal.SIGTERM, previous)

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        if terminated.is_set():
            raise SystemExit(TERMINATED) from None
        raise
