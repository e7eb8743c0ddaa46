"""The recommenders: fitted by `movierec train` (:mod:`.train`, the I/O edge), served by the API
through :mod:`.scorer`.

Two estimators, scikit-learn style:

* :class:`.estimator.NeighbourRecommender` — every film's ``k`` best neighbours (the artifact
  ``model/neighbours.parquet``; :meth:`~.estimator.NeighbourRecommender.similar_items`);
* :class:`.personal.PersonalRecommender` — a person's films from the films they liked (EASE
  weights, :mod:`.ease`, plus the film-to-film neighbours; ``model/personal.parquet``;
  :meth:`~.personal.PersonalRecommender.recommend`).

Both answer through :mod:`.scorer`, the numpy-only serving half the API imports.

The film-to-film recommender works in two stages, as production recommenders do, so that the whole
catalogue fits in time and memory:

1. Candidates (:mod:`.candidates`). For every film, the union of
   * its nearest films by what it is about (LSA of title, tagline and overview, plus genres:
     :mod:`.features`, :mod:`.text`): dense products of low-dimensional rows within k-means cells
     of about 400 films, each film searching the 8 cells nearest its own (:mod:`.ann`; exact,
     brute force, below 3,600 films);
   * its nearest films by shared specifics (keywords, top-billed cast, director, collection):
     a blockwise sparse product (:mod:`.topk`), so only films that share something are compared;
   * its nearest films by who liked it (item–item collaborative filtering on the training users
     only, :mod:`.cf`; the stage on this machine or on Spark, :mod:`.collaborative`,
     :mod:`.spark_cf`), and, for a film nobody liked, what the warm films it resembles lend it
     (:mod:`.borrow`);
   * the most popular films of the catalogue.
2. Ranking (:mod:`.ranking`). Every candidate pair gets one exact score per signal
   (:data:`.ranking.RANKING_SIGNALS`) and the blended score ``Σ weight × signal`` orders them; the
   weights are tuned on validation users (:mod:`.tuning`), then the catalogue's targets are held
   on the final ranking (:mod:`.targets`); the signals behind each neighbour are its reasons
   (:mod:`.reasons`).

No step ever holds an N×N matrix or computes all N² products: each film keeps at most a few
hundred candidates, and the work grows about linearly with the catalogue.

Also here: :mod:`.seed` (the seed's TF-IDF method, the evaluation's yardstick), :mod:`.artifact`
(the artifacts' rows), :mod:`.clock` (each training step's seconds and peak memory).
"""
