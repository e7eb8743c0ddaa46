"""Refreshing the catalogue: ``movierec tmdb-sync`` writes a batch in the Kaggle format from TMDB,
``movierec ingest`` merges a batch into a new release, ``movierec refresh`` does both, ``movierec
fetch`` downloads a published release."""
