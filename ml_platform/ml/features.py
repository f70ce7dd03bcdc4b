"""Feature builders (the contract; instances are registered by name) and the label/slice
bookkeeping around whatever a builder produced."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.specs.models import PipelineSpec

PandasBuild = Callable[[pd.DataFrame, Mapping[str, pd.DataFrame], Mapping[str, Any]], pd.DataFrame]
SparkBuild = Callable[[Any, pd.DataFrame, Mapping[str, pd.DataFrame], Mapping[str, Any]], pd.DataFrame]
#: Spark DataFrames in (each with a ``_rid`` row id), a Spark DataFrame out (with ``_rid``): nothing
#: collected, so the engine reads and writes the Parquet files with Spark end to end.
SparkFramesBuild = Callable[[Any, Any, Mapping[str, Any], Mapping[str, Any]], Any]


@dataclass(frozen=True)
class FeatureBuilder:
    """A named way to turn the cleaned main table (+ auxiliary tables by name) into feature columns.

    ``pandas(main, aux, options)`` is required; ``spark(session, main, aux, options)`` is optional and
    must give the same columns and values; ``spark_frames(session, main, aux, options)``, optional too,
    is the same on Spark DataFrames (rows keyed by ``_rid``, kept in its output), which the Spark engine
    prefers: the run's data then never passes through the driver. ``tables`` are the auxiliary tables it reads (checked
    against the spec); ``options`` validates the spec's ``features.options``. A builder with
    ``reads_spec`` also gets the whole ``features`` section as ``options["features"]``; ``outputs(spec)``,
    when given, names the columns it produces, so a spec's feature names are checked before anything runs.
    ``parallel_partitions`` declares that a partition's features depend only on that partition's
    main rows (and the auxiliary tables) and cost enough to be worth spreading: the pandas engine may
    then build a large run's partitions in several processes (``features/processes.py``)."""

    name: str
    pandas: PandasBuild
    spark: SparkBuild | None = None
    spark_frames: SparkFramesBuild | None = None
    tables: tuple[str, ...] = ()
    options: type[BaseModel] | None = None
    description: str = ""
    reads_spec: bool = False
    outputs: Callable[[PipelineSpec], Collection[str]] | None = None
    parallel_partitions: bool = False

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
    target = spec.target
    values = main[target.column]
    if target.positive_class is not None or target.classes is not None:
        return _class_label(spec, values)
    try:
        raw = values.astype(float)
    except (TypeError, ValueError) as exc:
        field = "target.greater_than" if target.greater_than is not None else "task regression"
        raise ValueError(
            f"target.column '{target.column}' holds non-numbers ({exc}), which {field} needs"
        ) from None
    if spec.task == "classification":
        assert target.greater_than is not None
        return pd.Series(
            np.where(raw.isna(), np.nan, (raw > target.greater_than).astype(float)), index=main.index
        )
    return raw


def _class_label(spec: PipelineSpec, values: pd.Series) -> pd.Series:
    """With ``classes``: the index of the row's class in the list (binary: 1.0 for the last, the
    positive class); with ``positive_class``: 1.0 for it, 0.0 otherwise. NaN where the value is missing."""
    target = spec.target
    known = values.notna()
    if target.classes is not None:
        return _class_index(target.column, list(target.classes), values)
    text = values.astype(str)
    positive = str(target.positive_class)
    return pd.Series(np.where(known, (text == positive).astype(float), np.nan), index=values.index)


def _class_index(column: str, classes: list[Any], values: pd.Series) -> pd.Series:
    """Position of each value in ``classes`` as a float (NaN where missing); a value not in the list
    is an error naming the column and ``target.classes`` (numbers compare as numbers: an int column
    with missing values reads as floats)."""
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and all(isinstance(c, int | float) and not isinstance(c, bool) for c in classes):
        index = values.astype(float).map({float(c): float(i) for i, c in enumerate(classes)})
    else:
        index = values.astype(str).map({str(c): float(i) for i, c in enumerate(classes)})
    stray = values.notna() & index.isna()
    if stray.any():
        unknown = sorted(set(values[stray].astype(str)))
        raise ValueError(
            f"target.column '{column}' has value(s) {unknown[:5]} not in target.classes "
            f"{[str(c) for c in classes]} ({int(stray.sum())} rows): add them to target.classes, or "
            f"declare main_table.columns.{column}.isin so that cleaning quarantines such rows"
        )
    return index.where(values.notna()).astype(float)


def build_features(spec: PipelineSpec, main: pd.DataFrame, aux: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Model columns + slice columns + label + partition, one row per row of ``main``."""
    builder = builder_for(spec)
    return finish_features(spec, main, builder.pandas(main, aux, builder_options(spec)))


def finish_features(spec: PipelineSpec, main: pd.DataFrame, built: pd.DataFrame) -> pd.DataFrame:
    """Select and type the builder's columns (whichever engine built them), add label and partition."""
    wanted = list(dict.fromkeys([*spec.features.model_columns, *spec.features.slice_columns]))
    missing = [c for c in wanted if c not in built.columns]
    if missing:
        raise KeyError(
            f"features.builder '{spec.features.builder}' did not produce columns {missing} that "
            "features.categorical/numeric/slice_columns name"
        )
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
