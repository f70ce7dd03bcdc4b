"""Batch scores with stable ids, and the champion's live performance once outcomes are known: pure
functions, no Dagster, no MLflow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.metrics import bootstrap_ci, is_classifier, metric_table, point_metrics

PREDICTION_ID = "prediction_id"
ROW = "row"
SCORE = "score"
MODEL_VERSION = "model_version"
PREDICTED_CLASS = "predicted_class"
PROBA_PREFIX = "proba_"
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def prediction_ids(pipeline: str, day: str, n: int) -> list[str]:
    """``<pipeline>:<day>:<row>``: the row is the position in the day's features partition, which is
    the position in the day's cleaned main table (features keep one row per row, in order)."""
    return [f"{pipeline}:{day}:{i:06d}" for i in range(n)]


def with_ids(pipeline: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``_partition``, ``row`` and ``prediction_id`` for every row of a (multi-day) frame."""
    days = frame[PARTITION_COLUMN].astype(str).to_numpy()
    rows = frame.groupby(days, sort=False).cumcount().to_numpy()
    return pd.DataFrame(
        {
            PREDICTION_ID: [f"{pipeline}:{d}:{r:06d}" for d, r in zip(days, rows, strict=True)],
            PARTITION_COLUMN: days,
            ROW: rows.astype("int64"),
        }
    )


def predictions_frame(
    pipeline: str,
    features: pd.DataFrame,
    scores: np.ndarray,
    version: str,
    classes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Ids, ``score`` and ``model_version`` per row. Multiclass (``classes``, scores (n, k)):
    ``score`` is the probability of ``predicted_class`` (the most probable class, by name), and
    ``proba_<class>`` holds every class's probability (so live performance can score any metric)."""
    out = with_ids(pipeline, features)
    s = np.asarray(scores, dtype=float)
    if classes is None:
        out[SCORE] = s
    else:
        s = s.reshape(len(out), len(classes))
        top = np.argmax(s, axis=1)
        out[SCORE] = s[np.arange(len(out)), top] if len(out) else np.array([], dtype=float)
        out[PREDICTED_CLASS] = np.asarray(list(classes), dtype=object)[top] if len(out) else []
        for i, name in enumerate(classes):
            out[proba_column(name)] = s[:, i]
    out[MODEL_VERSION] = str(version)
    return out


def proba_column(name: str) -> str:
    return f"{PROBA_PREFIX}{name}"


def scores_of(predictions: pd.DataFrame, classes: Sequence[str] | None) -> np.ndarray:
    """The scores a predictions frame recorded: ``score``, or (multiclass) the (n, k) class probabilities."""
    if classes is None:
        return predictions[SCORE].to_numpy(dtype=float)
    return predictions[[proba_column(c) for c in classes]].to_numpy(dtype=float)


def class_summary(predicted: np.ndarray, classes: Sequence[str]) -> dict[str, float]:
    """Multiclass: each class's share of the predicted classes (``predicted_share_<class>``)."""
    values = np.asarray(predicted, dtype=object)
    n = max(len(values), 1)
    return {f"predicted_share_{c}": float((values == c).sum() / n) for c in classes}


def score_summary(scores: np.ndarray, task: str, threshold: float) -> dict[str, float]:
    """Quantiles, mean and (binary classification) the share at or above the decision threshold;
    multiclass scores are the predicted class's probability (no threshold applies)."""
    s = np.asarray(scores, dtype=float)
    if len(s) == 0:
        return {"score_mean": float("nan")}
    out = {f"score_p{int(q * 100):02d}": float(np.quantile(s, q)) for q in QUANTILES}
    out["score_mean"] = float(s.mean())
    if task == "classification":
        out["positive_share"] = float((s >= threshold).mean())
    return out


@dataclass(frozen=True)
class DayPerformance:
    day: str
    rows: int
    labelled: int
    known: bool
    metrics: dict[str, float]
    ci: dict[str, tuple[float, float]]

    def record(self, metric: str, version: str) -> dict[str, Any]:
        lo, hi = self.ci.get(metric, (float("nan"), float("nan")))
        return {
            PARTITION_COLUMN: self.day,
            "rows": self.rows,
            "labelled": self.labelled,
            "labels_known": self.known,
            MODEL_VERSION: version,
            **{k: v for k, v in self.metrics.items() if k != "n"},
            f"{metric}_lo": lo,
            f"{metric}_hi": hi,
        }


def day_performance(
    task: str,
    day: str,
    scores: np.ndarray,
    labels: np.ndarray,
    known_share: float,
    min_rows: int,
    samples: int,
    threshold: float,
) -> DayPerformance:
    """Metrics of one day's scores against its outcomes (NaN = not known yet), with percentile
    bootstrap intervals; nothing is computed until ``known_share`` of the rows have a label.
    Multiclass ``scores`` are the (n, k) class probabilities."""
    y = np.asarray(labels, dtype=float)
    s = np.asarray(scores, dtype=float)
    mask = ~np.isnan(y)
    labelled = int(mask.sum())
    known = len(y) > 0 and labelled / len(y) >= known_share and labelled >= min_rows
    if is_classifier(task) and known and len(np.unique(y[mask])) < 2:
        known = False
    if not known:
        return DayPerformance(day, len(y), labelled, False, {}, {})
    metrics = point_metrics(task, y[mask], s[mask], threshold)
    ci = bootstrap_ci(task, y[mask], s[mask], samples, seed=0)
    return DayPerformance(day, len(y), labelled, True, metrics, ci)


def join_outcomes(predictions: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Predictions with their outcome (``label``; NaN where unknown), joined on the prediction id."""
    joined = predictions.merge(outcomes[[PREDICTION_ID, "label"]], on=PREDICTION_ID, how="left")
    if len(joined) != len(predictions):
        raise ValueError("outcomes hold duplicate prediction ids")
    return joined


@dataclass(frozen=True)
class Decay:
    decayed: bool
    reason: str


def decay_decision(
    metric: str,
    higher_is_better: bool,
    value: float,
    interval: tuple[float, float],
    holdout: float,
    tolerance: float,
) -> Decay:
    """Decay is real only when the whole interval is worse than the holdout moved by ``tolerance``."""
    lo, hi = interval
    if higher_is_better:
        bar = holdout - tolerance
        decayed = hi < bar
        side = f"upper bound {hi:.4f} {'<' if decayed else '>='} {bar:.4f}"
    else:
        bar = holdout + tolerance
        decayed = lo > bar
        side = f"lower bound {lo:.4f} {'>' if decayed else '<='} {bar:.4f}"
    return Decay(
        decayed,
        f"{metric} {value:.4f} [{lo:.4f}, {hi:.4f}] vs reference {holdout:.4f} ± {tolerance}: {side}",
    )


def daily_reference(
    task: str,
    days: np.ndarray,
    y: np.ndarray,
    scores: np.ndarray,
    metric: str,
    higher_is_better: bool,
    min_rows: int,
) -> dict[str, float]:
    """The holdout's per-day ``metric``: median and worst decile (10th percentile when higher is
    better, 90th otherwise). A day's metric is not the pooled one (pooling adds between-day signal:
    a daily AUC is lower than the holdout's), so live days are judged against these."""
    fn = metric_table(task)[metric]
    values = []
    for day in np.unique(days):
        mask = days == day
        if mask.sum() < min_rows or (is_classifier(task) and len(np.unique(y[mask])) < 2):
            continue
        values.append(fn(y[mask], scores[mask]))
    if not values:
        return {}
    worst = np.quantile(values, 0.1 if higher_is_better else 0.9)
    return {f"holdout_daily_{metric}_median": float(np.median(values)), daily_worst_key(metric): float(worst)}


def daily_worst_key(metric: str) -> str:
    return f"holdout_daily_{metric}_worst_decile"


def reference_metrics(run_metrics: Mapping[str, float], metric: str) -> dict[str, float]:
    """``holdout_<metric>`` (pooled) and ``reference_<metric>``: what a live day is judged against,
    the holdout's daily worst decile, or the pooled holdout metric for a run that lacks it."""
    pooled = float(run_metrics.get(f"holdout_{metric}", float("nan")))
    return {
        f"holdout_{metric}": pooled,
        f"reference_{metric}": float(run_metrics.get(daily_worst_key(metric), pooled)),
    }


def known_metric(task: str, metric: str) -> None:
    if metric not in metric_table(task):
        raise ValueError(f"monitoring.performance.metric '{metric}' is not a {task} metric")


def summary_text(summary: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in summary.items())
