"""`movierec serve`: the API over DATA/current."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from movierec.cli.common import DataOption, app, fail, published_release, settings
from movierec.config import Settings

if TYPE_CHECKING:
    from movierec.catalog.indexes import Catalog

log = logging.getLogger("movierec.api")


@app.command()
def serve(
    data: DataOption = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="PORT", help="Port (default: $PORT, else 8000).")] = 8000,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log",
                                             help="Log every request, with its request id (costs throughput).")] = False,
    max_header_bytes: Annotated[int, typer.Option("--max-header-bytes", min=1024, max=1 << 20,
                                                  help="Largest request line + headers (414 / 431 beyond).")] = 16 * 1024,
    header_timeout: Annotated[float, typer.Option("--header-timeout", min=0.1, max=600,
                                                  help="Seconds a request's line and headers may take to arrive "
                                                       "(408 beyond).")] = 10.0,
) -> None:
    """Serve the API (OpenAPI at /docs) over DATA/current, the release `movierec pipeline` published.

    The release is loaded before the server starts: a damaged one (a missing or truncated table,
    no model, a bad manifest) stops the command with one line and exit code 2."""
    import uvicorn

    from movierec.api.app import create_app
    from movierec.api.protocol import edge_protocol

    config = settings()
    data_dir = data or config.data_dir
    catalog = _load(published_release(data_dir), config)
    # The app logs each request itself (with its request id, in the --log-format chosen), so
    # uvicorn's own access log stays off.
    uvicorn.run(create_app(data_dir, config, catalog=catalog, log_requests=access_log), host=host, port=port,
                access_log=False,
                log_level="info", server_header=False, log_config=None,
                http=edge_protocol(max_header_bytes, header_timeout),
                h11_max_incomplete_event_size=max_header_bytes)


def _load(release: Path, config: Settings) -> Catalog:
    """The release's catalog, or exit code 2 naming what is wrong with it."""
    from movierec.catalog.indexes import ReleaseError, load_catalog
    from movierec.raw.files import quote

    started = time.perf_counter()
    try:
        catalog = load_catalog(release, config)
    except ReleaseError as exc:
        fail(f"cannot serve {release}: {exc}")
    except Exception as exc:  # any other failure to load: the release's files are damaged
        fail(f"cannot serve {release}: its files are damaged ({type(exc).__name__}: {quote(str(exc))})")
    log.info("serving release %s: %d films, %d actors, %d directors, loaded in %.2f s", catalog.version,
             len(catalog), len(catalog.actors), len(catalog.directors), time.perf_counter() - started)
    return catalog
