"""The ``transforms`` feature builder: runs a spec's ``features.transforms`` on pandas or Spark
(the same values; see ``ml/transforms.py`` and ``features/transforms_spark.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ml_platform.ml.features import FeatureBuilder, register_builder
from ml_platform.ml.transforms import run_transforms
from ml_platform.specs.models import FeaturesSpec, PipelineSpec
from ml_platform.specs.transform_checks import check_transforms


def produced_columns(spec: PipelineSpec) -> list[str]:
    """Every column the ``transforms`` builder returns for ``spec``: the cleaned main table's, then each
    transform's outputs (and ``_missing`` indicators) in order. Known without reading any data."""
    from ml_platform.specs.transforms import CLEANED_EXTRA

    f = spec.features
    produced, _ = check_transforms(
        f.transforms,
        f.prediction_time,
        f.known_after,
        list(spec.main_table.columns),
        {t.name: list(t.columns) for t in spec.auxiliary_tables},
        frozenset(c for c, column in spec.main_table.columns.items() if column.dtype == "str"),
    )
    return [*spec.main_table.columns, *CLEANED_EXTRA, *produced]


def _features(options: Mapping[str, Any]) -> FeaturesSpec:
    features = options["features"]
    assert isinstance(features, FeaturesSpec)
    return features


def _pandas(main: pd.DataFrame, aux: Mapping[str, pd.DataFrame], options: Mapping[str, Any]) -> pd.DataFrame:
    f = _features(options)
    return run_transforms(main, aux, f.transforms, f.prediction_time)


def _spark(
    session: Any, main: pd.DataFrame, aux: Mapping[str, pd.DataFrame], options: Mapping[str, Any]
) -> pd.DataFrame:
    from ml_platform.features.transforms_spark import run_transforms_spark_pandas

    f = _features(options)
    return run_transforms_spark_pandas(session, main, aux, f.transforms, f.prediction_time)


def _spark_frames(session: Any, main: Any, aux: Mapping[str, Any], options: Mapping[str, Any]) -> Any:
    from ml_platform.features.transforms_spark import run_transforms_spark

    f = _features(options)
    return run_transforms_spark(main, aux, f.transforms, f.prediction_time)


TRANSFORMS = register_builder(
    FeatureBuilder(
        name="transforms",
        pandas=_pandas,
        spark=_spark,
        spark_frames=_spark_frames,
        reads_spec=True,
        description="the main table's columns plus the spec's declarative, leak-free features.transforms",
    )
)
