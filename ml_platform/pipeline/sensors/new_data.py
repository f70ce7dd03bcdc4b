"""New-data sensor (any source kind) and retrain sensor.

The new-data sensor asks the source which days it has delivered (``list_deliveries``: day →
fingerprint) and requests one ingest run per range of consecutive new or re-delivered days (a
single-run backfill: a year of history is one run), with run key ``<pipeline>:<days>:<fingerprint>``;
the cursor keeps each day's fingerprint, so the same delivery never runs twice and a corrected
re-delivery re-runs only its own day. The retrain sensor launches the train job once enough new feature partitions are in, and
never past a failed blocking check on the cleaned data.
"""

import json
from typing import Any

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from ml_platform.ml.time import keys_of_days
from ml_platform.pipeline.jobs import PipelineJobs
from ml_platform.pipeline.names import PipelineNames
from ml_platform.sources.base import DataSource, fingerprint, source_class

DELIVERY_TAG = "ml_platform/delivery"


def _load(cursor: str | None) -> dict[str, Any]:
    return json.loads(cursor) if cursor else {}


def delivered_days(pipeline: PipelineNames, source: DataSource) -> tuple[dict[str, str], list[str]]:
    """Days every partitioned table has been delivered for → combined fingerprint; plus notes."""
    tables = [t for t in pipeline.tables if t.partitioned]
    date_columns = pipeline.spec.partitioning.day_columns
    listings = {t.table: source.list_deliveries(t.table, date_columns) for t in tables}
    days = set.intersection(*(set(days) for days in listings.values())) if listings else set()
    notes = []
    for table, listed in listings.items():
        partial = sorted(set(listed) - days)
        if partial:
            notes.append(
                f"waiting for the other tables on {partial[:3]}{' …' if len(partial) > 3 else ''} "
                f"(delivered for '{table}' only)"
            )
    return {d: fingerprint(*(listings[t.table][d] for t in tables)) for d in sorted(days)}, notes


def _lookups_first(
    context: dg.SensorEvaluationContext, pipeline: PipelineNames, jobs: PipelineJobs
) -> dg.SensorResult | dg.SkipReason | None:
    """Unpartitioned lookups (joined into every day's features) must exist before days are ingested."""
    missing = [
        t.name
        for t in pipeline.tables
        if not t.partitioned
        and context.instance.get_latest_materialization_event(pipeline.cleaned_key(t)) is None
    ]
    if not missing or jobs.lookups is None:
        return None
    run_key = f"{pipeline.name}:lookups:initial"
    runs = context.instance.get_runs(dg.RunsFilter(tags={"dagster/run_key": run_key}), limit=1)
    if not runs:
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=run_key, job_name=jobs.lookups.name)], cursor=context.cursor
        )
    run = runs[0]
    state = (
        "failed: re-run the lookups job" if run.status == dg.DagsterRunStatus.FAILURE else run.status.value
    )
    return dg.SkipReason(f"lookup table(s) {missing} not materialized yet; lookups run {run.run_id} {state}")


def key_fingerprints(delivered: dict[str, str], by_day: dict[str, list[str]]) -> dict[str, str]:
    """Partition key → fingerprint of the deliveries of the days it covers (daily: the day's own)."""
    days_of: dict[str, list[str]] = {}
    for day, covering in by_day.items():
        for key in covering:
            days_of.setdefault(key, []).append(day)
    return {
        key: delivered[days[0]]
        if len(days) == 1
        else fingerprint(*(f"{d}={delivered[d]}" for d in sorted(days)))
        for key, days in days_of.items()
    }


def pending_ranges(changed: list[str], keys: list[str], max_days: int) -> list[list[str]]:
    """``changed`` days grouped into runs of consecutive partition keys, at most ``max_days`` each."""
    position = {k: i for i, k in enumerate(keys)}
    ranges: list[list[str]] = []
    for day in changed:
        last = ranges[-1][-1] if ranges else None
        if last is not None and position[day] == position[last] + 1 and len(ranges[-1]) < max_days:
            ranges[-1].append(day)
        else:
            ranges.append([day])
    return ranges


def sensor_job(pipeline: PipelineNames, jobs: PipelineJobs) -> "dg.UnresolvedAssetJobDefinition":
    """The job a delivery runs: ingest and scoring in one run (``sensors.score_in_ingest_run``), or
    ingest alone."""
    if pipeline.spec.sensors.score_in_ingest_run and jobs.ingest_score is not None:
        return jobs.ingest_score
    return jobs.ingest


def _request(
    pipeline: PipelineNames,
    jobs: PipelineJobs,
    days: list[str],
    delivered: dict[str, str],
    seen: dict[str, str],
    kind: str,
) -> dg.RunRequest:
    """One ingest run for ``days``: a single partition, or a single-run backfill over their range."""
    fp = delivered[days[0]] if len(days) == 1 else fingerprint(*(delivered[d] for d in days))
    tags = {
        DELIVERY_TAG: fp,
        "ml_platform/source_kind": kind,
        "ml_platform/redelivery": str(any(d in seen for d in days)).lower(),
        "ml_platform/days": str(len(days)),
    }
    if len(days) == 1:
        return dg.RunRequest(
            run_key=f"{pipeline.name}:{days[0]}:{fp}",
            partition_key=days[0],
            job_name=sensor_job(pipeline, jobs).name,
            tags=tags,
        )
    tags |= {ASSET_PARTITION_RANGE_START_TAG: days[0], ASSET_PARTITION_RANGE_END_TAG: days[-1]}
    return dg.RunRequest(
        run_key=f"{pipeline.name}:{days[0]}..{days[-1]}:{fp}",
        job_name=sensor_job(pipeline, jobs).name,
        tags=tags,
    )


def new_data_sensor(pipeline: PipelineNames, jobs: PipelineJobs) -> dg.SensorDefinition:
    spec = pipeline.spec
    kind = spec.source.kind
    settings = spec.source.sensor
    key = pipeline.source_resource_key
    sensor_jobs = [j for j in (sensor_job(pipeline, jobs), jobs.lookups) if j is not None]

    @dg.sensor(
        name=f"{pipeline.name}_new_data_sensor",
        jobs=sensor_jobs,
        minimum_interval_seconds=settings.minimum_interval_seconds,
        required_resource_keys={key},
        default_status=dg.DefaultSensorStatus.RUNNING
        if source_class(spec.source).receives_new_data
        else dg.DefaultSensorStatus.STOPPED,
        description=f"Polls the `{kind}` source for days delivered since the cursor and requests one "
        f"`{sensor_job(pipeline, jobs).name}` run per range of consecutive new or re-delivered days (a single-run backfill; run key "
        "= days + delivery fingerprint).",
    )
    def _new_data(context: dg.SensorEvaluationContext, **resources: Any) -> dg.SensorResult | dg.SkipReason:
        # direct invocation passes required resources as keyword arguments, the daemon via context
        source: DataSource = resources.get(key) or getattr(context.resources, key)
        where = source.uri(spec.main_table.table)
        state = _load(context.cursor)
        seen: dict[str, str] = state.get("days", {})
        requests: list[dg.RunRequest] = []
        waiting = _lookups_first(context, pipeline, jobs)
        if waiting is not None:
            return waiting
        delivered, notes = delivered_days(pipeline, source)
        problems = [note for t in pipeline.tables for note in source.delivery_notes(t.table)]
        for problem in problems:  # never resolved silently: a warning event and the skip reason
            context.log.warning(problem)
        notes = [*problems, *notes]
        if not delivered:
            return dg.SkipReason(
                f"no complete day delivered yet at {where}" + (f"; {'; '.join(notes)}" if notes else "")
            )
        n_days, keys = len(delivered), pipeline.partition_keys
        by_day = keys_of_days(list(delivered), keys, spec.partitioning.granularity)
        outside = [d for d, covering in by_day.items() if not covering]
        delivered = key_fingerprints(delivered, by_day)  # per partition key (a day, an hour, a week)
        changed = [k for k in keys if k in delivered and seen.get(k) != delivered[k]]
        ranges = pending_ranges(changed, keys, settings.max_days_per_run)[: settings.max_runs_per_tick]
        todo = [d for days in ranges for d in days]
        for days in ranges:
            requests.append(_request(pipeline, jobs, days, delivered, seen, kind))
        if outside:
            notes.append(f"{len(outside)} delivered day(s) outside the partitions ignored: {outside[:3]}")
        if len(changed) > len(todo):
            notes.append(f"{len(changed) - len(todo)} more day(s) left for the next tick")
        new_cursor = json.dumps({"days": {**seen, **{d: delivered[d] for d in todo}}}, sort_keys=True)
        if not requests:
            reason = f"{n_days} day(s) delivered at {where}, none new or re-delivered since the cursor"
            return dg.SensorResult(skip_reason="; ".join([reason, *notes]), cursor=new_cursor)
        for note in notes:
            context.log.info(note)
        return dg.SensorResult(run_requests=requests, cursor=new_cursor)

    return _new_data
