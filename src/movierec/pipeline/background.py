"""Work started in a thread beside a build's other steps, waited for by a later step."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Background:
    """``function(*args)`` in a daemon thread (named after the function): a failed or killed
    build never waits for it, and :meth:`result` re-raises what it raised.

    >>> Background(sum, [1, 2, 3]).result()
    6
    """

    def __init__(self, function: Callable[..., object], *args: object) -> None:
        self._outcome: tuple[bool, object] = (False, None)
        self._thread = threading.Thread(
            target=self._run,
            args=(function, args),
            daemon=True,
            name=f"movierec-{getattr(function, '__name__', 'background')}",
        )
        self._thread.start()

    def _run(self, function: Callable[..., object], args: tuple[object, ...]) -> None:
        try:
            self._outcome = (True, function(*args))
        except BaseException as exc:  # handed to whoever asks for the result
            self._outcome = (False, exc)

    def result(self) -> object:
        """What the function returned, once it has (its exception, raised here, if it failed)."""
        self._thread.join()
        done, value = self._outcome
        if not done:
            assert isinstance(value, BaseException)
            raise value
        return value
