"""Pydantic models that validate a pipeline spec (YAML) with clear, located errors."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from ml_platform.specs.base import _NAME, _check_options, _Strict
from ml_platform.specs.data import (
    ColumnSpec,
    NewDataSensorSpec,
    PartitioningSpec,
    RetrySpec,
    SourceSpec,
    TableSpec,
    TimeSpec,
)
from ml_platform.specs.monitoring import MonitoringSpec
from ml_platform.specs.transform_checks import check_transforms
from ml_platform.specs.transforms import TimeRef, Transform


class TargetSpec(_Strict):
    """The label: a column, for classification turned into classes by a threshold, a positive class
    (binary) or a class list (multiclass)."""

    column: str
    name: str = Field(default="label", pattern=_NAME)
    greater_than: float | None = Field(
        default=None, description="classification on a number: label = column > greater_than"
    )
    positive_class: str | int | bool | None = Field(
        default=None, description="binary classification: label = (column == positive_class)"
    )
    classes: list[str | int | bool] | None = Field(
        default=None,
        description="two classes: binary, the last one positive; three or more: multiclass, the label "
        "is the index of the row's value in this list and models give one probability per class. A value "
        "not in the list fails the features step naming the column and this field; the column's `isin` "
        "(which must list only these classes) quarantines such rows at cleaning instead",
    )
    missing: Literal["drop"] = Field(
        default="drop",
        description="rows without a target value (e.g. cancelled flights) stay in cleaned data "
        "but are dropped from training and evaluation, and counted",
    )


class FeaturesSpec(_Strict):
    """Which builder makes features and which of its columns the model sees."""

    builder: str = Field(description="a registered feature builder (built-in or from a plugin)")
    categorical: list[str] = Field(default_factory=list)
    numeric: list[str] = Field(default_factory=list)
    slice_columns: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)
    engine: Literal["pandas", "spark"] | None = Field(
        default=None, description="feature engine; default: the environment's (pandas locally)"
    )
    transforms: list[Transform] = Field(
        default_factory=list, description="builder 'transforms': declarative features, in order"
    )
    prediction_time: TimeRef | None = Field(
        default=None, description="when a row is predicted; lags, windows and as-of joins end before it"
    )
    known_after: list[str] = Field(
        default_factory=list,
        description="main columns known only after prediction time (only windows read them)",
    )

    @property
    def model_columns(self) -> list[str]:
        return [*self.categorical, *self.numeric]

    @model_validator(mode="after")
    def _known_builder(self) -> FeaturesSpec:
        from ml_platform.registry import FEATURE_BUILDERS

        builder = FEATURE_BUILDERS.get(self.builder)
        if builder.options is not None:
            _check_options(builder.options, self.options, "options")
        if self.transforms and self.builder != "transforms":
            raise ValueError(f"transforms are run by builder 'transforms', not '{self.builder}'")
        return self


class EstimatorSpec(_Strict):
    """A registered estimator ``kind`` or any scikit-learn-compatible ``class`` by import path."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: str | None = Field(default=None, description="a registered estimator kind (built-in or plugin)")
    class_path: str | None = Field(
        default=None,
        alias="class",
        description="import path of a scikit-learn-compatible class, e.g. "
        "``sklearn.linear_model.LogisticRegression``",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="keyword arguments of the class")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str | None) -> str | None:
        from ml_platform.registry import ESTIMATORS

        if kind is not None:
            ESTIMATORS.get(kind)
        return kind

    @model_validator(mode="after")
    def _one_of(self) -> EstimatorSpec:
        if (self.kind is None) == (self.class_path is None):
            raise ValueError("estimator needs exactly one of kind (registered) or class (an import path)")
        return self

    @property
    def label(self) -> str:
        """How reports name it: the kind, or the class's import path."""
        return self.kind or str(self.class_path)


class TrainingSpec(_Strict):
    """Time-based split: the holdout is the last ``holdout_partitions`` days up to ``as_of``;
    training uses the ``window_partitions`` days right before it. Never a random split."""

    window_partitions: int = Field(gt=0)
    holdout_partitions: int = Field(gt=0)
    as_of: dt.date | None = Field(default=None, description="last holdout day; default: last partition")
    sample_fraction: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="train on this share of every day's labelled rows (stratified by day, reproducible "
        "with sample_seed), read day by day: for windows larger than memory; the MLflow dataset is the sample",
    )
    sample_rows: int | None = Field(
        default=None,
        gt=0,
        description="train on about this many labelled rows in all: the share of them it is, taken from "
        "every day alike (as sample_fraction; counted from the label column first); not with sample_fraction",
    )
    sample_seed: int = 0
    retrain_after_new_partitions: int | None = Field(
        default=7, ge=1, description="retrain sensor: train once this many new feature partitions are in"
    )

    @model_validator(mode="after")
    def _one_sample(self) -> TrainingSpec:
        if self.sample_fraction is not None and self.sample_rows is not None:
            raise ValueError("training takes sample_fraction or sample_rows, not both")
        return self


class EvaluationSpec(_Strict):
    decision_threshold: float = Field(default=0.5, gt=0, lt=1)
    bootstrap_samples: int = Field(default=200, ge=0)
    smoke_sample_rows: int = Field(default=50, gt=0)


class GateSpec(_Strict):
    """Deploy gate: absolute threshold AND a minimum improvement over the champion."""

    metric: Literal[
        "roc_auc", "log_loss", "brier", "rmse", "mae", "r2", "roc_auc_macro", "accuracy", "f1_macro"
    ] = Field(
        description="binary classification: roc_auc, log_loss, brier; multiclass (target.classes, 3+): "
        "roc_auc_macro (one-vs-rest, averaged over the classes present), log_loss, accuracy, f1_macro; "
        "regression: rmse, mae, r2"
    )
    min_value: float | None = None
    max_value: float | None = None
    min_improvement: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _one_bound(self) -> GateSpec:
        if (self.min_value is None) == (self.max_value is None):
            raise ValueError("gate needs exactly one of min_value (higher is better) or max_value")
        return self


class VolumeCheckSpec(_Strict):
    """A partition's delivered rows against the median of the previous partitions."""

    min_ratio: float = Field(default=0.1, gt=0, le=1, description="fail below median * min_ratio")
    max_ratio: float = Field(default=10.0, ge=1, description="fail above median * max_ratio")


class ChecksSpec(_Strict):
    """Blocking data checks on each cleaned partition; thresholds are relative to the previous
    ``history_partitions`` published partitions (the training window's own statistics)."""

    history_partitions: int = Field(default=28, ge=1)
    min_history: int = Field(default=5, ge=1, description="fewer previous partitions: checks pass")
    max_quarantine_share: float = Field(default=0.05, ge=0, le=1)
    volume: VolumeCheckSpec = VolumeCheckSpec()
    max_rate_shift_logit: float = Field(
        default=3.5, gt=0, description="classification: |log-odds(rate) - median| of the positive rate"
    )
    max_mean_shift_sd: float = Field(
        default=3.0, gt=0, description="regression: |mean - median of means| in typical daily std"
    )
    min_labelled_rows: int = Field(default=20, ge=1, description="fewer labelled rows: no shift check")
    max_missing_target_share: float = Field(default=0.9, ge=0, le=1)

    @model_validator(mode="after")
    def _history(self) -> ChecksSpec:
        if self.min_history > self.history_partitions:
            raise ValueError(
                f"checks.min_history ({self.min_history}) exceeds checks.history_partitions "
                f"({self.history_partitions})"
            )
        return self


class SensorsSpec(_Strict):
    """How often the daemon evaluates the retrain and deploy sensors (the new-data sensor's interval
    is ``source.sensor.minimum_interval_seconds``). Together they bound the time from a new day
    landing to a new champion serving (bench/latency.py)."""

    retrain_interval_seconds: int = Field(default=60, ge=1)
    deploy_interval_seconds: int = Field(default=30, ge=1)
    scoring_interval_seconds: int = Field(
        default=30, ge=1, description="the automation sensor that scores a day once its features land"
    )


class ScheduleSpec(_Strict):
    ingest_cron: str = "0 6 * * *"
    retrain_cron: str = "0 3 * * 1"


class PipelineSpec(_Strict):
    """A whole pipeline: source → raw → cleaned → features → model → report → gate → deploy."""

    name: str = Field(pattern=_NAME)
    description: str = ""
    owners: list[str] = Field(default_factory=list)
    task: Literal["classification", "regression"]
    source: SourceSpec
    partitioning: PartitioningSpec
    main_table: TableSpec
    auxiliary_tables: list[TableSpec] = Field(default_factory=list)
    target: TargetSpec
    features: FeaturesSpec
    estimator: EstimatorSpec
    training: TrainingSpec
    evaluation: EvaluationSpec = EvaluationSpec()
    gate: GateSpec
    checks: ChecksSpec = ChecksSpec()
    schedules: ScheduleSpec = ScheduleSpec()
    sensors: SensorsSpec = SensorsSpec()
    monitoring: MonitoringSpec = MonitoringSpec()

    @field_validator("auxiliary_tables")
    @classmethod
    def _unique_names(cls, tables: list[TableSpec]) -> list[TableSpec]:
        names = [t.name for t in tables]
        if len(set(names)) != len(names):
            raise ValueError(f"auxiliary table names must be unique, got {names}")
        return tables

    @model_validator(mode="after")
    def _consistent(self) -> PipelineSpec:
        cols = self.main_table.columns
        if self.target.column not in cols:
            raise ValueError(f"target.column '{self.target.column}' is not a column of main_table")
        from ml_platform.specs.consistency import check_estimator, check_features, check_target, check_time

        check_target(self)
        check_time(self)
        check_features(self)
        check_estimator(self)
        from ml_platform.specs.metric_names import HIGHER_IS_BETTER, TASK_METRICS

        higher = self.gate.metric in HIGHER_IS_BETTER
        if higher != (self.gate.min_value is not None):
            raise ValueError(
                f"gate.metric '{self.gate.metric}' is "
                + ("higher-is-better: use min_value" if higher else "lower-is-better: use max_value")
            )
        from ml_platform.registry import FEATURE_BUILDERS

        needed_tables = set(FEATURE_BUILDERS.get(self.features.builder).tables)
        have = {t.name for t in self.auxiliary_tables}
        if needed_tables - have:
            raise ValueError(
                f"features.builder '{self.features.builder}' reads auxiliary tables "
                f"{sorted(needed_tables)}, but auxiliary_tables has {sorted(have)}"
            )
        allowed = TASK_METRICS[self.metric_task]
        if self.gate.metric not in allowed:
            kind = (
                f"multiclass, {len(self.target.classes or [])} target.classes"
                if self.metric_task == "multiclass"
                else "binary"
                if self.task == "classification"
                else ""
            )
            raise ValueError(
                f"gate.metric '{self.gate.metric}' does not fit task '{self.task}'"
                + (f" ({kind})" if kind else "")
                + f": use one of {', '.join(allowed)}"
            )
        n_partitions = self.partitioning.n_partitions
        needed = self.training.window_partitions + self.training.holdout_partitions
        if needed > n_partitions:
            raise ValueError(
                f"training window ({self.training.window_partitions}) + holdout "
                f"({self.training.holdout_partitions}) = {needed} partitions, but partitioning has "
                f"{n_partitions}"
                + (f" ({self.partitioning.granularity})" if self.partitioning.granularity != "daily" else "")
            )
        return self

    @model_validator(mode="after")
    def _transforms_fit_tables(self) -> PipelineSpec:
        """Transforms read known columns and tables; model columns are produced and known in time."""
        f = self.features
        if not f.transforms and f.prediction_time is None:
            return self
        produced, late = check_transforms(
            f.transforms,
            f.prediction_time,
            [*f.known_after, *([] if self.target.column in f.known_after else [self.target.column])],
            list(self.main_table.columns),
            {t.name: list(t.columns) for t in self.auxiliary_tables},
            frozenset(c for c, column in self.main_table.columns.items() if column.dtype == "str"),
        )
        have = [*self.main_table.columns, *produced]
        for field in ("categorical", "numeric", "slice_columns"):
            unknown = [c for c in getattr(f, field) if c not in have]
            if unknown:
                raise ValueError(
                    f"features.{field}: {unknown} are neither main_table columns nor transform outputs"
                )
        leaking = [c for c in f.model_columns if c in late]
        if leaking:
            raise ValueError(f"features: model columns {leaking} are known only after prediction time")
        return self

    @property
    def metric_task(self) -> str:
        """The task as scores and metrics see it: ``classification`` (binary: one probability per
        row), ``multiclass`` (three or more ``target.classes``: one probability per class) or
        ``regression``."""
        classes = self.target.classes
        if self.task == "classification" and classes is not None and len(classes) > 2:
            return "multiclass"
        return self.task

    @property
    def class_names(self) -> list[str] | None:
        """Multiclass: the classes as text, in ``target.classes`` order (label i is class i)."""
        if self.metric_task != "multiclass":
            return None
        return [str(c) for c in self.target.classes or []]

    @property
    def higher_is_better(self) -> bool:
        return self.gate.min_value is not None

    @property
    def model_name(self) -> str:
        return self.name


__all__ = [
    "ChecksSpec",
    "ColumnSpec",
    "EstimatorSpec",
    "EvaluationSpec",
    "FeaturesSpec",
    "GateSpec",
    "MonitoringSpec",
    "NewDataSensorSpec",
    "PartitioningSpec",
    "PipelineSpec",
    "RetrySpec",
    "ScheduleSpec",
    "SensorsSpec",
    "SourceSpec",
    "TableSpec",
    "TargetSpec",
    "TimeSpec",
    "TrainingSpec",
    "VolumeCheckSpec",
]
