"""Leak-free features for the flights-delay task.

Prediction time for a flight is its scheduled departure minus ``lead_minutes``. Every feature is
computed only from what is known at that instant:

* the schedule (carrier, route, distance, scheduled hour), known weeks ahead;
* the plane's registry record (age, seats, engines);
* origin weather observed in the hour *before* the scheduled departure hour;
* congestion at the origin: flights that already took off before prediction time (their delays are
  known), and flights scheduled earlier that have *not* taken off yet (known to be late by at least
  ``prediction time - scheduled departure``).

Arrival delay, actual departure time, air time and every other post-departure column of the flight
itself are never used as features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Columns of the flight itself that are only known after departure; they must never become
# features of that same flight (the leakage tests assert this).
POST_DEPARTURE_COLUMNS = ("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time")

WEATHER_COLUMNS = ("temp", "dewp", "humid", "wind_speed", "wind_gust", "precip", "pressure", "visib")

CONGESTION_COLUMNS = (
    "origin_departed_1h",
    "origin_dep_delay_mean_1h",
    "origin_dep_delay_mean_3h",
    "origin_late_share_3h",
    "origin_pending_n",
    "origin_pending_wait_mean",
    "origin_day_delay_mean",
    "origin_scheduled_next_1h",
    "carrier_origin_dep_delay_mean_3h",
)


def scheduled_departure(flights: pd.DataFrame) -> pd.Series:
    """Local scheduled departure timestamp from year/month/day/hour/minute."""
    return pd.to_datetime(
        dict(
            year=flights["year"],
            month=flights["month"],
            day=flights["day"],
            hour=flights["hour"],
            minute=flights["minute"],
        )
    )


def _window_sums(
    event_ts: np.ndarray, values: np.ndarray, query_ts: np.ndarray, window: np.timedelta64
) -> tuple[np.ndarray, np.ndarray]:
    """Count and sum of ``values`` for events with ``query - window <= ts < query``.

    ``event_ts`` must be sorted ascending; ``values`` aligned with it.
    """
    csum = np.concatenate([[0.0], np.cumsum(values)])
    hi = np.searchsorted(event_ts, query_ts, side="left")
    lo = np.searchsorted(event_ts, query_ts - window, side="left")
    return (hi - lo).astype(float), csum[hi] - csum[lo]


def _mean_without_self(
    n: np.ndarray, total: np.ndarray, self_in: np.ndarray, self_value: np.ndarray
) -> np.ndarray:
    """Window mean with the flight's own event removed (a flight never informs its own features)."""
    n = n - self_in
    total = total - np.where(self_in, self_value, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _congestion_for_group(group: pd.DataFrame, lead: np.timedelta64) -> pd.DataFrame:
    """Congestion features for one (day, origin) group, using only events before prediction time."""
    sched = group["_sched_dep"].to_numpy(dtype="datetime64[ns]")
    query = sched - lead
    delay = group["dep_delay"].to_numpy(dtype=float)
    departed_mask = ~np.isnan(delay)
    # actual take-off time; "never" for cancelled flights
    own_actual = np.where(
        departed_mask,
        sched + (np.nan_to_num(delay) * 60e9).astype("timedelta64[ns]"),
        np.datetime64("2262-01-01"),
    )
    order = np.argsort(own_actual[departed_mask], kind="stable")
    actual_sorted = own_actual[departed_mask][order]
    delay_sorted = delay[departed_mask][order]
    late_sorted = (delay_sorted > 15).astype(float)
    hour = np.timedelta64(60, "m")
    three_hours = np.timedelta64(180, "m")
    day = np.timedelta64(24 * 60, "m")
    own_delay = np.nan_to_num(delay)
    own_late = (own_delay > 15).astype(float)

    def stats(values: np.ndarray, own: np.ndarray, window: np.timedelta64) -> tuple[np.ndarray, np.ndarray]:
        n, total = _window_sums(actual_sorted, values, query, window)
        self_in = departed_mask & (own_actual < query) & (own_actual >= query - window)
        return n - self_in, _mean_without_self(n, total, self_in, own)

    out = pd.DataFrame(index=group.index)
    n1, mean1 = stats(delay_sorted, own_delay, hour)
    out["origin_departed_1h"] = n1
    out["origin_dep_delay_mean_1h"] = mean1
    out["origin_dep_delay_mean_3h"] = stats(delay_sorted, own_delay, three_hours)[1]
    out["origin_late_share_3h"] = stats(late_sorted, own_late, three_hours)[1]
    out["origin_day_delay_mean"] = stats(delay_sorted, own_delay, day)[1]

    # Flights scheduled in the 3h before prediction time that had not taken off by then (including
    # cancelled ones): known at prediction time to be late by at least (query - sched).
    sched_order = np.argsort(sched, kind="stable")
    sched_sorted = sched[sched_order]
    actual_by_sched = own_actual[sched_order]
    pending_n = np.zeros(len(group))
    pending_wait = np.full(len(group), np.nan)
    lo = np.searchsorted(sched_sorted, query - three_hours, side="left")
    hi = np.searchsorted(sched_sorted, query, side="left")
    for i in range(len(group)):
        if hi[i] > lo[i]:
            still_waiting = actual_by_sched[lo[i] : hi[i]] >= query[i]
            count = int(still_waiting.sum())
            pending_n[i] = count
            if count:
                waits = (query[i] - sched_sorted[lo[i] : hi[i]][still_waiting]) / np.timedelta64(1, "m")
                pending_wait[i] = float(waits.mean())
    out["origin_pending_n"] = pending_n
    out["origin_pending_wait_mean"] = pending_wait
    next_hi = np.searchsorted(sched_sorted, query + hour, side="left")
    out["origin_scheduled_next_1h"] = (next_hi - hi).astype(float)

    carrier_mean = np.full(len(group), np.nan)
    carriers = group["carrier"].to_numpy()
    departed_carriers = carriers[departed_mask][order]
    for carrier in np.unique(carriers):
        rows = carriers == carrier
        events = departed_carriers == carrier
        n, total = _window_sums(actual_sorted[events], delay_sorted[events], query[rows], three_hours)
        self_in = (departed_mask & (own_actual < query) & (own_actual >= query - three_hours))[rows]
        carrier_mean[rows] = _mean_without_self(n, total, self_in, own_delay[rows])
    out["carrier_origin_dep_delay_mean_3h"] = carrier_mean
    return out


def congestion_features(flights: pd.DataFrame, lead_minutes: int = 0) -> pd.DataFrame:
    """Origin congestion known at prediction time, per flight (index aligned with ``flights``)."""
    lead = np.timedelta64(int(lead_minutes), "m")
    frame = flights[["year", "month", "day", "origin", "carrier", "dep_delay"]].copy()
    frame["_sched_dep"] = scheduled_departure(flights)
    parts = [
        _congestion_for_group(group, lead)
        for _, group in frame.groupby(["year", "month", "day", "origin"], sort=False)
    ]
    if not parts:
        return pd.DataFrame(index=flights.index, columns=list(CONGESTION_COLUMNS), dtype=float)
    return pd.concat(parts).reindex(flights.index)[list(CONGESTION_COLUMNS)]


def weather_before_departure(flights: pd.DataFrame, weather: pd.DataFrame) -> pd.DataFrame:
    """Origin weather observed in the hour before the scheduled departure hour."""
    sched_hour = scheduled_departure(flights).dt.floor("h") - pd.Timedelta(hours=1)
    keys = pd.DataFrame({"origin": flights["origin"].to_numpy(), "_obs_hour": sched_hour.to_numpy()})
    wx = weather.copy()
    wx["_obs_hour"] = pd.to_datetime(dict(year=wx["year"], month=wx["month"], day=wx["day"], hour=wx["hour"]))
    wx = wx.drop_duplicates(["origin", "_obs_hour"], keep="last")
    cols = ["origin", "_obs_hour", *WEATHER_COLUMNS]
    joined = keys.merge(wx[cols], on=["origin", "_obs_hour"], how="left")
    joined.index = flights.index
    return joined[list(WEATHER_COLUMNS)].add_prefix("wx_")


def plane_attributes(flights: pd.DataFrame, planes: pd.DataFrame, year: int = 2013) -> pd.DataFrame:
    """Registry facts about the scheduled aircraft (age, seats, engines)."""
    reg = planes[["tailnum", "year", "seats", "engines"]].drop_duplicates("tailnum")
    reg = reg.rename(columns={"year": "plane_built"})
    joined = flights[["tailnum"]].merge(reg, on="tailnum", how="left")
    joined.index = flights.index
    return pd.DataFrame(
        {
            "plane_age": year - joined["plane_built"].astype(float),
            "plane_seats": joined["seats"].astype(float),
            "plane_engines": joined["engines"].astype(float),
        },
        index=flights.index,
    )


def build_flight_features(
    flights: pd.DataFrame,
    weather: pd.DataFrame,
    planes: pd.DataFrame,
    lead_minutes: int = 0,
) -> pd.DataFrame:
    """Schedule, calendar, weather, plane and congestion features for each flight."""
    sched = scheduled_departure(flights)
    base = pd.DataFrame(
        {
            "carrier": flights["carrier"].astype(str),
            "origin": flights["origin"].astype(str),
            "dest": flights["dest"].astype(str),
            "distance": flights["distance"].astype(float),
            "sched_hour": sched.dt.hour + sched.dt.minute / 60.0,
            "day_of_week": sched.dt.dayofweek.astype(float),
            "month": flights["month"].astype(int),
        },
        index=flights.index,
    )
    return pd.concat(
        [
            base,
            weather_before_departure(flights, weather),
            plane_attributes(flights, planes),
            congestion_features(flights, lead_minutes),
        ],
        axis=1,
    )
