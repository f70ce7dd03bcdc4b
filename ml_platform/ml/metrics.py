"""Holdout metrics with bootstrap confidence intervals and per-slice breakdowns."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from sklearn import metrics as skm

Metric = Callable[[np.ndarray, np.ndarray], float]


def _clip(p: np.ndarray) -> np.ndarray:
    return np.clip(p, 1e-6, 1 - 1e-6)


CLASSIFICATION: Mapping[str, Metric] = {
    "roc_auc": lambda y, p: float(skm.roc_auc_score(y, p)),
    "log_loss": lambda y, p: float(skm.log_loss(y, _clip(p), labels=[0, 1])),
    "brier": lambda y, p: float(skm.brier_score_loss(y, p)),
}
REGRESSION: Mapping[str, Metric] = {
    "rmse": lambda y, p: float(np.sqrt(skm.mean_squared_error(y, p))),
    "mae": lambda y, p: float(skm.mean_absolute_error(y, p)),
    "r2": lambda y, p: float(skm.r2_score(y, p)),
}


def metric_table(task: str) -> Mapping[str, Metric]:
    return CLASSIFICATION if task == "classification" else REGRESSION


def point_metrics(task: str, y: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Every metric of the task on one holdout; classification adds precision/recall at ``threshold``."""
    y = np.asarray(y, dtype=float)
    scores = np.asarray(scores, dtype=float)
    if len(y) == 0:
        raise ValueError("cannot score an empty holdout")
    if not np.isfinite(scores).all():
        raise ValueError(f"{int((~np.isfinite(scores)).sum())} non-finite predictions on the holdout")
    if task == "classification" and len(np.unique(y)) < 2:
        raise ValueError("holdout holds a single class: AUC is undefined")
    out = {name: fn(y, scores) for name, fn in metric_table(task).items()}
    if task == "classification":
        pred = (scores >= threshold).astype(int)
        out["precision"] = float(skm.precision_score(y, pred, zero_division=0))
        out["recall"] = float(skm.recall_score(y, pred, zero_division=0))
        out["positive_rate"] = float(y.mean())
    out["n"] = float(len(y))
    return out


def bootstrap_ci(
    task: str,
    y: np.ndarray,
    scores: np.ndarray,
    samples: int,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals for each task metric (same resamples for every metric)."""
    if samples <= 0:
        return {}
    rng = np.random.default_rng(seed)
    y = np.asarray(y, dtype=float)
    scores = np.asarray(scores, dtype=float)
    table = metric_table(task)
    draws: dict[str, list[float]] = {name: [] for name in table}
    n = len(y)
    for _ in range(samples):
        idx = rng.integers(0, n, n)
        yb = y[idx]
        if task == "classification" and yb.min() == yb.max():
            continue
        for name, fn in table.items():
            draws[name].append(fn(yb, scores[idx]))
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
) -> pd.DataFrame:
    """``metric`` per value of each slice column (slices under ``min_rows`` or one class are skipped)."""
    fn = metric_table(task)[metric]
    rows = []
    y = np.asarray(y, dtype=float)
    scores = np.asarray(scores, dtype=float)
    for column in slice_columns:
        values = frame[column].to_numpy()
        for value in pd.unique(values):
            mask = values == value
            if mask.sum() < min_rows or (task == "classification" and len(np.unique(y[mask])) < 2):
                continue
            rows.append(
                {
                    "slice": column,
                    "value": str(value),
                    "n": int(mask.sum()),
                    metric: fn(y[mask], scores[mask]),
                }
            )
    return pd.DataFrame(rows, columns=["slice", "value", "n", metric])


def baseline_scores(task: str, y_train: np.ndarray, n: int) -> np.ndarray:
    """Naive baseline: the training base rate (classification) or training mean (regression)."""
    return np.full(n, float(np.mean(y_train)))
