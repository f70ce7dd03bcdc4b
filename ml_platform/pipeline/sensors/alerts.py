"""Notification sensors: run failure (failed assets + partition), gate rejection (from deploy_gate
check evaluations, with reasons) and new champion deployed. Each message links the Dagster run and
the MLflow model version."""

from collections.abc import Callable, Sequence

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.integrations.notify import Notification, Notifier
from ml_platform.pipeline.jobs import PipelineJobs
from ml_platform.pipeline.names import PipelineNames
from ml_platform.pipeline.sensors.check_records import metadata_text, new_evaluations


def _links(
    notifier: Notifier, mlflow: MlflowRegistry, model: str, version: str | None, run_id: str
) -> dict[str, str]:
    links = {"dagster_run": notifier.run_url(run_id) or f"run {run_id}"}
    url = mlflow.version_url(model, version) if version else None
    if version:
        links["mlflow_model_version"] = url or f"models:/{model}/{version}"
    return links


def _partition(tags: dict[str, str]) -> str:
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if start and end:
        return start if start == end else f"{start}..{end}"
    return "none (unpartitioned)"


def run_failure_alert(
    pipeline: PipelineNames, jobs: PipelineJobs, assets: Sequence[dg.AssetsDefinition]
) -> dg.SensorDefinition:
    steps = {a.node_def.name: [k.to_user_string() for k in a.keys] for a in assets if a.is_executable}
    monitored = [
        j for j in (jobs.ingest, jobs.ingest_score, jobs.lookups, jobs.train, jobs.deploy) if j is not None
    ]
    model = pipeline.spec.model_name

    @dg.run_failure_sensor(
        name=f"{pipeline.name}_run_failure_alert",
        monitored_jobs=monitored,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Notifies (Slack / webhook / email) when a run of this pipeline fails, naming the "
        "failed assets and the partition. A gate rejection does not fail its run (WARN severity): "
        "the gate rejection alert reports it.",
    )
    def _alert(context: dg.RunFailureSensorContext, notifier: Notifier, mlflow: MlflowRegistry) -> None:
        run = context.dagster_run
        failures = context.get_step_failure_events()
        errors = {e.step_key: e.step_failure_data.error for e in failures if e.step_key}  # type: ignore[union-attr]
        failed_assets = sorted({k for step in errors for k in steps.get(step, [step])})
        causes = [
            (err.message.strip().splitlines() or ["?"])[-1][:500]
            for err in errors.values()
            if err is not None
        ] or [context.failure_event.message or "run failed"]
        note = Notification(
            kind="run_failure",
            pipeline=pipeline.name,
            title=f"{pipeline.name}: run of {run.job_name} failed",
            text="; ".join(causes),
            fields={
                "failed_assets": ", ".join(failed_assets) or "none (run-level failure)",
                "partition": _partition(dict(run.tags)),
                "job": run.job_name,
            },
            links=_links(notifier, mlflow, model, run.tags.get("ml_platform/model_version"), run.run_id),
        )
        notifier.send(note)

    return _alert


Collect = Callable[[dg.SensorEvaluationContext, Notifier, MlflowRegistry], tuple[list[Notification], str]]


def _alert_sensor(name: str, description: str, collect: Collect, nothing: str) -> dg.SensorDefinition:
    """A sensor that sends what ``collect`` finds since its cursor and advances the cursor."""

    @dg.sensor(
        name=name,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=description,
    )
    def _alert(
        context: dg.SensorEvaluationContext, notifier: Notifier, mlflow: MlflowRegistry
    ) -> dg.SensorResult:
        notes, cursor = collect(context, notifier, mlflow)
        for note in notes:
            notifier.send(note)
        return dg.SensorResult(
            skip_reason=f"{len(notes)} notified: {[n.title for n in notes]}" if notes else nothing,
            cursor=cursor,
        )

    return _alert


def gate_rejection_alert(pipeline: PipelineNames) -> dg.SensorDefinition:
    check_key = pipeline.gate_check_key

    def collect(
        context: dg.SensorEvaluationContext, notifier: Notifier, mlflow: MlflowRegistry
    ) -> tuple[list[Notification], str]:
        cursor = int(context.cursor or 0)
        new = new_evaluations(context.instance, check_key, cursor)
        notes = []
        for record, evaluation in new:
            if evaluation.passed:
                continue
            metadata = dict(evaluation.metadata)
            version = metadata_text(metadata, "model_version")
            model = metadata_text(metadata, "model_name") or pipeline.spec.model_name
            notes.append(
                Notification(
                    kind="gate_rejected",
                    pipeline=pipeline.name,
                    title=f"{pipeline.name}: deploy gate rejected {model} v{version}",
                    text=evaluation.description or "gate failed",
                    fields={
                        "reasons": metadata_text(metadata, "reasons") or "",
                        "model_version": str(version),
                        "champion_version": metadata_text(metadata, "champion_version") or "none",
                    },
                    links=_links(notifier, mlflow, model, version, record.run_id),
                )
            )
        return notes, str(max([cursor, *(r.id for r, _ in new)]))

    return _alert_sensor(
        f"{pipeline.name}_gate_rejection_alert",
        "Notifies when the deploy_gate rejects a challenger, with the gate's reasons.",
        collect,
        "no new gate rejections",
    )


def champion_alert(pipeline: PipelineNames) -> dg.SensorDefinition:
    key = pipeline.deployment_key
    model = pipeline.spec.model_name

    def collect(
        context: dg.SensorEvaluationContext, notifier: Notifier, mlflow: MlflowRegistry
    ) -> tuple[list[Notification], str]:
        after = int(context.cursor or 0)
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, after_storage_id=after or None), limit=100, ascending=True
        ).records
        notes = []
        for record in records:
            materialization = record.asset_materialization
            metadata = dict(materialization.metadata) if materialization else {}
            version = metadata_text(metadata, "champion_version")
            if version is None or metadata_text(metadata, "champion_moved") == "False":
                continue  # "already champion", refused, repaired: the alias did not move
            previous = metadata_text(metadata, "previous_champion") or "none"
            notes.append(
                Notification(
                    kind="champion_deployed",
                    pipeline=pipeline.name,
                    title=f"{pipeline.name}: {model} v{version} is the new champion",
                    text=f"alias champion -> v{version} (previous: {previous})",
                    fields={
                        "model_version": version,
                        "previous_champion": previous,
                        "export_path": metadata_text(metadata, "export_path") or "",
                    },
                    links=_links(notifier, mlflow, model, version, record.run_id),
                )
            )
        return notes, str(max([after, *(r.storage_id for r in records)]))

    return _alert_sensor(
        f"{pipeline.name}_champion_alert",
        "Notifies when a new champion is deployed (alias `champion` moved).",
        collect,
        "no new champion",
    )
