"""Parsing a spec's time column into local times (ISO 8601 or a strftime ``format``; naive or
tz-aware, converted to ``partitioning.time.timezone``) and naming local hours across DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ml_platform.specs.models import TimeSpec

_AWARE = r"(?:Z|[+-]\d\d(?::?\d\d)?)$"


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
