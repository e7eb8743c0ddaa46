"""Commands about the recommender: `train` (a new release with a model fitted anew), `evaluate`."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from movierec.cli.common import DataOption, app, published_release, run, settings

RatingsOption = Annotated[
    Path | None,
    typer.Option("--raw", help="Folder with ratings.csv or ratings_small.csv (MOVIEREC_RATINGS chooses), and "
                 "links.csv (plain, .gz or .zip). Default: the raw folder the release was built from, else "
                 "MOVIEREC_RAW_DIR, DATA/raw/ or the shared sample."),
]


class Engine(str, Enum):
    local = "local"
    spark = "spark"


EngineOption = Annotated[
    Engine,
    typer.Option("--engine", help="Where the collaborative stage (likes, co-like counts, top neighbours) runs: "
                 "this process, or Spark (MOVIEREC_SPARK_MASTER, default local[*]; needs PySpark: the spark extra)."),
]


@app.command()
def train(data: DataOption = None, raw: RatingsOption = None, engine: EngineOption = Engine.local) -> None:
    """Fit the model anew on the current release's tables and publish it as a NEW release (the
    served release is never modified). Without ratings in RAW the model is content only."""
    from movierec.pipeline import retrain

    config = settings()
    data_dir = data or config.data_dir
    published_release(data_dir)
    manifest = run(lambda: retrain(data_dir, config, raw, engine=engine.value))
    model = manifest["model"]
    assert isinstance(model, dict)
    cf = model["cf"]
    typer.echo(f"published release {manifest['release']} (built on {manifest['built_on']}): {model['rows']:,} "
               f"neighbour rows for {model['films']:,} films in {model['seconds']:.1f} s (collaborative signal: "
               f"{'yes' if cf['used'] else 'no, ' + cf['reason']})")
    typer.echo(json.dumps({"weights": model["weights"], "tuning": model["tuning"]}, indent=2))


@app.command()
def evaluate(
    data: DataOption = None,
    raw: RatingsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the evaluation (JSON) there.")] = None,
) -> None:
    """Measure the current release's recommendations on real ratings (the evaluation users only),
    next to random, most-popular and the seed's method. The release is not modified: the table is
    printed (and written to --out); `movierec pipeline` stores one in every release it builds."""
    from movierec.evaluation.run import evaluate_release, format_table
    from movierec.pipeline import recorded_raw_dir
    from movierec.release.layout import read_manifest, write_json

    config = settings()
    release = published_release(data or config.data_dir)
    raw_dir = raw or recorded_raw_dir(read_manifest(release) or {}, config.resolved_raw_dir())
    evaluation = run(lambda: evaluate_release(release, raw_dir, k=config.recommendations, ratings=config.ratings))
    evaluation["release"] = release.name
    if out is not None:
        write_json(out, evaluation)
    typer.echo(json.dumps(evaluation, indent=2) if as_json else format_table(evaluation))
