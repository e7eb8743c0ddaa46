"""`movierec`: the command line. Commands live by stage: :mod:`.data` (etl, pipeline),
:mod:`.model` (train, evaluate), :mod:`.releases` (releases, rollback, prune, config),
:mod:`.refresh` (ingest, refresh, fetch), :mod:`.serve` (serve)."""

import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from movierec.cli import data, model, refresh, releases, report, serve  # noqa: F401  (importing registers their commands)
from movierec.cli.common import app, setup_logging

__all__ = ["app"]


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
    log_format: Annotated[str, typer.Option("--log-format", help="text, or json for log collectors.")] = "text",
) -> None:
    if log_format not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--log-format")
    setup_logging(verbose, log_format)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (a host stopping the process, `timeout`, a supervisor) unwinds like Ctrl-C: the
    ``finally`` blocks run, so staging folders are removed and locks released; exit code 143.
    `serve` replaces this with uvicorn's own graceful shutdown."""
    raise SystemExit(128 + signal.SIGTERM)
