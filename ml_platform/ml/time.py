"""A row's time and day from the spec's ``partitioning.time``: a date or datetime column (ISO 8601
or a strftime ``format``; naive or tz-aware, converted to the local ``timezone``) or year/month/day
parts; partition keys per granularity (daily, hourly, weekly); the wrong-day check against the delivery's ``_partition``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ml_platform.specs.models import ColumnSpec, TimeSpec

_AWARE = r"(?:Z|[+-]\d\d(?::?\d\d)?)$"
# the delivery day of a row, kept beside ``_partition`` when partitions are hours or weeks
DAY_COLUMN = "_day"


def parse_times(values: pd.Series, time: TimeSpec) -> pd.Series:
    """Naive local datetimes (NaT where a value is missing or does not parse).

    Aware values (an offset or ``Z``, or a tz-aware dtype) are converted to ``time.timezone`` (UTC
    when none is given); naive values are taken as local time already."""
    zone = time.timezone or "UTC"
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(zone).dt.tz_localize(None).astype("datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")
    text = values.astype(object).where(values.isna(), values.astype(str).str.strip())
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    aware = text.notna() & text.astype(str).str.contains(_AWARE, regex=True)
    fmt = time.format or "ISO8601"
    if aware.any():
        parsed = pd.to_datetime(text[aware], format=fmt, errors="coerce", utc=True)
        out[aware] = parsed.dt.tz_convert(zone).dt.tz_localize(None)
    naive = text.notna() & ~aware
    if naive.any():
        parsed = pd.to_datetime(text[naive], format=fmt, errors="coerce")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # a format with %z
            parsed = parsed.dt.tz_convert(zone).dt.tz_localize(None)
        out[naive] = parsed
    return out


def invalid_reason(column: str, value: object, time: TimeSpec) -> str:
    """The quarantine reason for a time value that does not parse (names column, value and format)."""
    expected = f"format '{time.format}'" if time.format else "ISO 8601 (set partitioning.time.format)"
    return f"{column}: not a valid time for {expected}: {value!r}"


def row_times(frame: pd.DataFrame, time: TimeSpec) -> pd.Series:
    """Each row's local time (midnight for dates and year/month/day parts); NaT where unknown."""
    if time.parts is not None:
        y, m, d = time.parts
        parts = {"year": frame[y], "month": frame[m], "day": frame[d]}
        return pd.to_datetime(parts, errors="coerce").astype("datetime64[ns]")
    return parse_times(frame[str(time.column)], time)


def wrong_day(typed: pd.DataFrame, time: TimeSpec, partition_column: str) -> dict[int, str]:
    """Row position → reason, for rows whose local day is not the day of the delivery they came in."""
    day = row_times(typed, time).dt.strftime("%Y-%m-%d")
    column = DAY_COLUMN if DAY_COLUMN in typed else partition_column
    delivered = typed[column].astype(str).str[:10]
    wrong = day.notna() & typed[column].notna() & (day != delivered)
    label = "/".join(time.parts) if time.parts is not None else str(time.column)
    zone = f" ({time.timezone})" if time.timezone else ""
    out: dict[int, str] = {}
    if time.parts is not None:  # numbers that name no day, e.g. 2024-02-30
        y, m, d = time.parts
        impossible = day.isna() & typed[[y, m, d]].notna().all(axis=1)
        out = {
            int(i): f"{label}: not a valid date: "
            f"{typed[y].iloc[i]:.0f}-{typed[m].iloc[i]:.0f}-{typed[d].iloc[i]:.0f}"
            for i in np.flatnonzero(impossible.to_numpy())
        }
    return out | {
        int(i): f"{label}: not the partition's day{zone}: {day.iloc[i]} in partition "
        f"{typed[partition_column].iloc[i]}"
        for i in np.flatnonzero(wrong.to_numpy())
    }


def coerce(values: pd.Series, col: ColumnSpec, time: TimeSpec) -> pd.Series:
    """A time column as cleaned data holds it: ``str`` columns keep their text (NaN where it does
    not parse, so the row is quarantined), ``date`` columns midnight, ``datetime`` local times."""
    parsed = parse_times(values, time)
    if col.dtype == "str":
        text = values.astype(object).where(values.isna(), values.astype(str))
        return text.where(parsed.notna(), np.nan)
    return parsed.dt.normalize() if col.dtype == "date" else parsed


GRANULARITIES = ("daily", "hourly", "weekly")


def partition_keys(times: pd.Series, granularity: str) -> pd.Series:
    """Dagster partition keys of local times: ``YYYY-MM-DD`` (daily; weekly: the week's Monday) or
    ``YYYY-MM-DD-HH:MM`` (hourly); NaN where the time is unknown."""
    if granularity == "hourly":
        return times.dt.floor("h").dt.strftime("%Y-%m-%d-%H:%M")
    if granularity == "weekly":
        monday = times.dt.normalize() - pd.to_timedelta(times.dt.weekday, unit="D")
        return monday.dt.strftime("%Y-%m-%d")
    return times.dt.strftime("%Y-%m-%d")


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
    day moves to ``_day`` and ``partition_column`` becomes the row's partition key. A row whose time
    is unreadable or names another day keeps its delivery day's first key, so cleaning quarantines
    it in this run (the wrong-day check reads ``_day``)."""
    out = frame.copy()
    out[DAY_COLUMN] = out[partition_column].astype(str)
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
    own = partition_keys(times, granularity)
    fallback = partition_keys(pd.to_datetime(out[DAY_COLUMN]), granularity)
    same_day = times.dt.strftime("%Y-%m-%d") == out[DAY_COLUMN]
    out[partition_column] = own.where(same_day & own.notna(), fallback)
    return out
