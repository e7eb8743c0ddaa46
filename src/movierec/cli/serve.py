"""`movierec serve`: the API over DATA/current, following it as new releases are published."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from movierec.cli.common import DataOption, app, fail, published_release, settings
from movierec.config import Settings

SWITCH_INTERVAL = 0.0005  # seconds a thread holds the GIL before another may take it (default 0.005)

if TYPE_CHECKING:
    from movierec.catalog.indexes import Catalog
    from movierec.refresh.schedule import Refresher

log = logging.getLogger("movierec.serve")


@app.command()
def serve(
    data: DataOption = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="PORT", help="Port (default: $PORT, else 8000).")] = 8000,
    access_log: Annotated[
        bool,
        typer.Option("--access-log/--no-access-log", help="Log every request, with its request id (costs throughput)."),
    ] = False,
    max_header_bytes: Annotated[
        int,
        typer.Option(
            "--max-header-bytes", min=1024, max=1 << 20, help="Largest request line + headers (414 / 431 beyond)."
        ),
    ] = 16 * 1024,
    header_timeout: Annotated[
        float,
        typer.Option(
            "--header-timeout",
            min=0.1,
            max=600,
            help="Seconds a request's line and headers may take to arrive (408 beyond).",
        ),
    ] = 10.0,
    reload: Annotated[
        bool,
        typer.Option(
            "--reload/--no-reload",
            help="Switch to the release DATA/current points "
            "to whenever it changes (a new release, a rollback), without a failed "
            "request; looked at every MOVIEREC_RELOAD_INTERVAL seconds.",
        ),
    ] = True,
    refresh_every: Annotated[
        str | None,
        typer.Option(
            "--refresh-every",
            help="Run `movierec refresh` (TMDB sync + ingest) in a child process this often, "
            "e.g. 24h, when TMDB_API_KEY is set (for a host whose disk persists).",
        ),
    ] = None,
) -> None:
    """Serve the API (OpenAPI at /docs) over DATA/current. With MOVIEREC_RELEASE_URL set, the
    release archive there is downloaded and published first (for a host that keeps no disk).

    The release is loaded before the server starts: a damaged one (a missing or truncated table,
    no model, a bad manifest) stops the command with one line and exit code 2."""
    import uvicorn

    from movierec.api.app import create_app
    from movierec.api.protocol import edge_protocol

    config = settings()
    data_dir = data or config.data_dir
    every = _interval(refresh_every) if refresh_every is not None else None
    if config.release_url:
        _fetch(config, data_dir)
    _load(published_release(data_dir), config)  # checked here; the app maps it again (cheap)
    refresher = _start_refresher(data_dir, every, reload) if every is not None else None
    # Worker threads (fuzzy suggestions, personal queries) run Python too: with the default 5 ms
    # switch interval the event loop waited up to 5 ms for the GIL at each step of a request.
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        # The app logs each request itself (with its request id, in the --log-format chosen), so
        # uvicorn's own access log stays off.
        uvicorn.run(
            create_app(data_dir, config, follow_current=reload, log_requests=access_log),
            host=host,
            port=port,
            access_log=False,
            log_level="info",
            server_header=False,
            log_config=None,
            http=edge_protocol(max_header_bytes, header_timeout),
            h11_max_incomplete_event_size=max_header_bytes,
        )
    finally:
        if refresher is not None:
            refresher.stop()


def _load(release: Path, config: Settings) -> Catalog:
    """The release's catalog, or exit code 2 naming what is wrong with it."""
    from movierec.catalog.check import check_files
    from movierec.catalog.indexes import ReleaseError, load_catalog
    from movierec.raw.files import quote

    started = time.perf_counter()
    try:
        check_files(release)
        catalog = load_catalog(release, config)
    except ReleaseError as exc:
        fail(f"cannot serve {release}: {exc}")
    except Exception as exc:  # any other failure to load: the release's files are damaged
        fail(f"cannot serve {release}: its files are damaged ({type(exc).__name__}: {quote(str(exc))})")
    log.info(
        "release %s checked: %d films, %d actors, %d directors, loaded in %.2f s",
        catalog.version,
        len(catalog),
        len(catalog.actors),
        len(catalog.directors),
        time.perf_counter() - started,
    )
    return catalog


def _interval(text: str) -> float:
    from movierec.refresh.schedule import parse_every

    try:
        return parse_every(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--refresh-every") from None


def _fetch(config: Settings, data_dir: Path) -> None:
    """Publish the release at MOVIEREC_RELEASE_URL (within MOVIEREC_FETCH_BUDGET seconds); when
    that fails, serve the local one if any, with one log line saying why."""
    from movierec.refresh.fetch import fetch_release
    from movierec.release.store import ReleaseStore, StoreError

    try:
        log.info("%s", fetch_release(config.release_url, data_dir, config).summary())
    except StoreError as exc:  # FetchError included
        if ReleaseStore(data_dir).current() is None:
            fail(f"{exc}; and {data_dir} holds no release to serve instead")
        log.error("%s; serving the release already in %s", exc, data_dir)


def _start_refresher(data_dir: Path, every: float, reload: bool) -> Refresher | None:
    from movierec.refresh.names import KEY_VARIABLE
    from movierec.refresh.schedule import Refresher

    if not os.environ.get(KEY_VARIABLE):
        log.warning("--refresh-every is set but %s is not: the scheduled refresh is off", KEY_VARIABLE)
        return None
    if not reload:
        log.warning("--refresh-every with --no-reload: new releases are served only after a restart")
    refresher = Refresher(data_dir, every)
    refresher.start()
    return refresher
