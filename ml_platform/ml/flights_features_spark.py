"""The flights features on Spark: the same rows, columns and values as
:func:`ml_platform.ml.flights_features.build_flight_features` (pandas), computed with Spark
DataFrames. Pure functions; the caller passes the ``SparkSession``.

Times are kept as minutes within the flight's scheduled day (``hour * 60 + minute``), never as
Spark timestamps, so no session time zone can shift a value. Congestion is a self-join of each
(day, origin) group: every flight (as a query at prediction time) against every flight of the same
group (as an event), aggregated with the same half-open windows ``[query - w, query)`` as pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.ml.flights_features import CONGESTION_COLUMNS, WEATHER_COLUMNS

ROW = "_row"
DAY_KEYS = ["year", "month", "day", "origin"]


def to_spark(session: Any, frame: pd.DataFrame, columns: Mapping[str, str]) -> Any:
    """``frame[columns]`` as a Spark DataFrame with a ``_row`` position column. ``columns`` maps
    name → ``str`` | ``double`` | ``long``; missing values become SQL NULL (never NaN)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    kinds = {"str": T.StringType(), "double": T.DoubleType(), "long": T.LongType()}
    data: dict[str, Any] = {}
    for name, kind in columns.items():
        col = frame[name]
        if kind == "str":
            data[name] = col.astype(object).where(col.notna(), None)
        elif kind == "double":
            data[name] = col.astype("float64")
        else:
            data[name] = col.astype("int64")
    data[ROW] = np.arange(len(frame), dtype="int64")
    schema = T.StructType(
        [T.StructField(n, kinds[k], True) for n, k in columns.items()]
        + [T.StructField(ROW, T.LongType(), False)]
    )
    sdf = session.createDataFrame(pd.DataFrame(data), schema=schema)
    for name, kind in columns.items():
        if kind == "double":
            sdf = sdf.withColumn(name, F.when(F.isnan(name), None).otherwise(F.col(name)))
    return sdf


def _with_schedule(flights: Any) -> Any:
    from pyspark.sql import functions as F

    return flights.withColumn("_sched_min", (F.col("hour") * 60 + F.col("minute")).cast("double")).withColumn(
        "_date", F.make_date("year", "month", "day")
    )


def congestion(flights: Any, lead_minutes: int) -> Any:
    """``_row`` + the congestion columns (see the pandas module for their meaning)."""
    from pyspark.sql import functions as F

    base = flights.withColumn("_query", F.col("_sched_min") - float(lead_minutes)).withColumn(
        "_actual", F.col("_sched_min") + F.col("dep_delay")
    )
    q = base.select(*DAY_KEYS, F.col(ROW).alias("q_row"), F.col("carrier").alias("q_carrier"), "_query")
    e = base.select(
        *DAY_KEYS,
        F.col(ROW).alias("e_row"),
        F.col("carrier").alias("e_carrier"),
        F.col("_sched_min").alias("e_sched"),
        F.col("_actual").alias("e_actual"),
        F.col("dep_delay").alias("e_delay"),
    )
    query, actual, sched = F.col("_query"), F.col("e_actual"), F.col("e_sched")

    def departed_within(minutes: float) -> Any:
        return (
            actual.isNotNull()
            & (actual >= query - minutes)
            & (actual < query)
            & (F.col("e_row") != F.col("q_row"))
        )

    def count(cond: Any) -> Any:
        return F.sum(F.when(cond, 1.0).otherwise(0.0))

    def total(cond: Any, value: Any) -> Any:
        return F.sum(F.when(cond, value))

    w1, w3, wday = departed_within(60.0), departed_within(180.0), departed_within(1440.0)
    same_carrier = w3 & (F.col("e_carrier") == F.col("q_carrier"))
    pending = (sched >= query - 180.0) & (sched < query) & (actual.isNull() | (actual >= query))
    upcoming = (sched >= query) & (sched < query + 60.0)
    late = (F.col("e_delay") > 15).cast("double")
    agg = (
        q.join(e, DAY_KEYS)
        .groupBy("q_row")
        .agg(
            count(w1).alias("n1"),
            total(w1, F.col("e_delay")).alias("s1"),
            count(w3).alias("n3"),
            total(w3, F.col("e_delay")).alias("s3"),
            total(w3, late).alias("l3"),
            count(wday).alias("nd"),
            total(wday, F.col("e_delay")).alias("sd"),
            count(pending).alias("pn"),
            total(pending, query - sched).alias("pw"),
            count(upcoming).alias("next1"),
            count(same_carrier).alias("cn3"),
            total(same_carrier, F.col("e_delay")).alias("cs3"),
        )
    )

    def mean(s: str, n: str) -> Any:
        return F.when(F.col(n) > 0, F.col(s) / F.col(n))

    return agg.select(
        F.col("q_row").alias(ROW),
        F.col("n1").alias("origin_departed_1h"),
        mean("s1", "n1").alias("origin_dep_delay_mean_1h"),
        mean("s3", "n3").alias("origin_dep_delay_mean_3h"),
        mean("l3", "n3").alias("origin_late_share_3h"),
        F.col("pn").alias("origin_pending_n"),
        mean("pw", "pn").alias("origin_pending_wait_mean"),
        mean("sd", "nd").alias("origin_day_delay_mean"),
        F.col("next1").alias("origin_scheduled_next_1h"),
        mean("cs3", "cn3").alias("carrier_origin_dep_delay_mean_3h"),
    )


def weather_before_departure(flights: Any, weather: Any) -> Any:
    """``_row`` + ``wx_*``: origin weather of the hour before the scheduled departure hour."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    latest = Window.partitionBy("origin", "_obs_date", "_obs_hour").orderBy(F.col(ROW).desc())
    wx = (
        weather.withColumn("_obs_date", F.make_date("year", "month", "day"))
        .withColumn("_obs_hour", F.col("hour"))
        .withColumn("_rank", F.row_number().over(latest))
        .where(F.col("_rank") == 1)  # duplicate observations: the last delivered wins, as in pandas
        .select("origin", "_obs_date", "_obs_hour", *(F.col(c).alias(f"wx_{c}") for c in WEATHER_COLUMNS))
    )
    keys = flights.select(
        ROW,
        "origin",
        F.when(F.col("hour") == 0, F.date_sub("_date", 1)).otherwise(F.col("_date")).alias("_obs_date"),
        ((F.col("hour") + 23) % 24).alias("_obs_hour"),
    )
    return keys.join(wx, ["origin", "_obs_date", "_obs_hour"], "left").select(
        ROW, *(f"wx_{c}" for c in WEATHER_COLUMNS)
    )


def plane_attributes(flights: Any, planes: Any, year: int = 2013) -> Any:
    """``_row`` + plane age, seats and engines (first registry record per tail number)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    first = Window.partitionBy("tailnum").orderBy(ROW)
    reg = (
        planes.withColumn("_rank", F.row_number().over(first))
        .where(F.col("_rank") == 1)
        .select(
            "tailnum",
            (F.lit(float(year)) - F.col("year")).alias("plane_age"),
            F.col("seats").alias("plane_seats"),
            F.col("engines").alias("plane_engines"),
        )
    )
    return flights.select(ROW, "tailnum").join(reg, "tailnum", "left").drop("tailnum")


FLIGHT_COLUMNS = {
    "year": "long",
    "month": "long",
    "day": "long",
    "hour": "long",
    "minute": "long",
    "carrier": "str",
    "origin": "str",
    "dest": "str",
    "tailnum": "str",
    "distance": "double",
    "dep_delay": "double",
}
WEATHER_INPUT = {"origin": "str", "year": "long", "month": "long", "day": "long", "hour": "long"} | {
    c: "double" for c in WEATHER_COLUMNS
}
PLANE_INPUT = {"tailnum": "str", "year": "double", "seats": "double", "engines": "double"}


def build_flight_features_spark(
    session: Any,
    flights: pd.DataFrame,
    weather: pd.DataFrame,
    planes: pd.DataFrame,
    lead_minutes: int = 0,
) -> pd.DataFrame:
    """Same output as the pandas builder (index aligned with ``flights``), computed on Spark."""
    from pyspark.sql import functions as F

    fl = _with_schedule(to_spark(session, flights, FLIGHT_COLUMNS))
    base = fl.select(
        ROW,
        "carrier",
        "origin",
        "dest",
        "distance",
        (F.col("hour") + F.col("minute") / 60.0).alias("sched_hour"),
        F.weekday("_date").cast("double").alias("day_of_week"),
        "month",
    )
    out = (
        base.join(weather_before_departure(fl, to_spark(session, weather, WEATHER_INPUT)), ROW, "left")
        .join(plane_attributes(fl, to_spark(session, planes, PLANE_INPUT)), ROW, "left")
        .join(congestion(fl, lead_minutes), ROW, "left")
        .toPandas()
    )
    out = out.sort_values(ROW).set_index(ROW)
    out.index = flights.index[out.index.to_numpy()]
    columns = [
        "carrier",
        "origin",
        "dest",
        "distance",
        "sched_hour",
        "day_of_week",
        "month",
        *(f"wx_{c}" for c in WEATHER_COLUMNS),
        "plane_age",
        "plane_seats",
        "plane_engines",
        *CONGESTION_COLUMNS,
    ]
    return out[columns].astype({"month": "int64"})
