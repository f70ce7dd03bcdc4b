"""The deploy sensor: turns deploy-gate evaluations into deploy runs (pass) or rejection tags (fail).
Of several passes in one tick only the best candidate is deployed; the others are tagged
``validation_status=superseded`` with the reason (the deploy re-checks the winner against the
champion live at deploy time)."""

import dagster as dg

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.ml.gate import HIGHER_IS_BETTER
from ml_platform.pipeline.jobs import PipelineJobs
from ml_platform.pipeline.names import PipelineNames
from ml_platform.pipeline.recovery import fail_dead_runs
from ml_platform.pipeline.sensors.check_records import metadata_text, new_evaluations


def deploy_sensor(pipeline: PipelineNames, jobs: PipelineJobs) -> dg.SensorDefinition:
    name = pipeline.spec.model_name
    check_key = pipeline.gate_check_key
    deploy_op = pipeline.deployment_key.to_python_identifier()
    metric = pipeline.spec.gate.metric
    sign = 1.0 if metric in HIGHER_IS_BETTER else -1.0

    @dg.sensor(
        name=f"{pipeline.name}_deploy_sensor",
        job=jobs.deploy,
        minimum_interval_seconds=pipeline.spec.sensors.deploy_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="On a passing deploy_gate for a version that is not live, launch the deploy job "
        "(once per version); on a rejection, tag the version validation_status=rejected with reasons.",
    )
    def _deploy_sensor(
        context: dg.SensorEvaluationContext, mlflow: MlflowRegistry
    ) -> dg.SensorResult | dg.SkipReason:
        for note in fail_dead_runs(context.instance):
            context.log.warning(note)
        cursor = int(context.cursor or 0)
        new = new_evaluations(context.instance, check_key, cursor)
        if not new:
            return dg.SkipReason(f"no new {check_key.name} evaluations after record {cursor}")
        passed: dict[str, tuple[float, str]] = {}  # version -> (signed gate metric, gate run id)
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
                notes.append(f"v{version} rejected: {reasons.removeprefix('rejected: ')}")
                continue
            champion = mlflow.version_by_alias(name, "champion")
            if champion is not None and str(champion.version) == version:
                notes.append(f"v{version} is already champion")
                continue
            value = metadata_text(metadata, metric)
            passed[version] = (sign * float(value) if value is not None else float("-inf"), record.run_id)
        requests: list[dg.RunRequest] = []
        if passed:
            best = max(passed, key=lambda v: (passed[v][0], int(v) if v.isdigit() else 0))
            for version in passed:
                if version == best:
                    continue
                why = (
                    f"superseded in the same deploy-sensor tick by v{best} "
                    f"({metric} {sign * passed[best][0]:.4f} vs {sign * passed[version][0]:.4f})"
                )
                mlflow.tag_version(
                    name, version, {"validation_status": "superseded", "superseded_reason": why}
                )
                notes.append(f"v{version} {why}")
            requests.append(
                dg.RunRequest(
                    run_key=f"deploy-{name}-v{best}",
                    run_config={"ops": {deploy_op: {"config": {"version": best}}}},
                    tags={"ml_platform/model_version": best, "ml_platform/gate_run": passed[best][1]},
                )
            )
        cursor_value = str(max(r.id for r, _ in new))
        if not requests:
            return dg.SensorResult(skip_reason="; ".join(notes) or "nothing to deploy", cursor=cursor_value)
        for note in notes:
            context.log.info(note)
        return dg.SensorResult(run_requests=requests, cursor=cursor_value)

    return _deploy_sensor
