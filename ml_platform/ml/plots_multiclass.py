"""Multiclass evaluation plots (PNG bytes, the Agg canvas of ``ml.plots``): the confusion matrix of
the most probable class, per-class precision/recall/F1, and one-vs-rest ROC curves per class. The
binary calibration and precision-recall charts have no single-score meaning here and are not drawn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ml_platform.ml.plot_data import confusion_series, per_class_series, roc_ovr_series
from ml_platform.ml.plots import COLORS, _render

METRIC_COLORS = {"precision": "#4f46e5", "recall": "#059669", "f1": "#d97706"}


def confusion_matrix_png(
    y: np.ndarray, score: np.ndarray, classes: Sequence[str], name: str = "challenger"
) -> bytes:
    """k x k counts with each true class's row share."""
    data = confusion_series(y, score, classes)
    counts, shares = data["counts"], data["shares"]
    k = len(classes)

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        for (i, j), count in np.ndenumerate(counts):
            ax.text(
                j,
                i,
                f"{count}\n{shares[i, j]:.0%}",
                ha="center",
                va="center",
                fontsize="small",
                color="white" if shares[i, j] > 0.5 else "black",
            )
        ax.set(
            xticks=range(k),
            yticks=range(k),
            xlabel="predicted (most probable class)",
            ylabel="actual",
            title=f"{name}: confusion matrix (holdout)",
        )
        ax.set_xticklabels(data["classes"], rotation=30, ha="right")
        ax.set_yticklabels(data["classes"])

    return _render(draw, 1.8 + 0.8 * k, 1.5 + 0.7 * k)


def per_class_png(per_class: Mapping[str, Sequence[Mapping[str, Any]]]) -> bytes:
    """Precision, recall and F1 per class (challenger; champion F1 as a marker when there is one)."""
    data = per_class_series(per_class)
    pos = np.arange(len(data["classes"]))

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        bars = data["bars"]["challenger"]
        for i, (metric, values) in enumerate(bars.items()):
            ax.barh(
                pos + (i - 1) * 0.27, np.nan_to_num(values), 0.27, color=METRIC_COLORS[metric], label=metric
            )
        if "champion" in data["bars"]:
            ax.plot(
                data["bars"]["champion"]["f1"], pos + 0.27, "D", color=COLORS["champion"], label="champion f1"
            )
        ax.set_yticks(pos, data["labels"], fontsize="small")
        ax.invert_yaxis()
        ax.set(xlim=(0, 1), xlabel="holdout value", title="challenger per class (most probable class)")
        ax.legend(loc="best", fontsize="small")

    return _render(draw, 6.0, 1.4 + 0.55 * len(pos))


def roc_ovr_png(y: np.ndarray, score: np.ndarray, classes: Sequence[str], name: str = "challenger") -> bytes:
    """One-vs-rest ROC per class (AUC in the legend), the diagonal as the no-skill reference."""
    curves = roc_ovr_series(y, score, classes)

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        for label, curve in curves.items():
            ax.plot(curve["x"], curve["y"], label=f"{label} (AUC {curve['auc']:.3f})")
        ax.plot([0, 1], [0, 1], ls=":", color="#d1d5db")
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"{name}: one-vs-rest ROC")
        ax.legend(loc="lower right", fontsize="small")

    return _render(draw)
