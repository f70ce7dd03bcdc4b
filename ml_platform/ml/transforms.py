"""The pandas engine of ``features.transforms`` (pure; the Spark engine mirrors it).

Times are float64 seconds since 1970-01-01 of the rows' wall-clock time (missing: NaN), so both
engines compare the same numbers. Every table carries ``_rid``, its row position: ties between
events at the same instant are broken by it, and on the main table a row is never its own event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ml_platform.ml.expressions import evaluate_pandas, parse
from ml_platform.ml.transform_times import DAY, FLOOR_SECONDS, RID, UNIT, time_seconds
from ml_platform.ml.transform_windows import windowed

__all__ = ["DAY", "FLOOR_SECONDS", "RID", "UNIT", "frame_checksum", "run_transforms", "time_seconds"]
from ml_platform.specs.transforms import (
    AsOf,
    Bucket,
    DatetimeParts,
    Expression,
    Lag,
    LookupJoin,
    Missing,
    Rolling,
    TimeRef,
)


def datetime_parts(seconds: pd.Series, t: DatetimeParts) -> pd.DataFrame:
    ts = pd.to_datetime(seconds, unit="s")
    weekday = ts.dt.dayofweek.astype(float)
    values = {
        "year": ts.dt.year,
        "month": ts.dt.month,
        "day": ts.dt.day,
        "weekday": weekday,
        "hour": ts.dt.hour,
        "minute": ts.dt.minute,
        "day_of_year": ts.dt.dayofyear,
        "is_weekend": (weekday >= 5).astype(float).where(weekday.notna()),
    }
    return pd.DataFrame(
        {name: values[p].astype(float) for p, name in zip(t.parts, t.outputs(), strict=True)},
        index=seconds.index,
    )


def _numeric_or_as_is(column: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    return column.astype(object).where(column.notna(), None)


def lookup_join(
    main: pd.DataFrame, lookup: pd.DataFrame, t: LookupJoin, when: pd.Series | None
) -> pd.DataFrame:
    """``t.columns`` of the matching lookup row per main row (the latest known one, for ``as_of``)."""
    keys = [f"__k{i}" for i in range(len(t.keys))]
    left = pd.DataFrame({k: main[c].to_numpy() for k, c in zip(keys, t.keys, strict=True)})
    left[RID] = np.arange(len(main))
    right = pd.DataFrame({k: lookup[c].to_numpy() for k, c in zip(keys, t.keys.values(), strict=True)})
    for src, out in t.columns.items():
        right[out] = _numeric_or_as_is(lookup[src]).to_numpy()
    right[RID] = lookup[RID].to_numpy()
    if t.as_of is not None:
        right["__t"] = time_seconds(lookup, t.as_of.time).to_numpy()
    right = right.dropna(subset=keys)
    if t.as_of is None:
        right = right.sort_values(RID).drop_duplicates(keys, keep=t.duplicates)
        joined = left.merge(right.drop(columns=RID), on=keys, how="left")
    else:
        assert when is not None
        joined = _as_of(left, right, keys, t.as_of, when, t.duplicates)
    joined = joined.sort_values(RID)
    return pd.DataFrame({c: _numeric_or_as_is(joined[c]).to_numpy() for c in t.outputs()}, index=main.index)


def _as_of(
    left: pd.DataFrame,
    right: pd.DataFrame,
    keys: list[str],
    as_of: AsOf,
    when: pd.Series,
    duplicates: str,
) -> pd.DataFrame:
    unit = FLOOR_SECONDS.get(as_of.floor or "", 0.0)
    query = np.floor(when.to_numpy() / unit) * unit if unit else when.to_numpy()
    left = left.assign(__t=query)
    right = right.dropna(subset=["__t"]).sort_values(RID).drop_duplicates([*keys, "__t"], keep=duplicates)
    known = left.dropna(subset=["__t", *keys]).sort_values("__t")
    matched = pd.merge_asof(
        known,
        right.drop(columns=RID).sort_values("__t"),
        on="__t",
        by=keys,
        allow_exact_matches=False,
        direction="backward",
        tolerance=None if as_of.max_age_minutes is None else float(as_of.max_age_minutes * 60),
    )
    rest = left[~left[RID].isin(known[RID])]
    return pd.concat([matched, rest], ignore_index=True)


def bucket(column: pd.Series, t: Bucket) -> pd.Series:
    x = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    idx = np.searchsorted(np.asarray(t.edges), x, side="right").astype(float)
    idx[np.isnan(x)] = np.nan
    if t.labels is None:
        return pd.Series(idx, index=column.index)
    labels = [None if np.isnan(i) else t.labels[int(i)] for i in idx]
    return pd.Series(labels, index=column.index, dtype=object)


def apply_missing(out: pd.DataFrame, missing: Missing) -> pd.DataFrame:
    if missing.policy == "keep":
        return out
    flags = {f"{c}_missing": out[c].isna().astype(float) for c in out.columns}
    if missing.value is not None:
        out = out.fillna({c: missing.value for c in out.columns})
    return out.assign(**flags) if missing.policy == "indicator" else out


def run_transforms(
    main: pd.DataFrame,
    aux: Mapping[str, pd.DataFrame],
    transforms: Sequence[object],
    prediction_time: TimeRef | None,
) -> pd.DataFrame:
    """``main``'s columns plus every transform's outputs, in order; index of ``main``."""
    frame = main.assign(**{RID: np.arange(len(main))})
    tables = {name: t.assign(**{RID: np.arange(len(t))}) for name, t in aux.items()}
    when = time_seconds(frame, prediction_time) if prediction_time is not None else None
    for t in transforms:
        if isinstance(t, DatetimeParts):
            out = datetime_parts(time_seconds(frame, t.time), t)
        elif isinstance(t, LookupJoin):
            out = lookup_join(frame, tables[t.table], t, when)
        elif isinstance(t, Lag | Rolling):
            assert when is not None
            events = frame if t.table is None else tables[t.table]
            out = windowed(frame, events, t, when, t.table is None)
        elif isinstance(t, Expression):
            out = pd.DataFrame({t.name: evaluate_pandas(parse(t.expr), frame)}, index=frame.index)
        elif isinstance(t, Bucket):
            out = pd.DataFrame({t.name: bucket(frame[t.column], t)}, index=frame.index)
        else:
            raise TypeError(f"unknown transform {t!r}")
        frame = pd.concat([frame, apply_missing(out, t.missing)], axis=1)
    return frame.drop(columns=RID)


def frame_checksum(frame: pd.DataFrame, decimals: int = 6) -> str:
    """A digest of a frame's values (column names and order, row order; floats rounded, every
    missing value alike), so two engines' outputs can be compared by one string."""
    import hashlib

    digest = hashlib.sha256("|".join(map(str, frame.columns)).encode())
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            values = np.round(column.to_numpy(dtype=float), decimals) + 0.0  # -0.0 → 0.0
            text = ["nan" if np.isnan(v) else repr(float(v)) for v in values]
        else:
            text = ["nan" if pd.isna(v) else str(v) for v in column.to_numpy(dtype=object)]
        digest.update("\x1f".join(text).encode())
    return digest.hexdigest()
