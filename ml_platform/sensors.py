"""The deploy sensor: turns deploy-gate evaluations into deploy runs (pass) or rejection tags (fail)."""

from typing import Any

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from ml_platform.assets.common import Pipeline
from ml_platform.jobs import PipelineJobs
from ml_platform.resources.mlflow import MlflowRegistry

_DONE = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}


def _text(metadata: dict[str, Any], key: str) -> str | None:
    value = metadata.get(key)
    return None if value is None else str(getattr(value, "value", value))


def deploy_sensor(pipeline: Pipeline, jobs: PipelineJobs) -> dg.SensorDefinition:
    name = pipeline.spec.model_name
    check_key = pipeline.gate_check_key
    deploy_op = pipeline.deployment_key.to_python_identifier()

    @dg.sensor(
        name=f"{pipeline.name}_deploy_sensor",
        job=jobs.deploy,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="On a passing deploy_gate for a version that is not live, launch the deploy job "
        "(once per version); on a rejection, tag the version validation_status=rejected with reasons.",
    )
    def _deploy_sensor(
        context: dg.SensorEvaluationContext, mlflow: MlflowRegistry
    ) -> dg.SensorResult | dg.SkipReason:
        cursor = int(context.cursor or 0)
        history = context.instance.event_log_storage.get_asset_check_execution_history(check_key, limit=100)
        new = sorted(
            (r for r in history if r.id > cursor and r.status in _DONE and r.event), key=lambda r: r.id
        )
        if not new:
            return dg.SkipReason(f"no new {check_key.name} evaluations after record {cursor}")
        requests: list[dg.RunRequest] = []
        notes: list[str] = []
        for record in new:
            evaluation = record.event.dagster_event.event_specific_data  # type: ignore[union-attr]
            if not isinstance(evaluation, dg.AssetCheckEvaluation):
                continue
            metadata = dict(evaluation.metadata)
            version = _text(metadata, "model_version")
            if version is None:
                notes.append(f"record {record.id}: no model_version in metadata, ignored")
                continue
            if not evaluation.passed:
                reasons = evaluation.description or _text(metadata, "reasons") or "gate failed"
                mlflow.tag_version(
                    name, version, {"validation_status": "rejected", "rejection_reason": reasons}
                )
                notes.append(f"v{version} rejected: {reasons}")
                continue
            champion = mlflow.version_by_alias(name, "champion")
            if champion is not None and str(champion.version) == version:
                notes.append(f"v{version} is already champion")
                continue
            requests.append(
                dg.RunRequest(
                    run_key=f"deploy-{name}-v{version}",
                    run_config={"ops": {deploy_op: {"config": {"version": version}}}},
                    tags={"ml_platform/model_version": version, "ml_platform/gate_run": record.run_id},
                )
            )
        cursor_value = str(max(r.id for r in new))
        if not requests:
            return dg.SensorResult(skip_reason="; ".join(notes) or "nothing to deploy", cursor=cursor_value)
        return dg.SensorResult(run_requests=requests, cursor=cursor_value)

    return _deploy_sensor
