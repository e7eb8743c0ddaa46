"""The film-to-film metrics, pure functions over row arrays; ``top`` is (films, ≥k) recommended
rows, -1 = none.

* precision@k — for every (evaluation user, liked film q) pair, the share of q's top k that the
  same user also liked; the mean over all pairs. Always divided by k.
* coverage — distinct films appearing in any film's top k, over the catalogue size.
* collection recall — for every film whose collection has at least 2 films in the catalogue, the
  share of the other members (at most k of them count) found in its top k; the mean over those
  films.
* nDCG@k — for every (user, liked film q) pair, the discounted gain of q's top k (1 / log2(rank + 1)
  for each film the user also liked) over the best possible (the user's other liked films, at
  most k, all first); the mean over all pairs.

What people see, beyond plain precision (issue 18):

* popularity-stratified precision@k (Steck, "Item popularity and recommendation accuracy",
  RecSys 2011, β = 0.5) — each hit weighted by 1 / likes^β, ``likes`` the hit film's number of
  likes among the TRAINING users (a film with none counts as 1: :func:`popularity_weights`),
  over the best possible list for that (user, q) pair: the sum of the k largest weights among
  the user's other liked films; the mean over pairs (a user who liked nothing else counts 0).
  Plain precision rewards lists of blockbusters everybody liked; this one does not.
* generic share — over the 100 most-voted films (TMDB ``vote_count``, ties to the lower row),
  the share of their top-k slots (100 × k) taken by the 20 most-liked films (most training
  likes, ties to the lower row): how often a list is the same popular films whatever its film.
* adjacent collection recall — for every film in a collection of ≥ 2 catalogue films, its
  previous and next member by release date (ties by id; the first and last film have one
  adjacent member): the share of them in its top k; the mean over those films.

The measures of personal recommendations (a list of films per user): :mod:`.list_metrics`.

The functions the model's tuning may import take numpy arrays and return a float:
:func:`stratified_precision_at_k`, :func:`generic_share`, :func:`adjacent_collection_recall`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METRICS = ("precision_at_k", "coverage", "collection_recall", "ndcg_at_k")
#: The metrics of issue 18, measured beside :data:`METRICS` (:func:`film_metrics`).
STRATIFIED = ("stratified_precision_at_k", "generic_share", "adjacent_collection_recall")
BETA = 0.5  # the popularity-stratification exponent (Steck 2011)
HEAD_FILMS = 100  # generic share: the lists of the most-voted films ...
GENERIC_FILMS = 20  # ... and the most-liked films whose slots count as generic


def rank_discounts(k: int) -> np.ndarray:
    """1 / log2(rank + 1) for ranks 1..k."""
    return 1.0 / np.log2(np.arange(2, k + 2))


def liked_keys(users: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """The sorted keys user · n + row of the liked pairs (computed once for every method)."""
    return np.unique(users.astype(np.int64) * n + rows)


def _liked_hits(
    top: np.ndarray, users: np.ndarray, rows: np.ndarray, k: int, liked: np.ndarray | None = None
) -> np.ndarray:
    """(pairs, k) booleans: whether pair i's user liked the j-th film of its film's top k."""
    n = top.shape[0]
    users = users.astype(np.int64)
    liked = liked_keys(users, rows, n) if liked is None else liked
    recommended = top[rows, :k]
    keys = users[:, None] * n + recommended
    position = np.minimum(np.searchsorted(liked, keys), liked.size - 1)
    return (liked[position] == keys) & (recommended >= 0)


def precision_per_pair(
    top: np.ndarray, users: np.ndarray, rows: np.ndarray, k: int, liked: np.ndarray | None = None
) -> np.ndarray:
    """Per liked pair (users[i], rows[i]): |top k of rows[i] ∩ liked by users[i]| / k."""
    return _liked_hits(top, users, rows, k, liked).sum(axis=1) / k


def precision_at_k(
    top: np.ndarray, users: np.ndarray, rows: np.ndarray, k: int, liked: np.ndarray | None = None
) -> float:
    """Mean over the liked pairs (users[i], rows[i]) of |top k of rows[i] ∩ liked by users[i]| / k.
    0.0 when there are no pairs. ``liked``: :func:`liked_keys` of the pairs, when known."""
    if rows.size == 0:
        return 0.0
    return float(precision_per_pair(top, users, rows, k, liked).mean())


def ndcg_at_k(top: np.ndarray, users: np.ndarray, rows: np.ndarray, k: int, liked: np.ndarray | None = None) -> float:
    """Mean over the liked pairs (users[i], rows[i]) of DCG of rows[i]'s top k (gain 1 for each
    film users[i] liked) / the ideal DCG (min(k, the user's other liked films) gains first). Pairs
    of a user who liked nothing else count 0. 0.0 when there are no pairs."""
    if rows.size == 0:
        return 0.0
    discounts = rank_discounts(k)
    width = min(k, top.shape[1])
    dcg = _liked_hits(top, users, rows, width, liked) @ discounts[:width]
    _, index, likes = np.unique(users, return_inverse=True, return_counts=True)
    ideal = np.r_[0.0, np.cumsum(discounts)][np.minimum(likes[index] - 1, k)]
    return float(np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1.0), 0.0).mean())


def coverage(top: np.ndarray, k: int) -> float:
    """Distinct films in any film's top k / number of films."""
    n = top.shape[0]
    if n == 0:
        return 0.0
    shown = top[:, :k]
    return float(np.count_nonzero(np.bincount(shown[shown >= 0], minlength=n)) / n)


def collection_recall(top: np.ndarray, collection: np.ndarray, k: int) -> float | None:
    """Mean over films in a collection of ≥ 2 catalogue films of (other members in the film's
    top k) / min(other members, k); None when no film qualifies. ``collection``: code per film,
    -1 for none."""
    in_one = collection >= 0
    codes, counts = np.unique(collection[in_one], return_counts=True)
    size = np.zeros(collection.size, dtype=np.int64)
    size[in_one] = counts[np.searchsorted(codes, collection[in_one])]
    films = np.flatnonzero(size >= 2)
    if films.size == 0:
        return None
    recommended = top[films, :k]
    same = (collection[np.maximum(recommended, 0)] == collection[films][:, None]) & (recommended >= 0)
    same &= recommended != films[:, None]
    return float((same.sum(axis=1) / np.minimum(size[films] - 1, k)).mean())


def metrics(
    top: np.ndarray,
    users: np.ndarray,
    rows: np.ndarray,
    collection: np.ndarray,
    k: int,
    liked: np.ndarray | None = None,
) -> dict[str, float | None]:
    liked = liked_keys(users, rows, top.shape[0]) if liked is None else liked
    return {
        "precision_at_k": precision_at_k(top, users, rows, k, liked),
        "coverage": coverage(top, k),
        "collection_recall": collection_recall(top, collection, k),
        "ndcg_at_k": ndcg_at_k(top, users, rows, k, liked),
    }


def popularity_weights(likes: np.ndarray, beta: float = BETA) -> np.ndarray:
    """Each film's weight 1 / max(likes, 1)^β, ``likes`` its number of likes among the TRAINING
    users (a film nobody liked counts as liked once).

    >>> popularity_weights(np.array([0, 1, 4, 100])).tolist()
    [1.0, 1.0, 0.5, 0.1]
    """
    return 1.0 / np.maximum(np.asarray(likes, dtype=np.float64), 1.0) ** beta


def best_possible(users: np.ndarray, rows: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Per pair i: the sum of the k largest ``weights`` among the films users[i] liked (the
    films of its pairs, each once) other than rows[i]."""
    users = np.asarray(users, dtype=np.int64)
    mine = weights[rows]
    order = np.lexsort((-mine, users))
    ordered = mine[order]
    _, first, counts = np.unique(users[order], return_index=True, return_counts=True)
    group = np.repeat(np.arange(first.size), counts)
    position = np.arange(order.size) - first[group]
    head = np.bincount(group, weights=np.where(position < k, ordered, 0.0), minlength=first.size)
    kth = ordered[first + np.minimum(k, counts) - 1]  # the k-th largest of the user's weights
    after = np.where(counts > k, ordered[np.minimum(first + k, order.size - 1)], 0.0)  # the (k+1)-th
    pair_group = np.empty_like(group)
    pair_group[order] = group
    head, kth, after, count = head[pair_group], kth[pair_group], after[pair_group], counts[pair_group]
    # q among the user's k heaviest films: the (k+1)-th takes its place; else the k heaviest stand
    best = np.where(count <= k, head - mine, np.where(mine >= kth, head - mine + after, head))
    return np.maximum(best, 0.0)


def stratified_precision_per_pair(
    top: np.ndarray,
    users: np.ndarray,
    rows: np.ndarray,
    likes: np.ndarray,
    k: int,
    beta: float = BETA,
    liked: np.ndarray | None = None,
    best: np.ndarray | None = None,
) -> np.ndarray:
    """Per liked pair (users[i], rows[i]): the popularity weights (:func:`popularity_weights` of
    ``likes``) of the films of rows[i]'s top k that users[i] liked, over the sum of the k largest
    weights among users[i]'s other liked films (0 when there are none). The pairs are every
    liked pair of the users (each once): a user's liked films are the rows of their pairs.
    ``best``: :func:`best_possible` of the pairs, when known (it does not depend on ``top``)."""
    if rows.size == 0:
        return np.zeros(0)
    weights = popularity_weights(likes, beta)
    width = min(k, top.shape[1])
    hits = _liked_hits(top, users, rows, width, liked)
    gained = np.where(hits, weights[np.maximum(top[rows, :width], 0)], 0.0).sum(axis=1)
    best = best_possible(users, rows, weights, k) if best is None else best
    return np.where(best > 0, gained / np.where(best > 0, best, 1.0), 0.0)


def stratified_precision_at_k(
    top: np.ndarray,
    users: np.ndarray,
    rows: np.ndarray,
    likes: np.ndarray,
    k: int,
    beta: float = BETA,
    liked: np.ndarray | None = None,
) -> float:
    """Popularity-stratified precision@k (Steck 2011): the mean over the liked pairs of
    :func:`stratified_precision_per_pair`; 0.0 without pairs. ``likes``: training users' likes per
    film (row); ``liked``: :func:`liked_keys` of the pairs, when known.

    Weights (likes 4, 1, 16, 100): 0.5, 1, 0.25, 0.1. User 7 liked films 0, 1 and 2. Film 0's top 2
    holds 1 (weight 1) of the best 1 + 0.25; film 1's holds 2 (0.25) of the best 0.5 + 0.25;
    film 2's holds 0 and 1, the best possible:

    >>> top = np.array([[1, 3], [3, 2], [0, 1], [0, 1]])
    >>> users, rows = np.array([7, 7, 7]), np.array([0, 1, 2])
    >>> round(stratified_precision_at_k(top, users, rows, np.array([4, 1, 16, 100]), k=2), 4)  # (0.8 + 1/3 + 1) / 3
    0.7111
    """
    return float(stratified_precision_per_pair(top, users, rows, likes, k, beta, liked).mean()) if rows.size else 0.0


def generic_films(likes: np.ndarray, generic: int = GENERIC_FILMS) -> np.ndarray:
    """The rows of the ``generic`` most-liked films (ties to the lower row); films nobody liked never count."""
    likes = np.asarray(likes, dtype=np.float64)
    most = np.argsort(-likes, kind="stable")[:generic]
    return most[likes[most] > 0]


def generic_share(
    top: np.ndarray,
    vote_count: np.ndarray,
    likes: np.ndarray,
    k: int = 5,
    heads: int = HEAD_FILMS,
    generic: int = GENERIC_FILMS,
    films: np.ndarray | None = None,
) -> float:
    """The share of the top-k slots of the ``heads`` most-voted films (``vote_count``, ties to the
    lower row; or of the rows ``films`` when given) held by the ``generic`` most-liked films
    (:func:`generic_films` of ``likes``). Slots: films × k (an empty slot is not generic); 0.0
    without films.

    Votes rank films 2, 0 first; the most liked film is 3: film 2's top 2 holds it, film 0's not.

    >>> top = np.array([[1, 2], [0, 3], [3, 0], [2, 1]])
    >>> generic_share(top, np.array([50, 10, 90, 20]), np.array([5, 1, 2, 8]), k=2, heads=2, generic=1)
    0.25
    """
    if films is None:
        votes = np.nan_to_num(np.asarray(vote_count, dtype=np.float64), nan=0.0)
        films = np.argsort(-votes, kind="stable")[:heads]
    width = min(k, top.shape[1])
    if films.size == 0 or k <= 0:
        return 0.0
    is_generic = np.zeros(top.shape[0], dtype=bool)
    is_generic[generic_films(likes, generic)] = True
    shown = top[films, :width]
    return float((is_generic[np.maximum(shown, 0)] & (shown >= 0)).sum() / (films.size * k))


def _sortable(release: np.ndarray) -> np.ndarray:
    """Release dates (datetime64) or years as floats; a missing one (NaT, NaN) last."""
    values = np.asarray(release)
    if np.issubdtype(values.dtype, np.datetime64):
        missing, numbers = np.isnat(values), values.astype("datetime64[D]").astype(np.float64)
    else:
        numbers = values.astype(np.float64)
        missing = np.isnan(numbers)
    return np.where(missing, np.inf, numbers)


def adjacent_members(collection: np.ndarray, release: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(previous, next): each film's neighbour in its collection ordered by ``release`` (date or
    year; missing last), ties by ``ids``; -1 where there is none (first, last, or no collection:
    ``collection`` is -1)."""
    collection = np.asarray(collection)
    n = collection.size
    previous, following = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    members = np.flatnonzero(collection >= 0)
    order = members[np.lexsort((np.asarray(ids)[members], _sortable(release)[members], collection[members]))]
    same = collection[order[1:]] == collection[order[:-1]]
    previous[order[1:][same]] = order[:-1][same]
    following[order[:-1][same]] = order[1:][same]
    return previous, following


def adjacent_collection_recall(
    top: np.ndarray, collection: np.ndarray, release: np.ndarray, ids: np.ndarray, k: int
) -> float | None:
    """For every film in a collection of ≥ 2 catalogue films, the share of its adjacent members
    (:func:`adjacent_members`: previous and next by release date, ties by id; one for the first
    and the last film) in its top k; the mean over those films. None when no film qualifies.

    Collection 3 in release order: film 1 (1980), 2 (1985), 0 (1990); film 4 is alone. Film 0's
    top 2 holds its previous (2); film 1's misses its next (2); film 2's holds both (1 and 0):

    >>> top = np.array([[2, 3], [0, 3], [1, 0], [0, 1], [0, 1]])
    >>> collection, years = np.array([3, 3, 3, -1, 5]), np.array([1990, 1980, 1985, 2000, 1999])
    >>> round(adjacent_collection_recall(top, collection, years, np.arange(1, 6), k=2), 4)  # (1 + 0 + 1) / 3
    0.6667
    """
    previous, following = adjacent_members(collection, release, ids)
    films = np.flatnonzero((previous >= 0) | (following >= 0))
    if films.size == 0:
        return None
    shown = top[films, :k]
    found = np.zeros(films.size)
    wanted = np.zeros(films.size)
    for adjacent in (previous[films], following[films]):
        present = adjacent >= 0
        wanted += present
        found += present & (shown == adjacent[:, None]).any(axis=1)
    return float((found / wanted).mean())


@dataclass(frozen=True)
class Films:
    """What the film-to-film metrics know of every catalogue film (arrays by row)."""

    collection: np.ndarray  # collection code, -1 for none
    likes: np.ndarray  # training users who liked the film
    vote_count: np.ndarray  # TMDB votes
    release: np.ndarray  # release date (datetime64) or year
    ids: np.ndarray  # TMDB ids (ties of the release order)


def film_metrics(
    top: np.ndarray, users: np.ndarray, rows: np.ndarray, films: Films, k: int, liked: np.ndarray | None = None
) -> dict[str, float | None]:
    """:func:`metrics` and the :data:`STRATIFIED` metrics of one film-to-film ``top``."""
    liked = liked_keys(users, rows, top.shape[0]) if liked is None else liked
    return {
        **metrics(top, users, rows, films.collection, k, liked),
        "stratified_precision_at_k": stratified_precision_at_k(top, users, rows, films.likes, k, liked=liked),
        "generic_share": generic_share(top, films.vote_count, films.likes, k),
        "adjacent_collection_recall": adjacent_collection_recall(top, films.collection, films.release, films.ids, k),
    }
