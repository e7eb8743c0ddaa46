"""The recommender as one estimator, scikit-learn style: ``NeighbourRecommender(params).fit(films, likes)``.

Example (content only, no ratings):
    >>> import polars as pl
    >>> films = FilmTables(
    ...     movies=pl.DataFrame({"id": [1, 2, 3], "title": ["Toy Story", "Toy Story 2", "Heat"],
    ...                          "overview": ["toys", "toys again", "a heist"], "tagline": [None] * 3,
    ...                          "original_language": ["en"] * 3, "release_year": [1995, 1999, 1995],
    ...                          "vote_average": [7.7, 7.3, 7.7], "vote_count": [5415, 3914, 1886],
    ...                          "collection_id": [10194, 10194, None]}),
    ...     genres=pl.DataFrame({"movie_id": [1, 2, 3], "genre_id": [16, 16, 80]}),
    ...     keywords=pl.DataFrame({"movie_id": [1], "keyword_id": [931]}),
    ...     cast=pl.DataFrame({"movie_id": [1, 2], "person_id": [31, 31], "order": [0, 0]}),
    ...     crew=pl.DataFrame({"movie_id": [1, 2], "person_id": [7879, 7879], "job": ["Director"] * 2}))
    >>> model = NeighbourRecommender(k=2, recommendations=1).fit(films, likes=None)
    >>> model.neighbours().filter(pl.col("rank") == 1)["neighbour_id"].to_list()
    [2, 1, 1]
    >>> [[film for film, score in similar] for similar in model.similar_items([1, 3, 99], k=2)]
    [[2, 3], [1, 2], []]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

from movierec.model.artifact import neighbours_frame
from movierec.model.borrow import Lent, hidden_films, lend
from movierec.model.candidates import PoolSizes, candidate_pool, candidate_recall, in_pool, merge_pools
from movierec.model.cf import MAX_LIKES_PER_USER
from movierec.model.clock import StepClock
from movierec.model.collaborative import CollaborativeStage, fit_collaborative
from movierec.model.features import ContentFeatures, ContentFeaturizer, FilmTables, popularity_prior, quality_prior
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
from movierec.model.scorer import neighbours_of
from movierec.model.targets import Targets, TargetsResult, Yardstick, meet_targets
from movierec.model.topk import top_k_of_csr
from movierec.model.tuning import rounded, tuned_blend
from movierec.protocol.metrics import collection_recall, coverage
from movierec.raw.ratings import LIKED_RATING

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


@dataclass
class _Ranking:
    """What the final ranking reads: every film's candidates (``pool``) and their signal stack,
    the blend chosen so far, the likes behind the confidence (None: no ratings), and the record."""

    pool: np.ndarray
    signals: np.ndarray
    chosen: Blend
    support: np.ndarray | None
    users: int
    cf: dict[str, object]
    tuning: dict[str, object]


class NeighbourRecommender:
    """Every film's ``k`` best neighbours, from content features, candidates, the collaborative
    signal and a blend tuned on validation users (see :mod:`movierec.model`).

    ``fit(films, likes)``: ``films`` the :class:`~movierec.model.features.FilmTables`, ``likes``
    (user_id, row[, timestamp]) of the training users only (None: no ratings). With likes, the
    collaborative signal used while tuning is fitted on the fit users and the head weights and
    evidence scale are chosen on the validation users' pairs (:mod:`movierec.model.collaborative`:
    at most 5,000 of them); the final signal is fitted on all training users, and the catalogue's
    targets (coverage, collection recall) are held on the final ranking
    (:mod:`movierec.model.targets`). ``collaborative`` instead of ``likes``: that stage computed
    elsewhere (e.g. by Spark), the same input either way.

    Fitted attributes: ``top_``, ``scores_`` ((films, k) rows and scores, -1 / -inf padded),
    ``reasons_`` ((films, k) the signals behind each score, :mod:`movierec.model.reasons`),
    ``blend_``, ``info_`` (what the manifest records), ``ids_``, and ``tuning_top_``: the top k
    ranked with the fit users' signal (None without validation users), for tuning what scores from
    the neighbours without the validation users' likes in them; ``new_films_``: the content
    neighbours among the warm films of every film nobody liked
    (:func:`~movierec.model.borrow.content_neighbours`; None without likes), from which the
    personal lists borrow; ``hidden_`` (the films the tuning treated as new) and
    ``tuning_new_films_`` (the same neighbours as the tuning saw them), for the personal
    recommender's tuning.

    :meth:`similar_items` answers from the fitted ranking, as the API does from its artifact.
    """

    def __init__(self, params: ModelParams | None = None, k: int = 20, recommendations: int = 5) -> None:
        self.params = params or ModelParams()
        self.k = k
        self.recommendations = recommendations

    def neighbours(self) -> pl.DataFrame:
        """The artifact's rows (movie_id, rank, neighbour_id, score, reason)."""
        return neighbours_frame(self.ids_, self.top_, self.scores_, self.reasons_)

    def similar_items(self, ids: Sequence[int], k: int | None = None) -> list[list[tuple[int, float]]]:
        """The ``k`` (default ``recommendations``, at most ``self.k``) films most similar to each
        TMDB id of ``ids``, best first, as (TMDB id, score); [] for an id not in the catalogue.
        The serving scorer's answer (:func:`movierec.model.scorer.neighbours_of`), which the API
        gives from the artifact of this ranking (see the module's example)."""
        count = self.recommendations if k is None else k
        row_of = {int(film): row for row, film in enumerate(self.ids_.tolist())}
        top, scores = self.top_.ravel(), self.scores_.ravel()
        return [
            [
                (int(self.ids_[row]), score)
                for row, score in neighbours_of(row_of[film], top, scores, self.k, min(count, self.k))
            ]
            if film in row_of
            else []
            for film in (int(film) for film in ids)
        ]

    def cf_params(self) -> dict[str, object]:
        """The :class:`~movierec.model.cf.ItemCF` parameters, for either engine."""
        return {
            "alpha": self.params.cf_alpha,
            "shrink": self.params.cf_shrink,
            "neighbours": self.params.pool.cf,
            "max_likes_per_user": self.params.cf_max_likes,
        }

    def fit(
        self, films: FilmTables, likes: pl.DataFrame | None, collaborative: CollaborativeStage | None = None
    ) -> NeighbourRecommender:
        """Fit every film's ``k`` best neighbours (see the class docstring): features, candidates,
        the collaborative signals and the tuned blend when there are likes, then the final
        ranking under the catalogue's targets. Each step's seconds and peak memory go to ``info_``."""
        clock = StepClock()
        n = films.movies.height
        self.ids_ = films.ids
        self.tuning_top_: np.ndarray | None = None
        self.new_films_: sp.csr_matrix | None = None
        self.tuning_new_films_: sp.csr_matrix | None = None
        self.hidden_: np.ndarray | None = None
        features = ContentFeaturizer(text_dims=self.params.text_dims, top_cast=self.params.top_cast).fit_transform(
            films
        )
        priors = {
            "popularity": popularity_prior(films.movies["vote_count"].to_numpy()),
            "quality": quality_prior(films.movies["vote_average"].to_numpy(), films.movies["vote_count"].to_numpy()),
        }
        clock.lap("features")
        base = candidate_pool(features, None, priors["popularity"], self.params.pool)
        clock.lap("candidates")
        if collaborative is None and likes is not None and likes.height > 0:
            collaborative = fit_collaborative(likes, n, self.cf_params())
            clock.lap("cf")
        votes = films.movies["vote_count"].to_numpy()
        if collaborative is not None and collaborative.training.likes_ > 0:
            ranking = self._collaborative_ranking(features, priors, base, collaborative, votes, clock)
        else:
            no_ratings = likes is None and collaborative is None
            ranking = self._content_ranking(features, priors, base, no_ratings)
            clock.lap("signals")
        trust = confidence(ranking.support, ranking.users, ranking.chosen.evidence, n)
        held = self._rank(features, votes, ranking, trust)
        clock.lap("ranking")
        self.info_ = self._record(features, ranking, held, clock)
        return self

    # -- the fit's steps ----------------------------------------------------------------------

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

    def _start(self) -> Blend:
        # A film nobody liked is ranked on content alone (its cf and likes signals are 0 anyway).
        return Blend(tail=dict(DEFAULT_WEIGHTS), head=dict(HEAD_START), evidence=self.params.evidence)

    def _content_ranking(
        self, features: ContentFeatures, priors: dict[str, np.ndarray], base: np.ndarray, no_ratings: bool
    ) -> _Ranking:
        """Without likes: the content pool and signals, the starting blend untuned."""
        return _Ranking(
            pool=base,
            signals=pair_signals(features, None, priors, base),
            chosen=self._start(),
            support=None,
            users=0,
            cf={"used": False, "reason": NO_RATINGS if no_ratings else "no training user liked a catalogue film"},
            tuning={"tuned": False},
        )

    def _collaborative_ranking(
        self,
        features: ContentFeatures,
        priors: dict[str, np.ndarray],
        base: np.ndarray,
        stage: CollaborativeStage,
        votes: np.ndarray,
        clock: StepClock,
    ) -> _Ranking:
        """With likes: the borrowed cold-start signals, one pool for the tuning and the release
        (so the content signals are computed once), the blend tuned on the validation users (when
        there are any), then the signal stack switched to every training user's likes."""
        n = features.n
        release = stage.training
        lent = self._lend(features, priors, base, stage)
        clock.lap("borrowed")
        # The tuning sees only candidates and similarities from the fit users; the final ranking
        # all training users'.
        cf = self.params.pool.cf
        tune_pool = merge_pools([base, top_k_of_csr(lent.tune_cf, cf), top_k_of_csr(lent.tune_borrowed, cf)])
        pool = merge_pools([tune_pool, top_k_of_csr(release.similarity_, cf), top_k_of_csr(lent.all_borrowed, cf)])
        tune_priors = {**priors, "likes": likes_prior(lent.tune_support, n)}
        signals = pair_signals(features, lent.tune_cf, tune_priors, pool, lent.tune_borrowed)
        clock.lap("signals")
        chosen, tuning = self._start(), dict[str, object](tuned=False)
        if stage.validation.height:
            chosen, tuning = self._tune(features, votes, signals, pool, tune_pool, stage, lent)
            clock.lap("tuning")
        signals[RANKING_SIGNALS.index("cf")] = cf_signal(release.similarity_, pool)
        signals[RANKING_SIGNALS.index("cf_content")] = cf_signal(lent.all_borrowed, pool)
        likes_all = likes_prior(release.support_, n)
        signals[RANKING_SIGNALS.index("likes")] = np.where(pool >= 0, likes_all[np.maximum(pool, 0)], 0.0)
        return _Ranking(pool, signals, chosen, release.support_, release.users_, self._cf_record(stage), tuning)

    def _cf_record(self, stage: CollaborativeStage) -> dict[str, object]:
        release = stage.training
        return {
            "used": True,
            "liked_rating": LIKED_RATING,
            "engine": stage.engine,
            "training_users": release.users_,
            "likes": release.likes_,
            "films_with_likes": int((release.support_ > 0).sum()),
            "alpha": self.params.cf_alpha,
            "shrink": self.params.cf_shrink,
            "neighbours": self.params.pool.cf,
            "max_likes_per_user": self.params.cf_max_likes,
        }

    def _lend(
        self, features: ContentFeatures, priors: dict[str, np.ndarray], base: np.ndarray, stage: CollaborativeStage
    ) -> Lent:
        """The tuning treats some liked films as new (their likes hidden from its signal), so the
        weights a new film gets are chosen on films whose audience is known; every film nobody
        liked borrows the signal of the warm films it resembles (:mod:`movierec.model.borrow`).
        Sets ``hidden_``, ``new_films_`` and ``tuning_new_films_`` (the personal lists borrow too)."""
        hidden = hidden_films(
            self.ids_, stage.fit.support_, self.params.hidden_share, self.params.hidden_min_likes, salt="tuning"
        )
        content = content_score(pair_signals(features, None, priors, base, names=CONTENT), base)
        lent = lend(base, content, stage.fit, stage.training, hidden, self.params.cf_shrink)
        self.hidden_, self.new_films_, self.tuning_new_films_ = hidden, lent.new_films, lent.tuning_new_films
        return lent

    def _tune(
        self,
        features: ContentFeatures,
        votes: np.ndarray,
        signals: np.ndarray,
        pool: np.ndarray,
        tune_pool: np.ndarray,
        stage: CollaborativeStage,
        lent: Lent,
    ) -> tuple[Blend, dict[str, object]]:
        """The blend tuned on the validation users' likes (:func:`~movierec.model.tuning.tuned_blend`)
        over the tuning's candidates, and its record; sets ``tuning_top_``."""
        fitted, users, rows = stage.fit, stage.validation["user_id"].to_numpy(), stage.validation["row"].to_numpy()
        chosen, tuning = tuned_blend(
            signals,
            np.where(in_pool(pool, tune_pool), pool, -1),
            users,
            rows,
            lent.tune_support,
            fitted.users_,
            lent.hidden,
            self._yardstick(features, votes, lent.tune_support),
            self._start(),
            self.params.targets,
        )
        tuning["fit_users"] = fitted.users_
        tuning["candidate_recall"] = candidate_recall(tune_pool, users, rows)
        # what the personal recommender's tuning scores from: neighbours without the validation
        # users' likes (ranked with the fit users' signal)
        trust = confidence(lent.tune_support, fitted.users_, chosen.evidence, features.n)
        self.tuning_top_ = rank_pool(pool, blend(signals, pool, chosen, trust), self.k)[0]
        return chosen, tuning

    def _rank(
        self, features: ContentFeatures, votes: np.ndarray, ranking: _Ranking, trust: np.ndarray
    ) -> TargetsResult:
        """The final ranking under the catalogue's targets; sets ``top_``, ``scores_``, ``blend_``
        and ``reasons_``: the signals that scored each pair, under the weights that ranked the
        film (mostly the head's where its likes are trusted, else the tail's)."""
        pool, signals = ranking.pool, ranking.signals
        yard = self._yardstick(features, votes, ranking.support)
        held, self.top_, self.scores_ = meet_targets(
            signals, pool, ranking.chosen, trust, yard, self.params.targets, keep=self.k
        )
        self.blend_ = held.blend
        by_head = trust >= 0.5
        self.reasons_ = top_reasons(signals, RANKING_SIGNALS, held.blend.tail, pool, self.top_)
        if by_head.any():
            self.reasons_[by_head] = top_reasons(signals, RANKING_SIGNALS, held.blend.head, pool, self.top_)[by_head]
        return held

    def _record(
        self, features: ContentFeatures, ranking: _Ranking, held: TargetsResult, clock: StepClock
    ) -> dict[str, object]:
        """What the manifest records of the fit."""
        pool, top, n = ranking.pool, self.top_, features.n
        return {
            "cf": ranking.cf,
            # the artifact's own catalogue metrics (no users involved)
            "coverage": round(coverage(top, self.recommendations), 4),
            "collection_recall": rounded(collection_recall(top, features.collection, self.recommendations)),
            "adjacent_recall": rounded(held.metrics["adjacent_recall"]),
            "generic_share": rounded(held.metrics["generic_share"]),
            "weights": held.blend.record(),
            "tuning": ranking.tuning,
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
            "steps": clock.steps,
            "peak_rss_mb": clock.memory,
        }
