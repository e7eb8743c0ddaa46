"""What every film is like: the film tables the model reads, its content features, and the priors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

from movierec.model.text import TextVectorizer, movie_text, truncated_svd
from movierec.model.vectors import idf_weights, membership_matrix, unit_rows
from movierec.protocol.metrics import adjacent_members


@dataclass(frozen=True)
class FilmTables:
    """The model's input: the columns of the release's film tables it reads; every film is one
    row, in ``movies`` order. (Not the API's :class:`movierec.catalog.indexes.Catalog`, which
    serves a published release.)"""

    movies: pl.DataFrame  # id, title, overview, tagline, original_language, release_year,
    #                       vote_average, vote_count, collection_id[, release_date]
    genres: pl.DataFrame  # movie_id, genre_id
    keywords: pl.DataFrame  # movie_id, keyword_id
    cast: pl.DataFrame  # movie_id, person_id, order
    crew: pl.DataFrame  # movie_id, person_id, job

    @property
    def ids(self) -> np.ndarray:
        return self.movies["id"].to_numpy()

    def row_index(self) -> pl.DataFrame:
        """(id, row): the row of every film."""
        return pl.DataFrame(
            {"id": self.movies["id"].cast(pl.Int64), "row": np.arange(self.movies.height, dtype=np.int64)}
        )


@dataclass
class ContentFeatures:
    """What every film is like, one row per film. Dense blocks have unit (or zero) rows, so their
    products are cosines; sparse blocks too; ``language`` and ``collection`` are codes (-1: none),
    compared for equality."""

    text: np.ndarray
    genres: np.ndarray
    era: np.ndarray
    keywords: sp.csr_matrix
    cast: sp.csr_matrix
    director: sp.csr_matrix
    language: np.ndarray
    collection: np.ndarray
    year: np.ndarray  # release year, -1 when unknown (the era rows depend only on it)
    adjacent: np.ndarray  # (n, 2) the previous and next member of the film's collection, -1: none
    release: np.ndarray  # release date (or year): the collections' order
    vocabulary: dict[str, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.text.shape[0]


def era_features(years: np.ndarray, centers: np.ndarray, width: float) -> np.ndarray:
    """Unit rows of Gaussian bumps over the release year: the product of two films' rows decays
    smoothly with the years between them (0 for a film without a year)."""
    known = np.isfinite(years)
    bumps = np.exp(-0.5 * ((np.where(known, years, 0.0)[:, None] - centers[None, :]) / width) ** 2)
    bumps[~known] = 0.0
    return unit_rows(bumps)


class ContentFeaturizer:
    """scikit-learn style: ``fit`` learns the vocabularies (text terms and their LSA projection,
    keywords, cast, directors, genres and languages with their IDF weights); ``transform`` maps a
    catalogue to :class:`ContentFeatures` with them.

    Text: TF-IDF of title, tagline and overview (:class:`TextVectorizer`) projected on its
    ``text_dims`` main directions (LSA), learnt on at most ``svd_rows`` films drawn at random.

    Cast keeps the ``top_cast`` first-billed actors; directors are the crew with job Director.
    """

    def __init__(
        self,
        text_dims: int = 64,
        min_df: int = 2,
        top_cast: int = 5,
        era_step: float = 5.0,
        era_width: float = 6.0,
        svd_rows: int = 20_000,
        seed: int = 0,
    ) -> None:
        self.text_dims = text_dims
        self.svd_rows = svd_rows
        self.min_df = min_df
        self.top_cast = top_cast
        self.era_step = era_step
        self.era_width = era_width
        self.seed = seed

    # -- per-block pieces ---------------------------------------------------------------------

    def _cast_pairs(self, catalogue: FilmTables) -> pl.DataFrame:
        return catalogue.cast.filter(pl.col("order") < self.top_cast).select("movie_id", code="person_id")

    @staticmethod
    def _director_pairs(catalogue: FilmTables) -> pl.DataFrame:
        return catalogue.crew.filter(pl.col("job") == "Director").select("movie_id", code="person_id")

    def _blocks(self, catalogue: FilmTables) -> dict[str, pl.DataFrame]:
        return {
            "genres": catalogue.genres.select("movie_id", code="genre_id"),
            "keywords": catalogue.keywords.select("movie_id", code="keyword_id"),
            "cast": self._cast_pairs(catalogue),
            "director": self._director_pairs(catalogue),
        }

    def fit(self, catalogue: FilmTables) -> ContentFeaturizer:
        self._fit(catalogue)
        return self

    def _fit(self, catalogue: FilmTables) -> sp.csr_matrix:
        """Learn everything; returns the catalogue's TF-IDF matrix (so fit_transform reuses it)."""
        self.vectorizer_ = TextVectorizer(min_df=self.min_df)
        tfidf = self.vectorizer_.fit_transform(movie_text(catalogue.movies))
        # LSA when there are more terms and films than dimensions; else the exact TF-IDF rows
        projection = min(tfidf.shape) > self.text_dims
        sample = tfidf
        if tfidf.shape[0] > self.svd_rows:  # the projection is learnt on a sample of the films
            rows = np.sort(np.random.default_rng(self.seed).choice(tfidf.shape[0], self.svd_rows, replace=False))
            sample = tfidf[rows]
        self.components_ = truncated_svd(sample, self.text_dims, seed=self.seed) if projection else None
        self.codes_: dict[str, np.ndarray] = {}
        self.idf_: dict[str, np.ndarray] = {}
        for name, pairs in self._blocks(catalogue).items():
            codes = np.unique(pairs["code"].drop_nulls().to_numpy())
            self.codes_[name] = codes
            matrix = self._membership(catalogue, pairs, codes)
            self.idf_[name] = idf_weights(matrix)
        languages = catalogue.movies["original_language"].drop_nulls().unique().sort()
        self.languages_ = languages.to_list()
        years = catalogue.movies["release_year"].drop_nulls().to_numpy()
        low, high = (years.min(), years.max()) if years.size else (1900, 2020)
        self.era_centers_ = np.arange(float(low) - self.era_step, float(high) + 2 * self.era_step, self.era_step)
        return tfidf

    @staticmethod
    def _membership(catalogue: FilmTables, pairs: pl.DataFrame, codes: np.ndarray) -> sp.csr_matrix:
        """Film × vocabulary matrix of (movie_id, code) pairs; unknown films and codes are left out."""
        vocabulary = pl.DataFrame(
            {"code": codes, "column": np.arange(codes.size, dtype=np.int64)},
            schema={"code": pairs.schema["code"], "column": pl.Int64},
        )
        joined = (
            pairs.drop_nulls()
            .join(catalogue.row_index(), left_on="movie_id", right_on="id")
            .join(vocabulary, on="code")
        )
        return membership_matrix(
            joined["row"].to_numpy(), joined["column"].to_numpy(), catalogue.movies.height, codes.size
        )

    def transform(self, catalogue: FilmTables) -> ContentFeatures:
        return self._transform(catalogue, None)

    def _transform(self, catalogue: FilmTables, tfidf: sp.csr_matrix | None) -> ContentFeatures:
        if tfidf is None:
            tfidf = self.vectorizer_.transform(movie_text(catalogue.movies))
        text = np.asarray(tfidf @ self.components_.T) if self.components_ is not None else tfidf.toarray()
        blocks: dict[str, sp.csr_matrix] = {}
        for name, pairs in self._blocks(catalogue).items():
            matrix = self._membership(catalogue, pairs, self.codes_[name])
            blocks[name] = sp.csr_matrix(unit_rows(matrix @ sp.diags(self.idf_[name])))
        language = (
            catalogue.movies["original_language"]
            .fill_null("")
            .replace_strict(self.languages_, list(range(len(self.languages_))), default=-1, return_dtype=pl.Int32)
            .to_numpy()
        )
        collection = catalogue.movies["collection_id"].fill_null(-1).to_numpy().astype(np.int64)
        years = catalogue.movies["release_year"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        release = self._release(catalogue.movies)
        return ContentFeatures(
            text=unit_rows(np.asarray(text, dtype=np.float32)),
            genres=blocks["genres"].toarray(),
            era=era_features(years, self.era_centers_, self.era_width),
            keywords=blocks["keywords"],
            cast=blocks["cast"],
            director=blocks["director"],
            language=language.astype(np.int32),
            collection=collection,
            year=np.where(np.isfinite(years), years, -1).astype(np.int64),
            adjacent=np.stack(adjacent_members(collection, release, catalogue.ids), axis=1),
            release=release,
            vocabulary={
                "text_terms": self.vectorizer_.vocabulary_.height,
                "text_dims": int(text.shape[1]),
                "genres": int(self.codes_["genres"].size),
                "keywords": int(self.codes_["keywords"].size),
                "cast": int(self.codes_["cast"].size),
                "director": int(self.codes_["director"].size),
                "languages": len(self.languages_),
                "collections": int(np.unique(collection[collection >= 0]).size),
                "era_bins": int(self.era_centers_.size),
            },
        )

    @staticmethod
    def _release(movies: pl.DataFrame) -> np.ndarray:
        """Release dates (the year without the ``release_date`` column): the collection order."""
        if "release_date" in movies.columns:
            return movies["release_date"].cast(pl.Date).to_numpy()
        return movies["release_year"].cast(pl.Float64).fill_null(np.nan).to_numpy()

    def fit_transform(self, catalogue: FilmTables) -> ContentFeatures:
        return self._transform(catalogue, self._fit(catalogue))


def popularity_prior(vote_count: np.ndarray) -> np.ndarray:
    """log(1 + votes) scaled to [0, 1]: how many people rated the film on TMDB."""
    logs = np.log1p(np.nan_to_num(vote_count.astype(np.float64), nan=0.0).clip(min=0))
    top = logs.max() if logs.size else 0.0
    return (logs / top if top > 0 else logs).astype(np.float32)


def quality_prior(vote_average: np.ndarray, vote_count: np.ndarray, quantile: float = 0.8) -> np.ndarray:
    """IMDB's weighted rating v/(v+m)·R + m/(v+m)·C (m: the ``quantile`` of vote counts, C: the
    mean rating), scaled to [0, 1] by dividing by 10."""
    votes = np.nan_to_num(vote_count.astype(np.float64), nan=0.0).clip(min=0)
    rating = np.nan_to_num(vote_average.astype(np.float64), nan=0.0)
    rated = votes > 0
    mean = float(rating[rated].mean()) if rated.any() else 0.0
    m = max(float(np.quantile(votes, quantile)) if votes.size else 0.0, 1.0)
    return ((votes / (votes + m) * rating + m / (votes + m) * mean) / 10.0).astype(np.float32)
