"""The recommender.

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
"""
