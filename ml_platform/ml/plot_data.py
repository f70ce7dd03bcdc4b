"""The data series each evaluation plot draws (pure numpy/sklearn, no matplotlib), so the plots can be
tested for what they say, not only for being PNGs.

Conventions that keep the plots honest:
- a precision-recall curve is the step function whose area is the average precision; a constant
  score (the baseline) ranks nothing, so its curve is the horizontal line at the prevalence;
- on the calibration chart a constant score is one point, so it is drawn as the horizontal
  reference line at the observed positive rate (what "no information" achieves), point marked;
- slice bars carry bootstrap intervals and an axis that starts at the metric's no-skill value
  (0.5 for AUC, drawn) or at 0, never zoomed to the bars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: the score of a ranking that knows nothing (drawn as the reference on slice charts)
NO_SKILL = {"roc_auc": 0.5, "roc_auc_macro": 0.5}
BOUNDED = {"roc_auc", "brier", "precision", "recall", "roc_auc_macro", "accuracy", "f1_macro"}


def is_constant(scores: np.ndarray) -> bool:
    scores = np.asarray(scores, dtype=float)
    return bool(len(scores)) and bool(np.all(scores == scores[0]))


def roc_series(y: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """False/true positive rates and the AUC (a constant score gives the diagonal, AUC 0.5)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(y, scores)
    return {"x": fpr, "y": tpr, "auc": float(roc_auc_score(y, scores))}


def pr_series(y: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """Precision-recall as step vertices (recall ascending from 0): precision P_n over (R_n-1, R_n],
    so the area under the drawn line is the average precision ``ap``."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    precision, recall, _ = precision_recall_curve(y, scores)
    # sklearn lists recall decreasing and appends (recall 0, precision 1), a convention rather than
    # an operating point: drawn as a line it made the constant baseline a diagonal from 1.0
    r, p = recall[:-1][::-1], precision[:-1][::-1]
    xs = np.repeat(np.concatenate([[0.0], r]), 2)[1:-1]
    ys = np.repeat(p, 2)
    return {"x": xs, "y": ys, "ap": float(average_precision_score(y, scores))}


def calibration_series(y: np.ndarray, scores: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Mean predicted probability vs observed frequency per quantile bin; a constant score is the
    horizontal line at the observed rate, with its one (predicted, observed) point."""
    from sklearn.calibration import calibration_curve

    y = np.asarray(y, dtype=float)
    scores = np.clip(np.asarray(scores, dtype=float), 0, 1)
    if is_constant(scores):
        rate = float(y.mean())
        return {"x": np.array([0.0, 1.0]), "y": np.array([rate, rate]), "point": (float(scores[0]), rate)}
    observed, predicted = calibration_curve(y, scores, n_bins=bins, strategy="quantile")
    return {"x": predicted, "y": observed, "point": None}


def slice_series(slices: Mapping[str, Sequence[Mapping[str, Any]]], metric: str) -> dict[str, Any]:
    """Per slice column: its values (natural order) with each candidate's value and interval, and
    the axis range (from 0 or from the no-skill reference, which is returned to be drawn)."""
    challenger = list(slices.get("challenger", []))
    by_candidate = {
        name: {(r["slice"], r["value"]): r for r in rows} for name, rows in slices.items() if rows
    }
    panels: dict[str, dict[str, Any]] = {}
    for column in dict.fromkeys(r["slice"] for r in challenger):
        rows = sorted((r for r in challenger if r["slice"] == column), key=_natural)
        panel: dict[str, Any] = {"labels": [f"{r['value']} (n={r['n']})" for r in rows], "bars": {}}
        for name, table in by_candidate.items():
            found = [table.get((column, r["value"]), {}) for r in rows]
            value = np.array([f.get(metric, np.nan) for f in found], dtype=float)
            low = np.array([f.get("ci_low", np.nan) for f in found], dtype=float)
            high = np.array([f.get("ci_high", np.nan) for f in found], dtype=float)
            panel["bars"][name] = {"value": value, "low": low, "high": high}
        every = np.concatenate(
            [np.concatenate([b["value"], b["low"], b["high"]]) for b in panel["bars"].values()]
        )
        every = every[np.isfinite(every)]
        reference = NO_SKILL.get(metric)
        start = 0.0 if reference is None else min(reference, float(every.min()) if every.size else reference)
        end = 1.0 if metric in BOUNDED else float(every.max()) * 1.05 if every.size else 1.0
        panel.update(reference=reference, xlim=(start, end))
        panels[column] = panel
    return panels


def _natural(row: Mapping[str, Any]) -> tuple[int, float, str]:
    value = str(row["value"])
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def confusion_series(y: np.ndarray, scores: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """Multiclass confusion matrix of the most probable class: counts (row = true class, column =
    predicted) and each row's shares (a class absent from the rows has a row of zeros)."""
    from ml_platform.ml.metrics_multiclass import confusion

    counts = confusion(y, scores)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    return {"counts": counts, "shares": shares, "classes": [str(c) for c in classes]}


def per_class_series(
    per_class: Mapping[str, Sequence[Mapping[str, Any]]],
    metrics: Sequence[str] = ("precision", "recall", "f1"),
) -> dict[str, Any]:
    """Per candidate and metric, one value per class in class order (NaN where undefined, e.g. the
    precision of a class never predicted); labels carry each class's support."""
    challenger = list(per_class.get("challenger", []))
    classes = [r["class"] for r in challenger]
    bars: dict[str, dict[str, np.ndarray]] = {}
    for name, rows in per_class.items():
        by_class = {r["class"]: r for r in rows}
        bars[name] = {
            m: np.array(
                [np.nan if by_class.get(c, {}).get(m) is None else by_class[c][m] for c in classes],
                dtype=float,
            )
            for m in metrics
        }
    labels = [f"{r['class']} (n={r['support']})" for r in challenger]
    return {"classes": classes, "labels": labels, "bars": bars}


def roc_ovr_series(y: np.ndarray, scores: np.ndarray, classes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """One-vs-rest ROC curve and AUC per class, for the classes the rows hold both as positives and
    negatives (the others have no curve)."""
    labels = np.asarray(y, dtype=float).astype(int)
    p = np.asarray(scores, dtype=float)
    out = {}
    for c, name in enumerate(classes):
        positive = labels == c
        if positive.all() or not positive.any():
            continue
        out[str(name)] = roc_series(positive.astype(float), p[:, c])
    return out
