"""`movierec serve`: the API over DATA/current."""

from __future__ import annotations

from typing import Annotated

import typer

from movierec.cli.common import DataOption, app, published_release, settings


@app.command()
def serve(
    data: DataOption = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="PORT", help="Port (default: $PORT, else 8000).")] = 8000,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log",
                                             help="Log every request, with its request id (costs throughput).")] = False,
) -> None:
    """Serve the API (OpenAPI at /docs) over DATA/current, the release `movierec pipeline` published."""
    import uvicorn

    from movierec.api.app import create_app

    config = settings()
    data_dir = data or config.data_dir
    published_release(data_dir)
    # The app logs each request itself (with its request id, in the --log-format chosen), so
    # uvicorn's own access log stays off.
    uvicorn.run(create_app(data_dir, config, log_requests=access_log), host=host, port=port, access_log=False,
                log_level="info", server_header=False, log_config=None)
