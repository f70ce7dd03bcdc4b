"""Spec models of running a pipeline: blocking data checks, sensor intervals and cron schedules."""

from __future__ import annotations

from pydantic import Field, model_validator

from ml_platform.specs.base import _Strict


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
    score_in_ingest_run: bool = Field(
        default=True,
        description="the new-data sensor's run also scores its days with the champion (predictions, "
        "live performance and their checks; job `<pipeline>_ingest_and_score`): one run worker per "
        "delivery instead of two; false: ingest alone, scoring left to the automation",
    )


class ScheduleSpec(_Strict):
    ingest_cron: str = "0 6 * * *"
    retrain_cron: str = "0 3 * * 1"
