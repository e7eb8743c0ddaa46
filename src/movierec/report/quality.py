"""Data-quality figures: the ETL's row accounting per input file, unknown values per column,
the repairs of amounts typed in millions, and how well the tables join.

Pure functions over the ETL's report (a dict) and polars DataFrames.
"""

from __future__ import annotations

from typing import Any

import polars as pl

FILES = {
    "movies": "movies_metadata.csv",
    "credits": "credits.csv",
    "keywords": "keywords.csv",
    "titles": "titles.csv",
}  # titles.csv: only in releases built by ingests of TMDB batches
DROPPED = ("film not kept", "not a Spanish title")  # reasons the ETL counts as dropped, not quarantined
OUTCOMES = ("kept", "repaired", "quarantined", "dropped")
OUTCOME_NAMES = {
    "kept": "conservadas",
    "repaired": "reparadas",
    "quarantined": "en cuarentena",
    "dropped": "descartadas",
}
REASONS = {
    "duplicate id": "id duplicado",
    "missing release_date": "sin fecha de estreno",
    "film not kept": "película no conservada",
    "invalid id": "id no válido",
    "not a Spanish title": "título no español",
}
TINY_AMOUNT_FIX = "1–999 (typed in millions)"


def reason(text: str) -> str:
    """A quarantine reason in Spanish when it is a known one, else as the ETL wrote it."""
    return REASONS.get(text, text)


def accounting(etl: dict[str, Any]) -> dict[str, Any]:
    """Rows read, kept, repaired, quarantined (by reason) and dropped per input file.

    The ETL guarantees rows_read = kept + repaired + quarantined + dropped; ``cuadra`` says
    whether the numbers read back still add up.
    """
    files: dict[str, Any] = {}
    for key, name in FILES.items():
        account = etl.get(key)
        if not isinstance(account, dict):
            continue
        counts = {outcome: int(account.get(outcome, 0) or 0) for outcome in OUTCOMES}
        read = int(account.get("rows_read", 0) or 0)
        files[name] = {
            "leidas": read,
            "conservadas": counts["kept"],
            "reparadas": counts["repaired"],
            "en_cuarentena": counts["quarantined"],
            "descartadas": counts["dropped"],
            # the dropped rows' reasons ("film not kept"…) are not quarantine reasons: kept apart.
            "motivos_cuarentena": {
                reason(r): int(n) for r, n in sorted(account.get("reasons", {}).items()) if r not in DROPPED
            },
            "cuadra": read == sum(counts.values()),
        }
    quarantined = sum(f["en_cuarentena"] for f in files.values())
    return {
        "archivos": files,
        "en_cuarentena_total": quarantined,
        "descartadas_total": sum(f["descartadas"] for f in files.values()),
    }


def amount_fixes(etl: dict[str, Any]) -> dict[str, int]:
    """How many budgets and revenues of 1–999 US$ (typed in millions) the ETL set to unknown."""
    fixes = (etl.get("movies") or {}).get("fixes") or {}
    out = {"presupuestos": 0, "ingresos": 0}
    for text, n in fixes.items():
        if TINY_AMOUNT_FIX in text:
            out["presupuestos" if text.startswith("budget") else "ingresos"] += int(n)
    return out


def unknown_values(movies: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Films whose value is unknown, per column: null, an empty text, or 0 for amounts and
    runtime (the ETL writes 0 for a missing budget or revenue); an average without votes."""

    def blank(c: str) -> pl.Expr:
        return pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")

    rules = {
        "presupuesto": pl.col("budget").fill_null(0) <= 0,
        "ingresos": pl.col("revenue").fill_null(0) <= 0,
        "eslogan": blank("tagline"),
        "duración": pl.col("runtime").fill_null(0) <= 0,
        "sinopsis": blank("overview"),
        "nota media": pl.col("vote_count").fill_null(0) <= 0,
        "popularidad": pl.col("popularity").is_null(),
        "estado": blank("status"),
        "fecha de estreno": pl.col("release_date").is_null(),
        "idioma original": blank("original_language"),
    }
    counts = movies.select(**{name: expr.sum() for name, expr in rules.items()}).row(0, named=True)
    n = movies.height
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {name: {"n": int(k), "cuota": k / n if n else None} for name, k in ordered}


def join_coverage(
    movies: pl.DataFrame,
    cast: pl.DataFrame,
    crew_films: pl.Series,
    directors: pl.DataFrame,
    keywords: pl.DataFrame,
    links: pl.Series | None,
    rated: pl.Series | None,
) -> dict[str, Any]:
    """Share of catalogue films found in each joined table; MovieLens ones are None when absent."""
    ids = movies["id"]
    n = movies.height

    def share(found: pl.Series | None) -> dict[str, Any] | None:
        if found is None:
            return None
        k = int(ids.is_in(found.unique().implode()).sum())
        return {"n": k, "cuota": k / n if n else None}

    return {
        "créditos (reparto o equipo)": share(pl.concat([cast["movie_id"].unique(), crew_films]).unique()),
        "reparto": share(cast["movie_id"]),
        "director": share(directors["movie_id"]),
        "palabras clave": share(keywords["movie_id"]),
        "enlace a MovieLens": share(links),
        "valoraciones de MovieLens": share(rated),
    }
