"""A row's time and day from the spec's ``partitioning.time`` (a date or datetime column, or
year/month/day parts) and the checks of cleaning against the delivery: wrong day, wrong hour, an
unparsable value. Parsing is :mod:`ml_platform.ml.local_time`, keys :mod:`ml_platform.ml.time_keys`;
both are re-exported here."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml_platform.ml.local_time import dst_reason, hour_keys, local_instants, parse_times
from ml_platform.ml.time_keys import (
    DAY_COLUMN,
    GRANULARITIES,
    assign_partition_keys,
    days_of_keys,
    formatted,
    keys_of_days,
    partition_keys,
)
from ml_platform.specs.models import ColumnSpec, TimeSpec


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
    day = formatted(row_times(typed, time), "%Y-%m-%d")
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


def wrong_hour(raw: pd.DataFrame, time: TimeSpec, partition_column: str) -> dict[int, str]:
    """Row position → reason, for hourly partitions: a row delivered for another local hour than
    its own (hours of one day: another day is the wrong-day check's), or a naive local time that a
    DST change repeats or skips (it names no one hour)."""
    column = str(time.column)
    own = hour_keys(raw[column], time)
    key = raw[partition_column].astype(str)
    day = DAY_COLUMN if DAY_COLUMN in raw else partition_column
    same_day = own.str[:10] == raw[day].astype(str).str[:10]
    wrong = own.notna() & raw[partition_column].notna() & same_day & (own != key)
    zone = f" ({time.timezone})" if time.timezone else ""
    return dst_reason(column, raw[column], time) | {
        int(i): f"{column}: not the partition's hour{zone}: {own.iloc[i]} in partition {key.iloc[i]}"
        for i in np.flatnonzero(wrong.to_numpy())
    }


__all__ = [
    "DAY_COLUMN",
    "GRANULARITIES",
    "assign_partition_keys",
    "coerce",
    "days_of_keys",
    "dst_reason",
    "hour_keys",
    "invalid_reason",
    "keys_of_days",
    "local_instants",
    "parse_times",
    "partition_keys",
    "row_times",
    "wrong_day",
    "wrong_hour",
]
