"""Operator's view: per pipeline, the champion, the latest challenger's gate decision, and each
asset's latest materialization, read from the same MLflow and Dagster instance the runs used."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import dagster as dg

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.pipeline.build import pipeline_assets
from ml_platform.pipeline.names import PipelineNames
from ml_platform.specs.models import PipelineSpec


def _version_info(registry: MlflowRegistry, mv: Any) -> dict[str, Any]:
    run = registry.client().get_run(mv.run_id) if mv.run_id else None
    metrics = run.data.metrics if run else {}
    holdout = {
        k.removeprefix("holdout_"): v
        for k, v in metrics.items()
        if k.startswith("holdout_") and not k.startswith(("holdout_champion_", "holdout_baseline_"))
    }
    return {
        "version": str(mv.version),
        "aliases": list(getattr(mv, "aliases", []) or []),
        "deploy_gate": mv.tags.get("deploy_gate"),
        "gate_reasons": mv.tags.get("deploy_gate_reasons"),
        "validation_status": mv.tags.get("validation_status"),
        "rejection_reason": mv.tags.get("rejection_reason"),
        "deployed_at": mv.tags.get("deployed_at"),
        "holdout_metrics": holdout,
        "run_id": mv.run_id,
    }


def pipeline_status(
    spec: PipelineSpec, registry: MlflowRegistry, instance: dg.DagsterInstance
) -> dict[str, Any]:
    pipeline = PipelineNames(spec)
    name = spec.model_name
    champion = registry.version_by_alias(name, "champion")
    challenger = registry.version_by_alias(name, "challenger")
    assets: dict[str, Any] = {}
    for asset in pipeline_assets(pipeline):
        for key in asset.keys:
            event = instance.get_latest_materialization_event(key)
            assets[key.to_user_string()] = (
                None
                if event is None
                else {
                    "at": dt.datetime.fromtimestamp(event.timestamp, dt.UTC).isoformat(timespec="seconds"),
                    "run_id": event.run_id,
                    "partition": event.dagster_event.partition if event.dagster_event else None,
                }
            )
    return {
        "pipeline": pipeline.name,
        "model": name,
        "champion": _version_info(registry, champion) if champion else None,
        "latest_challenger": _version_info(registry, challenger) if challenger else None,
        "assets": assets,
    }


def collect_status(
    specs: Sequence[PipelineSpec], registry: MlflowRegistry, instance: dg.DagsterInstance
) -> list[dict[str, Any]]:
    return [pipeline_status(s, registry, instance) for s in specs]


def render_text(
    statuses: Sequence[dict[str, Any]],
    metric_names: Sequence[str] = (
        "roc_auc",
        "log_loss",
        "brier",
        "rmse",
        "mae",
        "r2",
        "roc_auc_macro",
        "accuracy",
        "f1_macro",
    ),
) -> str:
    lines: list[str] = []
    for st in statuses:
        lines.append(f"== {st['pipeline']} (registered model '{st['model']}')")
        champ = st["champion"]
        if champ:
            shown = ", ".join(
                f"{m} {champ['holdout_metrics'][m]:.4f}"
                for m in metric_names
                if m in champ["holdout_metrics"]
            )
            lines.append(
                f"champion: v{champ['version']} deployed {champ['deployed_at'] or '?'}; holdout {shown or 'n/a'}"
            )
        else:
            lines.append("champion: none")
        chal = st["latest_challenger"]
        if chal:
            decision = chal["validation_status"] or chal["deploy_gate"] or "not evaluated"
            lines.append(
                f"latest challenger: v{chal['version']} gate={chal['deploy_gate'] or '?'} status={decision}"
            )
            if chal["gate_reasons"]:
                lines.extend(f"  - {r}" for r in chal["gate_reasons"].split(" | "))
        lines.append("assets (latest materialization):")
        for key, info in st["assets"].items():
            lines.append(
                f"  {key:<40} "
                + (
                    "never"
                    if info is None
                    else f"{info['at']} run {info['run_id'][:8]}"
                    + (f" partition {info['partition']}" if info["partition"] else "")
                )
            )
    return "\n".join(lines)
