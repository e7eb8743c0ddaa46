"""Refreshing the raw data from TMDB: ``movierec tmdb-sync`` writes a batch in the Kaggle format."""
