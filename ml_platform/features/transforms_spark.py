"""The Spark engine of ``features.transforms``: the same transforms and values as ``ml/transforms.py``
as Spark DataFrame operations (``run_transforms_spark``: Spark in, Spark out, nothing collected), and
a pandas-in/pandas-out wrapper for the feature builder contract. pyspark is imported on first use.

Times are the same float seconds of wall-clock time, read in the session time zone; windows and
as-of joins are range joins on the entity keys, ranked by (time, ``_rid``) like the pandas engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.ml.expressions import Node, parse
from ml_platform.ml.transforms import FLOOR_SECONDS, RID, UNIT
from ml_platform.specs.transforms import (
    Bucket,
    DatetimeParts,
    Expression,
    Lag,
    LookupJoin,
    Missing,
    Rolling,
    TimeRef,
)


def _F() -> Any:
    from pyspark.sql import functions

    return functions


def time_seconds(df: Any, ref: TimeRef) -> Any:
    """A double column: wall-clock seconds of ``ref`` (null where unknown)."""
    F = _F()
    if ref.column is not None:
        ts = F.col(ref.column)
        if dict(df.dtypes)[ref.column] == "string":
            ts = F.try_to_timestamp(ts)
        if ref.timezone is not None:  # instants → wall time there (sessions run in UTC)
            ts = F.from_utc_timestamp(ts, ref.timezone)
        seconds = F.unix_date(F.to_date(ts)) * 86400 + F.hour(ts) * 3600 + F.minute(ts) * 60 + F.second(ts)
    else:
        parts = ref.parts or {}
        date = F.make_date(*(F.col(parts[k]).cast("int") for k in ("year", "month", "day")))
        seconds = F.unix_date(date) * 86400
        for part, unit in UNIT.items():
            if unit and part in parts:
                seconds = seconds + F.col(parts[part]).cast("double") * unit
    seconds = seconds.cast("double") + 60.0 * (ref.plus_minutes - ref.minus_minutes)
    if ref.plus_minutes_column is not None:
        seconds = (
            seconds
            + F.col(ref.plus_minutes_column).cast("double") * 60.0
            - (F.col(ref.plus_minutes_column).cast("double") * 60.0 % 1.0)
        )
    return seconds


def _datetime_parts(df: Any, t: DatetimeParts) -> Any:
    F = _F()
    s = time_seconds(df, t.time)
    days = F.floor(s / 86400)
    date = F.date_from_unix_date(days.cast("int"))
    of_day = s - days * 86400
    values = {
        "year": F.year(date),
        "month": F.month(date),
        "day": F.dayofmonth(date),
        "weekday": F.weekday(date),
        "hour": F.floor(of_day / 3600),
        "minute": F.floor(of_day % 3600 / 60),
        "day_of_year": F.dayofyear(date),
        "is_weekend": (F.weekday(date) >= 5).cast("double"),
    }
    return df.select(
        "*", *(values[p].cast("double").alias(n) for p, n in zip(t.parts, t.outputs(), strict=True))
    )


def _lookup_join(df: Any, lookup: Any, t: LookupJoin, when: Any) -> Any:
    F = _F()
    from pyspark.sql import Window

    keys = [f"__k{i}" for i in range(len(t.keys))]
    rkeys = [f"__r{i}" for i in range(len(t.keys))]
    types = dict(lookup.dtypes)
    outs = [
        (F.col(src).cast("double") if types[src] not in ("string", "boolean") else F.col(src)).alias(out)
        for src, out in t.columns.items()
    ]
    extra = [time_seconds(lookup, t.as_of.time).alias("__lt")] if t.as_of else []
    right = lookup.select(
        *(F.col(c).alias(k) for k, c in zip(rkeys, t.keys.values(), strict=True)),
        *outs,
        *extra,
        F.col(RID).alias("__lrid"),
    ).dropna(subset=rkeys)
    order = F.col("__lrid").desc() if t.duplicates == "last" else F.col("__lrid").asc()
    query = [F.col("__when").alias("__q")] if t.as_of else []
    left = df.select(
        F.col(RID).alias("__qrid"), *(F.col(c).alias(k) for k, c in zip(keys, t.keys, strict=True)), *query
    )
    cond = _all(F.col(k) == F.col(r) for k, r in zip(keys, rkeys, strict=True))
    if t.as_of is None:
        rank = Window.partitionBy(*rkeys).orderBy(order)
        right = right.withColumn("__rn", F.row_number().over(rank)).where("__rn = 1")
        matched = left.join(right, cond, "inner")
    else:
        assert when is not None
        unit = FLOOR_SECONDS.get(t.as_of.floor or "", 0.0)
        if unit:
            left = left.withColumn("__q", F.floor(F.col("__q") / unit) * unit)
        cond = cond & (F.col("__lt") < F.col("__q"))
        if t.as_of.max_age_minutes is not None:
            cond = cond & (F.col("__q") - F.col("__lt") <= float(t.as_of.max_age_minutes * 60))
        rank = Window.partitionBy("__qrid").orderBy(F.col("__lt").desc(), order)
        matched = (
            left.join(right, cond, "inner").withColumn("__rn", F.row_number().over(rank)).where("__rn = 1")
        )
    matched = matched.select(F.col("__qrid"), *(F.col(c) for c in t.outputs()))
    return _back(df, matched)


def _all(conditions: Any) -> Any:
    out = None
    for c in conditions:
        out = c if out is None else out & c
    return out if out is not None else _F().lit(True)


def _back(df: Any, got: Any) -> Any:
    """``df`` left-joined with per-row results keyed by ``__qrid``."""
    F = _F()
    return df.join(got, F.col(RID) == F.col("__qrid"), "left").drop("__qrid")


def _windowed(df: Any, events: Any, t: Lag | Rolling, when: Any, own: bool) -> Any:
    F = _F()
    from pyspark.sql import Window

    keys = [f"__k{i}" for i in range(len(t.keys))]
    ekeys = [f"__e{i}" for i in range(len(t.keys))]
    ev = events.select(
        *(F.col(c).alias(k) for k, c in zip(ekeys, t.keys.values(), strict=True)),
        time_seconds(events, t.time).alias("__et"),
        F.col(t.value).cast("double").alias("__v"),
        F.col(RID).alias("__erid"),
    ).dropna()
    q = df.select(
        F.col(RID).alias("__qrid"),
        *(F.col(c).alias(k) for k, c in zip(keys, t.keys, strict=True)),
        when.alias("__q"),
    ).dropna()
    cond = _all(F.col(k) == F.col(e) for k, e in zip(keys, ekeys, strict=True)) & (
        F.col("__et") < F.col("__q")
    )
    if own:
        cond = cond & (F.col("__erid") != F.col("__qrid"))
    if isinstance(t, Rolling):
        cond = cond & (F.col("__et") >= F.col("__q") - float(t.window_minutes * 60))
    elif t.max_age_minutes is not None:
        cond = cond & (F.col("__q") - F.col("__et") <= float(t.max_age_minutes * 60))
    pairs = q.join(ev, cond, "inner")
    if isinstance(t, Lag):
        rank = Window.partitionBy("__qrid").orderBy(F.col("__et").desc(), F.col("__erid").desc())
        got = pairs.withColumn("__rn", F.row_number().over(rank)).where(F.col("__rn") == t.n)
        return _back(df, got.select("__qrid", F.col("__v").alias(t.name)))
    aggs = {
        "count": F.count("__v"),
        "mean": F.avg("__v"),
        "sum": F.sum("__v"),
        "min": F.min("__v"),
        "max": F.max("__v"),
        "std": F.stddev_samp("__v"),
    }
    got = pairs.groupBy("__qrid").agg(*(aggs[a].cast("double").alias(n) for a, n in t.aggs.items()))
    out = _back(df, got)
    zero = [n for a, n in t.aggs.items() if a in ("count", "sum")]
    return out.fillna(0.0, subset=zero) if zero else out


def expression_column(node: Node) -> Any:
    """The Spark column of a parsed expression, with ``ml/expressions.py``'s semantics."""
    F = _F()
    if node.op == "col":
        return F.col(node.value).cast("double")
    if node.op == "num":
        return F.lit(float(node.value))
    args = [expression_column(a) for a in node.args]
    if node.op == "neg":
        return -args[0]
    if node.op == "abs":
        return F.abs(args[0])
    if node.op == "log":
        return F.when(args[0] > 0, F.log(args[0]))
    if node.op == "sqrt":
        return F.when(args[0] >= 0, F.sqrt(args[0]))
    a, b = args
    if node.op == "/":
        return F.when(b != 0, a / b)
    if node.op == "**":
        r = F.pow(a, b)
        return F.when(~F.isnan(r) & (F.abs(r) != float("inf")), r)
    ops = {"+": a + b, "-": a - b, "*": a * b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}
    ops |= {"==": a == b, "!=": a != b}
    result = ops[node.op]
    return result if node.op in "+-*" else result.cast("double")


def _bucket(df: Any, t: Bucket) -> Any:
    F = _F()
    x = F.col(t.column).cast("double")
    index = sum((F.when(x >= float(e), 1).otherwise(0) for e in t.edges), F.lit(0))
    column = F.when(x.isNotNull(), index.cast("double"))
    if t.labels is not None:
        column = F.element_at(F.array(*(F.lit(v) for v in t.labels)), index.cast("int") + 1)
        column = F.when(x.isNotNull(), column)
    return df.withColumn(t.name, column)


def _missing(df: Any, outputs: list[str], missing: Missing) -> Any:
    F = _F()
    if missing.policy == "keep":
        return df
    if missing.policy == "indicator":
        df = df.select("*", *(F.col(c).isNull().cast("double").alias(f"{c}_missing") for c in outputs))
    if missing.value is not None:
        df = df.fillna({c: missing.value for c in outputs})
    return df


def run_transforms_spark(
    df: Any, tables: Mapping[str, Any], transforms: Sequence[object], prediction_time: TimeRef | None
) -> Any:
    """Spark DataFrames (each with a ``_rid`` column) in; ``df`` plus every transform's outputs out."""
    F = _F()
    when = time_seconds(df, prediction_time) if prediction_time is not None else None
    if when is not None:  # computed once on the main table, carried along as a column
        df, when = df.withColumn("__when", when), F.col("__when")
    for t in transforms:
        if isinstance(t, DatetimeParts):
            df = _datetime_parts(df, t)
        elif isinstance(t, LookupJoin):
            df = df.localCheckpoint(eager=False)  # read twice below: keep it rather than recompute
            df = _lookup_join(df, tables[t.table], t, when)
        elif isinstance(t, Lag | Rolling):
            df = df.localCheckpoint(eager=False)  # read up to three times below
            df = _windowed(df, df if t.table is None else tables[t.table], t, when, t.table is None)
        elif isinstance(t, Expression):
            df = df.withColumn(t.name, expression_column(parse(t.expr)))
        elif isinstance(t, Bucket):
            df = _bucket(df, t)
        else:
            raise TypeError(f"unknown transform {t!r}")
        nan_free = [
            F.when(~F.isnan(c), F.col(c)).alias(c) if dict(df.dtypes)[c] == "double" else F.col(c)
            for c in t.outputs()
        ]
        df = _missing(
            df.select(*(c for c in df.columns if c not in t.outputs()), *nan_free), t.outputs(), t.missing
        )
    return df.drop("__when")


def run_transforms_spark_pandas(
    session: Any,
    main: pd.DataFrame,
    aux: Mapping[str, pd.DataFrame],
    transforms: Sequence[object],
    prediction_time: TimeRef | None,
) -> pd.DataFrame:
    """The feature-builder contract on Spark: pandas in, the same frame as the pandas engine out."""

    def to_spark(frame: pd.DataFrame) -> Any:
        return session.createDataFrame(frame.reset_index(drop=True).assign(**{RID: np.arange(len(frame))}))

    out = run_transforms_spark(
        to_spark(main), {n: to_spark(t) for n, t in aux.items()}, transforms, prediction_time
    )
    # The pandas builder contract hands features back as pandas, so this collects the run's rows to
    # the driver: fine for a day or a month. The features asset does not take this path for builders
    # with `spark_frames` (Spark reads and writes the files itself, nothing collected; docs/features.md).
    result = out.toPandas().sort_values(RID).drop(columns=RID)
    result.index = main.index
    return result
