"""What every command shares: the Typer app, the common options, logging, and turning the
expected failures (bad input, a busy or broken store, bad settings) into one line and exit 2."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from movierec.config import Settings, SettingsError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="`movierec`: the command line that wires the stages (raw → etl → tables → model → release → api).",
)

RawOption = Annotated[
    Path | None,
    typer.Option(
        "--raw",
        help="Folder with the Kaggle CSVs (plain, .gz or .zip). "
        "Default: MOVIEREC_RAW_DIR, else DATA/raw/, else the shared sample.",
    ),
]
DataOption = Annotated[
    Path | None,
    typer.Option("--data", help="Data folder with releases/ and current (default: MOVIEREC_DATA_DIR or data/)."),
]
T = TypeVar("T")


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(verbose: bool, log_format: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


@contextmanager
def expected_failures() -> Iterator[None]:
    """Bad input, a refused release, a busy store or a bad setting: one line, exit code 2."""
    from movierec.raw.files import InputError
    from movierec.release.store import StoreError

    try:
        yield
    except (InputError, StoreError, SettingsError) as exc:
        fail(str(exc))


def settings() -> Settings:
    """The settings of this command, read from the MOVIEREC_* variables now (the command line is
    the edge where they are read; everything below receives them)."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        fail(str(exc))


def published_release(data_dir: Path) -> Path:
    """DATA/current's release folder; exit code 2 with what to run when nothing is published."""
    from movierec.release.store import ReleaseStore

    store = ReleaseStore(data_dir)
    with expected_failures():
        store.check_link()
    release = store.current()
    if release is None:
        fail(f"no release in {data_dir}: run `movierec pipeline --data {data_dir}` first")
    return release


def run(action: Callable[[], T]) -> T:
    """``action()``, its expected failures turned into one line and exit code 2."""
    with expected_failures():
        return action()
    raise AssertionError  # expected_failures() exits instead of swallowing
