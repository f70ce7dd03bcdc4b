"""Lags and rolling aggregates per entity key over events strictly before each row's prediction
time (pandas engine). Events are sorted by (entity, time, ``_rid``); each row's window is found by
binary search, so a row only ever sees events of its own entity, before its prediction time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml_platform.ml.transform_times import RID, time_seconds
from ml_platform.specs.transforms import Lag, Rolling


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
    order = np.argsort(q_code, kind="stable")
    for rows in np.split(order, np.flatnonzero(np.diff(q_code[order])) + 1):
        if len(rows) and q_code[rows[0]] >= 0:
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


def _own_positions(ev_rid: np.ndarray, rid: np.ndarray) -> np.ndarray:
    """Per main row, the sorted index of its own event (-1: it has none)."""
    pos = np.full(int(max(rid.max(initial=-1), ev_rid.max(initial=-1))) + 1, -1)
    pos[ev_rid.astype(int)] = np.arange(len(ev_rid))
    return pos[rid]


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
    k = hi - t.n  # the n-th most recent event before the prediction time ...
    if rid is not None:  # ... one further back when the row's own event is among those n
        own = _own_positions(ev_rid, rid)
        k = k - ((own >= k) & (own < hi) & (own >= start))
    ok = k >= start
    if t.max_age_minutes is not None:
        ok &= w - ev_t[np.where(ok, k, 0)] <= t.max_age_minutes * 60 if len(ev_t) else False
    return np.where(ok, ev_v[np.where(ok, k, 0)] if len(ev_v) else np.nan, np.nan)


def _rolling(
    agg: str, ev_v: np.ndarray, ev_rid: np.ndarray, lo: np.ndarray, hi: np.ndarray, rid: np.ndarray | None
) -> np.ndarray:
    if agg in ("count", "sum", "mean"):
        csum = np.concatenate([[0.0], np.cumsum(ev_v)]) if len(ev_v) else np.zeros(1)
        n = (hi - lo).astype(float)
        total = csum[hi] - csum[lo]
        if rid is not None:  # the row's own event, if inside its window, is taken out
            own = _own_positions(ev_rid, rid)
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
