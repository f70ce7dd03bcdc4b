"""Retrain sensor: train a challenger once enough new feature partitions are in, never past a failed
blocking check (a blocked day keeps its older features, so the checks are read, not just the data)."""

import json
from collections.abc import Sequence

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.partition_status_cache import AssetPartitionStatus
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from ml_platform.ml.windows import resolve_windows
from ml_platform.pipeline.jobs import PipelineJobs
from ml_platform.pipeline.names import PipelineNames
from ml_platform.pipeline.sensors.check_records import FINISHED
from ml_platform.sources.base import source_class


def blocking_check_keys(
    assets: Sequence[dg.AssetsDefinition], keys: set[dg.AssetKey]
) -> list[dg.AssetCheckKey]:
    """The blocking checks defined on ``keys`` by ``assets``."""
    return sorted(
        (spec.key for a in assets for spec in a.check_specs if spec.blocking and spec.asset_key in keys),
        key=lambda k: k.to_user_string(),
    )


def _run_partitions(
    instance: dg.DagsterInstance, run_id: str, partitions_def: dg.PartitionsDefinition
) -> list[str]:
    """The partitions a run covered (its partition tag, or a single-run backfill's range)."""
    run = instance.get_run_by_id(run_id)
    tags = run.tags if run else {}
    if "dagster/partition" in tags:
        return [tags["dagster/partition"]]
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if start and end:
        return list(partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(start, end)))
    return []


def failed_blocking_checks(
    instance: dg.DagsterInstance,
    checks: Sequence[dg.AssetCheckKey],
    partitions: set[str],
    partitions_def: dg.PartitionsDefinition,
) -> list[str]:
    """``partition: check`` for each partition whose latest evaluation of a blocking check failed.

    Evaluations yielded inside a partitioned run may be stored without a partition: the run's
    partition (or range) is used then. A check on an unpartitioned asset (a lookup table) whose
    latest evaluation failed blocks every partition (``all: …``)."""
    failed, lookups = [], []
    runs: dict[str, list[str]] = {}
    for check in checks:
        latest: dict[str, bool] = {}
        whole: bool | None = None  # an unpartitioned asset (a lookup): its latest evaluation
        for record in instance.event_log_storage.get_asset_check_execution_history(check, limit=1000):
            if record.status not in FINISHED:
                continue
            if record.partition:
                covered = [record.partition]
            else:
                covered = runs.setdefault(
                    record.run_id, _run_partitions(instance, record.run_id, partitions_def)
                )
            if not covered and whole is None:
                whole = record.status == AssetCheckExecutionRecordStatus.SUCCEEDED
                if not whole:
                    lookups.append(f"all: {check.asset_key.path[-1]}.{check.name}")
            for partition in covered:
                if partition in partitions and partition not in latest:
                    latest[partition] = record.status == AssetCheckExecutionRecordStatus.SUCCEEDED
        failed += [f"{p}: {check.asset_key.path[-1]}.{check.name}" for p, ok in latest.items() if not ok]
    return sorted(lookups) + sorted(failed)


def failed_ingests(instance: dg.DagsterInstance, pipeline: PipelineNames, partitions: set[str]) -> list[str]:
    """``partition: asset`` where the latest attempt to materialize a raw/cleaned partition failed
    (e.g. an unreadable re-delivery: the older features still exist but are no longer the truth)."""
    failed = []
    for table in (t for t in pipeline.tables if t.partitioned):
        for key in (pipeline.raw_key(table), pipeline.cleaned_key(table)):
            status = instance.get_status_by_partition(key, sorted(partitions), pipeline.partitions_def) or {}
            failed += [
                f"{p}: {key.path[-1]} failed" for p, s in status.items() if s == AssetPartitionStatus.FAILED
            ]
    return sorted(failed)


def retrain_sensor(
    pipeline: PipelineNames, jobs: PipelineJobs, checks: Sequence[dg.AssetCheckKey]
) -> dg.SensorDefinition:
    threshold = pipeline.spec.training.retrain_after_new_partitions or 1
    features = pipeline.features_key
    model_op = pipeline.model_key.to_python_identifier()

    @dg.sensor(
        name=f"{pipeline.name}_retrain_sensor",
        job=jobs.train,
        minimum_interval_seconds=pipeline.spec.sensors.retrain_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING
        if pipeline.spec.training.retrain_after_new_partitions
        and source_class(pipeline.spec.source).receives_new_data
        else dg.DefaultSensorStatus.STOPPED,
        description=f"Requests a train run once {threshold} new `features` partitions are in and no "
        "blocking check on the cleaned data of the training window has failed.",
    )
    def _retrain(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        state = json.loads(context.cursor) if context.cursor else {}
        after = int(state.get("after", 0))
        pending = set(state.get("pending", []))
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=features, after_storage_id=after or None),
            limit=10_000,
            ascending=True,
        ).records
        pending |= {r.partition_key for r in records if r.partition_key}
        after = max([after, *(r.storage_id for r in records)])
        cursor = json.dumps({"after": after, "pending": sorted(pending)})
        if len(pending) < threshold:
            return dg.SensorResult(
                skip_reason=f"{len(pending)} of {threshold} new feature partition(s) since the last retrain",
                cursor=cursor,
            )
        present = sorted(context.instance.get_materialized_partitions(features))
        try:
            windows = resolve_windows(
                pipeline.spec.training, pipeline.partition_keys, present, None, pipeline.features_label
            )
        except ValueError as exc:
            return dg.SensorResult(skip_reason=f"{len(pending)} new partitions, but {exc}", cursor=cursor)
        blocked = failed_blocking_checks(
            context.instance, checks, set(windows.train + windows.holdout) | pending, pipeline.partitions_def
        )
        blocked += failed_ingests(context.instance, pipeline, set(windows.train + windows.holdout) | pending)
        if blocked:
            return dg.SensorResult(
                skip_reason=f"not retraining past failed blocking check(s) / ingests: {', '.join(blocked[:5])}",
                cursor=cursor,
            )
        span = f"{min(pending)}..{max(pending)}"
        request = dg.RunRequest(
            run_key=f"{pipeline.name}:retrain:{after}",
            run_config={"ops": {model_op: {"config": {"reason": f"{len(pending)} new partitions ({span})"}}}},
            tags={"ml_platform/trigger": "new_data", "ml_platform/new_partitions": span},
        )
        return dg.SensorResult(run_requests=[request], cursor=json.dumps({"after": after, "pending": []}))

    return _retrain
