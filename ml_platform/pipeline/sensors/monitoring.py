"""Monitoring sensors: the drift / decay alert (the alert sensors' pattern: new failed evaluations
of ``feature_drift``, ``prediction_drift`` and ``performance_decay`` since the cursor, one
notification each) and the declarative-automation sensor that scores new days."""

from __future__ import annotations

import json

import dagster as dg

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.integrations.notify import Notification, Notifier
from ml_platform.pipeline.names import PipelineNames
from ml_platform.pipeline.sensors.alerts import _alert_sensor, _links
from ml_platform.pipeline.sensors.check_records import metadata_text, new_evaluations
from ml_platform.sources.base import source_class


def monitoring_checks(pipeline: PipelineNames) -> dict[str, dg.AssetCheckKey]:
    """Kind of alert → the check whose failure raises it."""
    return {
        "feature_drift": dg.AssetCheckKey(pipeline.features_key, "feature_drift"),
        "prediction_drift": dg.AssetCheckKey(pipeline.predictions_key, "prediction_drift"),
        "performance_decay": dg.AssetCheckKey(pipeline.live_performance_key, "performance_decay"),
    }


def drift_alert(pipeline: PipelineNames) -> dg.SensorDefinition:
    checks = monitoring_checks(pipeline)
    model = pipeline.spec.model_name

    def collect(
        context: dg.SensorEvaluationContext, notifier: Notifier, mlflow: MlflowRegistry
    ) -> tuple[list[Notification], str]:
        cursor = json.loads(context.cursor) if context.cursor else {}
        notes = []
        for name, key in checks.items():
            new = new_evaluations(context.instance, key, int(cursor.get(name, 0)))
            for record, evaluation in new:
                if evaluation.passed:
                    continue
                metadata = dict(evaluation.metadata)
                version = metadata_text(metadata, "champion_version")
                kind = "performance_decay" if name == "performance_decay" else "drift"
                reason = metadata_text(metadata, "retrain_reason") or name
                notes.append(
                    Notification(
                        kind=kind,
                        pipeline=pipeline.name,
                        title=f"{pipeline.name}: {name} failed ({reason})",
                        text=evaluation.description or f"{name} failed",
                        fields={
                            "check": name,
                            "days": metadata_text(metadata, "drifted_days")
                            or metadata_text(metadata, "decayed_days")
                            or "",
                            "champion_version": version or "none",
                        },
                        links=_links(notifier, mlflow, model, version, record.run_id),
                    )
                )
            cursor[name] = max([int(cursor.get(name, 0)), *(r.id for r, _ in new)])
        return notes, json.dumps(cursor, sort_keys=True)

    return _alert_sensor(
        f"{pipeline.name}_drift_alert",
        "Notifies when a drift check (features or predictions) or the live-performance decay check "
        "fails, with the top drifting features / the decayed days.",
        collect,
        "no new drift or decay",
    )


def scoring_automation(pipeline: PipelineNames) -> dg.AutomationConditionSensorDefinition:
    """Evaluates the automation conditions of ``predictions`` and ``live_performance`` (running by
    default where the source receives new data, like the retrain sensor)."""
    live = source_class(pipeline.spec.source).receives_new_data
    return dg.AutomationConditionSensorDefinition(
        f"{pipeline.name}_scoring_automation",
        target=dg.AssetSelection.assets(pipeline.predictions_key, pipeline.live_performance_key),
        default_status=dg.DefaultSensorStatus.RUNNING if live else dg.DefaultSensorStatus.STOPPED,
        minimum_interval_seconds=30,
        description="Scores each day once its features land (and its blocking checks passed), and "
        "computes live performance once its outcomes are in.",
    )
