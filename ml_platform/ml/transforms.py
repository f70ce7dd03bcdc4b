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


def _events(
    frame: pd.DataFrame, main: pd.DataFrame, t: Lag | Rolling
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Events sorted by (entity, time, _rid): times, values, _rids, entity codes; and each main
    row's entity code (-1: a missing key). Events with a missing key, time or value are dropped."""
    n_keys = len(t.keys)
    ev = pd.DataFrame({f"__k{i}": frame[c].to_numpy() for i, c in enumerate(t.keys.values())})
    ev["__t"], ev["__v"] = time_seconds(frame, t.time).to_numpy(), pd.to_numeric(frame[t.value]).to_numpy()
    ev[RID] = frame[RID].to_numpy()
    ev = ev.dropna()
    q = pd.DataFrame({f"__k{i}": main[c].to_numpy() for i, c in enumerate(t.keys)})
    both = pd.concat([ev[q.columns], q], ignore_index=True)
    codes = (
        both.groupby(list(q.columns), sort=False, dropna=True).ngroup().to_numpy()
        if n_keys
        else np.zeros(len(both), int)
    )
    ev_code, q_code = codes[: len(ev)], codes[len(ev) :]
    order = np.lexsort((ev[RID].to_numpy(), ev["__t"].to_numpy(), ev_code))
    return (
        ev["__t"].to_numpy()[order],
        ev["__v"].to_numpy()[order],
        ev[RID].to_numpy()[order],
        ev_code[order],
        q_code,
    )


def _search(codes: np.ndarray, times: np.ndarray, q_code: np.ndarray, q_time: np.ndarray) -> np.ndarray:
    """Per query, the first event index with (code, time) >= (q_code, q_time) (lexicographic)."""
    out = np.searchsorted(codes, q_code, side="left")
    hi = np.searchsorted(codes, q_code, side="right")
    for code in np.unique(q_code[q_code >= 0]):
        rows = np.flatnonzero(q_code == code)
        a, b = out[rows[0]], hi[rows[0]]
        out[rows] = a + np.searchsorted(times[a:b], q_time[rows], side="left")
    return out


def windowed(
    main: pd.DataFrame, events: pd.DataFrame, t: Lag | Rolling, when: pd.Series, own: bool
) -> pd.DataFrame:
    """Lag or rolling aggregates per main row over events strictly before ``when`` (its own row
    excluded when the events are the main table)."""
    ev_t, ev_v, ev_rid, ev_code, q_code = _events(events, main, t)
    w = when.to_numpy(dtype=float)
    valid = (q_code >= 0) & ~np.isnan(w)
    q_code = np.where(valid, q_code, -1)
    w = np.where(valid, w, 0.0)
    start = np.searchsorted(ev_code, q_code, side="left")
    hi = np.where(valid, _search(ev_code, ev_t, q_code, w), start)
    rid = main[RID].to_numpy()
    if isinstance(t, Lag):
        return pd.DataFrame(
            {t.name: _lag(t, ev_t, ev_v, ev_rid, start, hi, rid if own else None, w)}, index=main.index
        )
    lo = np.where(valid, _search(ev_code, ev_t, q_code, w - t.window_minutes * 60.0), start)
    out: dict[str, np.ndarray] = {}
    for agg, name in t.aggs.items():
        out[name] = _rolling(agg, ev_v, ev_rid, lo, hi, rid if own else None)
    return pd.DataFrame(out, index=main.index)


def _lag(
    t: Lag,
    ev_t: np.ndarray,
    ev_v: np.ndarray,
    ev_rid: np.ndarray,
    start: np.ndarray,
    hi: np.ndarray,
    rid: np.ndarray | None,
    w: np.ndarray,
) -> np.ndarray:
    out = np.full(len(hi), np.nan)
    for i in np.flatnonzero(hi > start):
        k, need = hi[i], t.n
        while need and k > start[i]:
            k -= 1
            need -= 0 if rid is not None and ev_rid[k] == rid[i] else 1
        if need == 0 and (t.max_age_minutes is None or w[i] - ev_t[k] <= t.max_age_minutes * 60):
            out[i] = ev_v[k]
    return out


def _rolling(
    agg: str, ev_v: np.ndarray, ev_rid: np.ndarray, lo: np.ndarray, hi: np.ndarray, rid: np.ndarray | None
) -> np.ndarray:
    if agg in ("count", "sum", "mean"):
        csum = np.concatenate([[0.0], np.cumsum(ev_v)]) if len(ev_v) else np.zeros(1)
        n = (hi - lo).astype(float)
        total = csum[hi] - csum[lo]
        if rid is not None:  # the row's own event, if inside its window, is taken out
            pos = np.full(int(rid.max(initial=-1)) + 1, -1)
            pos[ev_rid.astype(int)] = np.arange(len(ev_rid))
            own = pos[rid]
            inside = (own >= lo) & (own < hi)
            n -= inside
            total -= np.where(inside, ev_v[np.maximum(own, 0)] if len(ev_v) else 0.0, 0.0)
        if agg == "count":
            return n
        if agg == "sum":
            return np.where(n > 0, total, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, total / np.maximum(n, 1), np.nan)
    out = np.full(len(hi), np.nan)
    for i in np.flatnonzero(hi > lo):
        vals = ev_v[lo[i] : hi[i]]
        if rid is not None:
            vals = vals[ev_rid[lo[i] : hi[i]] != rid[i]]
        if agg == "std" and len(vals) >= 2:
            out[i] = float(np.std(vals, ddof=1))
        elif agg in ("min", "max") and len(vals):
            out[i] = float(vals.min() if agg == "min" else vals.max())
    return out


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
