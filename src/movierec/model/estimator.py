"""The recommender as one estimator, scikit-learn style: ``NeighbourRecommender(params).fit(catalogue, likes)``.

Example (content only, no ratings):
    >>> import polars as pl
    >>> catalogue = FilmTables(
    ...     movies=pl.DataFrame({"id": [1, 2, 3], "title": ["Toy Story", "Toy Story 2", "Heat"],
    ...                          "overview": ["toys", "toys again", "a heist"], "tagline": [None] * 3,
    ...                          "original_language": ["en"] * 3, "release_year": [1995, 1999, 1995],
    ...                          "vote_average": [7.7, 7.3, 7.7], "vote_count": [5415, 3914, 1886],
    ...                          "collection_id": [10194, 10194, None]}),
    ...     genres=pl.DataFrame({"movie_id": [1, 2, 3], "genre_id": [16, 16, 80]}),
    ...     keywords=pl.DataFrame({"movie_id": [1], "keyword_id": [931]}),
    ...     cast=pl.DataFrame({"movie_id": [1, 2], "person_id": [31, 31], "order": [0, 0]}),
    ...     crew=pl.DataFrame({"movie_id": [1, 2], "person_id": [7879, 7879], "job": ["Director"] * 2}))
    >>> model = NeighbourRecommender(k=2, recommendations=1).fit(catalogue, likes=None)
    >>> model.neighbours().filter(pl.col("rank") == 1)["neighbour_id"].to_list()
    [2, 1, 1]
"""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

from movierec.model.artifact import neighbours_frame
from movierec.model.borrow import borrowed, content_neighbours, hidden_films, without
from movierec.model.candidates import PoolSizes, candidate_pool, candidate_recall, merge_pools
from movierec.model.cf import MAX_LIKES_PER_USER
from movierec.model.collaborative import CollaborativeStage, fit_collaborative
from movierec.model.features import FilmTables, ContentFeatures, ContentFeaturizer, popularity_prior, quality_prior
from movierec.model.ranking import (
    CONTENT,
    DEFAULT_WEIGHTS,
    HEAD_START,
    RANKING_SIGNALS,
    Blend,
    blend,
    cf_signal,
    confidence,
    content_score,
    likes_prior,
    pair_signals,
    rank_pool,
)
from movierec.model.reasons import top_reasons
from movierec.model.topk import top_k_of_csr
from movierec.model.tuning import Targets, Yardstick, in_pool, meet_targets, rounded, tuned_blend
from movierec.protocol.metrics import collection_recall, coverage
from movierec.raw.ratings import LIKED_RATING

log = logging.getLogger("movierec.train")

NO_RATINGS = "no ratings (ratings.csv or ratings_small.csv) and links.csv in RAW"


@dataclass(frozen=True)
class ModelParams:
    text_dims: int = 64
    top_cast: int = 5
    cf_alpha: float = 0.2  # chosen on validation users (stratified precision, generic share): see the README
    cf_shrink: float = 30.0
    evidence: float = 0.01  # the tuning's starting point: half-way to the head weights at 1% of users
    hidden_share: float = 0.1  # of the films with hidden_min_likes fit likes, treated as new while tuning
    hidden_min_likes: int = 8
    cf_max_likes: int = MAX_LIKES_PER_USER  # per user, the most recent (see movierec.model.cf)
    pool: PoolSizes = field(default_factory=PoolSizes)
    targets: Targets = field(default_factory=Targets)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class NeighbourRecommender:
    """Every film's ``k`` best neighbours, from content features, candidates, the collaborative
    signal and a blend tuned on validation users (see :mod:`movierec.model`).

    ``fit(catalogue, likes)``: ``likes`` holds (user_id, row[, timestamp]) for the training users
    only (None: no ratings). With likes, the collaborative signal used while tuning is fitted on
    the fit users and the head weights and evidence scale are chosen on the validation users' pairs
    (:mod:`movierec.model.collaborative`: at most 5,000 of them); the final signal is fitted on all
    training users, and the catalogue's targets (coverage, collection recall) are held on the final
    ranking (:mod:`movierec.model.tuning`). ``collaborative`` instead of ``likes``: that stage
    computed elsewhere (e.g. by Spark), the same input either way. Fitted attributes: ``top_``,
    ``scores_`` ((films, k) rows and scores, -1 / -inf padded), ``reasons_`` ((films, k) the
    signals behind each score, :mod:`movierec.model.reasons`), ``blend_``, ``info_`` (what the
    manifest records), ``ids_``, and ``tuning_top_``: the top k ranked with the fit users' signal
    (None without validation users), for tuning what scores from the neighbours without the
    validation users' likes in them; ``new_films_``: the content neighbours among the warm films of
    every film nobody liked (:func:`~movierec.model.borrow.content_neighbours`; None without
    likes), from which the personal lists borrow; ``hidden_`` (the films the tuning treated as
    new) and ``tuning_new_films_`` (the same neighbours as the tuning saw them), for the personal
    recommender's tuning.
    """

    def __init__(self, params: ModelParams | None = None, k: int = 20, recommendations: int = 5) -> None:
        self.params = params or ModelParams()
        self.k = k
        self.recommendations = recommendations

    def neighbours(self) -> pl.DataFrame:
        """The artifact's rows (movie_id, rank, neighbour_id, score, reason)."""
        return neighbours_frame(self.ids_, self.top_, self.scores_, self.reasons_)

    def cf_params(self) -> dict[str, object]:
        """The :class:`~movierec.model.cf.ItemCF` parameters, for either engine."""
        return {
            "alpha": self.params.cf_alpha,
            "shrink": self.params.cf_shrink,
            "neighbours": self.params.pool.cf,
            "max_likes_per_user": self.params.cf_max_likes,
        }

    def _yardstick(self, features: ContentFeatures, votes: np.ndarray, likes: np.ndarray | None) -> Yardstick:
        return Yardstick(
            features.collection,
            features.release,
            self.ids_,
            votes,
            np.zeros(features.n) if likes is None else likes,
            self.recommendations,
            self.params.targets,
        )

    def fit(
        self, catalogue: FilmTables, likes: pl.DataFrame | None, collaborative: CollaborativeStage | None = None
    ) -> NeighbourRecommender:

        steps: dict[str, float] = {}
        memory: dict[str, float] = {}
        clock = time.perf_counter()

        def step(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            steps[name], memory[name] = round(now - clock, 3), peak_rss_mb()
            log.info("%-12s %6.2f s  peak %6.0f MB", name, now - clock, memory[name])
            clock = now

        n = catalogue.movies.height
        self.ids_ = catalogue.ids
        featurizer = ContentFeaturizer(text_dims=self.params.text_dims, top_cast=self.params.top_cast)
        features = featurizer.fit_transform(catalogue)
        movies = catalogue.movies
        priors = {
            "popularity": popularity_prior(movies["vote_count"].to_numpy()),
            "quality": quality_prior(movies["vote_average"].to_numpy(), movies["vote_count"].to_numpy()),
        }
        step("features")
        base = candidate_pool(features, None, priors["popularity"], self.params.pool)
        step("candidates")

        info: dict[str, object] = {}
        tuning: dict[str, object] = {"tuned": False}
        self.tuning_top_: np.ndarray | None = None
        self.new_films_: sp.csr_matrix | None = None
        self.tuning_new_films_: sp.csr_matrix | None = None
        self.hidden_: np.ndarray | None = None
        # A film nobody liked is ranked on content alone (its cf and likes signals are 0 anyway).
        chosen = Blend(tail=dict(DEFAULT_WEIGHTS), head=dict(HEAD_START), evidence=self.params.evidence)
        support, users = None, 0
        if collaborative is None and likes is not None and likes.height > 0:
            collaborative = fit_collaborative(likes, n, self.cf_params())
            step("cf")
        votes = movies["vote_count"].to_numpy()
        if collaborative is not None and collaborative.training.likes_ > 0:
            cf_tune, cf_all, validation = collaborative.fit, collaborative.training, collaborative.validation
            info["cf"] = {
                "used": True,
                "liked_rating": LIKED_RATING,
                "engine": collaborative.engine,
                "training_users": cf_all.users_,
                "likes": cf_all.likes_,
                "films_with_likes": int((cf_all.support_ > 0).sum()),
                "alpha": self.params.cf_alpha,
                "shrink": self.params.cf_shrink,
                "neighbours": self.params.pool.cf,
                "max_likes_per_user": self.params.cf_max_likes,
            }
            # The tuning treats some liked films as new (their likes hidden from its signal), so
            # the weights a new film gets are chosen on films whose audience is known.
            hidden = hidden_films(
                catalogue.ids, cf_tune.support_, self.params.hidden_share, self.params.hidden_min_likes, salt="tuning"
            )
            tune_cf, tune_support = without(cf_tune.similarity_, hidden), np.where(hidden, 0.0, cf_tune.support_)
            content = content_score(pair_signals(features, None, priors, base, names=CONTENT), base)
            shrink = self.params.cf_shrink
            tune_alike = content_neighbours(base, content, tune_support)
            tune_borrowed = borrowed(tune_alike, tune_cf, tune_support, shrink)
            alike = content_neighbours(base, content, cf_all.support_)
            all_borrowed = borrowed(alike, cf_all.similarity_, cf_all.support_, shrink)
            # the films nobody liked, and the warm films each resembles (the personal lists borrow too)
            self.new_films_, self.tuning_new_films_ = (
                _rows_of(alike, cf_all.support_ == 0),
                _rows_of(tune_alike, tune_support == 0),
            )
            self.hidden_ = hidden
            del content
            step("borrowed")
            # The tuning sees only candidates and similarities from the fit users; the final ranking
            # all training users'. Both on one pool, so the content signals are computed once.
            tune_pool = merge_pools(
                [base, top_k_of_csr(tune_cf, self.params.pool.cf), top_k_of_csr(tune_borrowed, self.params.pool.cf)]
            )
            pool = merge_pools(
                [
                    tune_pool,
                    top_k_of_csr(cf_all.similarity_, self.params.pool.cf),
                    top_k_of_csr(all_borrowed, self.params.pool.cf),
                ]
            )
            signals = pair_signals(
                features, tune_cf, {**priors, "likes": likes_prior(tune_support, n)}, pool, tune_borrowed
            )
            step("signals")
            if validation.height:
                yard = self._yardstick(features, votes, tune_support)
                chosen, tuning = tuned_blend(
                    signals,
                    np.where(in_pool(pool, tune_pool), pool, -1),
                    validation["user_id"].to_numpy(),
                    validation["row"].to_numpy(),
                    tune_support,
                    cf_tune.users_,
                    hidden,
                    yard,
                    chosen,
                    self.params.targets,
                )
                tuning["fit_users"] = cf_tune.users_
                tuning["candidate_recall"] = candidate_recall(
                    tune_pool, validation["user_id"].to_numpy(), validation["row"].to_numpy()
                )
                # what the personal recommender's tuning scores from: neighbours without the
                # validation users' likes (ranked with the fit users' signal)
                self.tuning_top_ = rank_pool(
                    pool,
                    blend(signals, pool, chosen, confidence(tune_support, cf_tune.users_, chosen.evidence, n)),
                    self.k,
                )[0]
                step("tuning")
            signals[RANKING_SIGNALS.index("cf")] = cf_signal(cf_all.similarity_, pool)
            signals[RANKING_SIGNALS.index("cf_content")] = cf_signal(all_borrowed, pool)
            likes_all = likes_prior(cf_all.support_, n)
            signals[RANKING_SIGNALS.index("likes")] = np.where(pool >= 0, likes_all[np.maximum(pool, 0)], 0.0)
            support, users = cf_all.support_, cf_all.users_
        else:
            pool = base
            signals = pair_signals(features, None, priors, pool)
            info["cf"] = {
                "used": False,
                "reason": NO_RATINGS
                if likes is None and collaborative is None
                else "no training user liked a catalogue film",
            }
            step("signals")
        trust = confidence(support, users, chosen.evidence, n)
        held, top, scores = meet_targets(
            signals, pool, chosen, trust, self._yardstick(features, votes, support), self.params.targets, keep=self.k
        )
        # The reasons in words: the signals that scored each pair, under the weights that ranked
        # the film (mostly the head's where its likes are trusted, else the tail's).
        by_head = trust >= 0.5
        self.reasons_ = top_reasons(signals, RANKING_SIGNALS, held.blend.tail, pool, top)
        if by_head.any():
            self.reasons_[by_head] = top_reasons(signals, RANKING_SIGNALS, held.blend.head, pool, top)[by_head]
        step("ranking")
        info.update(
            {
                # the artifact's own catalogue metrics (no users involved)
                "coverage": round(coverage(top, self.recommendations), 4),
                "collection_recall": rounded(collection_recall(top, features.collection, self.recommendations)),
                "adjacent_recall": rounded(held.metrics["adjacent_recall"]),
                "generic_share": rounded(held.metrics["generic_share"]),
                "weights": held.blend.record(),
                "tuning": tuning,
                "targets": {
                    "met": held.met,
                    "tail_prior_damping": round(held.tail_damping, 4),
                    "head_prior_damping": round(held.head_damping, 4),
                    "adjacent_boost": held.adjacent_boost,
                    "full_rankings": held.full_rankings,
                },
                "vocabulary": features.vocabulary,
                "candidates": {
                    **asdict(self.params.pool),
                    "width": int(pool.shape[1]),
                    "mean": round(float((pool >= 0).sum(axis=1).mean()) if n else 0.0, 1),
                },
                "text_dims": self.params.text_dims,
                "top_cast": self.params.top_cast,
                "steps": steps,
                "peak_rss_mb": memory,
            }
        )
        self.top_, self.scores_, self.blend_, self.info_ = top, scores, held.blend, info
        return self


def _rows_of(matrix: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """``matrix`` with the rows ``keep`` does not mark emptied."""
    return sp.csr_matrix(sp.diags(keep.astype(np.float64)) @ matrix)
