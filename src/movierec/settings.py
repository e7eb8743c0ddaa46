"""One settings object for the whole system; every field can be overridden by a MOVIEREC_* variable.

A plain dataclass rather than pydantic-settings: the CLI's ETL runs in about three seconds, and
importing pydantic-settings alone would add half a second to every run.

>>> Settings.from_env({"MOVIEREC_MIN_VOTES": "100"}).min_votes
100
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_RAW_DIR = REPO_ROOT.parent / "shared" / "data" / "the-movies-dataset"


@dataclass(frozen=True)
class Settings:
    """Paths and thresholds; ``MOVIEREC_<FIELD>`` (upper case) overrides each field."""

    data_dir: Path = REPO_ROOT / "data"
    raw_dir: Path | None = None
    min_votes: int = 2000  # below this, the API gives no vote average (client's spec)
    neighbours_k: int = 20  # neighbours stored per film in the model artifact
    recommendations: int = 5  # recommendations served per film
    keep_releases: int = 3
    max_input_chars: int = 200  # longer path parameters are rejected with 422
    suggestions: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(f"MOVIEREC_{field.name.upper()}")
            if raw is None or raw == "":
                continue
            kind = field.type if isinstance(field.type, str) else field.type.__name__
            try:
                values[field.name] = int(raw) if kind == "int" else Path(raw)
            except ValueError as exc:
                raise ValueError(f"MOVIEREC_{field.name.upper()} must be an integer, got {raw!r}") from exc
        return cls(**values)  # type: ignore[arg-type]

    def resolved_raw_dir(self) -> Path:
        """MOVIEREC_RAW_DIR, else data/raw/ when it holds the movies file, else the shared sample."""
        if self.raw_dir is not None:
            return self.raw_dir
        local = self.data_dir / "raw"
        names = ("movies_metadata.csv", "movies_dataset.csv")
        if any((local / f"{n}{ext}").exists() for n in names for ext in ("", ".gz", ".zip")):
            return local
        return SAMPLE_RAW_DIR


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
