"""The orchestrator: raw → etl → tables → {model, catalog check, evaluation} → release.

Every command that makes a release goes through :func:`~movierec.pipeline.build.build_release`:
it takes the store's lock, builds the release aside (``releases/.tmp-<name>/``) by running one
ordered list of steps (:func:`~movierec.pipeline.steps.release_steps`), each returning its slice of
the typed manifest (:mod:`movierec.pipeline.manifest`); the list checks that the API can load the
release and answer from it and refuses a catalogue that is empty or shrank too much; only then is
it published (one rename, then ``current`` moves). A failure or a kill at any point leaves
``current`` as it was. Every release also carries its evaluation and its EDA report.

* :func:`publish` — `movierec pipeline`: a new release from a raw folder.
* :func:`retrain` — `movierec train`: a new release with the current release's tables and a model
  fitted anew (the current release is never modified).
* `movierec ingest` (:mod:`movierec.refresh.ingest`): a new release from the current one's raw
  inputs with a batch of new and changed films merged in.

The raw ratings are read once per build, by the list's ``likes`` step, and handed to training,
the anchors and the evaluation.
"""

from movierec.pipeline.build import Build, ReleaseRefused, Step, build_release, check_release
from movierec.pipeline.commands import publish, recorded_raw_dir, retrain
from movierec.pipeline.manifest import Manifest, lineage_films
from movierec.pipeline.steps import release_steps
from movierec.pipeline.tables import etl_tables

__all__ = [
    "Build",
    "Manifest",
    "ReleaseRefused",
    "Step",
    "build_release",
    "check_release",
    "etl_tables",
    "lineage_films",
    "publish",
    "recorded_raw_dir",
    "release_steps",
    "retrain",
]
