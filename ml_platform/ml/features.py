"""Feature builders, chosen by name in the spec, and the label/slice bookkeeping around them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.flights_features import build_flight_features
from ml_platform.specs.models import PipelineSpec

FeatureBuilder = Callable[[pd.DataFrame, Mapping[str, pd.DataFrame], Mapping[str, Any]], pd.DataFrame]


def _flights(main: pd.DataFrame, aux: Mapping[str, pd.DataFrame], options: Mapping[str, Any]) -> pd.DataFrame:
    return build_flight_features(
        main, aux["weather"], aux["planes"], lead_minutes=int(options.get("lead_minutes", 0))
    )


def _columns(main: pd.DataFrame, aux: Mapping[str, pd.DataFrame], options: Mapping[str, Any]) -> pd.DataFrame:
    """Generic builder: the model columns are columns of the cleaned main table as they are."""
    return main.copy()


BUILDERS: dict[str, FeatureBuilder] = {"flights": _flights, "columns": _columns}


def label_of(spec: PipelineSpec, main: pd.DataFrame) -> pd.Series:
    """Target per row; NaN where the target is undefined (e.g. a cancelled flight)."""
    raw = main[spec.target.column].astype(float)
    if spec.task == "classification":
        assert spec.target.greater_than is not None
        return pd.Series(
            np.where(raw.isna(), np.nan, (raw > spec.target.greater_than).astype(float)), index=main.index
        )
    return raw


def build_features(spec: PipelineSpec, main: pd.DataFrame, aux: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Model columns + slice columns + label + partition, one row per row of ``main``."""
    return finish_features(spec, main, BUILDERS[spec.features.builder](main, aux, spec.features.options))


def finish_features(spec: PipelineSpec, main: pd.DataFrame, built: pd.DataFrame) -> pd.DataFrame:
    """Select and type the builder's columns (whichever engine built them), add label and partition."""
    wanted = list(dict.fromkeys([*spec.features.model_columns, *spec.features.slice_columns]))
    missing = [c for c in wanted if c not in built.columns]
    if missing:
        raise KeyError(f"feature builder '{spec.features.builder}' did not produce columns {missing}")
    out = built[wanted].copy()
    for column in spec.features.numeric:  # float64: missing values at serving time stay representable
        out[column] = out[column].astype("float64")
    for column in spec.features.categorical:
        out[column] = out[column].astype(str)
    out[spec.target.name] = label_of(spec, main).to_numpy()
    out[PARTITION_COLUMN] = main[PARTITION_COLUMN].to_numpy()
    return out.reset_index(drop=True)


def labelled(spec: PipelineSpec, features: pd.DataFrame) -> pd.DataFrame:
    """Rows with a defined target (the ones a model can learn from or be scored on)."""
    return features[features[spec.target.name].notna()]
