"""Commands that keep the catalogue fresh: `ingest` (a batch of new and changed films into a new
release), `refresh` (TMDB's changes since the last sync, ingested) and `fetch` (a release
published elsewhere, downloaded)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from movierec.cli.common import DataOption, app, fail, run, settings

ShrinkOption = Annotated[
    bool,
    typer.Option(
        "--allow-shrink", help="Publish even when the new catalogue has far fewer films than the current one."
    ),
]
EvaluateOption = Annotated[
    bool | None,
    typer.Option(
        "--evaluate/--no-evaluate",
        show_default=False,
        help="Measure the new release on the ratings (default: MOVIEREC_EVALUATE_ON_INGEST, off).",
    ),
]


@app.command()
def ingest(
    batch: Annotated[
        Path,
        typer.Argument(
            help="Folder with movies_metadata.csv and optionally credits.csv, "
            "keywords.csv (Kaggle format, plain/.gz/.zip) and deleted_ids.txt."
        ),
    ],
    data: DataOption = None,
    allow_shrink: ShrinkOption = False,
    evaluate: EvaluateOption = None,
) -> None:
    """Merge a batch of new and changed films into the current release's raw inputs (new ids
    added, known ids replaced, deleted ids removed), then ETL, train and publish a new release
    that DATA/current switches to. A batch that cannot be read publishes nothing (exit 2)."""
    from movierec.refresh.ingest import ingest as ingest_batch

    config = settings()
    data_dir = data or config.data_dir
    manifest = run(lambda: ingest_batch(batch, data_dir, config, allow_shrink=allow_shrink, evaluate=evaluate))
    if manifest is None:
        typer.echo(f"{batch}: no record and no deleted id; nothing published")
        return
    _report(manifest, data_dir)


@app.command()
def refresh(
    data: DataOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="YYYY-MM-DD: first day of TMDB changes to fetch (default: where the current release's sync ended).",
        ),
    ] = None,
    allow_shrink: ShrinkOption = False,
    evaluate: EvaluateOption = None,
) -> None:
    """Fetch TMDB's changes since the last sync (`tmdb-sync`, needs TMDB_API_KEY) and ingest them
    into a new release. What `serve --refresh-every` and the scheduled workflow run."""
    from movierec.refresh.schedule import RefreshError, refresh_once

    config = settings()
    data_dir = data or config.data_dir
    start = None
    if since is not None:
        try:
            start = date.fromisoformat(since)
        except ValueError:
            fail(f"--since must be a date YYYY-MM-DD, got {since[:40]!r}")
    try:
        manifest = run(
            lambda: refresh_once(data_dir, config, since=start, allow_shrink=allow_shrink, evaluate=evaluate)
        )
    except RefreshError as exc:
        fail(str(exc))
    if manifest is None:
        typer.echo("TMDB reported no change: nothing published")
        return
    _report(manifest, data_dir)


def _report(manifest: Mapping[str, object], data_dir: Path) -> None:
    summary = manifest["ingest"]
    assert isinstance(summary, dict)
    typer.echo(f"published release {manifest['release']} (built on {manifest['built_on']}) into {data_dir / 'current'}")
    typer.echo(
        json.dumps(
            {"files": summary["files"], "deleted_ids": summary["deleted_ids"], "tables": manifest["tables"]}, indent=2
        )
    )
    files = summary["files"]
    rejected = {name: counts for name, counts in files.items() if isinstance(counts, dict) and counts.get("rejected")}
    if rejected:
        listed = "; ".join(
            f"{name}: {counts['rejected']:,} ({', '.join(map(str, counts['rejected_ids'][:10]))}"
            f"{', …' if counts['rejected'] > 10 else ''})"
            for name, counts in rejected.items()
        )
        typer.echo(
            f"warning: batch records that did not pass the ETL left the films' previous records in place: {listed}",
            err=True,
        )


@app.command()
def fetch(
    url: Annotated[
        str | None,
        typer.Argument(help="URL of a release archive (.tar.gz of one release folder); default: MOVIEREC_RELEASE_URL."),
    ] = None,
    data: DataOption = None,
) -> None:
    """Download a published release archive into DATA/releases/ and point DATA/current at it,
    unless the current release is newer (what `serve` does at start when MOVIEREC_RELEASE_URL is
    set). The archive is checked before it is unpacked and while it is: within
    MOVIEREC_RELEASE_MAX_BYTES and MOVIEREC_RELEASE_MAX_FILES, only the files a release holds, all
    within MOVIEREC_FETCH_BUDGET seconds; a refused archive changes nothing (exit 2)."""
    from movierec.refresh.fetch import fetch_release

    config = settings()
    source = url or config.release_url
    if not source:
        fail("no URL: pass one or set MOVIEREC_RELEASE_URL")
    typer.echo(run(lambda: fetch_release(source, data or config.data_dir, config)).summary())
