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


def _published_release(data_dir: Path) -> Path:
    """DATA/current's release folder; exit code 2 with what to run when nothing is published."""
    from movierec.release import current_release

    release = current_release(data_dir)
    if release is None:
        _fail(f"no release in {data_dir}: run `movierec pipeline --data {data_dir}` first")
    assert release is not None
    return release


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


@app.command()
def serve(
    data: DataOption = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="PORT", help="Port (default: $PORT, else 8000).")] = 8000,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log",
                                             help="Log every request (costs throughput).")] = False,
) -> None:
    """Serve the API (OpenAPI at /docs) over DATA/current, the release `movierec pipeline` published."""
    import uvicorn

    from movierec.api.app import create_app

    settings = get_settings()
    data_dir = data or settings.data_dir
    _published_release(data_dir)
    uvicorn.run(create_app(data_dir, settings), host=host, port=port, access_log=access_log,
                log_level="info", server_header=False)


RatingsOption = Annotated[
    Path | None,
    typer.Option("--raw", help="Folder with ratings_small.csv and links.csv (plain, .gz or .zip). "
                 "Default: the raw folder the release was built from, else MOVIEREC_RAW_DIR, "
                 "data/raw/ or the shared sample."),
]


@app.command()
def train(data: DataOption = None, raw: RatingsOption = None) -> None:
    """Refit the current release's model (model/neighbours.parquet) and record it in its manifest.

    Without ratings in RAW the model is content only (recorded in the manifest)."""
    from movierec.train import retrain_release

    settings = get_settings()
    release = _published_release(data or settings.data_dir)
    model = retrain_release(release, settings, raw)
    cf = model["cf"]
    assert isinstance(cf, dict)
    typer.echo(f"{release / 'model' / 'neighbours.parquet'}: {model['rows']:,} rows for {model['films']:,} films "
               f"in {model['seconds']:.1f} s (collaborative signal: {'yes' if cf['used'] else 'no, ' + cf['reason']})")
    typer.echo(json.dumps({"weights": model["weights"], "tuning": model["tuning"]}, indent=2))


@app.command()
def evaluate(
    data: DataOption = None,
    raw: RatingsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """Measure the current release's recommendations on real ratings (users with userId % 5 == 0),
    next to random, most-popular and the seed's method; records the table in the manifest."""
    from movierec.evaluate import evaluate_release, format_table, record_evaluation, release_raw_dir

    settings = get_settings()
    release = _published_release(data or settings.data_dir)
    raw_dir = raw or release_raw_dir(release, settings.resolved_raw_dir())
    try:
        evaluation = evaluate_release(release, raw_dir, k=settings.recommendations)
    except InputError as exc:
        _fail(str(exc))
        return
    record_evaluation(release, evaluation)
    typer.echo(json.dumps(evaluation, indent=2) if as_json else format_table(evaluation))
