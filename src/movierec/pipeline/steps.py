"""The steps of a release, and the one list of them every build runs (:func:`release_steps`).

After the step(s) that make the tables (the ETL of a raw folder, a copy of the current release's
tables, or an ingest's merge and ETL), in order:

``likes``      the ratings file read once (:func:`movierec.evaluation.run.read_build_likes`): the
               training users' likes, and the evaluation users' when the release is evaluated;
``anchors``    the evaluation's anchors, started in a thread beside training (they need only the
               tables and the likes);
``train``      the model, fitted on the training users' likes;
``catalog``    the API's indexes; ``cards``: the web page's film cards;
``check``      the release loaded as the API loads it, and refused when it cannot answer or its
               catalogue shrank too much;
``evaluation`` the model's rows beside the anchors, written to evaluation.json;
``date``       ``created_at``, before the report (its header shows the release's date);
``report``     the EDA report, compared with the release it replaces.

Each step is a small object whose :meth:`~movierec.pipeline.build.Step.run` returns its slice of
the manifest; what a later step needs from an earlier one (the likes, the anchors) it is given
when the list is made.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from movierec.config import Settings
from movierec.pipeline.background import Background
from movierec.pipeline.build import Build, ReleaseRefused, Step, check_release
from movierec.pipeline.manifest import Manifest
from movierec.raw.ratings import SplitLikes
from movierec.release.layout import EVALUATION, MODEL, RAW, REPORT, TABLES, write_json

log = logging.getLogger("movierec.pipeline")


class ReadLikes(Step):
    """The build's likes, read once from the ratings of ``ratings_dir`` (None: the release's own
    raw/); the evaluation users' half only when the release is evaluated (``held_out``). No
    ratings: :attr:`likes` stays None and the model is content only."""

    name = "likes"

    def __init__(self, ratings_dir: Path | None, held_out: bool) -> None:
        self.ratings_dir, self.held_out = ratings_dir, held_out
        self.likes: SplitLikes | None = None

    def ratings(self, build: Build) -> Path:
        """The folder whose ratings this build reads."""
        return self.ratings_dir or build.folder / RAW

    def run(self, build: Build) -> Manifest:
        from movierec.evaluation.run import read_build_likes

        ratings = self.ratings(build)
        self.likes = read_build_likes(ratings, build.folder / TABLES, build.settings.ratings, held_out=self.held_out)
        return {}


class StartAnchors(Step):
    """The evaluation's anchors (everything but the model's rows), measured in a thread while the
    model trains: a failed or killed build never waits for it."""

    name = "anchors"

    def __init__(self, likes: ReadLikes) -> None:
        self.source = likes
        self.anchors: Background | None = None

    def run(self, build: Build) -> Manifest:
        from movierec.evaluation import run as evaluation

        likes = self.source.likes
        if likes is not None and likes.held_out is not None:
            self.anchors = Background(
                evaluation.measure_anchors, build.folder / TABLES, likes, build.settings.recommendations, 0
            )
        return {}


class Train(Step):
    """The model, fitted on the training users' likes (its collaborative stage computed by
    ``engine``: local | spark)."""

    name = "train"

    def __init__(self, likes: ReadLikes, engine: str) -> None:
        self.source, self.engine = likes, engine

    def run(self, build: Build) -> Manifest:
        from movierec.model import train as training

        likes = self.source.likes
        try:
            model = training.train(
                build.folder / TABLES,
                build.folder / MODEL,
                build.settings,
                raw_dir=self.source.ratings(build),
                engine=self.engine,
                likes=likes.training if likes is not None else None,
            )
        except training.CatalogueTooSmall as exc:
            raise ReleaseRefused(f"the new release was not published: {exc}") from None
        return {"model": model}


class Catalog(Step):
    """The API's indexes, built once and memory-mapped when served."""

    name = "catalog"

    def run(self, build: Build) -> Manifest:
        from movierec.catalog.build import write_catalog

        try:
            write_catalog(build.folder, build.settings.recommendations, build.manifest)
        except Exception as exc:  # the API's indexes cannot be built from what the steps wrote
            raise ReleaseRefused(
                f"the new release was not published: the API cannot load it ({type(exc).__name__}: {str(exc)[:200]})"
            ) from exc
        return {}


class Cards(Step):
    """The web page's film cards (genres, directors, cast, overview), memory-mapped when served."""

    name = "cards"

    def run(self, build: Build) -> Manifest:
        from movierec.catalog.cards import CARDS, write_cards

        write_cards(build.folder / TABLES, build.folder / CARDS)
        return {}


class Check(Step):
    """The release loaded as the API does (:func:`~movierec.pipeline.build.check_release`)."""

    name = "check"
    reads_manifest = True

    def __init__(self, allow_shrink: bool) -> None:
        self.allow_shrink = allow_shrink

    def run(self, build: Build) -> Manifest:
        films = check_release(build.folder, build.current, build.settings, allow_shrink=self.allow_shrink)
        return {"lineage_max_films": films}


class Evaluate(Step):
    """The evaluation table (evaluation.json): the model's rows beside the anchors; its time is
    what the evaluation added after the other steps."""

    name = "evaluation"

    def __init__(self, anchors: StartAnchors) -> None:
        self.source = anchors

    def run(self, build: Build) -> Manifest:
        from movierec.evaluation.run import Anchored, evaluate_release

        if self.source.anchors is None:  # no ratings to evaluate with
            return {}
        anchored = self.source.anchors.result()
        assert isinstance(anchored, Anchored)
        k = build.settings.recommendations
        write_json(build.folder / EVALUATION, evaluate_release(build.folder, None, k=k, anchored=anchored))
        return {}


class Date(Step):
    """The release's ``created_at``: what releases are ordered by."""

    name = "date"

    def run(self, build: Build) -> Manifest:
        return {"created_at": datetime.now(UTC).isoformat(timespec="seconds")}


class Report(Step):
    """The EDA report (report/report.html + report.json), compared with the release it replaces.
    A report that fails is logged and recorded, and the release is still published: new films
    must not wait for a chart (the API's /reporte then says why)."""

    name = "report"
    reads_manifest = True

    def __init__(self, likes: ReadLikes) -> None:
        self.source = likes

    def run(self, build: Build) -> Manifest:
        from movierec.report.build import write_report

        raw_dir = self.source.ratings(build)
        try:
            write_report(
                build.folder,
                build.folder / REPORT,
                raw_dir=raw_dir if raw_dir.is_dir() else None,
                previous=build.current,
            )
        except Exception as exc:
            log.exception("the report of %s failed; the release is published without it", build.name)
            return {"report": {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}}
        return {"report": {"html": REPORT, "json": str(Path(REPORT).with_suffix(".json"))}}


def release_steps(
    tables: Sequence[Step],
    ratings_dir: Path | None,
    settings: Settings,
    *,
    engine: str = "local",
    allow_shrink: bool = False,
    evaluate: bool | None = None,
    before_check: Sequence[Step] = (),
) -> list[Step]:
    """Every step of a release, in order: ``tables`` (what writes tables/ and raw/), then the
    likes of ``ratings_dir``'s ratings (None: the release's own raw/), the anchors, training, the
    catalog, the cards, ``before_check`` (an ingest's raw/ completed), the check, the evaluation
    (when ``evaluate``, default ``settings.evaluate_on_publish``), the date and the report (when
    ``settings.report_on_publish``). Every command that makes a release builds its list here."""
    evaluating = settings.evaluate_on_publish if evaluate is None else evaluate
    likes = ReadLikes(ratings_dir, held_out=evaluating)
    anchors = StartAnchors(likes)
    return [
        *tables,
        likes,
        *([anchors] if evaluating else []),
        Train(likes, engine),
        Catalog(),
        Cards(),
        *before_check,
        Check(allow_shrink),
        *([Evaluate(anchors)] if evaluating else []),
        Date(),
        *([Report(likes)] if settings.report_on_publish else []),
    ]
