"""Daily ingest and weekly retrain schedules (running by default only where the environment says)."""

from __future__ import annotations

import dagster as dg

from ml_platform.pipeline.jobs import PipelineJobs
from ml_platform.pipeline.names import PipelineNames


def pipeline_schedules(
    pipeline: PipelineNames, jobs: PipelineJobs, running: bool
) -> list[dg.ScheduleDefinition | dg.UnresolvedPartitionedAssetScheduleDefinition]:
    status = dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED
    granularity = pipeline.spec.partitioning.granularity
    # daily/weekly: at 06:00 after the partition ends; hourly: 5 minutes past each hour
    when = {"minute_of_hour": 5} if granularity == "hourly" else {"hour_of_day": 6}
    return [
        dg.build_schedule_from_partitioned_job(
            jobs.ingest,
            name=f"{pipeline.name}_{granularity}_ingest",
            default_status=status,
            description={
                "daily": "Ingest yesterday's partition every morning.",
                "hourly": "Ingest the last hour's partition every hour.",
                "weekly": "Ingest last week's partition every Monday morning.",
            }[granularity],
            **when,  # type: ignore[arg-type]
        ),
        dg.ScheduleDefinition(
            name=f"{pipeline.name}_weekly_retrain",
            job=jobs.train,
            cron_schedule=pipeline.spec.schedules.retrain_cron,
            default_status=status,
            description="Retrain a challenger weekly; the deploy gate decides whether it goes live.",
        ),
    ]
