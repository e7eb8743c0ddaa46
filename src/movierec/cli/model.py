"""Commands about the recommender: `train` (a new release with a model fitted anew), `evaluate`."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from movierec.cli.common import DataOption, app, published_release, run, settings

# movierec.evaluation.cold's DEFAULT_SALT and DEFAULT_FRACTION, written here so that the command
# line loads no polars (`movierec serve` imports every command); a test keeps them equal.
COLD_SALT, COLD_FRACTION = "movierec-cold-start", 0.045

RatingsOption = Annotated[
    Path | None,
    typer.Option(
        "--raw",
        help="Folder with ratings.csv or ratings_small.csv (MOVIEREC_RATINGS chooses), and "
        "links.csv (plain, .gz or .zip). Default: the raw folder the release was built from, else "
        "MOVIEREC_RAW_DIR, DATA/raw/ or the shared sample.",
    ),
]


class Engine(StrEnum):
    local = "local"
    spark = "spark"


EngineOption = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="Where the collaborative stage (likes, co-like counts, top neighbours) runs: "
        "this process, or Spark (MOVIEREC_SPARK_MASTER, default local[*]; needs PySpark: the spark extra).",
    ),
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
    cf = model["cf"]
    assert isinstance(cf, dict)
    typer.echo(
        f"published release {manifest['release']} (built on {manifest['built_on']}): {model['rows']:,} "
        f"neighbour rows for {model['films']:,} films in {model['seconds']:.1f} s (collaborative signal: "
        f"{'yes' if cf['used'] else 'no, ' + cf['reason']})"
    )
    typer.echo(json.dumps({"weights": model["weights"], "tuning": model["tuning"]}, indent=2))


@app.command()
def evaluate(
    data: DataOption = None,
    raw: RatingsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the evaluation as JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the evaluation (JSON) there.")] = None,
    readme: Annotated[
        Path | None,
        typer.Option(
            "--readme",
            help="Also write the tables into this markdown file, "
            "between <!-- evaluation:begin --> and <!-- evaluation:end -->.",
        ),
    ] = None,
    cold: Annotated[
        bool,
        typer.Option(
            "--cold",
            help="Also the cold-start evaluation: trains 2 models without the "
            "cold films' likes in a temporary folder (a few minutes at full size).",
        ),
    ] = False,
    cold_salt: Annotated[
        str, typer.Option("--cold-salt", help="The salt of the hash that picks the cold films.")
    ] = COLD_SALT,
    cold_fraction: Annotated[
        float,
        typer.Option(
            "--cold-fraction",
            min=0.0,
            max=1.0,
            help="Cold films: this share of the catalogue, among the films ≥ 8 training users liked.",
        ),
    ] = COLD_FRACTION,
    cold_ids: Annotated[
        Path | None,
        typer.Option(
            "--cold-ids",
            help="The cold films instead: a file of TMDB ids "
            "(blanks, commas or new lines between them; # comments). "
            "Implies --cold.",
        ),
    ] = None,
) -> None:
    """Measure the current release's recommendations on real ratings (the evaluation users only):
    film to film next to random, most popular, the seed's method and co-occurrence (count,
    Jaccard); personal recommendations next to most popular, SAR and ALS; with --cold, the
    films made cold next to the warm model. The release is not modified: the tables are printed
    in markdown (and written to --out as JSON); `movierec pipeline` stores the evaluation (not
    the cold start) in every release it builds."""
    from movierec.evaluation.cold import parse_ids
    from movierec.evaluation.goals import figure
    from movierec.evaluation.run import evaluate_release, measure_anchors, needed_likes
    from movierec.evaluation.tables import format_tables, replace_block
    from movierec.pipeline import recorded_raw_dir
    from movierec.raw.files import InputError
    from movierec.release.layout import TABLES, read_manifest, write_json

    def readme_text() -> str:
        """The markdown file's text, checked before the evaluation runs (so a typo fails fast)."""
        assert readme is not None
        try:
            text = readme.read_text(encoding="utf-8")
            replace_block(text, "")
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot write the tables into {readme}: {exc}") from None
        return text

    def given_ids() -> list[int]:
        assert cold_ids is not None
        try:
            return parse_ids(cold_ids.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"cannot read the cold films' ids from {cold_ids}: {exc}") from None

    def measure() -> dict[str, object]:
        k, tables = config.recommendations, release / TABLES
        anchored = measure_anchors(tables, needed_likes(raw_dir, tables, config.ratings), k)  # the one read of RAW
        evaluation = evaluate_release(release, None, k=k, anchored=anchored)
        if cold or ids is not None:
            from movierec.evaluation.cold_run import cold_evaluation

            evaluation["cold"] = cold_evaluation(
                release, config, anchored, salt=cold_salt, fraction=cold_fraction, cold_ids=ids, k=k
            )
        return evaluation

    text = run(readme_text) if readme is not None else ""
    ids = run(given_ids) if cold_ids is not None else None
    config = settings()
    release = published_release(data or config.data_dir)
    raw_dir = raw or recorded_raw_dir(read_manifest(release) or {}, config.resolved_raw_dir(), release)
    evaluation = run(measure)
    evaluation["release"] = release.name
    if out is not None:
        write_json(out, evaluation)
    if readme is not None:
        cold_part = evaluation.get("cold")
        seconds = figure(evaluation["seconds"]) + (figure(cold_part["seconds"]) if isinstance(cold_part, dict) else 0.0)
        command = "movierec evaluate --cold --readme" if "cold" in evaluation else "movierec evaluate --readme"
        block = (
            f"{format_tables(evaluation)}\n\n_Written by `{command}` (`make readme`): release "
            f"{release.name}, ratings {raw_dir.name}/{evaluation['ratings']}, {seconds:.0f} s._"
        )
        readme.write_text(replace_block(text, block), encoding="utf-8")
    typer.echo(json.dumps(evaluation, indent=2) if as_json else format_tables(evaluation))
