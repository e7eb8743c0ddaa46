"""The recommender: what every film is like, who liked it, and the K films most like it.

Two stages, as production recommenders do, so that the whole catalogue fits in time and memory:

1. Candidates. For every film, the union of
   * its nearest films by what it is about (LSA of title, tagline and overview, plus genres):
     dense products of low-dimensional rows within k-means cells of about 400 films, each film
     searching the 8 cells nearest its own (exact, brute force, below 3,600 films);
   * its nearest films by shared specifics (keywords, top-billed cast, director, collection):
     a blockwise sparse product, so only films that share something are ever compared;
   * its nearest films by who liked it (item–item collaborative filtering, training users only);
   * the most popular films of the catalogue.
2. Ranking. Every candidate pair gets one exact score per signal (:data:`SIGNALS`) and the
   blended score ``Σ weight × signal`` orders them; the weights are tuned on validation users
   (see :func:`tune_weights`).

No step ever holds an N×N matrix or computes all N² products: each film keeps at most a few
hundred candidates, and the work grows about linearly with the catalogue.

The seed's method (TF-IDF over title, genres and overview; cosine nearest neighbours) is kept in
:func:`tfidf_features` and :func:`top_k_neighbours` as the evaluation's yardstick.

Example:
    >>> import polars as pl
    >>> movies = pl.DataFrame({"id": [1, 2, 3], "title": ["Toy Story", "Toy Story 2", "Heat"],
    ...                        "overview": ["toys", "toys again", "a heist"]})
    >>> genres = pl.DataFrame({"movie_id": [1, 2, 3], "genre": ["Animation", "Animation", "Crime"]})
    >>> top_k_neighbours(tfidf_features(movies, genres), movies["id"], k=1)["neighbour_id"].to_list()
    [2, 1, 1]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

NEIGHBOURS_SCHEMA = {"movie_id": pl.Int64, "rank": pl.Int32, "neighbour_id": pl.Int64, "score": pl.Float32}

#: The signals the ranking blends, in this order everywhere (weights, signal stacks, manifest).
SIGNALS = (
    "text", "genres", "keywords", "cast", "director", "collection", "language", "era",
    "cf", "popularity", "quality",
)

#: The tuning's starting point, and the weights used when RAW has no ratings (cf then has none):
#: the content weights the tuning chose on the real sample's validation users (userId % 5 == 1)
#: with the collaborative weight held at 0. Never chosen on the evaluation users.
DEFAULT_WEIGHTS: dict[str, float] = {
    "text": 0.0, "genres": 0.0, "keywords": 0.25, "cast": 0.0, "director": 0.3, "collection": 2.0,
    "language": 0.1, "era": 0.1, "cf": 1.0, "popularity": 0.3, "quality": 0.1,
}


# --------------------------------------------------------------------------------------------
# The seed's method (the yardstick)
# --------------------------------------------------------------------------------------------


def tfidf_features(movies: pl.DataFrame, genres: pl.DataFrame) -> sp.csr_matrix:
    """Rows of unit-norm TF-IDF features over title, genre names and overview, in movies order."""
    genre_text = genres.group_by("movie_id").agg(pl.col("genre").str.join(" ").alias("genre_text"))
    docs = (
        movies.select("id", "title", "overview")
        .join(genre_text, left_on="id", right_on="movie_id", how="left", maintain_order="left")
        .select(pl.concat_str(
            [pl.col("title").fill_null(""), pl.col("genre_text").fill_null(""), pl.col("overview").fill_null("")],
            separator=" ",
        ))
        .to_series()
        .to_list()
    )
    # scikit-learn only here: importing it costs seconds, and only the evaluation needs the seed
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", min_df=1, dtype=np.float32)
    return sp.csr_matrix(unit_rows(vectorizer.fit_transform(docs)))


def top_k_neighbours(
    features: sp.csr_matrix | np.ndarray, ids: pl.Series, k: int, block_rows: int = 2048,
    prior: np.ndarray | None = None,
) -> pl.DataFrame:
    """The k most similar other films of every film, best first, as (movie_id, rank, neighbour_id,
    score). ``features`` rows must be unit-norm so that the product is the cosine similarity;
    ``prior`` (one value per film) is added to every candidate's score when given."""
    top, scores = top_k_similar(features, k, block_rows, prior)
    return neighbours_frame(ids.to_numpy(), top, scores)


# --------------------------------------------------------------------------------------------
# Top-k selection
# --------------------------------------------------------------------------------------------


def select_top_k(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns and values of the k largest finite values of every row, best first.

    Ties go to the lower column, so results are deterministic. Rows with fewer than k finite
    values are padded with column -1 and value -inf. ``np.partition`` finds each row's k-th value
    (several times faster than ``argpartition`` on wide rows); the few values at or above it are
    then sorted.
    """
    n_rows, width = block.shape
    columns = np.full((n_rows, k), -1, dtype=np.int64)
    values = np.full((n_rows, k), -np.inf, dtype=np.float32)
    if k == 0 or width == 0 or n_rows == 0:
        return columns, values
    kth = min(k, width)
    threshold = np.partition(block, width - kth, axis=1)[:, width - kth]
    flat = np.flatnonzero(block >= threshold[:, None])
    vals = block.ravel()[flat]
    finite = vals > -np.inf  # a row with fewer than k finite values has threshold -inf
    flat, vals = flat[finite], vals[finite]
    rows, cols = np.divmod(flat, width)
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, rows)
    keep = rank < k
    columns[rows[keep], rank[keep]] = cols[keep]
    values[rows[keep], rank[keep]] = vals[keep]
    return columns, values


def top_k_similar(
    features: sp.csr_matrix | np.ndarray, k: int, block_rows: int = 2048,
    prior: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """For every row, the k other rows with the largest ``features @ features.T`` (+ ``prior``),
    as (rows, scores) arrays of shape (n, k), best first, padded with -1 / -inf.

    Computed one block of rows at a time: the product of a block (a sparse product when
    ``features`` is sparse) is at most ``block_rows × n``; the film itself is never a neighbour.
    """
    n = features.shape[0]
    k = min(k, max(n - 1, 0))
    top = np.full((n, k), -1, dtype=np.int64)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    if k == 0:
        return top, scores
    dense = not sp.issparse(features)
    right = np.ascontiguousarray(features.T) if dense else features.T.tocsr()
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        product = features[start:stop] @ right
        block = np.asarray(product if dense else product.toarray(), dtype=np.float32)
        if prior is not None:
            block += prior[None, :].astype(np.float32)
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # never the film itself
        top[start:stop], scores[start:stop] = select_top_k(block, k)
    return top, scores


def spherical_kmeans(
    features: np.ndarray, cells: int, iterations: int = 8, sample: int = 20_000, seed: int = 0,
    block_rows: int = 8192,
) -> tuple[np.ndarray, np.ndarray]:
    """(label per row, unit centre per cell) of k-means on the cosine. The centres start at
    distinct random rows and are refined on at most ``sample`` rows (seeded): each row joins the
    centre with the largest product, each centre becomes its members' normalised mean (an empty
    cell keeps its centre). Then every row joins its nearest centre, once."""
    rng = np.random.default_rng(seed)
    n = features.shape[0]
    fitting = features[np.sort(rng.choice(n, size=sample, replace=False))] if n > sample else features
    centres = fitting[rng.choice(fitting.shape[0], size=cells, replace=False)].astype(np.float32)
    for _ in range(iterations):
        labels = nearest_centre(fitting, centres, block_rows)
        assign = sp.csr_matrix((np.ones(labels.size, dtype=np.float32), (labels, np.arange(labels.size))),
                               shape=(cells, labels.size))
        sums = np.asarray(assign @ fitting)
        filled = np.linalg.norm(sums, axis=1) > 0
        centres[filled] = unit_rows(sums[filled])
    return nearest_centre(features, centres, block_rows), centres


def nearest_centre(features: np.ndarray, centres: np.ndarray, block_rows: int = 8192) -> np.ndarray:
    labels = np.empty(features.shape[0], dtype=np.int64)
    for start in range(0, features.shape[0], block_rows):
        labels[start:start + block_rows] = np.argmax(features[start:start + block_rows] @ centres.T, axis=1)
    return labels


def top_k_clustered(
    features: np.ndarray, k: int, cluster_size: int = 400, probe: int = 8, block_rows: int = 1024,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate :func:`top_k_similar` for dense unit rows in about n · probe · cluster_size
    products instead of n²: k-means cells of about ``cluster_size`` films, and every film searched
    only among the members of the ``probe`` cells whose centres are nearest its own cell's (at
    most 2 · cluster_size of each other cell, evenly spaced: a cell holding hundreds of identical
    films, such as those with no overview and one genre, would otherwise cost its size squared).
    Exact (brute force) when the catalogue has at most ``probe`` cells' worth of films."""
    n = features.shape[0]
    cells = n // cluster_size
    if cells <= probe:
        return top_k_similar(features, k, block_rows)
    labels, centres = spherical_kmeans(features, cells, seed=seed)
    nearest, _ = select_top_k(centres @ centres.T, probe)  # includes the cell itself
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(cells + 1))
    members = [order[bounds[c]:bounds[c + 1]] for c in range(cells)]
    k = min(k, n - 1)
    top = np.full((n, k), -1, dtype=np.int64)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    widest = 2 * cluster_size  # films taken from one probed cell, evenly spaced when it has more
    sampled = [m if m.size <= widest else m[np.linspace(0, m.size - 1, widest).astype(np.int64)] for m in members]
    for cell in range(cells):
        if members[cell].size == 0:
            continue
        candidates = np.unique(np.concatenate([members[cell]] + [sampled[c] for c in nearest[cell] if c >= 0]))
        right = np.ascontiguousarray(features[candidates].T)
        for start in range(0, members[cell].size, block_rows):
            rows = members[cell][start:start + block_rows]
            block = features[rows] @ right
            itself = np.searchsorted(candidates, rows)
            block[np.arange(rows.size), itself] = -np.inf  # every cell probes itself
            columns, values = select_top_k(block, k)
            top[rows] = np.where(columns >= 0, candidates[np.maximum(columns, 0)], -1)
            scores[rows] = values
    return top, scores


def top_k_sparse(features: sp.csr_matrix, k: int, block_rows: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`top_k_similar` for sparse rows, but only among the pairs whose product is
    non-zero: the block's product stays sparse, so the cost follows the shared features, not n²."""
    n = features.shape[0]
    top = np.full((n, k), -1, dtype=np.int64)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    if k == 0 or n == 0:
        return top, scores
    right = features.T.tocsr()
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        product = (features[start:stop] @ right).tocoo()
        rows, cols, vals = product.row.astype(np.int64), product.col.astype(np.int64), product.data
        keep = (cols != rows + start) & (vals > 0)
        top[start:stop], scores[start:stop] = top_k_of_pairs(
            rows[keep], cols[keep], vals[keep].astype(np.float32), stop - start, k)
    return top, scores


def top_k_of_pairs(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n_rows: int, k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The k best (col, value) of every row from a list of (row, col, value), best first, ties to
    the lower col; padded with -1 / -inf."""
    top = np.full((n_rows, k), -1, dtype=np.int64)
    scores = np.full((n_rows, k), -np.inf, dtype=np.float32)
    if rows.size == 0 or k == 0:
        return top, scores
    keep = at_least_kth(rows, values, n_rows, k)
    rows, cols, values = rows[keep], cols[keep], values[keep]
    order = pair_order(rows, cols, values)
    rows, cols, values = rows[order], cols[order], values[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, rows)
    keep = rank < k
    top[rows[keep], rank[keep]] = cols[keep]
    scores[rows[keep], rank[keep]] = values[keep]
    return top, scores


def at_least_kth(rows: np.ndarray, values: np.ndarray, n_rows: int, k: int, bins: int = 256) -> np.ndarray:
    """Mask of the (row, value) pairs that may be among their row's k largest: those whose value
    falls in or above the histogram bin holding the row's k-th largest value. Exact (it never
    drops a top-k pair) and linear, so only a few pairs per row are left to sort."""
    if values.size == 0:
        return np.ones(0, dtype=bool)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.ones(values.size, dtype=bool)
    scale = (bins - 1) / (high - low)
    binned = np.minimum(((values.astype(np.float64) - low) * scale).astype(np.int64), bins - 1)
    counts = np.bincount(rows * bins + binned, minlength=n_rows * bins).reshape(n_rows, bins)
    at_or_above = np.cumsum(counts[:, ::-1], axis=1)[:, ::-1]  # values in bin j or higher
    enough = at_or_above >= k
    # the highest bin j with at least k values at or above it holds the k-th largest value
    threshold = np.where(enough.any(axis=1), bins - 1 - np.argmax(enough[:, ::-1], axis=1), 0)
    return binned >= threshold[rows]


def pair_order(rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The order of (row, col, value) triples by row, then value descending, then col.

    One stable sort by (row, −value) after one by col: for the millions of pairs of a sparse
    product this is about three times faster than ``np.lexsort`` on the three keys.
    """
    by_col = np.argsort(cols, kind="stable")
    values = values[by_col].astype(np.float64)
    span = float(values.max() - values.min()) if values.size else 0.0
    # rows apart by more than the span of the values, so the key sorts by row first
    key = rows[by_col].astype(np.float64) * (span + 1.0) + (values.max() - values if values.size else 0.0)
    return by_col[np.argsort(key, kind="stable")]


def neighbours_frame(ids: np.ndarray, top: np.ndarray, scores: np.ndarray) -> pl.DataFrame:
    """The artifact's rows from (n, k) arrays of neighbour rows and scores (-1 = none)."""
    n, k = top.shape
    valid = top >= 0
    rank = np.broadcast_to(np.arange(1, k + 1, dtype=np.int32), (n, k))
    return pl.DataFrame(
        {
            "movie_id": np.broadcast_to(ids[:, None], (n, k))[valid],
            "rank": rank[valid],
            "neighbour_id": ids[np.where(valid, top, 0)][valid],
            "score": scores[valid].astype(np.float32),
        },
        schema=NEIGHBOURS_SCHEMA,
    )


# --------------------------------------------------------------------------------------------
# Content features
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """The tables the model reads; every film is one row, in ``movies`` order."""

    movies: pl.DataFrame  # id, title, overview, tagline, original_language, release_year,
    #                       vote_average, vote_count, collection_id
    genres: pl.DataFrame  # movie_id, genre_id
    keywords: pl.DataFrame  # movie_id, keyword_id
    cast: pl.DataFrame  # movie_id, person_id, order
    crew: pl.DataFrame  # movie_id, person_id, job

    @property
    def ids(self) -> np.ndarray:
        return self.movies["id"].to_numpy()

    def row_index(self) -> pl.DataFrame:
        """(id, row): the row of every film."""
        return pl.DataFrame({"id": self.movies["id"].cast(pl.Int64),
                             "row": np.arange(self.movies.height, dtype=np.int64)})


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
    vocabulary: dict[str, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.text.shape[0]


def unit_rows(matrix: np.ndarray | sp.spmatrix) -> np.ndarray | sp.csr_matrix:
    """Every non-zero row scaled to unit L2 norm, as float32 (zero rows stay zero)."""
    if sp.issparse(matrix):
        matrix = sp.csr_matrix(matrix, dtype=np.float32)
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1), dtype=np.float64).ravel())
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return sp.csr_matrix(sp.diags(scale.astype(np.float32)) @ matrix)
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


#: English function words left out of the text features (pronouns, articles, auxiliaries,
#: prepositions, conjunctions); terms in more than half the films are left out as well.
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each either else ever every few
for from further had has have having he her here hers herself him himself his how however i if in
into is it its itself just may me might more most much must my myself neither no nor not now of off
on once one only or other our ours ourselves out over own same shall she should so some such than
that the their theirs them themselves then there these they this those through to too under until
up upon us very was we were what when where whether which while who whom whose why will with within
without would yet you your yours yourself yourselves
""".split())

TOKEN_PATTERN = r"\b\w\w+\b"  # words of two or more letters or digits, as scikit-learn's default


def count_terms(texts: pl.Series) -> pl.DataFrame:
    """(doc, term, count): how often each lower-cased token occurs in each document."""
    return (
        pl.DataFrame({"doc": np.arange(texts.len(), dtype=np.int64),
                      "term": texts.fill_null("").str.to_lowercase().str.extract_all(TOKEN_PATTERN)})
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
        matrix = sp.csr_matrix((weights, (joined["doc"].to_numpy(), columns)),
                               shape=(n, self.vocabulary_.height), dtype=np.float32)
        return sp.csr_matrix(unit_rows(matrix))

    def transform(self, texts: pl.Series) -> sp.csr_matrix:
        return self._matrix(count_terms(texts), texts.len())

    def fit_transform(self, texts: pl.Series) -> sp.csr_matrix:
        counts = count_terms(texts)
        self._fit(counts, texts.len())
        return self._matrix(counts, texts.len())


def truncated_svd(matrix: sp.csr_matrix, dims: int, iterations: int = 3, oversample: int = 10,
                  seed: int = 0) -> np.ndarray:
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


def idf_weights(matrix: sp.csr_matrix) -> np.ndarray:
    """Smoothed inverse document frequency of every column of a film × feature matrix."""
    n = matrix.shape[0]
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    return (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)


def membership_matrix(rows: np.ndarray, codes: np.ndarray, n_rows: int, n_codes: int) -> sp.csr_matrix:
    """Binary film × code matrix from (row, code) pairs; repeated pairs count once."""
    matrix = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, codes)), shape=(n_rows, n_codes), dtype=np.float32)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


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

    def __init__(self, text_dims: int = 64, min_df: int = 2, top_cast: int = 5,
                 era_step: float = 5.0, era_width: float = 6.0, svd_rows: int = 20_000, seed: int = 0) -> None:
        self.text_dims = text_dims
        self.svd_rows = svd_rows
        self.min_df = min_df
        self.top_cast = top_cast
        self.era_step = era_step
        self.era_width = era_width
        self.seed = seed

    # -- per-block pieces ---------------------------------------------------------------------

    def _cast_pairs(self, catalogue: Catalogue) -> pl.DataFrame:
        return catalogue.cast.filter(pl.col("order") < self.top_cast).select("movie_id", code="person_id")

    @staticmethod
    def _director_pairs(catalogue: Catalogue) -> pl.DataFrame:
        return catalogue.crew.filter(pl.col("job") == "Director").select("movie_id", code="person_id")

    def _blocks(self, catalogue: Catalogue) -> dict[str, pl.DataFrame]:
        return {
            "genres": catalogue.genres.select("movie_id", code="genre_id"),
            "keywords": catalogue.keywords.select("movie_id", code="keyword_id"),
            "cast": self._cast_pairs(catalogue),
            "director": self._director_pairs(catalogue),
        }

    def fit(self, catalogue: Catalogue) -> ContentFeaturizer:
        self._fit(catalogue)
        return self

    def _fit(self, catalogue: Catalogue) -> sp.csr_matrix:
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
        years = catalogue.movies["release_year"].drop_nulls()
        low, high = (years.min(), years.max()) if years.len() else (1900, 2020)
        self.era_centers_ = np.arange(float(low) - self.era_step, float(high) + 2 * self.era_step, self.era_step)
        return tfidf

    @staticmethod
    def _membership(catalogue: Catalogue, pairs: pl.DataFrame, codes: np.ndarray) -> sp.csr_matrix:
        """Film × vocabulary matrix of (movie_id, code) pairs; unknown films and codes are left out."""
        vocabulary = pl.DataFrame({"code": codes, "column": np.arange(codes.size, dtype=np.int64)},
                                  schema={"code": pairs.schema["code"], "column": pl.Int64})
        joined = (pairs.drop_nulls()
                  .join(catalogue.row_index(), left_on="movie_id", right_on="id")
                  .join(vocabulary, on="code"))
        return membership_matrix(joined["row"].to_numpy(), joined["column"].to_numpy(),
                                 catalogue.movies.height, codes.size)

    def transform(self, catalogue: Catalogue) -> ContentFeatures:
        return self._transform(catalogue, None)

    def _transform(self, catalogue: Catalogue, tfidf: sp.csr_matrix | None) -> ContentFeatures:
        if tfidf is None:
            tfidf = self.vectorizer_.transform(movie_text(catalogue.movies))
        text = np.asarray(tfidf @ self.components_.T) if self.components_ is not None else tfidf.toarray()
        blocks: dict[str, sp.csr_matrix] = {}
        for name, pairs in self._blocks(catalogue).items():
            matrix = self._membership(catalogue, pairs, self.codes_[name])
            blocks[name] = sp.csr_matrix(unit_rows(matrix @ sp.diags(self.idf_[name])))
        language = (catalogue.movies["original_language"].fill_null("")
                    .replace_strict(self.languages_, list(range(len(self.languages_))), default=-1,
                                    return_dtype=pl.Int32)
                    .to_numpy())
        collection = catalogue.movies["collection_id"].fill_null(-1).to_numpy().astype(np.int64)
        years = catalogue.movies["release_year"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        return ContentFeatures(
            text=unit_rows(np.asarray(text, dtype=np.float32)),
            genres=blocks["genres"].toarray(),
            era=era_features(years, self.era_centers_, self.era_width),
            keywords=blocks["keywords"], cast=blocks["cast"], director=blocks["director"],
            language=language.astype(np.int32), collection=collection,
            year=np.where(np.isfinite(years), years, -1).astype(np.int64),
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

    def fit_transform(self, catalogue: Catalogue) -> ContentFeatures:
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


# --------------------------------------------------------------------------------------------
# Collaborative filtering
# --------------------------------------------------------------------------------------------


class ItemCF:
    """Item–item collaborative filtering on likes (scikit-learn style).

    ``fit(users, items, n_items)`` takes one (user, film row) pair per like; the similarity of
    films i and j is the asymmetric cosine ``co(i, j) / ((n_i + shrink)^alpha · (n_j + shrink)^(1 − alpha))``
    where co counts the users who liked both and n_i the users who liked i. alpha = 1 is the
    conditional probability P(like j | like i), which favours popular films; alpha = 0.5 the
    cosine. Each film keeps its ``neighbours`` most similar films (``similarity_``, sparse).

    Co-like counts come from a blockwise sparse product of the like matrix, whose cost is the
    sum over users of (likes per user)²; users keep at most ``max_likes_per_user`` likes (the
    first in catalogue order) so that the heavy tail of a large ratings file stays bounded.
    """

    def __init__(self, alpha: float = 1.0, shrink: float = 10.0, neighbours: int = 30,
                 max_likes_per_user: int = 1000, block_entries: int = 1 << 23) -> None:
        self.alpha = alpha
        self.shrink = shrink
        self.neighbours = neighbours
        self.max_likes_per_user = max_likes_per_user
        self.block_entries = block_entries  # films per block × catalogue size, at most

    def fit(self, users: np.ndarray, items: np.ndarray, n_items: int) -> ItemCF:
        user_codes, user_index = np.unique(users, return_inverse=True)
        likes = membership_matrix(user_index, items.astype(np.int64), user_codes.size, n_items)
        likes = cap_row_nnz(likes, self.max_likes_per_user)
        support = np.bincount(likes.indices, minlength=n_items).astype(np.float32)
        by_item = likes.T.tocsr()
        norm = np.where(support > 0, support + self.shrink, 1.0)  # films nobody liked have no pairs
        left, right = norm ** -self.alpha, norm ** (self.alpha - 1)
        k = min(self.neighbours, max(n_items - 1, 0))
        top = np.full((n_items, k), -1, dtype=np.int64)
        scores = np.full((n_items, k), -np.inf, dtype=np.float32)
        rated = np.flatnonzero(support > 0)
        # a block's co-like counts can be dense (popular films share users with almost every film)
        step = max(1, self.block_entries // max(n_items, 1))
        for start in range(0, rated.size, step):
            block_rows = rated[start:start + step]
            co = (by_item[block_rows] @ likes).tocoo()
            rows, cols = co.row.astype(np.int64), co.col.astype(np.int64)
            keep = cols != block_rows[rows]
            rows, cols = rows[keep], cols[keep]
            values = (co.data[keep] * left[block_rows[rows]] * right[cols]).astype(np.float32)
            top[block_rows], scores[block_rows] = top_k_of_pairs(rows, cols, values, block_rows.size, k)
        self.support_ = support
        self.users_ = int(user_codes.size)
        self.likes_ = int(likes.nnz)
        self.similarity_ = padded_to_csr(top, scores, n_items)
        return self


def cap_row_nnz(matrix: sp.csr_matrix, cap: int) -> sp.csr_matrix:
    """Keep at most the first ``cap`` stored entries of every row."""
    counts = np.diff(matrix.indptr)
    if counts.size == 0 or counts.max() <= cap:
        return matrix
    position = np.arange(matrix.nnz) - np.repeat(matrix.indptr[:-1], counts)
    keep = position < cap
    rows = np.repeat(np.arange(matrix.shape[0]), counts)[keep]
    return sp.csr_matrix((matrix.data[keep], (rows, matrix.indices[keep])), shape=matrix.shape)


def padded_to_csr(top: np.ndarray, scores: np.ndarray, n_cols: int) -> sp.csr_matrix:
    """An (n, k) padded neighbour list as a sparse n × n_cols matrix (sorted indices)."""
    valid = top >= 0
    rows = np.broadcast_to(np.arange(top.shape[0])[:, None], top.shape)[valid]
    matrix = sp.csr_matrix((scores[valid], (rows, top[valid])), shape=(top.shape[0], n_cols), dtype=np.float32)
    matrix.sort_indices()
    return matrix


def lookup_pairs(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``matrix[rows[i], cols[i]]`` for every i (0 where nothing is stored), vectorized: the stored
    entries' keys row·n + col are sorted in a CSR with sorted indices, so a binary search finds them."""
    n_cols = matrix.shape[1]
    out = np.zeros(rows.size, dtype=np.float32)
    if matrix.nnz == 0:
        return out
    stored_rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    keys = stored_rows * n_cols + matrix.indices
    wanted = rows.astype(np.int64) * n_cols + cols
    position = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    hit = keys[position] == wanted
    out[hit] = matrix.data[position[hit]]
    return out


# --------------------------------------------------------------------------------------------
# Candidates and signals
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolSizes:
    """Candidates per film from each source."""

    content: int = 30  # by text + genres (dense)
    specifics: int = 30  # by keywords, cast, director, collection (sparse)
    cf: int = 30  # by collaborative filtering
    popular: int = 20  # the most popular films


def content_about(features: ContentFeatures, text_weight: float = 0.5) -> np.ndarray:
    """Dense rows whose products are ``text_weight·text + (1 − text_weight)·genres`` cosines."""
    return np.hstack([np.sqrt(text_weight) * features.text,
                      np.sqrt(1 - text_weight) * features.genres]).astype(np.float32)


def content_specifics(features: ContentFeatures, collection_weight: float = 2.0, max_films: int = 200) -> sp.csr_matrix:
    """Sparse rows whose products sum the keyword, cast and director cosines and
    ``collection_weight`` for the same collection. A keyword, actor or director of more than
    ``max_films`` films is too common to nominate candidates and is left out here (the ranking
    still counts it): this bounds the sparse product's work by max_films × the stored entries."""
    collection = features.collection
    members = np.flatnonzero(collection >= 0)
    codes, position = np.unique(collection[members], return_inverse=True)
    one_hot = membership_matrix(members, position, features.n, codes.size) * np.float32(np.sqrt(collection_weight))
    shared = sp.hstack([features.keywords, features.cast, features.director], format="csr", dtype=np.float32)
    common = np.bincount(shared.indices, minlength=shared.shape[1]) > max_films
    if common.any():
        shared = sp.csr_matrix(shared @ sp.diags((~common).astype(np.float32)))
        shared.eliminate_zeros()
    return sp.hstack([shared, one_hot], format="csr", dtype=np.float32)


def merge_pools(pools: Sequence[np.ndarray]) -> np.ndarray:
    """Row-wise union of candidate lists (each (n, k), -1 = none), without the film itself and
    without repeats: (n, width) with every row's candidates in increasing order, then -1s."""
    merged = np.hstack([p.astype(np.int64) for p in pools])
    n = merged.shape[0]
    missing = n  # sorts after every real row
    merged = np.where((merged < 0) | (merged == np.arange(n)[:, None]), missing, merged)
    merged.sort(axis=1)
    merged[:, 1:][merged[:, 1:] == merged[:, :-1]] = missing
    merged.sort(axis=1)
    width = int((merged < missing).sum(axis=1).max()) if n else 0
    merged = np.ascontiguousarray(merged[:, :width])
    merged[merged == missing] = -1
    return merged


def candidate_pool(
    features: ContentFeatures, cf: sp.csr_matrix | None, popularity: np.ndarray,
    sizes: PoolSizes = PoolSizes(), block_rows: int = 1024,
) -> np.ndarray:
    """Candidate rows of every film (n, width), -1 padded: see the module docstring."""
    n = features.n
    pools = [
        top_k_clustered(content_about(features), sizes.content, block_rows=block_rows)[0],
        top_k_sparse(content_specifics(features), sizes.specifics)[0],
    ]
    if cf is not None and sizes.cf:
        pools.append(top_k_of_csr(cf, sizes.cf))
    popular = np.argsort(-popularity, kind="stable")[: sizes.popular]
    pools.append(np.broadcast_to(popular, (n, popular.size)))
    return merge_pools(pools)


def top_k_of_csr(matrix: sp.csr_matrix, k: int) -> np.ndarray:
    """The k largest stored entries of every row of a sparse matrix, as padded columns."""
    coo = matrix.tocoo()
    return top_k_of_pairs(coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data, matrix.shape[0], k)[0]


def pair_dot_dense(matrix: np.ndarray, pool: np.ndarray, chunk_rows: int = 2048) -> np.ndarray:
    """(n, width) products of every film's row with its candidates' rows (0 for padding)."""
    out = np.zeros(pool.shape, dtype=np.float32)
    if matrix.shape[1] == 0:
        return out
    safe = np.maximum(pool, 0)
    for start in range(0, pool.shape[0], chunk_rows):
        stop = start + chunk_rows
        out[start:stop] = np.einsum("rd,rwd->rw", matrix[start:stop], matrix[safe[start:stop]])
    return np.where(pool >= 0, out, 0.0).astype(np.float32)


def pair_dot_sparse(matrix: sp.csr_matrix, pool: np.ndarray, chunk_pairs: int = 1 << 19) -> np.ndarray:
    """Like :func:`pair_dot_dense` for sparse rows."""
    n, width = pool.shape
    rows = np.repeat(np.arange(n), width)
    cols = np.maximum(pool.ravel(), 0)
    out = np.zeros(rows.size, dtype=np.float32)
    if matrix.nnz:
        for start in range(0, rows.size, chunk_pairs):
            stop = start + chunk_pairs
            product = matrix[rows[start:stop]].multiply(matrix[cols[start:stop]])
            out[start:stop] = np.asarray(product.sum(axis=1)).ravel()
    return np.where(pool >= 0, out.reshape(n, width), 0.0).astype(np.float32)


def pair_dot_by_code(matrix: np.ndarray, codes: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """:func:`pair_dot_dense` for rows that depend only on a code (the era rows on the year):
    the products of the distinct codes' rows, looked up for every pair."""
    distinct, first, index = np.unique(codes, return_index=True, return_inverse=True)
    table = matrix[first] @ matrix[first].T
    out = table[index[:, None], index[np.maximum(pool, 0)]]
    return np.where(pool >= 0, out, 0.0).astype(np.float32)


def pair_equal(codes: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """1 where a film and its candidate share a known code (language, collection), else 0."""
    mine = codes[:, None]
    theirs = codes[np.maximum(pool, 0)]
    return ((mine == theirs) & (mine >= 0) & (pool >= 0)).astype(np.float32)


def cf_signal(cf: sp.csr_matrix | None, pool: np.ndarray) -> np.ndarray:
    """The collaborative similarity of every (film, candidate) pair (0 when none is stored)."""
    n, width = pool.shape
    if cf is None:
        return np.zeros((n, width), dtype=np.float32)
    values = lookup_pairs(cf, np.repeat(np.arange(n), width), np.maximum(pool, 0).ravel())
    return np.where(pool >= 0, values.reshape(n, width), 0.0).astype(np.float32)


def pair_signals(
    features: ContentFeatures, cf: sp.csr_matrix | None, priors: Mapping[str, np.ndarray],
    pool: np.ndarray,
) -> np.ndarray:
    """The (len(SIGNALS), n, width) exact signal values of every (film, candidate) pair, 0 for
    padding. Filled one signal at a time into one array (the largest the training holds)."""
    safe = np.maximum(pool, 0)
    compute: dict[str, Callable[[], np.ndarray]] = {
        "text": lambda: pair_dot_dense(features.text, pool),
        "genres": lambda: pair_dot_dense(features.genres, pool),
        "keywords": lambda: pair_dot_sparse(features.keywords, pool),
        "cast": lambda: pair_dot_sparse(features.cast, pool),
        "director": lambda: pair_dot_sparse(features.director, pool),
        "collection": lambda: pair_equal(features.collection, pool),
        "language": lambda: pair_equal(features.language, pool),
        "era": lambda: pair_dot_by_code(features.era, features.year, pool),
        "cf": lambda: cf_signal(cf, pool),
        "popularity": lambda: np.where(pool >= 0, priors["popularity"][safe], 0.0),
        "quality": lambda: np.where(pool >= 0, priors["quality"][safe], 0.0),
    }
    signals = np.empty((len(SIGNALS), *pool.shape), dtype=np.float32)
    for index, name in enumerate(SIGNALS):
        signals[index] = compute[name]()
    return signals


def blend(signals: np.ndarray, pool: np.ndarray, weights: Mapping[str, float]) -> np.ndarray:
    """Blended score Σ weight × signal of every (film, candidate) pair; -inf for padding."""
    vector = np.array([weights.get(name, 0.0) for name in SIGNALS], dtype=np.float32)
    n, width = pool.shape
    scores = (vector @ signals.reshape(len(SIGNALS), n * width)).reshape(n, width)
    np.copyto(scores, np.float32(-np.inf), where=pool < 0)
    return scores


def rank_pool(pool: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best candidates of every film (rows, scores), best first; -1 / -inf when fewer.

    k passes of a row-wise argmax (for the small k of a ranking, faster than a partition of every
    row). ``argmax`` takes the first maximum and the pool lists each film's candidates in
    increasing row order (:func:`merge_pools`), so ties go to the lower row.
    """
    n = pool.shape[0]
    remaining = scores.copy()
    everyone = np.arange(n)
    rows = np.full((n, k), -1, dtype=np.int64)
    values = np.full((n, k), -np.inf, dtype=np.float32)
    for rank in range(min(k, pool.shape[1])):
        best = remaining.argmax(axis=1)
        value = remaining[everyone, best]
        found = value > -np.inf
        rows[found, rank] = pool[everyone[found], best[found]]
        values[found, rank] = value[found]
        remaining[everyone, best] = -np.inf
    return rows, values


# --------------------------------------------------------------------------------------------
# Weight tuning
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Objective:
    """What :func:`tune_weights` optimises.

    ``score(top)`` is maximised by the coordinate ascent and reads only the films in ``rows``
    (every other film's top k is -1 when it is called), so each trial ranks only those films.
    ``shortfall(top)`` measures how far the whole catalogue's top k is from a constraint (0 when
    met); the second phase damps weights until it is 0. ``metrics(top)`` is what gets recorded.
    """

    rows: np.ndarray
    score: Callable[[np.ndarray], float]
    shortfall: Callable[[np.ndarray], float]
    metrics: Callable[[np.ndarray], dict[str, float | None]]


@dataclass(frozen=True)
class TuningResult:
    weights: dict[str, float]
    score: float  # objective.score at the final weights
    shortfall: float  # objective.shortfall at the final weights
    damping: float  # the factor applied to the damped weights in phase 2 (1: none)
    metrics: dict[str, float | None]
    trials: int  # phase 1 trials (rankings of objective.rows only)
    full_rankings: int  # rankings of the whole catalogue (phase 2)


def tune_weights(
    signals: np.ndarray, pool: np.ndarray, objective: Objective, start: Mapping[str, float],
    k: int = 5, factors: Sequence[float] = (0.0, 0.5, 2.0), rounds: int = 3, fixed: Sequence[str] = (),
    damped: Sequence[str] = ("popularity", "quality"), steps: int = 8,
) -> TuningResult:
    """Choose the blend's weights in two phases.

    1. Coordinate ascent on ``objective.score``: each round tries every weight (but ``fixed``)
       times each of ``factors`` (a zero weight tries 0.05 and 0.2) and keeps a change that
       improves the score by more than 1e-4; it stops after a round without change.
    2. If the whole catalogue's top k misses the constraint, the ``damped`` weights are
       multiplied by the largest factor in [0, 1] that meets it, found by ``steps`` bisections
       (0 if even that misses it, which is then the closest).
    Deterministic.
    """
    n = pool.shape[0]
    rows = np.asarray(objective.rows, dtype=np.int64)
    sub_signals, sub_pool = np.ascontiguousarray(signals[:, rows, :]), pool[rows]
    full_rankings = 0

    def ranked_rows(candidate: Mapping[str, float]) -> np.ndarray:
        top = np.full((n, k), -1, dtype=np.int64)
        top[rows] = rank_pool(sub_pool, blend(sub_signals, sub_pool, candidate), k)[0]
        return top

    def ranked_all(candidate: Mapping[str, float]) -> np.ndarray:
        nonlocal full_rankings
        full_rankings += 1
        return rank_pool(pool, blend(signals, pool, candidate), k)[0]

    weights = {name: float(start.get(name, 0.0)) for name in SIGNALS}
    best = objective.score(ranked_rows(weights))
    trials = 1
    for _ in range(rounds):
        improved = False
        for name in SIGNALS:
            if name in fixed:
                continue
            current = weights[name]
            for value in ([current * f for f in factors] if current > 0 else [0.05, 0.2]):
                if value == current:
                    continue
                trial = {**weights, name: value}
                trials += 1
                score = objective.score(ranked_rows(trial))
                if score > best + 1e-4:
                    best, weights, improved = score, trial, True
        if not improved:
            break

    def damp(factor: float) -> dict[str, float]:
        return {**weights, **{name: weights[name] * factor for name in damped}}

    factor, top = 1.0, ranked_all(weights)
    shortfall = objective.shortfall(top)
    if shortfall > 0:
        lowest = ranked_all(damp(0.0))
        if objective.shortfall(lowest) > 0:
            if objective.shortfall(lowest) < shortfall:
                factor, top = 0.0, lowest
        else:
            low, high, top = 0.0, 1.0, lowest  # low meets the constraint, high does not
            for _ in range(steps):
                middle = (low + high) / 2
                candidate = ranked_all(damp(middle))
                if objective.shortfall(candidate) > 0:
                    high = middle
                else:
                    low, top = middle, candidate
            factor = low
        weights = damp(factor)
    return TuningResult(
        weights=weights, score=objective.score(top), shortfall=objective.shortfall(top), damping=factor,
        metrics=objective.metrics(top), trials=trials, full_rankings=full_rankings,
    )
