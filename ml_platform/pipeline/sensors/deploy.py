"""The deploy sensor: turns deploy-gate evaluations into deploy runs (pass) or rejection tags (fail)."""

import dagster as dg

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.pipeline.jobs import PipelineJobs
from ml_platform.pipeline.names import PipelineNames
from ml_platform.pipeline.sensors.check_records import metadata_text, new_evaluations


def deploy_sensor(pipeline: PipelineNames, jobs: PipelineJobs) -> dg.SensorDefinition:
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
        new = new_evaluations(context.instance, check_key, cursor)
        if not new:
            return dg.SkipReason(f"no new {check_key.name} evaluations after record {cursor}")
        requests: list[dg.RunRequest] = []
        notes: list[str] = []
        for record, evaluation in new:
            metadata = dict(evaluation.metadata)
            version = metadata_text(metadata, "model_version")
            if version is None:
                notes.append(f"record {record.id}: no model_version in metadata, ignored")
                continue
            if not evaluation.passed:
                reasons = evaluation.description or metadata_text(metadata, "reasons") or "gate failed"
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
        cursor_value = str(max(r.id for r, _ in new))
        if not requests:
            return dg.SensorResult(skip_reason="; ".join(notes) or "nothing to deploy", cursor=cursor_value)
        return dg.SensorResult(run_requests=requests, cursor=cursor_value)

    return _deploy_sensor
