"""Commands that turn raw data into tables and releases: `etl`, `pipeline`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from movierec.cli.common import DataOption, RawOption, app, fail, run, settings
from movierec.cli.model import Engine, EngineOption


@app.command()
def etl(
    raw: RawOption = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder for the parquet tables.")] = Path("tables"),
) -> None:
    """Unnest and clean the raw CSVs into parquet tables, quarantine.parquet and report.json."""
    from movierec.etl.run import run_etl

    config = settings()
    raw_dir = raw or config.resolved_raw_dir()
    report = run(lambda: run_etl(raw_dir, out, config))
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
    allow_shrink: Annotated[
        bool,
        typer.Option(
            "--allow-shrink", help="Publish even when the new catalogue has far fewer films than the current one."
        ),
    ] = False,
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


@app.command("tmdb-sync")
def tmdb_sync(
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Batch folder to write (Kaggle CSVs, titles.csv, deleted_ids.txt, failed_ids.txt, sync.json)."
        ),
    ],
    since: Annotated[
        datetime | None, typer.Option("--since", formats=["%Y-%m-%d"], help="First day of changes (UTC).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option("--until", formats=["%Y-%m-%d"], help="Last day (default: today, UTC).")
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=20, help="Requests in flight.")] = 20,
    titles: Annotated[
        bool,
        typer.Option(
            "--titles",
            help="Instead of changes: back-fill the Spanish titles of the "
            "current release's films that have none (resumable: re-run into the same "
            "--out).",
        ),
    ] = False,
    data: DataOption = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1_000_000, help="With --titles: films asked this run.")
    ] = 1000,
) -> None:
    """Fetch the films TMDB changed since a date (with their Spanish titles) into a batch in the
    Kaggle format, for `movierec ingest` (needs TMDB_API_KEY: a v3 key or a v4 read-access token).
    With --titles, fetch instead the Spanish titles of the catalogue's films that have none, at most
    --limit a run, into a batch of titles.csv alone. Bounded by the MOVIEREC_TMDB_* settings (answer
    size, pages, request deadline, Retry-After wait, sync budget). Exit 1 when some films failed or
    the budget ran out (their ids in failed_ids.txt), 2 when the sync could not run."""
    from movierec.config import Settings, SettingsError
    from movierec.refresh.client import one_line
    from movierec.refresh.tmdb import TmdbError, sync

    try:  # read now, not the process's cached copy: the key and URL are read from the same environment
        config = Settings.from_env()
    except SettingsError as exc:
        fail(str(exc))
    if titles:
        if since is not None or until is not None:
            fail("--titles back-fills the catalogue's films: it takes no --since or --until")
        _titles_backfill(out, data or config.data_dir, limit, concurrency, config)
        return
    if since is None:
        fail("--since is required (or --titles to back-fill the catalogue's Spanish titles)")
    try:
        result = sync(since, out, until=until, concurrency=concurrency, settings=config)
    except TmdbError as exc:
        fail(one_line(str(exc), 300))
    typer.echo(f"{out}: {result.summary()}")
    if result.failed or result.budget_exhausted:
        why = "the sync budget ran out; " if result.budget_exhausted else ""
        typer.echo(f"warning: {why}{result.failed} films failed; their ids are in {out / 'failed_ids.txt'}", err=True)
        raise typer.Exit(code=1)


def _titles_backfill(out: Path, data_dir: Path, limit: int, concurrency: int, config: object) -> None:
    from movierec.refresh.client import TmdbError, one_line
    from movierec.refresh.tmdb_titles import backfill

    try:
        result = backfill(data_dir, out, limit=limit, settings=config, concurrency=concurrency)  # type: ignore[arg-type]
    except TmdbError as exc:
        fail(one_line(str(exc), 300))
    typer.echo(f"{out}: {result.summary()}")
    if result.failed or result.budget_exhausted:
        why = "the sync budget ran out; " if result.budget_exhausted else ""
        typer.echo(f"warning: {why}{result.failed} films not fetched; run the same command again to continue", err=True)
        raise typer.Exit(code=1)
    if result.remaining:
        typer.echo(
            f"{result.remaining:,} films left: run the same command again to continue, then `movierec ingest {out}`"
        )
