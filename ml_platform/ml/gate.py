"""The deploy-gate decision: a pure function of holdout metrics and the gate spec."""

from __future__ import annotations

from dataclasses import dataclass, field

from ml_platform.specs.metric_names import HIGHER_IS_BETTER
from ml_platform.specs.models import GateSpec

__all__ = ["HIGHER_IS_BETTER", "GateDecision", "decide"]


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "passed" if self.passed else "rejected"


def decide(gate: GateSpec, challenger: dict[str, float], champion: dict[str, float] | None) -> GateDecision:
    """Pass only if the challenger clears the absolute bar AND (no champion OR it beats the champion
    by ``min_improvement`` on the same holdout). Every reason, good or bad, is listed."""
    metric = gate.metric
    value = challenger.get(metric)
    reasons: list[str] = []
    ok = True
    if value is None:
        return GateDecision(False, [f"challenger has no '{metric}' on the holdout"])
    if gate.min_value is not None:
        if value >= gate.min_value:
            reasons.append(f"{metric} {value:.4f} >= threshold {gate.min_value:.4f}")
        else:
            ok = False
            reasons.append(f"{metric} {value:.4f} is below the threshold {gate.min_value:.4f}")
    if gate.max_value is not None:
        if value <= gate.max_value:
            reasons.append(f"{metric} {value:.4f} <= threshold {gate.max_value:.4f}")
        else:
            ok = False
            reasons.append(f"{metric} {value:.4f} is above the threshold {gate.max_value:.4f}")
    if champion is None or champion.get(metric) is None:
        reasons.append("no champion yet: nothing to beat")
    else:
        best = champion[metric]
        gain = value - best if metric in HIGHER_IS_BETTER else best - value
        if gain >= gate.min_improvement:
            reasons.append(
                f"beats champion {metric} {best:.4f} by {gain:+.4f} (needs {gate.min_improvement:+.4f})"
            )
        else:
            ok = False
            reasons.append(
                f"does not beat champion {metric} {best:.4f}: change {gain:+.4f}, needs {gate.min_improvement:+.4f}"
            )
    return GateDecision(ok, reasons)
