"""Flights features (pure pandas on the real bundled data): no leakage from after prediction time."""

import numpy as np
import pandas as pd
import pytest
from flights_delay.features import (
    POST_DEPARTURE_COLUMNS,
    build_flight_features,
    scheduled_departure,
)

from ml_platform.specs import bundled_specs
from ml_platform_tests.helpers import read_table


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    flights = read_table("flights")
    day = flights[(flights.month == 3) & (flights.day == 8)].reset_index(drop=True)
    weather = read_table("weather")
    return {
        "day": day,
        "weather": weather[(weather.month == 3) & (weather.day == 8)],
        "planes": read_table("planes"),
    }


def features(
    t: dict[str, pd.DataFrame], day: pd.DataFrame | None = None, weather: pd.DataFrame | None = None
) -> pd.DataFrame:
    return build_flight_features(
        t["day"] if day is None else day, t["weather"] if weather is None else weather, t["planes"]
    )


def test_model_columns_are_all_computable_at_prediction_time(tables) -> None:
    spec = bundled_specs()[0]
    built = features(tables)
    assert set(spec.features.model_columns) <= set(built.columns)
    assert not set(POST_DEPARTURE_COLUMNS) & set(spec.features.model_columns)


def test_a_flights_own_outcome_never_changes_its_features(tables) -> None:
    base = features(tables)
    rng = np.random.default_rng(1)
    day = tables["day"]
    # include early departures (they are in the air before their own prediction time)
    early = day.index[day.dep_delay < -5][:5].tolist()
    for i in [*early, *rng.choice(day.index, 15, replace=False).tolist()]:
        changed = day.copy()
        changed.loc[i, "dep_delay"] = rng.choice([-30.0, 0.0, 300.0, np.nan])
        changed.loc[i, ["arr_delay", "air_time", "arr_time", "dep_time"]] = [999.0, 1.0, 1.0, 1.0]
        pd.testing.assert_series_equal(features(tables, day=changed).loc[i], base.loc[i], check_names=False)


def test_events_after_prediction_time_never_change_features(tables) -> None:
    """Rewrite everything that happens at or after flight i's prediction time: i's features hold."""
    base = features(tables)
    day = tables["day"]
    sched = scheduled_departure(day)
    actual = sched + pd.to_timedelta(day.dep_delay, unit="m")
    rng = np.random.default_rng(2)
    for i in rng.choice(day.index, 20, replace=False):
        t = sched[i]
        future = (actual >= t) | day.dep_delay.isna()  # not yet departed at t (or never)
        changed = day.copy()
        # still departs at or after t, but with a different (larger) delay
        min_delay = ((t - sched[future]) / pd.Timedelta(minutes=1)).clip(lower=0)
        changed.loc[future, "dep_delay"] = (min_delay + rng.integers(0, 600, future.sum())).to_numpy()
        changed.loc[:, "arr_delay"] = rng.normal(0, 100, len(day))  # arrivals are never used
        pd.testing.assert_series_equal(features(tables, day=changed).loc[i], base.loc[i], check_names=False)


def test_weather_from_the_departure_hour_onward_is_ignored(tables) -> None:
    base = features(tables)
    weather = tables["weather"].copy()
    i = int(tables["day"].index[tables["day"].hour == 15][0])
    origin = tables["day"].loc[i, "origin"]
    later = (weather.origin == origin) & (weather.hour >= 15)
    weather.loc[later, ["temp", "visib", "wind_speed", "precip"]] = [-40.0, 0.0, 80.0, 5.0]
    pd.testing.assert_series_equal(features(tables, weather=weather).loc[i], base.loc[i], check_names=False)
    # ...while the hour before does matter (the test above could not pass vacuously)
    weather.loc[(weather.origin == origin) & (weather.hour == 14), "temp"] = -40.0
    assert features(tables, weather=weather).loc[i, "wx_temp"] == -40.0


def test_row_order_does_not_matter(tables) -> None:
    base = features(tables)
    shuffled = tables["day"].sample(frac=1.0, random_state=3)
    again = features(tables, day=shuffled).loc[base.index]
    pd.testing.assert_frame_equal(again, base)


def test_congestion_reflects_earlier_departures(tables) -> None:
    built = features(tables)
    day = tables["day"]
    assert built["origin_departed_1h"].max() > 5
    # the first flights of the day have no history at their origin
    first = scheduled_departure(day).groupby(day.origin).idxmin()
    assert built.loc[first.to_numpy(), "origin_day_delay_mean"].isna().all()
