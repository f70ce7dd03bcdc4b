"""The deploy gate: a blocking asset check on the evaluation report."""

from typing import Any

import dagster as dg

from ml_platform.assets.common import Pipeline
from ml_platform.ml.gate import decide
from ml_platform.resources.mlflow import MlflowRegistry


def deploy_gate_check(pipeline: Pipeline) -> dg.AssetChecksDefinition:
    gate = pipeline.spec.gate
    bound = f">= {gate.min_value}" if gate.min_value is not None else f"<= {gate.max_value}"

    @dg.asset_check(
        asset=pipeline.report_key,
        name="deploy_gate",
        blocking=True,
        description=f"Passes only if the challenger's holdout {gate.metric} is {bound} AND (no champion "
        f"OR it beats the champion by {gate.min_improvement} on the same holdout).",
    )
    def _deploy_gate(mlflow: MlflowRegistry, evaluation_report: dict[str, Any]) -> dg.AssetCheckResult:
        metrics = evaluation_report["metrics"]
        decision = decide(gate, metrics["challenger"], metrics.get("champion"))
        model, version = evaluation_report["model_name"], evaluation_report["challenger_version"]
        mlflow.tag_version(
            model,
            version,
            {"deploy_gate": decision.label, "deploy_gate_reasons": " | ".join(decision.reasons)},
        )
        return dg.AssetCheckResult(
            passed=decision.passed,
            description=f"{decision.label}: " + "; ".join(decision.reasons),
            metadata={
                "decision": decision.label,
                "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in decision.reasons)),
                "model_name": model,
                "model_version": version,
                "champion_version": evaluation_report.get("champion_version") or "none",
                gate.metric: metrics["challenger"][gate.metric],
            },
        )

    return _deploy_gate
