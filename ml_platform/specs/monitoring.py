"""The ``monitoring:`` section of a spec: when labels count as known, drift and decay thresholds,
and when a failed check retrains."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DriftSpec(_Strict):
    """A feature (or the scores) drifts on a day when all three hold: its PSI against the champion's
    training window is at least ``psi_threshold``; it exceeds the largest daily PSI seen inside that
    window times ``natural_margin`` (a normal day of weather is narrow next to ten months of it);
    and the KS (numeric) / chi-squared (categorical) test rejects sameness at ``p_value``."""

    psi_threshold: float = Field(default=0.2, gt=0)
    natural_margin: float = Field(default=1.5, ge=1)
    p_value: float = Field(default=0.01, gt=0, lt=1)
    bins: int = Field(default=10, ge=2, le=100)
    max_categories: int = Field(default=30, ge=2)
    top_features: int = Field(default=5, ge=1, description="features listed in the check's metadata")
    min_rows: int = Field(default=50, ge=1, description="days with fewer rows are not judged")
    score_rows_per_day: int | None = Field(
        default=300,
        ge=50,
        description="the score reference is the new model's scores on at most this many rows of each "
        "training day (a seeded sample; every row when null): scoring the whole window costs as "
        "much as a third of the fit, and the daily score shares it yields are the same within "
        "sampling noise",
    )


class PerformanceSpec(_Strict):
    """Live performance: a day counts once ``labels_known_share`` of its rows have a label; decay is
    real when the day's interval lies entirely on the bad side of the deployment holdout metric
    moved by ``tolerance`` (upper bound below ``holdout - tolerance`` for higher-is-better)."""

    labels_known_share: float = Field(default=0.5, gt=0, le=1)
    metric: str | None = Field(default=None, description="default: the gate metric")
    tolerance: float = Field(default=0.02, ge=0)
    bootstrap_samples: int = Field(default=200, ge=20)
    min_rows: int = Field(default=100, ge=10)


class MonitoringSpec(_Strict):
    """Batch scoring, live performance, drift and retraining on a failed check."""

    drift: DriftSpec = DriftSpec()
    performance: PerformanceSpec = PerformanceSpec()
    retrain_on_drift: bool = True
    retrain_on_decay: bool = True
    retrain_cooldown_hours: float = Field(
        default=72.0, ge=0, description="no check-triggered retrain sooner than this after the last one"
    )
    retrain_cooldown_partitions: int | None = Field(
        default=None,
        ge=0,
        description="count the cooldown on the data's clock instead: no check-triggered retrain until "
        "this many new feature partitions have landed since the last retrain (replaces "
        "`retrain_cooldown_hours` when set; right for replays and backfills of history, where a "
        "day of data lands in minutes)",
    )
