"""The collaborative stage on Apache Spark (`movierec train --engine spark`), for likes that
outgrow one machine: reading ratings and links, the user split, likes, co-like counts and every
film's top neighbours run as Spark jobs; the driver holds only per-film numbers. The output is
the contract of :mod:`movierec.model.collaborative`, equal to the local engine's (a test checks it).

Same rules as the local engine, stated once elsewhere and imported here: the split
(:mod:`movierec.protocol.split`), a like (:data:`~movierec.raw.ratings.LIKED_RATING`), the cap
on likes per user (most recent first, ties to the lower catalogue row) and the score
(:func:`~movierec.model.cf.cf_factors`: the per-film factors are computed by NumPy on the driver
from Spark's integer like counts and sent back, so both engines multiply the same float64 numbers).

Local mode by default (``MOVIEREC_SPARK_MASTER``, ``local[*]``); under ``spark-submit`` (or in a
notebook with a session) the running session and its master are used. In cluster mode RAW and
the output folder must be on storage every node reads at the same path.

Needs PySpark (``pip install 'movierec[spark]'``) and Java 17+.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from movierec.model.cf import cf_factors
from movierec.model.collaborative import COLIKE_SIGNALS, COLIKES, MAX_TUNING_USERS, SUPPORT, VALIDATION, write_summary
from movierec.protocol.split import EVALUATION_REMAINDER, SAMPLE_HASH, USER_MODULUS, VALIDATION_REMAINDER
from movierec.raw.files import InputError
from movierec.raw.ratings import LIKED_RATING, plain_csv

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

LOCAL_PARTITIONS = 16
log = logging.getLogger("movierec.train")

RATINGS_TYPES = {"userId": "long", "movieId": "long", "rating": "double", "timestamp": "long"}
LINKS_TYPES = {"movieId": "long", "tmdbId": "long"}


def spark_session(master: str, memory: str = "4g") -> tuple[SparkSession, bool]:
    """The active Spark session, else a new one on ``master`` (unless spark-submit chose the
    master; ``memory`` is the JVM's heap in local mode); and whether it was created here (then
    the caller stops it)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        from movierec.config import SettingsError

        raise SettingsError("--engine spark needs PySpark: pip install 'movierec[spark]' (and Java 17+)") from None
    logging.getLogger("py4j").setLevel(logging.WARNING)  # its INFO lines are every socket it opens
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    builder = SparkSession.builder.appName("movierec collaborative stage").config(
        "spark.ui.showConsoleProgress", str(sys.stderr.isatty()).lower()
    )
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # set by spark-submit, whose --master then wins
        builder = builder.master(master)
        if master.startswith("local"):
            # Spark's default of 200 shuffle partitions is for clusters; here they cost more
            # in task overhead than they give in parallelism
            builder = builder.config("spark.sql.shuffle.partitions", str(LOCAL_PARTITIONS)).config(
                "spark.driver.memory", memory
            )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark, True


def run_stage(
    spark: SparkSession, ratings: Path, links: Path, row_index: pl.DataFrame, params: dict[str, Any], out: Path
) -> dict[str, float]:
    """Compute the collaborative stage on Spark into the contract folder ``out``.

    ``row_index`` (id, row) is the catalogue; ``params`` are :class:`~movierec.model.cf.ItemCF`'s.
    Returns the stage's step durations (and the JVM's peak RSS when it runs on this machine).
    """
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    out.mkdir(parents=True, exist_ok=True)
    steps: dict[str, float] = {}
    clock = time.perf_counter()
    films = spark.createDataFrame(
        [(int(i), int(r)) for i, r in row_index.select("id", "row").iter_rows()], "id long, row int"
    )
    with plain_csv(ratings, folder=out) as ratings_path, plain_csv(links, folder=out) as links_path:
        rated = read_csv(spark, ratings_path, RATINGS_TYPES, ratings.name)
        linked = read_csv(spark, links_path, LINKS_TYPES, links.name).where(F.col("tmdbId").isNotNull())
        user_mod = F.pmod(F.col("userId"), F.lit(USER_MODULUS))
        likes = (
            rated.where((user_mod != EVALUATION_REMAINDER) & (F.col("rating") >= LIKED_RATING))
            .join(linked, "movieId")
            .join(F.broadcast(films), F.col("tmdbId") == F.col("id"))
            .groupBy("userId", "row", "id")
            .agg(F.max("timestamp").alias("timestamp"))  # one per user and film
            .withColumn("fit", user_mod != VALIDATION_REMAINDER)
            .persist()
        )
        recent = Window.partitionBy("userId").orderBy(F.desc("timestamp"), F.asc("row"))
        capped = (
            likes.withColumn("n", F.row_number().over(recent))
            .where(F.col("n") <= int(params["max_likes_per_user"]))
            .select("userId", "row", "fit")
            .persist()
        )
        try:
            validation = likes.where(~F.col("fit"))
            multiplier, modulus = SAMPLE_HASH
            sample = (
                validation.select("userId")
                .distinct()
                .orderBy(F.pmod(F.col("userId") * multiplier, F.lit(modulus)), "userId")
                .limit(MAX_TUNING_USERS)
            )
            (
                validation.join(F.broadcast(sample), "userId", "left_semi")
                .select(F.col("userId").alias("user_id"), F.col("id").alias("movie_id"))
                .write.mode("overwrite")
                .parquet(str(out / VALIDATION))
            )
            counts = {
                bool(r["fit"]): (int(r["users"]), int(r["likes"]))
                for r in capped.groupBy("fit")
                .agg(F.countDistinct("userId").alias("users"), F.count("*").alias("likes"))
                .collect()
            }
            support = pl.DataFrame(
                capped.groupBy("fit", "row").count().collect(),
                schema={"fit": pl.Boolean, "row": pl.Int64, "likes": pl.Int64},
                orient="row",
            )
        except Exception as exc:  # bad values surface when a job runs
            raise _input_error(exc, ratings.name) from None
        finally:
            likes.unpersist()
        steps["read ratings + likes (spark)"] = _lap(clock, "read ratings + likes (spark)")
        clock = time.perf_counter()

        n = row_index.height
        per_signal = _support_per_signal(support, n)
        factors = _factors_frame(spark, per_signal, params)
        a, b = capped.alias("a"), capped.alias("b")
        pairs = (  # each pair of a user's likes once (i < j), counted per group of users
            a.join(b, (F.col("a.userId") == F.col("b.userId")) & (F.col("a.row") < F.col("b.row")))
            .groupBy(F.col("a.row").alias("i"), F.col("b.row").alias("j"))
            .agg(F.sum(F.col("a.fit").cast("int")).alias("fit"), F.count("*").alias("training"))
        )
        per_film = Window.partitionBy("signal", "i").orderBy(F.desc("score"), F.asc("j"))
        colikes = (
            # both directions of each pair, for both signals, from the one aggregation
            pairs.select(
                F.expr(
                    "stack(4, i, j, 'fit', fit, j, i, 'fit', fit, i, j, 'training', training, "
                    "j, i, 'training', training) as (i, j, signal, co_count)"
                )
            )
            .where(F.col("co_count") > 0)
            .join(F.broadcast(factors.select("signal", F.col("row").alias("i"), "left")), ["signal", "i"])
            .join(F.broadcast(factors.select("signal", F.col("row").alias("j"), "right")), ["signal", "j"])
            .withColumn("score", _score(F.col("co_count"), F.col("left"), F.col("right")))
            .withColumn("rank", F.row_number().over(per_film))
            .where(F.col("rank") <= int(params["neighbours"]))
            .join(F.broadcast(films.select(F.col("row").alias("i"), F.col("id").alias("movie_id"))), "i")
            .join(F.broadcast(films.select(F.col("row").alias("j"), F.col("id").alias("neighbour_id"))), "j")
            .select(
                "signal", "movie_id", F.col("rank").cast("int"), "neighbour_id", F.col("co_count").cast("long"), "score"
            )
        )
        colikes.write.mode("overwrite").parquet(str(out / COLIKES))
        capped.unpersist()
    ids = row_index.sort("row")["id"].to_numpy()
    pl.concat(
        [
            pl.DataFrame(
                {
                    "signal": s,
                    "movie_id": ids[np.flatnonzero(per_signal[s])],
                    "likes": per_signal[s][per_signal[s] > 0],
                },
                schema={"signal": pl.String, "movie_id": pl.Int64, "likes": pl.Int64},
            )
            for s in COLIKE_SIGNALS
        ]
    ).write_parquet(out / SUPPORT)
    fitting, validating = counts.get(True, (0, 0)), counts.get(False, (0, 0))
    write_summary(
        out,
        {
            "fit": {"users": fitting[0], "likes": fitting[1]},
            "training": {"users": fitting[0] + validating[0], "likes": fitting[1] + validating[1]},
        },
        "spark",
        params,
    )
    steps["co-likes (spark)"] = _lap(clock, "co-likes (spark)")
    peak = _jvm_peak_mb(spark)
    if peak is not None:
        steps["jvm peak MB"] = peak
    return steps


def read_csv(spark: SparkSession, path: Path, types: dict[str, str], name: str) -> DataFrame:
    """The columns ``types`` of a CSV with a header, found by name and parsed as their types
    (other columns stay text and are never parsed); a value that does not parse fails the job."""
    try:
        header = spark.read.option("header", True).csv(str(path)).columns
    except Exception as exc:
        raise InputError(f"{name}: cannot be read by Spark ({str(exc).splitlines()[0]})") from None
    missing = [c for c in types if c not in header]
    if missing:
        raise InputError(f"{name}: missing columns {', '.join(missing)} (found: {', '.join(header) or 'nothing'})")
    schema = ", ".join(f"`{c}` {types.get(c, 'string')}" for c in header)
    return spark.read.schema(schema).option("header", True).option("mode", "FAILFAST").csv(str(path)).select(*types)


def _score(count: Column, left: Column, right: Column) -> Column:
    # (co · left) · right, in the order the local engine multiplies (IEEE doubles on both sides)
    return (count.cast("double") * left) * right


def _support_per_signal(support: pl.DataFrame, n: int) -> dict[str, np.ndarray]:
    """Likes per film row for each signal: fit users', and every training user's."""
    per_group = {}
    for fit in (True, False):
        films = np.zeros(n, dtype=np.int64)
        rows = support.filter(pl.col("fit") == fit)
        films[rows["row"].to_numpy()] = rows["likes"].to_numpy()
        per_group[fit] = films
    return {"fit": per_group[True], "training": per_group[True] + per_group[False]}


def _factors_frame(spark: SparkSession, support: dict[str, np.ndarray], params: dict[str, Any]) -> DataFrame:
    """(signal, row, left, right) for the liked films, from :func:`cf_factors` on the driver."""
    records = []
    for name in COLIKE_SIGNALS:
        left, right = cf_factors(support[name], float(params["alpha"]), float(params["shrink"]))
        liked = np.flatnonzero(support[name] > 0)
        records += [(name, int(r), float(left[r]), float(right[r])) for r in liked]
    return spark.createDataFrame(records, "signal string, row int, left double, right double")


def _input_error(exc: Exception, name: str) -> Exception:
    text = str(exc)
    if "MALFORMED_RECORD" in text or "CAST_INVALID_INPUT" in text or "NumberFormatException" in text:
        detail = next((line.strip() for line in text.splitlines() if "MALFORMED" in line or "CAST" in line), "")
        return InputError(f"{name}: unreadable values ({detail[:200]})")
    return exc


def _lap(start: float, name: str) -> float:
    seconds = round(time.perf_counter() - start, 3)
    log.info("%-12s %6.2f s", name, seconds)
    return seconds


def _jvm_peak_mb(spark: SparkSession) -> float | None:
    """The local JVM's peak resident memory (VmHWM), when it is a child of this process."""
    process = getattr(getattr(spark.sparkContext, "_gateway", None), "proc", None)
    status = Path(f"/proc/{process.pid}/status") if process is not None else None
    if status is None or not status.is_file():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None
