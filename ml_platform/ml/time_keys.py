"""Partition keys per granularity (daily, hourly, weekly) from local times, the delivery days they
cover, and keying rows delivered per day by their hour or week."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ml_platform.ml.local_time import hour_keys, parse_times
from ml_platform.specs.models import TimeSpec

# the delivery day of a row, kept beside ``_partition`` when partitions are hours or weeks
DAY_COLUMN = "_day"

GRANULARITIES = ("daily", "hourly", "weekly")


def formatted(times: pd.Series, fmt: str) -> pd.Series:
    """``times.dt.strftime(fmt)`` with each distinct time formatted once: rows share few days or
    hours, and formatting is per value (a year of flights: 1.1 s → 0.03 s). NaN where NaT."""
    codes, uniques = pd.factorize(times)
    labels = np.asarray(pd.DatetimeIndex(uniques).strftime(fmt), dtype=object)
    values = np.empty(len(codes), dtype=object)
    known = codes >= 0
    values[known] = labels[codes[known]]
    values[~known] = np.nan
    return pd.Series(values, index=times.index, name=times.name, dtype=object)


def partition_keys(times: pd.Series, granularity: str) -> pd.Series:
    """Dagster partition keys of local times: ``YYYY-MM-DD`` (daily; weekly: the week's Monday) or
    ``YYYY-MM-DD-HH:MM`` (hourly); NaN where the time is unknown."""
    if granularity == "hourly":
        return formatted(times.dt.floor("h"), "%Y-%m-%d-%H:%M")
    if granularity == "weekly":
        monday = times.dt.normalize() - pd.to_timedelta(times.dt.weekday, unit="D")
        return formatted(monday, "%Y-%m-%d")
    return formatted(times, "%Y-%m-%d")


def days_of_keys(keys: list[str], granularity: str) -> list[dt.date]:
    """The delivery days partition ``keys`` cover, in order (a week: its seven days; an hour: its day)."""
    days: dict[dt.date, None] = {}
    for key in keys:
        first = dt.date.fromisoformat(key[:10])
        for offset in range(7 if granularity == "weekly" else 1):
            days[first + dt.timedelta(days=offset)] = None
    return list(days)


def keys_of_days(days: list[str], keys: list[str], granularity: str) -> dict[str, list[str]]:
    """Delivery day → the partition keys (of ``keys``) it holds rows for."""
    by_day: dict[str, list[str]] = {}
    for key in keys:
        for day in days_of_keys([key], granularity):
            by_day.setdefault(day.isoformat(), []).append(key)
    return {d: by_day.get(d, []) for d in days}


def assign_partition_keys(
    frame: pd.DataFrame, time: TimeSpec, granularity: str, partition_column: str
) -> pd.DataFrame:
    """Rows delivered per day (``partition_column`` = the day) keyed by hour or week: the delivery
    day moves to ``_day`` and ``partition_column`` becomes the row's partition key (hours as
    :func:`hour_keys` names them). A row whose time is unreadable or names another day keeps its
    delivery day's first key, so cleaning quarantines it in this run (the wrong-day check reads
    ``_day``). Rows delivered for one hour (``partition_column`` an hour key) keep that key: the
    wrong-hour check of cleaning compares it with the row's own hour."""
    out = frame.copy()
    delivered = out[partition_column].astype(str)
    out[DAY_COLUMN] = delivered.str[:10]
    if time.parts is not None:
        times = pd.to_datetime(
            {
                n: pd.to_numeric(out[c], errors="coerce")
                for n, c in zip(("year", "month", "day"), time.parts, strict=True)
            },
            errors="coerce",
        )
    else:
        times = parse_times(out[str(time.column)], time)
    if granularity == "hourly" and time.column is not None:
        own = hour_keys(out[str(time.column)], time)
    else:
        own = partition_keys(times, granularity)
    fallback = partition_keys(pd.to_datetime(out[DAY_COLUMN]), granularity)
    same_day = formatted(times, "%Y-%m-%d") == out[DAY_COLUMN]
    keyed = own.where(same_day & own.notna(), fallback)
    if granularity == "hourly":
        keyed = keyed.where(delivered.str.len() <= 10, delivered)
    out[partition_column] = keyed
    return out
