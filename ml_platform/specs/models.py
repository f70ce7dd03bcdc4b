"""Pydantic models that validate a pipeline spec (YAML) with clear, located errors."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ml_platform.specs.monitoring import MonitoringSpec
from ml_platform.specs.transform_checks import check_transforms
from ml_platform.specs.transforms import TimeRef, Transform

_NAME = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_options(model: type[BaseModel], options: dict[str, Any], where: str) -> None:
    """Validate a kind's options with its own model; the error names each bad field."""
    try:
        model.model_validate(options)
    except ValidationError as exc:
        problems = "; ".join(
            f"{where}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" if err["loc"] else err["msg"]
            for err in exc.errors()
        )
        raise ValueError(problems) from None


class RetrySpec(_Strict):
    """Retries of transient source faults (5xx, timeouts, resets, disconnects): exponential backoff
    ``min(max_delay, base_delay * 2**n)`` scaled by a random factor in ``[1 - jitter, 1]``."""

    max_retries: int = Field(default=3, ge=0)
    base_delay_seconds: float = Field(default=0.5, ge=0)
    max_delay_seconds: float = Field(default=30.0, ge=0)
    jitter: float = Field(default=0.5, ge=0, le=1)


class NewDataSensorSpec(_Strict):
    """The new-data sensor: how often it polls the source, how many runs one tick may request and
    how many consecutive pending days one run (a single-run backfill over the range) may take."""

    minimum_interval_seconds: int = Field(default=30, ge=1)
    max_runs_per_tick: int = Field(default=25, ge=1)
    max_days_per_run: int = Field(default=366, ge=1)


class SourceSpec(_Strict):
    """Where raw tables come from: a source kind plus its options (see docs/sources.md)."""

    kind: str = Field(description="a registered source kind (built-in or from a plugin)")
    options: dict[str, Any] = Field(default_factory=dict)
    retry: RetrySpec = RetrySpec()
    sensor: NewDataSensorSpec = NewDataSensorSpec()

    @model_validator(mode="after")
    def _known_kind_and_options(self) -> SourceSpec:
        from ml_platform.registry import SOURCES

        _check_options(SOURCES.get(self.kind).Options, self.options, "options")
        return self


class ColumnSpec(_Strict):
    """One column of a table schema (pandera-checked after ingestion)."""

    dtype: Literal["int", "float", "str", "datetime", "date", "bool"] = Field(
        description="``date``/``datetime``: parsed (see ``partitioning.time``) into datetime64"
    )
    nullable: bool = False
    ge: float | None = None
    le: float | None = None
    isin: list[str | int | float | bool] | None = Field(
        default=None, description="allowed values, of the column's dtype (e.g. ``[0, 1]`` for an int)"
    )

    @model_validator(mode="after")
    def _isin_fits_dtype(self) -> ColumnSpec:
        if self.isin is None:
            return self
        fits = {
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "bool": lambda v: isinstance(v, bool),
            "str": lambda v: isinstance(v, str),
        }.get(self.dtype, lambda v: isinstance(v, str))
        wrong = [v for v in self.isin if not fits(v)]
        if wrong:
            raise ValueError(f"isin values {wrong} are not of the column's dtype '{self.dtype}'")
        return self


class TableSpec(_Strict):
    """A raw table: main fact table or an auxiliary lookup joined into features."""

    name: str = Field(pattern=_NAME)
    table: str = Field(description="name of the table inside the source")
    partitioned: bool = True
    columns: dict[str, ColumnSpec]
    primary_key: list[str] = Field(default_factory=list)
    duplicates: Literal["quarantine", "keep"] = Field(
        default="quarantine",
        description="identical rows: extra copies quarantined as 'duplicate row' (counted in the "
        "quarantine check), or kept as separate observations",
    )

    @model_validator(mode="after")
    def _keys_are_columns(self) -> TableSpec:
        missing = [k for k in self.primary_key if k not in self.columns]
        if missing:
            raise ValueError(f"primary_key names unknown columns {missing} in table '{self.name}'")
        return self


class TimeSpec(_Strict):
    """Where a row's time comes from: one date/datetime ``column`` or year/month/day ``parts``."""

    column: str | None = Field(
        default=None, description="a date or datetime column (ISO 8601 text unless ``format``)"
    )
    parts: tuple[str, str, str] | None = Field(default=None, description="year, month and day columns")
    format: str | None = Field(
        default=None,
        description="strftime format of ``column``, e.g. ``'%d/%m/%Y'`` (then '02/07/2016' is July 2nd); "
        "a value that does not match is quarantined",
    )
    timezone: str | None = Field(
        default=None,
        description="IANA zone: a row's day is its local day there (aware times are converted, naive "
        "ones are taken as local already)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> TimeSpec:
        if (self.column is None) == (self.parts is None):
            raise ValueError("time needs exactly one of column (a date/datetime) or parts (year, month, day)")
        if self.parts is not None and (self.format or self.timezone):
            raise ValueError("format and timezone apply to a time column, not to year/month/day parts")
        if self.timezone is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"timezone '{self.timezone}' is not an IANA time zone") from None
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        return self.parts if self.parts is not None else (str(self.column),)


class PartitioningSpec(_Strict):
    """Daily (default), hourly or weekly partitions; a row's day comes from ``time`` (default:
    year/month/day columns)."""

    start: dt.date
    end: dt.date = Field(description="last day, inclusive")
    granularity: Literal["daily", "hourly", "weekly"] = Field(
        default="daily",
        description="partition by day, hour (local hours of ``time.column``) or week (from Monday); "
        "deliveries stay one per day",
    )
    time: TimeSpec | None = Field(default=None, description="the time of a row (default: year/month/day)")
    date_columns: tuple[str, str, str] | None = Field(
        default=None, description="shorthand for ``time: {parts: [...]}``"
    )
    missing_days: Literal["fail", "allow"] = Field(
        default="fail", description="a day without a delivery: fail the run, or allow (no rows)"
    )
    empty_days: Literal["fail", "allow"] = Field(
        default="fail", description="a day of the main table with zero rows: fail, or allow"
    )

    @model_validator(mode="after")
    def _ordered(self) -> PartitioningSpec:
        if self.end < self.start:
            raise ValueError(f"partitioning.end {self.end} is before partitioning.start {self.start}")
        if self.time is not None and self.date_columns is not None:
            raise ValueError("give partitioning.time or partitioning.date_columns, not both")
        if self.missing_days == "allow" and self.empty_days == "fail":
            raise ValueError(
                "partitioning.missing_days: allow needs empty_days: allow (a day with no delivery has no rows)"
            )
        return self

    @property
    def time_spec(self) -> TimeSpec:
        if self.time is not None:
            return self.time
        return TimeSpec(parts=self.date_columns or ("year", "month", "day"))

    @property
    def n_partitions(self) -> int:
        days = (self.end - self.start).days + 1
        if self.granularity == "hourly":
            return days * 24
        if self.granularity == "weekly":
            first = self.start - dt.timedelta(days=self.start.weekday())
            return (self.end - first).days // 7 + 1
        return days

    @property
    def day_columns(self) -> tuple[str, ...]:
        """The columns a source may use to find a day's rows (the time column or year/month/day)."""
        return self.time_spec.columns


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
        description="multiclass: the label is the index of the column's value in this list "
        "(other values are quarantined at features)",
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
    sample_seed: int = 0
    retrain_after_new_partitions: int | None = Field(
        default=7, ge=1, description="retrain sensor: train once this many new feature partitions are in"
    )


class EvaluationSpec(_Strict):
    decision_threshold: float = Field(default=0.5, gt=0, lt=1)
    bootstrap_samples: int = Field(default=200, ge=0)
    smoke_sample_rows: int = Field(default=50, gt=0)


class GateSpec(_Strict):
    """Deploy gate: absolute threshold AND a minimum improvement over the champion."""

    metric: Literal["roc_auc", "log_loss", "brier", "rmse", "mae", "r2"]
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
        higher = {"roc_auc", "r2"}
        if (self.gate.metric in higher) != (self.gate.min_value is not None):
            raise ValueError(
                f"gate.metric '{self.gate.metric}' is "
                + (
                    "higher-is-better: use min_value"
                    if self.gate.metric in higher
                    else "lower-is-better: use max_value"
                )
            )
        from ml_platform.registry import FEATURE_BUILDERS

        needed_tables = set(FEATURE_BUILDERS.get(self.features.builder).tables)
        have = {t.name for t in self.auxiliary_tables}
        if needed_tables - have:
            raise ValueError(
                f"features.builder '{self.features.builder}' reads auxiliary tables "
                f"{sorted(needed_tables)}, but auxiliary_tables has {sorted(have)}"
            )
        classification_metrics = {"roc_auc", "log_loss", "brier"}
        if (self.gate.metric in classification_metrics) != (self.task == "classification"):
            raise ValueError(f"gate.metric '{self.gate.metric}' does not fit task '{self.task}'")
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
    def higher_is_better(self) -> bool:
        return self.gate.min_value is not None

    @property
    def model_name(self) -> str:
        return self.name
