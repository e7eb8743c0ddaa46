"""Commands about the release store and the settings: `releases`, `rollback`, `prune`, `config`."""

from __future__ import annotations

import typer

from movierec.cli.common import DataOption, app, run, settings


@app.command()
def releases(data: DataOption = None) -> None:
    """List the published releases: name, created, films, the model's precision@k, current marker."""
    from movierec.release.store import ReleaseStore

    store = ReleaseStore(data or settings().data_dir)
    rows = store.list()
    if not rows:
        typer.echo(f"no release in {store.data_dir}")
        return
    typer.echo(f"  {'release':<26} {'created':<26} {'films':>8} {'p@k':>6}  built on")
    for info in rows:
        precision = "-" if info.precision is None else f"{info.precision:.3f}"
        films = "-" if info.films is None else f"{info.films:,}"
        typer.echo(
            f"{'*' if info.current else ' '} {info.name:<26} {info.created or '-':<26} {films:>8} "
            f"{precision:>6}  {info.built_on or '-'}"
        )


@app.command()
def rollback(data: DataOption = None) -> None:
    """Point DATA/current back at the previous release (a running server follows it)."""
    from movierec.release.store import ReleaseStore

    config = settings()
    store = ReleaseStore(data or config.data_dir)

    def go() -> str:
        with store.lock(wait=config.lock_wait):
            return store.rollback().name

    typer.echo(f"current → {run(go)}")


@app.command()
def prune(data: DataOption = None) -> None:
    """Remove abandoned temporary folders and all but the newest MOVIEREC_KEEP_RELEASES releases
    (never the current one)."""
    from movierec.release.store import ReleaseStore

    config = settings()
    store = ReleaseStore(data or config.data_dir)

    def go() -> list[str]:
        with store.lock(wait=config.lock_wait):
            return store.prune(config.keep_releases)

    removed = run(go)
    typer.echo(f"removed {len(removed)}: {', '.join(removed)}" if removed else "nothing to remove")


@app.command()
def config() -> None:
    """Print every setting's effective value and where it came from (default or MOVIEREC_* variable)."""
    from movierec.config import settings_table

    for variable, value, source, meaning in settings_table(settings()):
        typer.echo(f"{variable:<30} {value!s:<40} {source:<30} {meaning}")
