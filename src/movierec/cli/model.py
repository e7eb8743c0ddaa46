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
    as_json: Annotated[bool, typer.Option("--json", help="Print the evaluation as JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the evaluation (JSON) there.")] = None,
    readme: Annotated[Path | None, typer.Option("--readme", help="Also write the tables into this markdown file, "
                                                 "between <!-- evaluation:begin --> and <!-- evaluation:end -->.")] = None,
) -> None:
    """Measure the current release's recommendations on real ratings (the evaluation users only):
    film to film next to random, most popular, the seed's method and co-occurrence (count,
    Jaccard); personal recommendations next to most popular, SAR and ALS. The release is not
    modified: the tables are printed in markdown (and written to --out as JSON); `movierec
    pipeline` stores the evaluation in every release it builds."""
    from movierec.evaluation.run import evaluate_release
    from movierec.evaluation.tables import format_tables, replace_block
    from movierec.raw.files import InputError
    from movierec.pipeline import recorded_raw_dir
    from movierec.release.layout import read_manifest, write_json

    def readme_text() -> str:
        """The markdown file's text, checked before the evaluation runs (so a typo fails fast)."""
        assert readme is not None
        try:
            text = readme.read_text(encoding="utf-8")
            replace_block(text, "")
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot write the tables into {readme}: {exc}") from None
        return text

    text = run(readme_text) if readme is not None else ""
    config = settings()
    release = published_release(data or config.data_dir)
    raw_dir = raw or recorded_raw_dir(read_manifest(release) or {}, config.resolved_raw_dir(), release)
    evaluation = run(lambda: evaluate_release(release, raw_dir, k=config.recommendations, ratings=config.ratings))
    evaluation["release"] = release.name
    if out is not None:
        write_json(out, evaluation)
    if readme is not None:
        block = (f"{format_tables(evaluation)}\n\n_Written by `movierec evaluate --readme` (`make readme`): release "
                 f"{release.name}, ratings {raw_dir.name}/{evaluation['ratings']}, {evaluation['seconds']:.0f} s._")
        readme.write_text(replace_block(text, block), encoding="utf-8")
    typer.echo(json.dumps(evaluation, indent=2) if as_json else format_tables(evaluation))
