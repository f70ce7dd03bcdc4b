"""The flights features on Spark: the same rows, columns and values as
:func:`flights_delay.features.build_flight_features` (pandas), computed with Spark
DataFrames. Pure functions; the caller passes the ``SparkSession``.

Times are kept as minutes within the flight's scheduled day (``hour * 60 + minute``), never as
Spark timestamps, so no session time zone can shift a value. Congestion uses the same half-open
windows ``[query - w, query)`` as pandas, as differences of running sums within each (day, origin)
group (see :func:`congestion`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from flights_delay.features import CONGESTION_COLUMNS, WEATHER_COLUMNS

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


#: Marker kinds: a flight's query time and the window edges its features need (minutes from query).
_MARKERS = {"q": 0.0, "back_1h": -60.0, "back_3h": -180.0, "back_day": -1440.0, "ahead_1h": 60.0}
_SUMS = ("act_n", "act_delay", "act_late", "sched_n", "wait_n", "wait_sched", "done_n", "done_sched")


def congestion(flights: Any, lead_minutes: int) -> Any:
    """``_row`` + the congestion columns (see the pandas module for their meaning).

    Every windowed count or sum is a difference of running sums: within each (day, origin) group,
    events (a take-off at its actual time; a scheduled departure; the end of a wait) and markers (the
    query time and the window edges) are sorted together, markers before events at equal times, so
    the running sum at a marker covers exactly the events strictly before it. A flight "still waiting"
    at query time ``q`` is one whose wait ``(sched, min(sched + 3h, actual)]`` contains ``q``: waits
    started before ``q`` minus waits ended before ``q``. One sort per group: linear in the flights,
    where a self-join of each group grows with its square (~10^11 pairs at 30x the flights).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    lit0 = F.lit(0.0)
    base = flights.select(
        *DAY_KEYS,
        ROW,
        "carrier",
        F.col("_sched_min").alias("sched"),
        (F.col("_sched_min") - float(lead_minutes)).alias("query"),
        F.col("dep_delay").alias("delay"),
        (F.col("_sched_min") + F.col("dep_delay")).alias("actual"),
    )
    waits = F.col("actual").isNull() | (F.col("actual") > F.col("sched"))  # a non-empty wait

    def points(kind: Any, t: Any, prio: int, **values: Any) -> Any:
        return [
            *DAY_KEYS,
            "carrier",
            kind.alias("kind"),
            t.alias("t"),
            F.lit(prio).alias("prio"),
            *((values.get(name, lit0)).cast("double").alias(name) for name in _SUMS),
        ]

    took_off = base.where(F.col("actual").isNotNull()).select(
        *points(
            F.lit(None).cast("string"),
            F.col("actual"),
            1,
            act_n=F.lit(1.0),
            act_delay=F.col("delay"),
            act_late=(F.col("delay") > 15).cast("double"),
        ),
        F.lit(None).cast("long").alias("q_row"),
    )
    scheduled = base.select(
        *points(
            F.lit(None).cast("string"),
            F.col("sched"),
            1,
            sched_n=F.lit(1.0),
            wait_n=F.when(waits, 1.0).otherwise(0.0),
            wait_sched=F.when(waits, F.col("sched")).otherwise(0.0),
        ),
        F.lit(None).cast("long").alias("q_row"),
    )
    wait_end = F.least(F.col("sched") + 180.0, F.coalesce(F.col("actual"), F.col("sched") + 180.0))
    ended = base.where(waits).select(
        *points(F.lit(None).cast("string"), wait_end, 1, done_n=F.lit(1.0), done_sched=F.col("sched")),
        F.lit(None).cast("long").alias("q_row"),
    )
    marker = F.explode(
        F.array(
            *(F.struct(F.lit(k).alias("k"), (F.col("query") + dt).alias("at")) for k, dt in _MARKERS.items())
        )
    )
    markers = base.select(*DAY_KEYS, "carrier", ROW, marker.alias("m")).select(
        *points(F.col("m.k"), F.col("m.at"), 0), F.col(ROW).alias("q_row")
    )
    order = ("t", "prio")
    upto = (Window.unboundedPreceding, Window.currentRow)
    group = Window.partitionBy(*DAY_KEYS).orderBy(*order).rowsBetween(*upto)
    by_carrier = Window.partitionBy(*DAY_KEYS, "carrier").orderBy(*order).rowsBetween(*upto)
    running = (
        took_off.unionByName(scheduled)
        .unionByName(ended)
        .unionByName(markers)
        .select(
            "q_row",
            "prio",
            "kind",
            *(F.sum(c).over(group).alias(c) for c in _SUMS),
            F.sum("act_n").over(by_carrier).alias("carrier_n"),
            F.sum("act_delay").over(by_carrier).alias("carrier_delay"),
        )
        .where(F.col("prio") == 0)
    )
    wanted = {
        "q": [*_SUMS, "carrier_n", "carrier_delay"],
        "back_1h": ["act_n", "act_delay"],
        "back_3h": ["act_n", "act_delay", "act_late", "carrier_n", "carrier_delay"],
        "back_day": ["act_n", "act_delay"],
        "ahead_1h": ["sched_n"],
    }
    at = running.groupBy("q_row").agg(
        *(
            F.max(F.when(F.col("kind") == kind, F.col(c))).alias(f"{c}@{kind}")
            for kind, cols in wanted.items()
            for c in cols
        )
    )
    own = base.select(F.col(ROW).alias("q_row"), "query", "actual", "delay")
    row = at.join(own, "q_row")

    def between(c: str, edge: str) -> Any:  # events in [query + edge offset, query)
        return F.col(f"{c}@q") - F.col(f"{c}@{edge}")

    def self_in(minutes: float) -> Any:  # the flight's own take-off falls in its own window
        a, q = F.col("actual"), F.col("query")
        return F.when(a.isNotNull() & (a < q) & (a >= q - minutes), 1.0).otherwise(0.0)

    def mean_without_self(n: Any, total: Any, own_in: Any, own_value: Any) -> Any:
        count = n - own_in
        return F.when(count > 0, (total - own_in * own_value) / count)

    delay = F.coalesce(F.col("delay"), lit0)
    late = (delay > 15).cast("double")
    in_1h, in_3h, in_day = self_in(60.0), self_in(180.0), self_in(1440.0)
    waiting = F.col("wait_n@q") - F.col("done_n@q")
    waited = waiting * F.col("query") - (F.col("wait_sched@q") - F.col("done_sched@q"))
    return row.select(
        F.col("q_row").alias(ROW),
        (between("act_n", "back_1h") - in_1h).alias("origin_departed_1h"),
        mean_without_self(between("act_n", "back_1h"), between("act_delay", "back_1h"), in_1h, delay).alias(
            "origin_dep_delay_mean_1h"
        ),
        mean_without_self(between("act_n", "back_3h"), between("act_delay", "back_3h"), in_3h, delay).alias(
            "origin_dep_delay_mean_3h"
        ),
        mean_without_self(between("act_n", "back_3h"), between("act_late", "back_3h"), in_3h, late).alias(
            "origin_late_share_3h"
        ),
        waiting.alias("origin_pending_n"),
        F.when(waiting > 0, waited / waiting).alias("origin_pending_wait_mean"),
        mean_without_self(
            between("act_n", "back_day"), between("act_delay", "back_day"), in_day, delay
        ).alias("origin_day_delay_mean"),
        (F.col("sched_n@ahead_1h") - F.col("sched_n@q")).alias("origin_scheduled_next_1h"),
        mean_without_self(
            between("carrier_n", "back_3h"), between("carrier_delay", "back_3h"), in_3h, delay
        ).alias("carrier_origin_dep_delay_mean_3h"),
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


OUTPUT_COLUMNS = [
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


def typed(frame: Any, columns: Mapping[str, str], row: str) -> Any:
    """A Spark DataFrame's ``columns`` cast as :func:`to_spark` types them (NaN → NULL), with its
    row id column ``row`` as ``_row``: the same input whether the rows came from pandas or Parquet."""
    from pyspark.sql import functions as F

    kinds = {"str": "string", "double": "double", "long": "long"}

    def cast(name: str, kind: str) -> Any:
        c = F.col(name).cast(kinds[kind])
        return (F.when(~F.isnan(c), c) if kind == "double" else c).alias(name)

    return frame.select(*(cast(n, k) for n, k in columns.items()), F.col(row).cast("long").alias(ROW))


def flight_features_frame(flights: Any, weather: Any, planes: Any, lead_minutes: int = 0) -> Any:
    """The features as a Spark DataFrame keyed by ``_row`` (inputs as :func:`typed` gives them)."""
    from pyspark.sql import functions as F

    fl = _with_schedule(flights)
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
        base.join(weather_before_departure(fl, weather), ROW, "left")
        .join(plane_attributes(fl, planes), ROW, "left")
        .join(congestion(fl, lead_minutes), ROW, "left")
    )
    return out.select(ROW, *OUTPUT_COLUMNS)


def build_flight_features_frames(
    flights: Any, weather: Any, planes: Any, lead_minutes: int = 0, row: str = "_rid"
) -> Any:
    """Spark end to end: cleaned tables as Spark DataFrames (row id ``row`` each) in, the features
    keyed by ``row`` out, nothing collected."""
    out = flight_features_frame(
        typed(flights, FLIGHT_COLUMNS, row),
        typed(weather, WEATHER_INPUT, row),
        typed(planes, PLANE_INPUT, row),
        lead_minutes,
    )
    return out.withColumnRenamed(ROW, row)


def build_flight_features_spark(
    session: Any,
    flights: pd.DataFrame,
    weather: pd.DataFrame,
    planes: pd.DataFrame,
    lead_minutes: int = 0,
) -> pd.DataFrame:
    """Same output as the pandas builder (index aligned with ``flights``), computed on Spark."""
    fl = to_spark(session, flights, FLIGHT_COLUMNS)
    wx, pl = to_spark(session, weather, WEATHER_INPUT), to_spark(session, planes, PLANE_INPUT)
    out = flight_features_frame(fl, wx, pl, lead_minutes).toPandas()
    out = out.sort_values(ROW).set_index(ROW)
    out.index = flights.index[out.index.to_numpy()]
    return out[OUTPUT_COLUMNS].astype({"month": "int64"})
