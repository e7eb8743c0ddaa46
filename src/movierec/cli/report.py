"""`movierec report`: the EDA report of a release, written anywhere."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from movierec.cli.common import DataOption, app, fail, published_release, settings

log = logging.getLogger("movierec.report")


@app.command()
def report(
    data: DataOption = None,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write (report.json beside it).")] = Path(
        "report.html"
    ),
    raw: Annotated[
        Path | None,
        typer.Option(
            "--raw", help="Folder with the MovieLens ratings and links (default: the one the release was built from)."
        ),
    ] = None,
) -> None:
    """Write the current release's EDA report (one self-contained HTML in Spanish, and its
    figures as JSON), compared with the previous release. Every release built by `movierec
    pipeline` already carries one in report/."""
    from movierec.release.store import ReleaseStore
    from movierec.report.build import write_report

    data_dir = data or settings().data_dir
    release = published_release(data_dir)
    try:
        figures = write_report(release, out, raw_dir=raw, previous=ReleaseStore(data_dir).before(release))
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    except Exception as exc:
        log.debug("the report failed", exc_info=exc)
        fail(f"the report of release {release.name} failed: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
    typer.echo(
        f"{out}: report of release {release.name} ({figures['peliculas']:,} films); figures in "
        f"{out.with_suffix('.json')}"
    )
