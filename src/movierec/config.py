"""One settings object for the whole system; every field can be overridden by a ``MOVIEREC_*``
variable, and every value is validated (type and range) when it is read.

A plain dataclass rather than pydantic-settings: the CLI's ETL runs in a few seconds, and
importing pydantic-settings alone would add half a second to every run.

>>> Settings.from_env({"MOVIEREC_MIN_VOTES": "100"}).min_votes
100
>>> Settings.from_env({"MOVIEREC_NEIGHBOURS_K": "3"})
Traceback (most recent call last):
...
movierec.config.SettingsError: MOVIEREC_NEIGHBOURS_K must be at least 5 (the recommendations served), got 3
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("movierec.config")

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_RAW_DIR = REPO_ROOT.parent / "shared" / "data" / "the-movies-dataset"
PREFIX = "MOVIEREC_"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A MOVIEREC_* variable holds a value the system cannot run with."""


def _range(low: float | None = None, high: float | None = None, help: str = "") -> dict[str, object]:
    return {"low": low, "high": high, "help": help}


@dataclass(frozen=True)
class Settings:
    """Paths, thresholds and service options; ``MOVIEREC_<FIELD>`` (upper case) overrides each field."""

    data_dir: Path = field(default=REPO_ROOT / "data", metadata=_range(help="releases/ and current"))
    raw_dir: Path | None = field(
        default=None, metadata=_range(help="raw Kaggle CSVs (default: DATA/raw/, else the sample)")
    )
    min_votes: int = field(default=2000, metadata=_range(0, None, "below it, no vote average is given (client's spec)"))
    neighbours_k: int = field(default=20, metadata=_range(1, 200, "neighbours stored per film in the model artifact"))
    recommendations: int = field(default=5, metadata=_range(1, 50, "recommendations served per film"))
    keep_releases: int = field(default=3, metadata=_range(1, 100, "published releases kept (current always)"))
    max_input_chars: int = field(default=200, metadata=_range(1, 10_000, "longer path parameters answer 422"))
    suggestions: int = field(default=5, metadata=_range(0, 50, "suggestions in a 404"))
    lock_wait: float = field(default=0.0, metadata=_range(0, 86_400, "seconds a pipeline waits for another to finish"))
    min_films_ratio: float = field(
        default=0.5,
        metadata=_range(0, 1, "a new release with fewer films than this share of the current one's is refused"),
    )
    evaluate_on_publish: bool = field(default=True, metadata=_range(help="measure every new release on the ratings"))
    report_on_publish: bool = field(default=True, metadata=_range(help="write the EDA report into every new release"))
    evaluate_on_ingest: bool = field(
        default=False,
        metadata=_range(help="measure ingested releases too (the seed baseline alone takes ~1 min on the full data)"),
    )
    reload_interval: float = field(
        default=1.0, metadata=_range(0.05, 60, "seconds between two looks of `serve` at DATA/current for a new release")
    )
    max_input_bytes: int = field(
        default=1 << 29,
        metadata=_range(
            1,
            None,
            "largest raw file the ETL reads (movies, "
            "credits, keywords), decompressed; 512 MiB keeps its "
            "peak memory under 2 GB",
        ),
    )
    max_input_lines: int = field(
        default=1_000_000,
        metadata=_range(1, None, "most lines in a raw file the ETL reads (a record costs memory beyond its bytes)"),
    )
    quarantine_fields_per_reason: int = field(
        default=1000,
        metadata=_range(
            0,
            None,
            "quarantined rows per (file, reason) whose raw fields the quarantine keeps; the rest keep file and line",
        ),
    )
    max_name_chars: int = field(
        default=500,
        metadata=_range(
            20,
            100_000,
            "longest title, name, character, job, "
            "keyword, company or collection kept: the ETL and tmdb-sync "
            "cut longer ones (the ETL lists the row as repaired)",
        ),
    )
    max_text_chars: int = field(
        default=5000, metadata=_range(100, 1_000_000, "longest overview, tagline or homepage kept, cut the same way")
    )
    fuzzy_per_request: int = field(
        default=10,
        metadata=_range(
            0, 50, "unknown titles of one personal request that get fuzzy suggestions (the rest are listed without)"
        ),
    )
    tmdb_max_response_bytes: int = field(
        default=8 << 20, metadata=_range(1024, 1 << 30, "largest TMDB answer read, as sent and once inflated")
    )
    tmdb_max_pages: int = field(
        default=500, metadata=_range(1, 500, "pages of /movie/changes read per window (TMDB's own limit is 500)")
    )
    tmdb_request_deadline: float = field(
        default=60.0, metadata=_range(1, 3600, "seconds one TMDB request may take, retries and waits included")
    )
    tmdb_max_wait: float = field(default=30.0, metadata=_range(0, 3600, "longest wait a Retry-After header obtains"))
    tmdb_budget: float = field(
        default=3600.0,
        metadata=_range(
            1, 86_400, "seconds a whole tmdb-sync may take; the films not fetched by then are counted failed"
        ),
    )
    release_max_bytes: int = field(
        default=8 << 30,
        metadata=_range(1 << 20, None, "largest release archive unpacked by fetch (all its files together)"),
    )
    release_max_files: int = field(
        default=1000, metadata=_range(1, 1_000_000, "most files in a fetched release archive")
    )
    fetch_budget: float = field(
        default=900.0, metadata=_range(1, 86_400, "seconds a fetch may take to download and unpack a release")
    )
    title_language: str = field(
        default="es",
        metadata=_range(
            help="language answers and the page show a film's title "
            "in first when known: es (a Spanish title), original (the "
            "original title) or catalogue (TMDB's English title)"
        ),
    )
    max_titles_per_film: int = field(
        default=20, metadata=_range(0, 1000, "other titles (translations, alternative titles) kept per film from TMDB")
    )
    cors_origins: str = field(default="", metadata=_range(help="comma-separated origins allowed to call the API"))
    tmdb_url: str = field(default="https://api.themoviedb.org/3", metadata=_range(help="TMDB API v3 base URL"))
    raw_url: str = field(default="", metadata=_range(help="zip of the raw CSVs downloaded at build time (Render)"))
    release_url: str = field(default="", metadata=_range(help="release archive downloaded at start"))
    spark_master: str = field(default="local[*]", metadata=_range(help="Spark master for --engine spark"))
    spark_memory: str = field(
        default="4g",
        metadata=_range(
            help="heap of a local-mode Spark session's JVM (it runs every task), e.g. 4g; clusters size their own"
        ),
    )
    ratings: str = field(default="auto", metadata=_range(help="auto | small | full: which ratings file trains"))

    def __post_init__(self) -> None:
        if self.neighbours_k < self.recommendations:
            raise SettingsError(
                f"{PREFIX}NEIGHBOURS_K must be at least {self.recommendations} "
                f"(the recommendations served), got {self.neighbours_k}"
            )
        if not re.fullmatch(r"[1-9][0-9]*[kmgt]?", self.spark_memory.lower()):
            raise SettingsError(f"{PREFIX}SPARK_MEMORY must be a size such as 4g or 512m, got {self.spark_memory!r}")
        if self.title_language not in ("es", "original", "catalogue"):
            raise SettingsError(
                f"{PREFIX}TITLE_LANGUAGE must be es, original or catalogue, got {self.title_language!r}"
            )
        if self.ratings not in ("auto", "small", "full"):
            raise SettingsError(f"{PREFIX}RATINGS must be auto, small or full, got {self.ratings!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls(**{name: value for name, (value, _) in cls.sources(environ).items() if value is not None})

    @classmethod
    def sources(cls, environ: Mapping[str, str] | None = None) -> dict[str, tuple[Any, str]]:
        """Every overridden field's parsed value and the variable it came from (None, "default"
        for the rest). Unknown MOVIEREC_* variables are warned about: a typo would otherwise be
        silently ignored."""
        environ = os.environ if environ is None else environ
        fields = {f.name: f for f in dataclasses.fields(cls)}
        known = {f"{PREFIX}{name.upper()}" for name in fields}
        for variable in sorted(v for v in environ if v.startswith(PREFIX) and v not in known):
            log.warning("unknown setting %s ignored (known: %s)", variable, ", ".join(sorted(known)))
        out: dict[str, tuple[object, str]] = {}
        for name, spec in fields.items():
            variable = f"{PREFIX}{name.upper()}"
            raw = environ.get(variable)
            out[name] = (None, "default") if raw is None or raw == "" else (_parse(spec, variable, raw), variable)
        return out

    def resolved_raw_dir(self) -> Path:
        """MOVIEREC_RAW_DIR, else data/raw/ when it holds the movies file, else the shared sample."""
        if self.raw_dir is not None:
            return self.raw_dir
        local = self.data_dir / "raw"
        names = ("movies_metadata.csv", "movies_dataset.csv")
        if any((local / f"{n}{ext}").exists() for n in names for ext in ("", ".gz", ".zip")):
            return local
        return SAMPLE_RAW_DIR

    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]


def _parse(spec: dataclasses.Field, variable: str, raw: str) -> object:
    kind = spec.type if isinstance(spec.type, str) else getattr(spec.type, "__name__", str(spec.type))
    low, high = spec.metadata.get("low"), spec.metadata.get("high")
    text = raw.strip()
    if kind == "bool":
        if text.lower() not in _TRUE | _FALSE:
            raise SettingsError(f"{variable} must be true or false, got {raw[:60]!r}")
        return text.lower() in _TRUE
    if kind in ("int", "float"):
        try:
            value: float = int(text) if kind == "int" else float(text)
        except ValueError:
            raise SettingsError(
                f"{variable} must be {'an integer' if kind == 'int' else 'a number'}, got {raw[:60]!r}"
            ) from None
        if value != value or (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise SettingsError(f"{variable} must be {bounds}, got {raw[:60]!r}")
        return value
    if "Path" in kind:
        return Path(text).expanduser()
    return text


def settings_table(settings: Settings, environ: Mapping[str, str] | None = None) -> list[tuple[str, object, str, str]]:
    """(variable, effective value, where it came from, what it is) for every setting."""
    sources = Settings.sources(environ)
    return [
        (
            f"{PREFIX}{spec.name.upper()}",
            getattr(settings, spec.name),
            sources[spec.name][1],
            str(spec.metadata.get("help", "")),
        )
        for spec in dataclasses.fields(Settings)
    ]
