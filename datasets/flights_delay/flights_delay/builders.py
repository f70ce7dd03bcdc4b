"""The ``flights`` feature builder: schedule, plane, origin weather from the hour before departure,
and origin congestion known at the prediction time (pandas and Spark give the same values)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ml_platform.ml.features import FeatureBuilder


class FlightsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead_minutes: int = Field(default=0, ge=0, description="prediction time = scheduled departure - lead")


def _pandas(main: pd.DataFrame, aux: Mapping[str, pd.DataFrame], options: Mapping[str, Any]) -> pd.DataFrame:
    from flights_delay.features import build_flight_features

    return build_flight_features(
        main, aux["weather"], aux["planes"], lead_minutes=int(options["lead_minutes"])
    )


def _spark(
    session: Any, main: pd.DataFrame, aux: Mapping[str, pd.DataFrame], options: Mapping[str, Any]
) -> pd.DataFrame:
    from flights_delay.features_spark import build_flight_features_spark

    return build_flight_features_spark(
        session, main, aux["weather"], aux["planes"], lead_minutes=int(options["lead_minutes"])
    )


def _spark_frames(session: Any, main: Any, aux: Mapping[str, Any], options: Mapping[str, Any]) -> Any:
    from flights_delay.features_spark import build_flight_features_frames

    return build_flight_features_frames(
        main, aux["weather"], aux["planes"], lead_minutes=int(options["lead_minutes"])
    )


FLIGHTS = FeatureBuilder(
    name="flights",
    pandas=_pandas,
    spark=_spark,
    spark_frames=_spark_frames,
    tables=("weather", "planes"),
    options=FlightsOptions,
    description="leak-free flight features: schedule, plane, weather before departure, congestion",
    parallel_partitions=True,  # congestion is per (day, origin); weather and planes come whole
)
