"""Evaluation plots as PNG bytes: pure functions of labels and scores (matplotlib's Agg canvas,
imported lazily; no pyplot, so no global state and safe in threads)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

COLORS = {"challenger": "#4f46e5", "champion": "#059669", "baseline": "#9ca3af"}
ORDER = ("challenger", "champion", "baseline")
DPI = 80


def _ordered(scores: Mapping[str, np.ndarray]) -> list[tuple[str, np.ndarray]]:
    return [(n, np.asarray(scores[n], dtype=float)) for n in ORDER if n in scores] + [
        (n, np.asarray(s, dtype=float)) for n, s in scores.items() if n not in ORDER
    ]


def _render(draw: Any, width: float = 5.0, height: float = 4.0) -> bytes:
    """PNG bytes of a figure drawn by ``draw(fig)`` on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    draw(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def roc_png(y: np.ndarray, scores: Mapping[str, np.ndarray]) -> bytes:
    """ROC curves of every candidate on one chart, AUC in the legend."""
    from sklearn.metrics import roc_auc_score, roc_curve

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        for name, s in _ordered(scores):
            fpr, tpr, _ = roc_curve(y, s)
            ax.plot(fpr, tpr, color=COLORS.get(name), label=f"{name} (AUC {roc_auc_score(y, s):.3f})")
        ax.plot([0, 1], [0, 1], ls=":", color="#d1d5db")
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (holdout)")
        ax.legend(loc="lower right", fontsize="small")

    return _render(draw)


def precision_recall_png(y: np.ndarray, scores: Mapping[str, np.ndarray]) -> bytes:
    """Precision-recall curves of every candidate, average precision in the legend."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        for name, s in _ordered(scores):
            precision, recall, _ = precision_recall_curve(y, s)
            ap = average_precision_score(y, s)
            ax.plot(recall, precision, color=COLORS.get(name), label=f"{name} (AP {ap:.3f})")
        ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (holdout)", ylim=(0, 1.02))
        ax.legend(loc="upper right", fontsize="small")

    return _render(draw)


def calibration_png(y: np.ndarray, scores: Mapping[str, np.ndarray], bins: int = 10) -> bytes:
    """Mean predicted probability vs observed frequency per quantile bin."""
    from sklearn.calibration import calibration_curve

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], ls=":", color="#d1d5db", label="perfectly calibrated")
        for name, s in _ordered(scores):
            observed, predicted = calibration_curve(y, np.clip(s, 0, 1), n_bins=bins, strategy="quantile")
            ax.plot(predicted, observed, marker="o", ms=3, color=COLORS.get(name), label=name)
        ax.set(xlabel="mean predicted probability", ylabel="observed frequency", title="Calibration")
        ax.legend(loc="upper left", fontsize="small")

    return _render(draw)


def confusion_matrix_png(
    y: np.ndarray, score: np.ndarray, threshold: float, name: str = "challenger"
) -> bytes:
    """Counts (and row shares) of the confusion matrix at the decision threshold."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(
        np.asarray(y, dtype=int), (np.asarray(score) >= threshold).astype(int), labels=[0, 1]
    )

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        ax.imshow(matrix, cmap="Blues")
        totals = matrix.sum(axis=1, keepdims=True).clip(min=1)
        for (i, j), count in np.ndenumerate(matrix):
            dark = count > matrix.max() / 2
            ax.text(
                j,
                i,
                f"{count}\n{count / totals[i, 0]:.1%}",
                ha="center",
                va="center",
                color="white" if dark else "black",
            )
        ax.set(
            xticks=[0, 1],
            yticks=[0, 1],
            xticklabels=["0", "1"],
            yticklabels=["0", "1"],
            xlabel="predicted",
            ylabel="actual",
            title=f"{name} at threshold {threshold:g}",
        )

    return _render(draw, 4.0, 3.6)


def predicted_vs_actual_png(y: np.ndarray, scores: Mapping[str, np.ndarray], max_points: int = 2000) -> bytes:
    """Regression: predictions against the truth, with the identity line."""

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        idx = np.random.default_rng(0).permutation(len(y))[:max_points]
        for name, s in _ordered(scores):
            ax.scatter(np.asarray(y)[idx], s[idx], s=6, alpha=0.5, color=COLORS.get(name), label=name)
        lo, hi = float(np.min(y)), float(np.max(y))
        ax.plot([lo, hi], [lo, hi], ls=":", color="#6b7280")
        ax.set(xlabel="actual", ylabel="predicted", title="Predicted vs actual (holdout)")
        ax.legend(loc="upper left", fontsize="small")

    return _render(draw)


def residuals_png(y: np.ndarray, scores: Mapping[str, np.ndarray]) -> bytes:
    """Regression: residual distributions (prediction - actual)."""

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        for name, s in _ordered(scores):
            ax.hist(s - np.asarray(y, dtype=float), bins=30, alpha=0.5, color=COLORS.get(name), label=name)
        ax.axvline(0, color="#6b7280", ls=":")
        ax.set(xlabel="prediction - actual", ylabel="rows", title="Residuals (holdout)")
        ax.legend(fontsize="small")

    return _render(draw)


def _natural(row: Mapping[str, Any]) -> tuple[int, float, str]:
    value = str(row["value"])
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def slices_png(slices: Mapping[str, Sequence[Mapping[str, Any]]], metric: str) -> bytes:
    """``metric`` per slice value (one panel per slice column), challenger vs champion side by side."""
    challenger = list(slices.get("challenger", []))
    champion = {(r["slice"], r["value"]): r[metric] for r in slices.get("champion", [])}
    columns = list(dict.fromkeys(r["slice"] for r in challenger))
    counts = [sum(1 for r in challenger if r["slice"] == c) for c in columns]
    height = 1.2 + 0.22 * sum(counts) + 0.5 * len(columns)

    def draw(fig: Any) -> None:
        if not columns:
            ax = fig.add_subplot()
            ax.text(0.5, 0.5, "no slice with enough rows", ha="center", va="center")
            ax.set_axis_off()
            return
        axes = fig.subplots(len(columns), 1, height_ratios=[max(c, 1) + 1 for c in counts], squeeze=False)
        for ax, column in zip(axes[:, 0], columns, strict=True):
            rows = sorted((r for r in challenger if r["slice"] == column), key=_natural)
            pos = np.arange(len(rows))
            ax.barh(pos - 0.2, [r[metric] for r in rows], 0.4, color=COLORS["challenger"], label="challenger")
            theirs = [champion.get((column, r["value"]), np.nan) for r in rows]
            if champion:
                ax.barh(pos + 0.2, theirs, 0.4, color=COLORS["champion"], label="champion")
            ax.set_yticks(pos, [f"{r['value']} (n={r['n']})" for r in rows], fontsize="small")
            ax.invert_yaxis()
            ax.set_title(f"{metric} by {column}", fontsize="medium")
            values = [r[metric] for r in rows] + [v for v in theirs if np.isfinite(v)]
            if metric == "roc_auc" and values:
                ax.set_xlim(max(0.0, min(values) - 0.05), min(1.0, max(values) + 0.05))
        axes[0, 0].legend(loc="lower right", fontsize="small")

    return _render(draw, 6.0, height)


def evaluation_plots(
    task: str,
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    threshold: float,
    slices: Mapping[str, Sequence[Mapping[str, Any]]],
    metric: str,
) -> dict[str, bytes]:
    """Every plot of the evaluation report, by file name (``*.png``)."""
    y = np.asarray(y, dtype=float)
    plots: dict[str, bytes] = {}
    if task == "classification":
        plots["roc.png"] = roc_png(y, scores)
        plots["precision_recall.png"] = precision_recall_png(y, scores)
        plots["calibration.png"] = calibration_png(y, scores)
        plots["confusion_matrix.png"] = confusion_matrix_png(y, scores["challenger"], threshold)
    else:
        plots["predicted_vs_actual.png"] = predicted_vs_actual_png(y, scores)
        plots["residuals.png"] = residuals_png(y, scores)
    plots["slices.png"] = slices_png(slices, metric)
    return plots
