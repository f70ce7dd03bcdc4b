"""Retrain sensor: train a challenger once enough new feature partitions are in, or when a drift or
live-performance check fails, never past a failed blocking check (a blocked day keeps its older
features, so the checks are read, not just the data), and not again within the spec's cooldown.

A sensor rather than an ``AutomationCondition`` on the model: the run must carry *why* it trains
(the failed check's reason goes into ``TrainConfig.reason`` and the MLflow ``training_reason`` tag),
the cooldown spans different triggers (check failures and new partitions), and the model is an
unpartitioned asset over many daily partitions; automation conditions can express none of these."""

import json
import time
from collections.abc import Sequence

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.partition_status_cache import AssetPartitionStatus
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from ml_platform.ml.windows import resolve_windows
from ml_platform.pipeline.jobs import PipelineJobs
from ml_platform.pipeline.names import PipelineNames
from ml_platform.pipeline.sensors.check_records import FINISHED, metadata_text, new_evaluations
from ml_platform.pipeline.sensors.monitoring import monitoring_checks
from ml_platform.sources.base import source_class
from ml_platform.specs.monitoring import MonitoringSpec


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


def check_triggers(
    instance: dg.DagsterInstance, pipeline: PipelineNames, cursor: dict[str, int]
) -> tuple[list[str], dict[str, int]]:
    """Reasons of monitoring checks that failed since the cursor (drift / decay, as the spec enables)."""
    monitoring = pipeline.spec.monitoring
    enabled = {
        "feature_drift": monitoring.retrain_on_drift,
        "prediction_drift": monitoring.retrain_on_drift,
        "performance_decay": monitoring.retrain_on_decay,
    }
    reasons, after = [], dict(cursor)
    for name, key in monitoring_checks(pipeline).items():
        new = new_evaluations(instance, key, int(cursor.get(name, 0)), limit=1000)
        after[name] = max([int(cursor.get(name, 0)), *(r.id for r, _ in new)])
        if enabled[name]:
            reasons += [
                metadata_text(dict(e.metadata), "retrain_reason") or f"{name} failed"
                for _, e in new
                if not e.passed
            ]
    return reasons, after


def reason_days(reasons: Sequence[str]) -> set[str]:
    """Days named in reasons like ``drift: wx_visib PSI 0.31 (2013-06-03)``."""
    return {r.rsplit("(", 1)[-1].rstrip(")") for r in reasons if r.endswith(")") and "(" in r}


def cooling_reason(
    monitoring: MonitoringSpec, reasons: Sequence[str], waited: float, since: int | None
) -> str:
    """Why failed checks do not retrain yet ('' when they may): the last retrain was ``waited``
    seconds and ``since`` new feature partitions ago (None: this sensor never retrained); the
    cooldown counts hours, or partitions when ``retrain_cooldown_partitions`` is set (the data's
    clock)."""
    if not reasons or since is None:
        return ""
    checks = f"{len(reasons)} failed check(s) ({reasons[0]}), but the last retrain was"
    partitions = monitoring.retrain_cooldown_partitions
    if partitions is not None:
        return f"{checks} {since} new partition(s) ago (cooldown {partitions})" if since < partitions else ""
    cooldown = monitoring.retrain_cooldown_hours * 3600
    return f"{checks} {waited / 3600:.1f} h ago (cooldown {cooldown / 3600:g} h)" if waited < cooldown else ""


def cooldown_text(monitoring: MonitoringSpec) -> str:
    partitions = monitoring.retrain_cooldown_partitions
    return (
        f"{partitions} new partitions"
        if partitions is not None
        else f"{monitoring.retrain_cooldown_hours:g} h"
    )


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
        description=f"Requests a train run once {threshold} new `features` partitions are in, or when a "
        "drift / live-performance check fails (at most once per "
        f"{cooldown_text(pipeline.spec.monitoring)}), and no blocking check on the cleaned "
        "data of the training window has failed. The reason is passed to the run.",
    )
    def _retrain(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        state = json.loads(context.cursor) if context.cursor else {}
        after = int(state.get("after", 0))
        pending = set(state.get("pending", []))
        last = float(state.get("last_retrain", 0.0))
        reasons, check_cursor = check_triggers(context.instance, pipeline, state.get("checks", {}))
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=features, after_storage_id=after or None),
            limit=10_000,
            ascending=True,
        ).records
        pending |= {r.partition_key for r in records if r.partition_key}
        after = max([after, *(r.storage_id for r in records)])

        def result(skip: str, retrained: bool = False, **extra: object) -> dg.SensorResult:
            cursor = {
                "after": after,
                "pending": [] if retrained else sorted(pending),
                "checks": check_cursor,
                "last_retrain": time.time() if retrained else last,
            }
            return dg.SensorResult(skip_reason=skip or None, cursor=json.dumps(cursor), **extra)  # type: ignore[arg-type]

        cooling = cooling_reason(
            pipeline.spec.monitoring, reasons, time.time() - last, len(pending) if last else None
        )
        if cooling:
            context.log.info(f"cooldown: not retraining for {reasons}")
            reasons = []
        if not reasons and len(pending) < threshold:
            return result(
                cooling or f"{len(pending)} of {threshold} new feature partition(s) since the last retrain"
            )
        present = sorted(context.instance.get_materialized_partitions(features))
        try:
            windows = resolve_windows(
                pipeline.spec.training, pipeline.partition_keys, present, None, pipeline.features_label
            )
        except ValueError as exc:
            return result(f"{len(pending)} new partitions, but {exc}")
        span = set(windows.train + windows.holdout) | pending | reason_days(reasons)
        blocked = failed_blocking_checks(context.instance, checks, span, pipeline.partitions_def)
        blocked += failed_ingests(context.instance, pipeline, span)
        if blocked:
            return result(f"not retraining past failed blocking check(s) / ingests: {', '.join(blocked[:5])}")
        if reasons:
            reason, trigger = "; ".join(dict.fromkeys(reasons))[:500], reasons[0].split(":", 1)[0]
        else:
            reason, trigger = f"{len(pending)} new partitions ({min(pending)}..{max(pending)})", "new_data"
        request = dg.RunRequest(
            run_key=f"{pipeline.name}:retrain:{after}:{max(check_cursor.values(), default=0)}",
            run_config={"ops": {model_op: {"config": {"reason": reason}}}},
            tags={"ml_platform/trigger": trigger, "ml_platform/reason": reason[:250]}
            | ({"ml_platform/new_partitions": f"{min(pending)}..{max(pending)}"} if pending else {}),
        )
        return result("", retrained=True, run_requests=[request])

    return _retrain
