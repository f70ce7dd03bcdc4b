"""The deploy gate: an asset check on the evaluation report whose rejection is a recorded decision.

Why not a failing ERROR-severity blocking check: Dagster fails the whole step (and run) with
``DagsterAssetCheckFailedError`` when a blocking check fails with ERROR severity, so a normal
rejection read as a crash. A rejection is the platform working, so it is reported with WARN severity
(the train run succeeds; the reasons are in the check result, a warning in the run log, the run's
tags and the evaluation report). The check stays ``blocking`` so that a run which also selects
``deployment`` waits for the decision, and the gate still blocks deployment explicitly: the
``deployment`` asset refuses a version whose ``deploy_gate`` tag is not ``passed`` and the deploy
sensor only launches deploys for passing evaluations.
"""

from typing import Any

import dagster as dg

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.ml.gate import GateDecision, decide
from ml_platform.ml.metrics import tidy
from ml_platform.ml.model_card import model_card, run_note
from ml_platform.pipeline.names import PipelineNames

#: Run tags the gate adds to the run that evaluated it (shown in the run list and on the run page).
GATE_TAG = "ml_platform/deploy_gate"
GATE_REASONS_TAG = "ml_platform/deploy_gate_reasons"


def decision_summary(model: str, version: str, decision: GateDecision) -> str:
    """One line for people: ``flights_delay v2 rejected by deploy_gate: reason; reason``."""
    return f"{model} v{version} {decision.label} by deploy_gate: " + "; ".join(decision.reasons)


def decision_run_tags(version: str, decision: GateDecision) -> dict[str, str]:
    """The gate's outcome as run tags: ``rejected v2`` and its reasons (shortened for the run list)."""
    reasons = "; ".join(decision.reasons)
    return {
        GATE_TAG: f"{decision.label} v{version}",
        GATE_REASONS_TAG: reasons if len(reasons) <= 240 else reasons[:239] + "…",
    }


def publish_model_card(
    pipeline: PipelineNames,
    mlflow: MlflowRegistry,
    report: dict[str, Any],
    decision: GateDecision,
    gate_run_id: str | None = None,
) -> str:
    """Write the version's model card (with the gate decision) to its run and as its description;
    the run's description gets the same decision and the links back to Dagster, as Markdown links."""
    model, version, run_id = report["model_name"], report["challenger_version"], report["challenger_run_id"]
    experiment = report.get("experiment_id", "")
    links: dict[str, str] = dict(mlflow.links(experiment, run_id, model, version))
    trained_by = report.get("training_dagster_run_id")
    dagster = {
        "Dagster run that trained it": mlflow.dagster_run_url(trained_by) if trained_by else None,
        "Dagster run of the deploy gate": mlflow.dagster_run_url(gate_run_id) if gate_run_id else None,
    }
    links.update({k: v for k, v in dagster.items() if v})
    plots = report.get("plots", ())
    plot_links = {p: url for p in plots if (url := mlflow.artifact_url(experiment, run_id, p))}
    card = model_card(pipeline.spec, report, decision.passed, decision.reasons, links, plots, plot_links)
    mlflow.log_to_run(run_id, {}, {"model_card.md": card}, {"deploy_gate": decision.label})
    mlflow.describe_version(model, version, card)
    mlflow.describe_run(
        run_id,
        run_note(
            f"{model} v{version}: deploy gate {decision.label}",
            {**dagster, "model version (model card)": mlflow.version_url(model, version)},
            decision.reasons,
        ),
    )
    return card


def deploy_gate_check(pipeline: PipelineNames) -> dg.AssetChecksDefinition:
    gate = pipeline.spec.gate
    bound = f">= {gate.min_value}" if gate.min_value is not None else f"<= {gate.max_value}"

    @dg.asset_check(
        asset=pipeline.report_key,
        name="deploy_gate",
        blocking=True,  # a run that also selects deployment waits for the decision
        description=f"Passes only if the challenger's holdout {gate.metric} is {bound} AND (no champion "
        f"OR it beats the champion by {gate.min_improvement} on the same holdout). A rejection is a "
        "decision, not an error (WARN severity: the run succeeds); deployment refuses any version "
        "without deploy_gate=passed.",
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
        publish_model_card(pipeline, mlflow, evaluation_report, decision, context.run.run_id)
        summary = decision_summary(model, version, decision)
        context.instance.add_run_tags(context.run.run_id, decision_run_tags(version, decision))
        if decision.passed:
            context.log.info(summary)
        else:
            context.log.warning(summary + ". Not deployed; the champion stays.")
        return dg.AssetCheckResult(
            passed=decision.passed,
            severity=dg.AssetCheckSeverity.ERROR if decision.passed else dg.AssetCheckSeverity.WARN,
            description=f"{decision.label}: " + "; ".join(decision.reasons),
            metadata={
                "decision": decision.label,
                "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in decision.reasons)),
                "model_name": model,
                "model_version": version,
                "champion_version": evaluation_report.get("champion_version") or "none",
                gate.metric: tidy(metrics["challenger"][gate.metric]),
            },
        )

    return _deploy_gate
