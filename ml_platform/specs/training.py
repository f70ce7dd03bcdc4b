"""Spec models of training and judging a model: the time split, holdout evaluation and the deploy gate."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from ml_platform.specs.base import _Strict


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
