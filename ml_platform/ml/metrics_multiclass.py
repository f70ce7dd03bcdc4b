"""Multiclass holdout metrics from per-class probabilities (``scores`` of shape (n, k), label i is
class i of ``target.classes``), with integer resampling weights so a bootstrap resample costs O(n k).

- ``roc_auc_macro``: one-vs-rest ROC AUC of each class (ties count one half), averaged over the
  classes the rows hold both as positives and negatives (a class absent from a holdout has no AUC;
  with every class present this is scikit-learn's ``roc_auc_score(multi_class="ovr", average="macro")``);
- ``log_loss``: mean negative log probability of the true class (clipped at float64's epsilon, as
  scikit-learn does);
- ``accuracy``: share of rows whose most probable class is the true one;
- ``f1_macro``: F1 per class of the most probable class, averaged over the classes that occur as
  truth or prediction (scikit-learn's ``f1_score(average="macro")``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

NAMES = ("roc_auc_macro", "log_loss", "accuracy", "f1_macro")
_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class Prepared:
    """Labels, probabilities, predicted class, and each class's scores ranked once."""

    y: np.ndarray
    p: np.ndarray
    pred: np.ndarray
    groups: tuple[np.ndarray, ...]
    sizes: tuple[int, ...]

    @property
    def k(self) -> int:
        return int(self.p.shape[1])


def checked(y: np.ndarray, scores: np.ndarray, where: str = "holdout") -> tuple[np.ndarray, np.ndarray]:
    """Integer labels and an (n, k) float matrix, or a ValueError saying what is wrong."""
    p = np.asarray(scores, dtype=float)
    if p.ndim != 2 or p.shape[1] < 3:
        raise ValueError(f"multiclass scores on the {where} must be one probability per class, got {p.shape}")
    labels = np.asarray(y, dtype=float)
    if len(labels) != len(p):
        raise ValueError(f"{len(labels)} labels for {len(p)} score rows on the {where}")
    if np.isnan(labels).any() or (labels < 0).any() or (labels >= p.shape[1]).any():
        raise ValueError(f"labels on the {where} must be class indices 0..{p.shape[1] - 1}")
    return labels.astype(int), p


def prepare(y: np.ndarray, scores: np.ndarray) -> Prepared:
    labels, p = checked(y, scores)
    ranked = [np.unique(p[:, c], return_inverse=True) for c in range(p.shape[1])]
    return Prepared(
        labels,
        p,
        np.argmax(p, axis=1),
        tuple(inverse for _, inverse in ranked),
        tuple(len(unique) for unique, _ in ranked),
    )


def _auc(group: np.ndarray, size: int, positive: np.ndarray, w: np.ndarray) -> float | None:
    pos = np.bincount(group, weights=w * positive, minlength=size)
    neg = np.bincount(group, weights=w * ~positive, minlength=size)
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos == 0 or total_neg == 0:
        return None
    neg_below = np.cumsum(neg) - neg
    return float((pos * (neg_below + 0.5 * neg)).sum() / (total_pos * total_neg))


def weighted_metrics(prep: Prepared, w: np.ndarray | None = None) -> dict[str, float]:
    """Every multiclass metric with row weights ``w`` (default: 1 per row)."""
    weights = np.ones(len(prep.y)) if w is None else np.asarray(w, dtype=float)
    total = weights.sum()
    aucs = [
        a
        for c in range(prep.k)
        if (a := _auc(prep.groups[c], prep.sizes[c], prep.y == c, weights)) is not None
    ]
    true_p = np.clip(prep.p[np.arange(len(prep.y)), prep.y], _EPS, 1 - _EPS)
    hit = prep.pred == prep.y
    return {
        "roc_auc_macro": float(np.mean(aucs)) if aucs else float("nan"),
        "log_loss": float(-(weights * np.log(true_p)).sum() / total),
        "accuracy": float((weights * hit).sum() / total),
        "f1_macro": _f1_macro(prep, weights),
    }


def _f1_macro(prep: Prepared, w: np.ndarray) -> float:
    k = prep.k
    tp = np.bincount(prep.y, weights=w * (prep.pred == prep.y), minlength=k)
    truth = np.bincount(prep.y, weights=w, minlength=k)
    predicted = np.bincount(prep.pred, weights=w, minlength=k)
    occurs = (truth + predicted) > 0
    return float(np.mean(2 * tp[occurs] / (truth[occurs] + predicted[occurs])))


def multiclass_metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    return weighted_metrics(prepare(y, scores))


def metric_fn(name: str) -> Any:
    """``fn(y, scores) -> float`` for one multiclass metric (for slices and daily references)."""
    return lambda y, p: multiclass_metrics(y, p)[name]


def confusion(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """k x k counts: row = true class, column = most probable class."""
    labels, p = checked(y, scores)
    k = p.shape[1]
    return np.bincount(labels * k + np.argmax(p, axis=1), minlength=k * k).reshape(k, k)


def per_class(y: np.ndarray, scores: np.ndarray, classes: Sequence[str]) -> list[dict[str, Any]]:
    """One record per class: support (true rows), predicted rows, precision, recall, F1 of the most
    probable class, and the class's one-vs-rest AUC (None where the rows lack it or its complement)."""
    prep = prepare(y, scores)
    matrix = confusion(y, scores)
    ones = np.ones(len(prep.y))
    rows = []
    for c, name in enumerate(classes):
        tp, support, predicted = float(matrix[c, c]), int(matrix[c].sum()), int(matrix[:, c].sum())
        precision = tp / predicted if predicted else None
        recall = tp / support if support else None
        f1 = 2 * tp / (support + predicted) if support + predicted else None
        rows.append(
            {
                "class": str(name),
                "support": support,
                "predicted": predicted,
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "roc_auc": _auc(prep.groups[c], prep.sizes[c], prep.y == c, ones),
            }
        )
    return rows


def class_shares(y: np.ndarray, k: int) -> np.ndarray:
    """Each class's share of the labels (the naive baseline predicts these for every row)."""
    labels = np.asarray(y, dtype=float)
    labels = labels[~np.isnan(labels)].astype(int)
    counts = np.bincount(labels, minlength=k).astype(float)
    return counts / max(counts.sum(), 1.0)
