"""The deploy gate: a blocking asset check on the evaluation report."""

from typing import Any

import dagster as dg

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.ml.gate import GateDecision, decide
from ml_platform.ml.model_card import model_card
from ml_platform.pipeline.names import PipelineNames


def publish_model_card(
    pipeline: PipelineNames, mlflow: MlflowRegistry, report: dict[str, Any], decision: GateDecision
) -> str:
    """Write the version's model card (with the gate decision) to its run and as its description."""
    model, version, run_id = report["model_name"], report["challenger_version"], report["challenger_run_id"]
    links = mlflow.links(report.get("experiment_id", ""), run_id, model, version)
    card = model_card(
        pipeline.spec, report, decision.passed, decision.reasons, links, report.get("plots", ())
    )
    mlflow.log_to_run(run_id, {}, {"model_card.md": card}, {"deploy_gate": decision.label})
    mlflow.describe_version(model, version, card)
    return card


def deploy_gate_check(pipeline: PipelineNames) -> dg.AssetChecksDefinition:
    gate = pipeline.spec.gate
    bound = f">= {gate.min_value}" if gate.min_value is not None else f"<= {gate.max_value}"

    @dg.asset_check(
        asset=pipeline.report_key,
        name="deploy_gate",
        blocking=True,
        description=f"Passes only if the challenger's holdout {gate.metric} is {bound} AND (no champion "
        f"OR it beats the champion by {gate.min_improvement} on the same holdout).",
    )
    def _deploy_gate(
        context: dg.AssetCheckExecutionContext, mlflow: MlflowRegistry, evaluation_report: dict[str, Any]
    ) -> dg.AssetCheckResult:
        metrics = evaluation_report["metrics"]
        decision = decide(gate, metrics["challenger"], metrics.get("champion"))
        model, version = evaluation_report["model_name"], evaluation_report["challenger_version"]
        gate_tags = {"deploy_gate": decision.label, "deploy_gate_reasons": " | ".join(decision.reasons)}
        back_link = mlflow.dagster_run_url(context.run.run_id)
        if back_link:
            gate_tags["deploy_gate_dagster_run_url"] = back_link
        mlflow.tag_version(model, version, gate_tags)
        publish_model_card(pipeline, mlflow, evaluation_report, decision)
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
