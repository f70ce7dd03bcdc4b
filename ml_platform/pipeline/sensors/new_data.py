"""New-data sensor (any source kind) and retrain sensor.

The new-data sensor asks the source which days it has delivered (``list_deliveries``: day →
fingerprint) and requests one ingest run per new or re-delivered day, with run key
``<pipeline>:<day>:<fingerprint>``: the same delivery never runs twice, a corrected re-delivery runs
again. The retrain sensor launches the train job once enough new feature partitions are in, and
never past a failed blocking check on the cleaned data.
"""

import json
from typing import Any

import dagster as dg

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


def new_data_sensor(pipeline: PipelineNames, jobs: PipelineJobs) -> dg.SensorDefinition:
    spec = pipeline.spec
    kind = spec.source.kind
    settings = spec.source.sensor
    key = pipeline.source_resource_key
    sensor_jobs = [j for j in (jobs.ingest, jobs.lookups) if j is not None]

    @dg.sensor(
        name=f"{pipeline.name}_new_data_sensor",
        jobs=sensor_jobs,
        minimum_interval_seconds=settings.minimum_interval_seconds,
        required_resource_keys={key},
        default_status=dg.DefaultSensorStatus.RUNNING
        if source_class(spec.source).receives_new_data
        else dg.DefaultSensorStatus.STOPPED,
        description=f"Polls the `{kind}` source for days delivered since the cursor and requests one "
        "ingest run per new or re-delivered day (run key = day + delivery fingerprint).",
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
        if not delivered:
            return dg.SkipReason(
                f"no complete day delivered yet at {where}" + (f"; {'; '.join(notes)}" if notes else "")
            )
        partitions = set(pipeline.partitions_def.get_partition_keys())
        outside = [d for d in delivered if d not in partitions]
        changed = [d for d in delivered if d in partitions and seen.get(d) != delivered[d]]
        todo = changed[: settings.max_runs_per_tick]
        for day in todo:
            fp = delivered[day]
            requests.append(
                dg.RunRequest(
                    run_key=f"{pipeline.name}:{day}:{fp}",
                    partition_key=day,
                    job_name=jobs.ingest.name,
                    tags={
                        DELIVERY_TAG: fp,
                        "ml_platform/source_kind": kind,
                        "ml_platform/redelivery": str(day in seen).lower(),
                    },
                )
            )
        if outside:
            notes.append(f"{len(outside)} delivered day(s) outside the partitions ignored: {outside[:3]}")
        if len(changed) > len(todo):
            notes.append(f"{len(changed) - len(todo)} more day(s) left for the next tick")
        new_cursor = json.dumps({"days": {**seen, **{d: delivered[d] for d in todo}}}, sort_keys=True)
        if not requests:
            reason = (
                f"{len(delivered)} day(s) delivered at {where}, none new or re-delivered since the cursor"
            )
            return dg.SensorResult(skip_reason="; ".join([reason, *notes]), cursor=new_cursor)
        for note in notes:
            context.log.info(note)
        return dg.SensorResult(run_requests=requests, cursor=new_cursor)

    return _new_data
