"""Pydantic models that validate a pipeline spec (YAML) with clear, located errors: ``PipelineSpec``
and its cross-field rules here; the section models live in ``data``, ``modelling``, ``training``,
``operations`` and ``monitoring`` and are re-exported, so ``from ml_platform.specs.models import X``
works for each of them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ml_platform.specs.base import _NAME, _Strict
from ml_platform.specs.data import (
    ColumnSpec,
    NewDataSensorSpec,
    PartitioningSpec,
    RetrySpec,
    SourceSpec,
    TableSpec,
    TimeSpec,
)
from ml_platform.specs.modelling import EstimatorSpec, FeaturesSpec, TargetSpec
from ml_platform.specs.monitoring import MonitoringSpec
from ml_platform.specs.operations import ChecksSpec, ScheduleSpec, SensorsSpec, VolumeCheckSpec
from ml_platform.specs.training import EvaluationSpec, GateSpec, TrainingSpec
from ml_platform.specs.transform_checks import check_transforms


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
