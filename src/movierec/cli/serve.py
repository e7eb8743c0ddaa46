"""`movierec serve`: the API over DATA/current, following it as new releases are published."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from movierec.cli.common import DataOption, app, fail, published_release, settings
from movierec.config import Settings

if TYPE_CHECKING:
    from movierec.refresh.schedule import Refresher

log = logging.getLogger("movierec.serve")


@app.command()
def serve(
    data: DataOption = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="PORT", help="Port (default: $PORT, else 8000).")] = 8000,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log",
                                             help="Log every request (costs throughput).")] = False,
    reload: Annotated[bool, typer.Option("--reload/--no-reload", help="Switch to the release DATA/current points "
                                         "to whenever it changes (a new release, a rollback), without a failed "
                                         "request; looked at every MOVIEREC_RELOAD_INTERVAL seconds.")] = True,
    refresh_every: Annotated[str | None, typer.Option(
        "--refresh-every", help="Run `movierec refresh` (TMDB sync + ingest) in a child process this often, "
        "e.g. 24h, when TMDB_API_KEY is set (for a host whose disk persists).")] = None,
) -> None:
    """Serve the API (OpenAPI at /docs) over DATA/current. With MOVIEREC_RELEASE_URL set, the
    release archive there is downloaded and published first (for a host that keeps no disk)."""
    import uvicorn

    from movierec.api.app import create_app

    config = settings()
    data_dir = data or config.data_dir
    every = _interval(refresh_every) if refresh_every is not None else None
    if config.release_url:
        _fetch(config, data_dir)
    published_release(data_dir)
    refresher = _start_refresher(data_dir, every, reload) if every is not None else None
    try:
        uvicorn.run(create_app(data_dir, config, follow_current=reload), host=host, port=port,
                    access_log=access_log, log_level="info", server_header=False, log_config=None)
    finally:
        if refresher is not None:
            refresher.stop()


def _interval(text: str) -> float:
    from movierec.refresh.schedule import parse_every

    try:
        return parse_every(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--refresh-every") from None


def _fetch(config: Settings, data_dir: Path) -> None:
    """Publish the release at MOVIEREC_RELEASE_URL; when that fails, serve the local one if any."""
    from movierec.refresh.fetch import FetchError, fetch_release
    from movierec.release.store import ReleaseStore, StoreError

    try:
        fetch_release(config.release_url, data_dir, config)
    except (FetchError, StoreError) as exc:
        if ReleaseStore(data_dir).current() is None:
            fail(f"{exc}; and {data_dir} holds no release to serve instead")
        log.error("%s; serving the release already in %s", exc, data_dir)


def _start_refresher(data_dir: Path, every: float, reload: bool) -> Refresher | None:
    from movierec.refresh.schedule import API_KEY, Refresher

    if not os.environ.get(API_KEY):
        log.warning("--refresh-every is set but %s is not: the scheduled refresh is off", API_KEY)
        return None
    if not reload:
        log.warning("--refresh-every with --no-reload: new releases are served only after a restart")
    refresher = Refresher(data_dir, every)
    refresher.start()
    return refresher
