"""Holdout metrics with bootstrap confidence intervals and per-slice breakdowns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ml_platform.ml import metrics_multiclass as mc

Metric = Callable[[np.ndarray, np.ndarray], float]


def _skm() -> Any:
    """sklearn.metrics, imported on first use (keeps definitions load light)."""
    from sklearn import metrics

    return metrics


def _clip(p: np.ndarray) -> np.ndarray:
    return np.clip(p, 1e-6, 1 - 1e-6)


CLASSIFICATION: Mapping[str, Metric] = {
    "roc_auc": lambda y, p: float(_skm().roc_auc_score(y, p)),
    "log_loss": lambda y, p: float(_skm().log_loss(y, _clip(p), labels=[0, 1])),
    "brier": lambda y, p: float(_skm().brier_score_loss(y, p)),
}
REGRESSION: Mapping[str, Metric] = {
    "rmse": lambda y, p: float(np.sqrt(_skm().mean_squared_error(y, p))),
    "mae": lambda y, p: float(_skm().mean_absolute_error(y, p)),
    "r2": lambda y, p: float(_skm().r2_score(y, p)),
}


MULTICLASS: Mapping[str, Metric] = {name: mc.metric_fn(name) for name in mc.NAMES}


def is_classifier(task: str) -> bool:
    """Binary (``classification``) or ``multiclass``: labels are classes, one class is not scorable."""
    return task in ("classification", "multiclass")


def tidy(value: float, decimals: int = 4) -> float:
    """A metric for people (MLflow metrics, Dagster metadata): ``decimals`` places, not 16 digits."""
    value = float(value)
    if not np.isfinite(value):
        return value
    return round(value, decimals) if abs(value) < 1e4 else float(round(value))


def metric_table(task: str) -> Mapping[str, Metric]:
    """The metrics of ``task`` as ``PipelineSpec.metric_task`` names it."""
    return {"classification": CLASSIFICATION, "multiclass": MULTICLASS}.get(task, REGRESSION)


def point_metrics(
    task: str, y: np.ndarray, scores: np.ndarray, threshold: float = 0.5, where: str = "holdout"
) -> dict[str, float]:
    """Every metric of the task on one holdout (``where`` names the rows scored in errors);
    binary classification adds precision/recall at ``threshold``; multiclass ``scores`` are (n, k)
    class probabilities (the threshold does not apply: the predicted class is the most probable)."""
    y = np.asarray(y, dtype=float)
    scores = np.asarray(scores, dtype=float)
    if len(y) == 0:
        raise ValueError(f"cannot score an empty {where}")
    if not np.isfinite(scores).all():
        raise ValueError(f"{int((~np.isfinite(scores)).sum())} non-finite predictions on the {where}")
    if is_classifier(task) and len(np.unique(y)) < 2:
        raise ValueError(f"{where} holds a single class: AUC is undefined")
    if task == "multiclass":
        mc.checked(y, scores, where)
        return {**mc.multiclass_metrics(y, scores), "n": float(len(y))}
    out = {name: fn(y, scores) for name, fn in metric_table(task).items()}
    if task == "classification":
        pred = (scores >= threshold).astype(int)
        out["precision"] = float(_skm().precision_score(y, pred, zero_division=0))
        out["recall"] = float(_skm().recall_score(y, pred, zero_division=0))
        out["positive_rate"] = float(y.mean())
    out["n"] = float(len(y))
    return out


def _weighted_classification(
    y: np.ndarray, p: np.ndarray, group: np.ndarray, n_groups: int, w: np.ndarray
) -> dict[str, float] | None:
    """AUC (ties count one half), log loss and Brier with integer resampling weights, in O(n)."""
    pos = np.bincount(group, weights=w * y, minlength=n_groups)
    neg = np.bincount(group, weights=w * (1 - y), minlength=n_groups)
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos == 0 or total_neg == 0:
        return None
    neg_below = np.cumsum(neg) - neg
    auc = float((pos * (neg_below + 0.5 * neg)).sum() / (total_pos * total_neg))
    pc = _clip(p)
    n = w.sum()
    return {
        "roc_auc": auc,
        "log_loss": float(-(w * (y * np.log(pc) + (1 - y) * np.log(1 - pc))).sum() / n),
        "brier": float((w * (p - y) ** 2).sum() / n),
    }


def bootstrap_ci(
    task: str,
    y: np.ndarray,
    scores: np.ndarray,
    samples: int,
    seed: int = 0,
    level: float = 0.95,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals for each task metric (same resamples for every metric).

    A resample is n indices drawn with replacement, kept as counts per row (``bincount``: 10×
    faster than ``multinomial``, which draws a binomial per row, for the same distribution);
    classification metrics are then computed with those counts as weights over scores sorted
    once, so each resample costs O(n) instead of a sort. ``progress(done, samples)`` is called
    about ten times along the way."""
    if samples <= 0:
        return {}
    rng = np.random.default_rng(seed)
    y = np.asarray(y, dtype=float)
    scores = np.asarray(scores, dtype=float)
    table = metric_table(task)
    draws: dict[str, list[float]] = {name: [] for name in table}
    n = len(y)
    if task == "multiclass":
        prepared = mc.prepare(y, scores)
    else:
        uniq, group = np.unique(scores, return_inverse=True)
    report_every = max(1, samples // 10)
    for i in range(samples):
        if progress is not None and i and i % report_every == 0:
            progress(i, samples)
        counts = np.bincount(rng.integers(0, n, size=n), minlength=n).astype(float)
        if task == "multiclass":
            for name, value in mc.weighted_metrics(prepared, counts).items():
                if np.isfinite(value):
                    draws[name].append(value)
            continue
        if task == "classification":
            values = _weighted_classification(y, scores, group, len(uniq), counts)
            if values is None:
                continue
            for name in table:
                draws[name].append(values[name])
            continue
        idx = np.repeat(np.arange(n), counts.astype(int))
        for name, fn in table.items():
            draws[name].append(fn(y[idx], scores[idx]))
    if progress is not None:
        progress(samples, samples)
    alpha = (1 - level) / 2
    return {
        name: (float(np.quantile(v, alpha)), float(np.quantile(v, 1 - alpha)))
        for name, v in draws.items()
        if v
    }


def slice_metrics(
    task: str,
    frame: pd.DataFrame,
    y: np.ndarray,
    scores: np.ndarray,
    slice_columns: list[str],
    metric: str,
    min_rows: int = 30,
    samples: int = 0,
) -> pd.DataFrame:
    """``metric`` per value of each slice column (slices under ``min_rows`` or one class are skipped),
    with a percentile bootstrap interval (``ci_low``, ``ci_high``) from ``samples`` resamples."""
    fn = metric_table(task)[metric]
    rows = []
    y = np.asarray(y, dtype=float)
    scores = np.asarray(scores, dtype=float)
    for column in slice_columns:
        values = frame[column].to_numpy()
        for value in pd.unique(values):
            mask = values == value
            if mask.sum() < min_rows or (is_classifier(task) and len(np.unique(y[mask])) < 2):
                continue
            ci = bootstrap_ci(task, y[mask], scores[mask], samples).get(metric, (np.nan, np.nan))
            rows.append(
                {
                    "slice": column,
                    "value": str(value),
                    "n": int(mask.sum()),
                    metric: fn(y[mask], scores[mask]),
                    "ci_low": ci[0],
                    "ci_high": ci[1],
                }
            )
    return pd.DataFrame(rows, columns=["slice", "value", "n", metric, "ci_low", "ci_high"])


def baseline_scores(task: str, y_train: np.ndarray, n: int, n_classes: int | None = None) -> np.ndarray:
    """Naive baseline: the training base rate (classification), the training class shares on every
    row (multiclass, from the training labels ``y_train``) or the training mean (regression)."""
    if task == "multiclass":
        assert n_classes is not None
        return np.tile(mc.class_shares(y_train, n_classes), (n, 1))
    return np.full(n, float(np.mean(y_train)))
