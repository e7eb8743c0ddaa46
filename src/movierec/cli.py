"""`movierec`: the command line that wires the stages (etl → tables → model → api)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from movierec.raw import InputError
from movierec.settings import get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

RawOption = Annotated[
    Path | None,
    typer.Option("--raw", help="Folder with the Kaggle CSVs (plain, .gz or .zip). "
                 "Default: MOVIEREC_RAW_DIR, else data/raw/, else the shared sample."),
]
DataOption = Annotated[
    Path | None, typer.Option("--data", help="Data folder with releases/ and current (default: MOVIEREC_DATA_DIR or data/).")
]


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False) -> None:
    _setup_logging(verbose)


@app.command()
def etl(
    raw: RawOption = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder for the parquet tables.")] = Path("tables"),
) -> None:
    """Unnest and clean the raw CSVs into parquet tables, quarantine.parquet and report.json."""
    from movierec.etl_run import run_etl

    raw_dir = raw or get_settings().resolved_raw_dir()
    try:
        report = run_etl(raw_dir, out)
    except InputError as exc:
        _fail(str(exc))
        return
    movies = report["movies"]
    assert isinstance(movies, dict)
    typer.echo(
        f"{out}: {movies['kept']:,} films kept, {movies['repaired']:,} repaired, "
        f"{movies['quarantined']:,} quarantined in {report['seconds']:.2f} s"
    )


@app.command()
def pipeline(raw: RawOption = None, data: DataOption = None) -> None:
    """Build a new release (tables, model, manifest) and switch DATA/current to it."""
    from movierec.release import publish

    settings = get_settings()
    raw_dir = raw or settings.resolved_raw_dir()
    data_dir = data or settings.data_dir
    try:
        manifest = publish(raw_dir, data_dir, settings)
    except InputError as exc:
        _fail(str(exc))
        return
    typer.echo(f"published release {manifest['release']} into {data_dir / 'current'}")
    typer.echo(json.dumps(manifest["tables"], indent=2))
