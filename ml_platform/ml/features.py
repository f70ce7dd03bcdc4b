"""Feature builders (the contract; instances are registered by name) and the label/slice
bookkeeping around whatever a builder produced."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.specs.models import PipelineSpec

PandasBuild = Callable[[pd.DataFrame, Mapping[str, pd.DataFrame], Mapping[str, Any]], pd.DataFrame]
SparkBuild = Callable[[Any, pd.DataFrame, Mapping[str, pd.DataFrame], Mapping[str, Any]], pd.DataFrame]


@dataclass(frozen=True)
class FeatureBuilder:
    """A named way to turn the cleaned main table (+ auxiliary tables by name) into feature columns.

    ``pandas(main, aux, options)`` is required; ``spark(session, main, aux, options)`` is optional and
    must give the same columns and values. ``tables`` are the auxiliary tables it reads (checked
    against the spec); ``options`` validates the spec's ``features.options``. A builder with
    ``reads_spec`` also gets the whole ``features`` section as ``options["features"]``."""

    name: str
    pandas: PandasBuild
    spark: SparkBuild | None = None
    tables: tuple[str, ...] = ()
    options: type[BaseModel] | None = None
    description: str = ""
    reads_spec: bool = False

    def validated_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        if self.options is None:
            return dict(options)
        return self.options.model_validate(dict(options)).model_dump()


def register_builder(builder: FeatureBuilder) -> FeatureBuilder:
    """Register ``builder`` under its name (built-ins and plugins alike)."""
    from ml_platform.registry import FEATURE_BUILDERS

    FEATURE_BUILDERS.add(builder.name, builder, origin=builder.pandas.__module__)
    return builder


def builder_for(spec: PipelineSpec) -> FeatureBuilder:
    from ml_platform.registry import FEATURE_BUILDERS

    builder: FeatureBuilder = FEATURE_BUILDERS.get(spec.features.builder)
    return builder


def builder_options(spec: PipelineSpec) -> dict[str, Any]:
    """The options a spec's builder is called with (validated; plus the spec's ``features``)."""
    builder = builder_for(spec)
    options = builder.validated_options(spec.features.options)
    return {**options, "features": spec.features} if builder.reads_spec else options


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
    builder = builder_for(spec)
    return finish_features(spec, main, builder.pandas(main, aux, builder_options(spec)))


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
