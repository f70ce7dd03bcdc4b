"""Evaluation plots as PNG bytes: pure functions of labels and scores (matplotlib's Agg canvas,
imported lazily; no pyplot, so no global state and safe in threads)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ml_platform.ml.plot_data import calibration_series, pr_series, roc_series, slice_series

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

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        for name, s in _ordered(scores):
            curve = roc_series(y, s)
            ax.plot(curve["x"], curve["y"], color=COLORS.get(name), label=f"{name} (AUC {curve['auc']:.3f})")
        ax.plot([0, 1], [0, 1], ls=":", color="#d1d5db")
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (holdout)")
        ax.legend(loc="lower right", fontsize="small")

    return _render(draw)


def precision_recall_png(y: np.ndarray, scores: Mapping[str, np.ndarray]) -> bytes:
    """Precision-recall step curves of every candidate (area = average precision, in the legend);
    the prevalence, what a constant score achieves, as the reference line."""

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        prevalence = float(np.mean(y))
        ax.axhline(prevalence, ls=":", color="#d1d5db", label=f"prevalence {prevalence:.3f}")
        for name, s in _ordered(scores):
            curve = pr_series(y, s)
            ax.plot(curve["x"], curve["y"], color=COLORS.get(name), label=f"{name} (AP {curve['ap']:.3f})")
        ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (holdout)", ylim=(0, 1.02))
        ax.legend(loc="upper right", fontsize="small")

    return _render(draw)


def calibration_png(y: np.ndarray, scores: Mapping[str, np.ndarray], bins: int = 10) -> bytes:
    """Mean predicted probability vs observed frequency per quantile bin; a constant candidate (the
    baseline) is the horizontal line at the observed rate, its single point marked."""

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], ls=":", color="#d1d5db", label="perfectly calibrated")
        for name, s in _ordered(scores):
            curve = calibration_series(y, s, bins)
            if curve["point"] is None:
                ax.plot(curve["x"], curve["y"], marker="o", ms=3, color=COLORS.get(name), label=name)
                continue
            ax.plot(curve["x"], curve["y"], ls="--", color=COLORS.get(name), label=f"{name} (observed rate)")
            ax.plot(*curve["point"], marker="D", ms=5, color=COLORS.get(name))
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


def slices_png(slices: Mapping[str, Sequence[Mapping[str, Any]]], metric: str) -> bytes:
    """``metric`` per slice value (one panel per slice column), challenger vs champion side by side,
    with bootstrap intervals; the axis starts at 0 or at the no-skill value, which is drawn."""
    panels = slice_series(slices, metric)
    counts = [len(p["labels"]) for p in panels.values()]
    height = 1.2 + 0.22 * sum(counts) + 0.5 * len(panels)

    def draw(fig: Any) -> None:
        if not panels:
            ax = fig.add_subplot()
            ax.text(0.5, 0.5, "no slice with enough rows", ha="center", va="center")
            ax.set_axis_off()
            return
        axes = fig.subplots(len(panels), 1, height_ratios=[max(c, 1) + 1 for c in counts], squeeze=False)
        for ax, (column, panel) in zip(axes[:, 0], panels.items(), strict=True):
            pos = np.arange(len(panel["labels"]))
            bars = panel["bars"]
            offsets = {"challenger": -0.2, "champion": 0.2} if "champion" in bars else {"challenger": 0.0}
            for name, offset in offsets.items():
                bar = bars[name]
                err = np.vstack([bar["value"] - bar["low"], bar["high"] - bar["value"]])
                ax.barh(
                    pos + offset,
                    bar["value"],
                    0.4,
                    color=COLORS[name],
                    label=name,
                    xerr=None if np.isnan(err).all() else np.nan_to_num(err),
                    ecolor="#374151",
                    capsize=2,
                )
            if panel["reference"] is not None:
                ax.axvline(
                    panel["reference"], ls=":", color="#6b7280", label=f"no skill ({panel['reference']:g})"
                )
            ax.set_yticks(pos, panel["labels"], fontsize="small")
            ax.invert_yaxis()
            ax.set_xlim(*panel["xlim"])
            ax.set_title(f"{metric} by {column} (95% bootstrap intervals)", fontsize="medium")
        axes[0, 0].legend(loc="lower right", fontsize="small")

    return _render(draw, 6.0, height)


def evaluation_plots(
    task: str,
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    threshold: float,
    slices: Mapping[str, Sequence[Mapping[str, Any]]],
    metric: str,
    classes: Sequence[str] | None = None,
    per_class: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> dict[str, bytes]:
    """Every plot of the evaluation report, by file name (``*.png``); multiclass (``classes``, and
    ``per_class`` records) draws a k x k confusion matrix, per-class metrics and one-vs-rest ROC."""
    y = np.asarray(y, dtype=float)
    plots: dict[str, bytes] = {}
    if task == "multiclass":
        from ml_platform.ml import plots_multiclass as mcp

        assert classes is not None
        plots["confusion_matrix.png"] = mcp.confusion_matrix_png(y, scores["challenger"], classes)
        plots["per_class.png"] = mcp.per_class_png(per_class or {})
        plots["roc_one_vs_rest.png"] = mcp.roc_ovr_png(y, scores["challenger"], classes)
    elif task == "classification":
        plots["roc.png"] = roc_png(y, scores)
        plots["precision_recall.png"] = precision_recall_png(y, scores)
        plots["calibration.png"] = calibration_png(y, scores)
        plots["confusion_matrix.png"] = confusion_matrix_png(y, scores["challenger"], threshold)
    else:
        plots["predicted_vs_actual.png"] = predicted_vs_actual_png(y, scores)
        plots["residuals.png"] = residuals_png(y, scores)
    plots["slices.png"] = slices_png(slices, metric)
    return plots
