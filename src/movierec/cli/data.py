"""Commands that turn raw data into tables and releases: `etl`, `pipeline`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from movierec.cli.common import DataOption, RawOption, app, run, settings
from movierec.cli.model import Engine, EngineOption


@app.command()
def etl(
    raw: RawOption = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder for the parquet tables.")] = Path("tables"),
) -> None:
    """Unnest and clean the raw CSVs into parquet tables, quarantine.parquet and report.json."""
    from movierec.etl.run import run_etl

    raw_dir = raw or settings().resolved_raw_dir()
    report = run(lambda: run_etl(raw_dir, out))
    movies = report["movies"]
    assert isinstance(movies, dict)
    typer.echo(
        f"{out}: {movies['kept']:,} films kept, {movies['repaired']:,} repaired, "
        f"{movies['quarantined']:,} quarantined in {report['seconds']:.2f} s"
    )


@app.command()
def pipeline(
    raw: RawOption = None,
    data: DataOption = None,
    allow_shrink: Annotated[bool, typer.Option("--allow-shrink", help="Publish even when the new catalogue has "
                                               "far fewer films than the current one.")] = False,
    engine: EngineOption = Engine.local,
) -> None:
    """Build a new release (tables, model, evaluation, manifest) aside, check it, and switch
    DATA/current to it; a failed or refused run leaves DATA/current as it was."""
    from movierec.pipeline import publish

    config = settings()
    raw_dir = raw or config.resolved_raw_dir()
    data_dir = data or config.data_dir
    manifest = run(lambda: publish(raw_dir, data_dir, config, allow_shrink=allow_shrink, engine=engine.value))
    typer.echo(f"published release {manifest['release']} into {data_dir / 'current'}")
    typer.echo(json.dumps(manifest["tables"], indent=2))
