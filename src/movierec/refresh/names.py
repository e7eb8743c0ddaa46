"""The names the refresh's parts share, each written once: TMDB's credential variable (read by the
TMDB client, checked by the scheduled refresh before it starts) and the files of a batch folder
(written by `movierec tmdb-sync`, read by `movierec ingest` and the scheduled refresh).

This module imports nothing: the scheduled refresh and ingest read these names without loading
the HTTP client.
"""

KEY_VARIABLE = "TMDB_API_KEY"  # TMDB's credential (a v3 key or a v4 read access token), not a MOVIEREC_* setting
DELETED_FILE = "deleted_ids.txt"  # in a batch: the films TMDB deleted (one id a line)
FAILED_FILE = "failed_ids.txt"  # in a batch: the films a sync did not get
SYNC_FILE = "sync.json"  # in a batch: what the sync covered, written last
