"""The drift plot: PSI per feature for one day, the threshold and each feature's natural level."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ml_platform.ml.drift import FeatureDrift
from ml_platform.ml.plots import _render


def drift_plot_data(drifts: Sequence[FeatureDrift], threshold: float, limit: int = 15) -> dict[str, Any]:
    """What the plot shows: the ``limit`` highest-PSI features (highest first) and the threshold."""
    top = sorted(drifts, key=lambda d: d.psi, reverse=True)[:limit]
    return {
        "features": [d.feature for d in top],
        "psi": [round(d.psi, 6) for d in top],
        "natural_psi": [round(d.natural_psi, 6) for d in top],
        "drifted": [d.drifted for d in top],
        "threshold": threshold,
    }


def drift_png(data: dict[str, Any], title: str) -> bytes:
    """Horizontal bars of PSI (red when the feature drifted), ticks at the natural PSI, a dashed
    threshold line."""

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        names = list(reversed(data["features"]))
        values = list(reversed(data["psi"]))
        natural = list(reversed(data["natural_psi"]))
        colors = ["#dc2626" if d else "#4f46e5" for d in reversed(data["drifted"])]
        ax.barh(names, values, color=colors)
        ax.scatter(natural, names, marker="|", s=200, color="#111827", label="natural (training days)")
        ax.axvline(data["threshold"], ls="--", color="#9ca3af", label=f"threshold {data['threshold']}")
        ax.set(xlabel="PSI vs the champion's training window", title=title)
        ax.legend(loc="lower right", fontsize="small")

    return _render(draw, width=6.0, height=0.3 * max(len(data["features"]), 4) + 1.5)
