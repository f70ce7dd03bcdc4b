"""A row's time and day from the spec's ``partitioning.time``: a date or datetime column (ISO 8601
or a strftime ``format``; naive or tz-aware, converted to the local ``timezone``) or year/month/day
parts; the wrong-day check against the delivery's ``_partition``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml_platform.specs.models import ColumnSpec, TimeSpec

_AWARE = r"(?:Z|[+-]\d\d(?::?\d\d)?)$"


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
    delivered = typed[partition_column].astype(str).str[:10]
    wrong = day.notna() & typed[partition_column].notna() & (day != delivered)
    label = "/".join(time.parts) if time.parts is not None else str(time.column)
    zone = f" ({time.timezone})" if time.timezone else ""
    return {
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
