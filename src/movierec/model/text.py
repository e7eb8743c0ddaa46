"""Text features: TF-IDF with Polars' tokenizer and its LSA projection."""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from movierec.model.vectors import unit_rows

STOP_WORDS = frozenset(
    """
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each either else ever every few
for from further had has have having he her here hers herself him himself his how however i if in
into is it its itself just may me might more most much must my myself neither no nor not now of off
on once one only or other our ours ourselves out over own same shall she should so some such than
that the their theirs them themselves then there these they this those through to too under until
up upon us very was we were what when where whether which while who whom whose why will with within
without would yet you your yours yourself yourselves
""".split()
)

TOKEN_PATTERN = r"\b\w\w+\b"  # words of two or more letters or digits, as scikit-learn's default


def count_terms(texts: pl.Series) -> pl.DataFrame:
    """(doc, term, count): how often each lower-cased token occurs in each document."""
    return (
        pl.DataFrame(
            {
                "doc": np.arange(texts.len(), dtype=np.int64),
                "term": texts.fill_null("").str.to_lowercase().str.extract_all(TOKEN_PATTERN),
            }
        )
        .explode("term")
        .drop_nulls("term")
        .filter(~pl.col("term").is_in(list(STOP_WORDS)))
        .group_by("doc", "term")
        .len(name="count")
    )


class TextVectorizer:
    """TF-IDF rows of documents (scikit-learn style), computed with Polars' tokenizer.

    Vocabulary: terms (see :data:`TOKEN_PATTERN`, :data:`STOP_WORDS`) in at least ``min_df``
    documents and at most ``max_df`` of them. Weight of a term in a document:
    (1 + log count) · (log((1 + n) / (1 + df)) + 1); rows have unit norm.
    """

    def __init__(self, min_df: int = 2, max_df: float = 0.5) -> None:
        self.min_df = min_df
        self.max_df = max_df

    def fit(self, texts: pl.Series) -> TextVectorizer:
        self._fit(count_terms(texts), texts.len())
        return self

    def _fit(self, counts: pl.DataFrame, n: int) -> None:
        frequency = counts.group_by("term").len(name="df")
        kept = frequency.filter(pl.col("df").is_between(self.min_df, max(self.max_df * n, self.min_df))).sort("term")
        self.vocabulary_ = kept.select("term", column=pl.int_range(pl.len(), dtype=pl.Int64))
        self.idf_ = (np.log((1 + n) / (1 + kept["df"].to_numpy())) + 1).astype(np.float32)

    def _matrix(self, counts: pl.DataFrame, n: int) -> sp.csr_matrix:
        joined = counts.join(self.vocabulary_, on="term", how="inner")
        columns = joined["column"].to_numpy()
        weights = (1 + np.log(joined["count"].to_numpy().astype(np.float32))) * self.idf_[columns]
        matrix = sp.csr_matrix(
            (weights, (joined["doc"].to_numpy(), columns)), shape=(n, self.vocabulary_.height), dtype=np.float32
        )
        return sp.csr_matrix(unit_rows(matrix))

    def transform(self, texts: pl.Series) -> sp.csr_matrix:
        return self._matrix(count_terms(texts), texts.len())

    def fit_transform(self, texts: pl.Series) -> sp.csr_matrix:
        counts = count_terms(texts)
        self._fit(counts, texts.len())
        return self._matrix(counts, texts.len())


def truncated_svd(
    matrix: sp.csr_matrix, dims: int, iterations: int = 3, oversample: int = 10, seed: int = 0
) -> np.ndarray:
    """The top ``dims`` right singular vectors (dims × columns) of a sparse matrix, by the
    randomized range finder of Halko, Martinsson and Tropp with ``iterations`` power iterations
    (what scikit-learn's TruncatedSVD does); deterministic for a seed."""
    rng = np.random.default_rng(seed)
    width = min(dims + oversample, min(matrix.shape))
    basis = np.asarray(matrix @ rng.standard_normal((matrix.shape[1], width)).astype(np.float32))
    for _ in range(iterations):
        basis, _ = np.linalg.qr(basis)
        basis = np.asarray(matrix @ np.asarray(matrix.T @ basis))
    basis, _ = np.linalg.qr(basis)
    small = np.asarray(matrix.T @ basis).T  # width × columns
    _, _, right = np.linalg.svd(small, full_matrices=False)
    return right[:dims].astype(np.float32)


def movie_text(movies: pl.DataFrame) -> pl.Series:
    """Title, tagline and overview of every film as one document."""
    columns = [pl.col(c).fill_null("") for c in ("title", "tagline", "overview") if c in movies.columns]
    return movies.select(pl.concat_str(columns, separator=" ")).to_series()
