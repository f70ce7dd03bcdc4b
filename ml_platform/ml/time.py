"""A row's time and day from the spec's ``partitioning.time``: a date or datetime column (ISO 8601
or a strftime ``format``; naive or tz-aware, converted to the local ``timezone``) or year/month/day
parts; partition keys per granularity (daily, hourly, weekly); the wrong-day check against the delivery's ``_partition``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ml_platform.specs.models import ColumnSpec, TimeSpec

_AWARE = r"(?:Z|[+-]\d\d(?::?\d\d)?)$"
# the delivery day of a row, kept beside ``_partition`` when partitions are hours or weeks
DAY_COLUMN = "_day"


def _parse(values: pd.Series, time: TimeSpec) -> tuple[pd.Series, pd.Series]:
    """(naive local times, the same instants in UTC where the value said its offset, else NaT)."""
    zone = time.timezone or "UTC"
    utc = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        utc = values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        return utc.dt.tz_convert(zone).dt.tz_localize(None), utc
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]"), utc
    text = values.astype(object).where(values.isna(), values.astype(str).str.strip())
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    aware = text.notna() & text.astype(str).str.contains(_AWARE, regex=True)
    fmt = time.format or "ISO8601"
    if aware.any():
        utc[aware] = pd.to_datetime(text[aware], format=fmt, errors="coerce", utc=True)
    naive = text.notna() & ~aware
    if naive.any():
        parsed = pd.to_datetime(text[naive], format=fmt, errors="coerce")
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # a format with %z
            utc[naive] = parsed.dt.tz_convert("UTC")
        else:
            out[naive] = parsed
    return out.where(utc.isna(), utc.dt.tz_convert(zone).dt.tz_localize(None)), utc


def parse_times(values: pd.Series, time: TimeSpec) -> pd.Series:
    """Naive local datetimes (NaT where a value is missing or does not parse).

    Aware values (an offset or ``Z``, or a tz-aware dtype) are converted to ``time.timezone`` (UTC
    when none is given); naive values are taken as local time already."""
    return _parse(values, time)[0]


def local_instants(values: pd.Series, time: TimeSpec) -> pd.Series:
    """The instants of ``values`` in ``time.timezone`` (tz-aware). A naive local time that a DST
    change repeats (ambiguous) or skips (it does not exist there) is NaT: it names no one instant."""
    zone = time.timezone or "UTC"
    local, utc = _parse(values, time)
    out = local.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    return out.where(utc.isna(), utc.dt.tz_convert(zone))


def _offsets(zone: ZoneInfo, wall: dt.datetime) -> tuple[dt.timedelta, dt.timedelta]:
    return wall.replace(tzinfo=zone, fold=0).utcoffset(), wall.replace(tzinfo=zone, fold=1).utcoffset()  # type: ignore[return-value]


def hour_keys(values: pd.Series, time: TimeSpec) -> pd.Series:
    """Dagster hourly partition keys of each value's local hour in ``time.timezone``, named as
    ``HourlyPartitionsDefinition(timezone=...)`` names them: ``YYYY-MM-DD-HH:MM``, and for the second
    pass of an hour repeated when clocks go back its UTC offset too (``2013-11-03-01:00-0500``). A
    DST spring-forward day has 23 keys, a fall-back day 25. NaN where the instant is unknown
    (unparsable, or a naive time the change makes ambiguous or skips: see :func:`dst_reason`)."""
    instants = local_instants(values, time)
    local = instants.dt.tz_localize(None)
    floor = local.dt.floor("h")
    keys = floor.dt.strftime("%Y-%m-%d-%H:%M")
    if time.timezone is None or not floor.notna().any():
        return keys
    zone = ZoneInfo(time.timezone)
    offset = local - instants.dt.tz_convert("UTC").dt.tz_localize(None)
    pairs = pd.DataFrame({"floor": floor, "offset": offset}).dropna().drop_duplicates()
    second: list[tuple[pd.Timestamp, pd.Timedelta]] = []
    for wall, off in zip(pairs["floor"], pairs["offset"], strict=True):
        first, later = _offsets(zone, wall.to_pydatetime())
        if first > later and off == later:  # the repeated hour, after the clocks went back
            second.append((wall, off))
    if second:
        repeated = pd.MultiIndex.from_frame(pd.DataFrame({"floor": floor, "offset": offset}))
        hit = repeated.isin(second)
        suffix = pd.Series([_utc_offset(o) for o in offset[hit]], index=keys.index[hit])
        keys = keys.where(~hit, keys + suffix.reindex(keys.index, fill_value=""))
    return keys


def _utc_offset(offset: pd.Timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def dst_reason(column: str, values: pd.Series, time: TimeSpec) -> dict[int, str]:
    """Row position → reason, for naive local times that name no hour in ``time.timezone``: one
    a DST change repeats (which pass is meant is unknown) or skips."""
    if time.timezone is None:
        return {}
    local, utc = _parse(values, time)
    naive = local.notna() & utc.isna()
    if not naive.any():
        return {}
    zone = time.timezone
    ambiguous = local.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward").isna() & naive
    missing = local.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").isna()
    out: dict[int, str] = {}
    for i in np.flatnonzero((naive & missing).to_numpy()):
        what = (
            "is repeated when clocks go back (give its UTC offset)"
            if ambiguous.iloc[i]
            else "does not exist (clocks skip it)"
        )
        out[int(i)] = f"{column}: local time {local.iloc[i]} {what} in {zone}"
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
    same_day = times.dt.strftime("%Y-%m-%d") == out[DAY_COLUMN]
    keyed = own.where(same_day & own.notna(), fallback)
    if granularity == "hourly":
        keyed = keyed.where(delivered.str.len() <= 10, delivered)
    out[partition_column] = keyed
    return out


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
