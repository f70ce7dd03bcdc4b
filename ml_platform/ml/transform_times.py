"""Times of ``features.transforms`` on pandas: float64 seconds since 1970-01-01 of a row's wall-clock
time (NaN where unknown), the same numbers the Spark engine computes. ``_rid`` is each table's row
position, the tie-breaker between events at the same instant."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml_platform.specs.transforms import TimeRef

RID = "_rid"
DAY = 86400.0
FLOOR_SECONDS = {"minute": 60.0, "hour": 3600.0, "day": DAY}
UNIT = {"year": 0, "month": 0, "day": 0, "hour": 3600, "minute": 60, "second": 1}


def time_seconds(frame: pd.DataFrame, ref: TimeRef) -> pd.Series:
    """Wall-clock seconds of ``ref`` per row (NaN where unknown)."""
    if ref.column is not None:
        ts = frame[ref.column]
        if not pd.api.types.is_datetime64_any_dtype(ts):
            ts = pd.to_datetime(ts, errors="coerce", format="ISO8601")
        if isinstance(ts.dtype, pd.DatetimeTZDtype):
            ts = ts.dt.tz_convert(ref.timezone or "UTC").dt.tz_localize(None)
        days = (ts.dt.floor("D") - pd.Timestamp(0)) / pd.Timedelta(days=1)
        seconds = days * DAY + ts.dt.hour * 3600.0 + ts.dt.minute * 60.0 + ts.dt.second
    else:
        parts = ref.parts or {}
        date = pd.to_datetime(
            pd.DataFrame({k: frame[parts[k]] for k in ("year", "month", "day")}), errors="coerce"
        )
        seconds = (date - pd.Timestamp(0)) / pd.Timedelta(days=1) * DAY
        for part, unit in UNIT.items():
            if unit and part in parts:
                seconds = seconds + pd.to_numeric(frame[parts[part]], errors="coerce") * unit
    seconds = seconds.astype(float) + 60.0 * (ref.plus_minutes - ref.minus_minutes)
    if ref.plus_minutes_column is not None:
        seconds = seconds + np.trunc(pd.to_numeric(frame[ref.plus_minutes_column], errors="coerce") * 60.0)
    return pd.Series(seconds.to_numpy(dtype=float), index=frame.index)
