"""Evaluate a sensor as the daemon would (cursor carried between ticks) and execute what it asks."""

from __future__ import annotations

from typing import Any

import dagster as dg


class SensorDriver:
    def __init__(self, defs: dg.Definitions, name: str, instance: dg.DagsterInstance) -> None:
        self.defs, self.instance, self.cursor = defs, instance, None
        self.sensor = defs.resolve_sensor_def(name)
        self.resources = dict(defs.resources or {})

    def tick(self) -> tuple[list[dg.RunRequest], str | None]:
        """One evaluation: the run requests and the skip reason (if any); the cursor advances."""
        with dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources=self.resources
        ) as context:
            result = self.sensor(context)
        if isinstance(result, dg.SkipReason):
            return [], result.skip_message
        self.cursor = result.cursor or self.cursor
        skip = result.skip_reason.skip_message if result.skip_reason else None
        return list(result.run_requests or []), skip

    def run(self, request: dg.RunRequest, **loggers: Any) -> dg.ExecuteInProcessResult:
        """Execute a request in process, deduplicated by run key like the daemon does."""
        if request.run_key and self.instance.get_runs(
            dg.RunsFilter(tags={"dagster/run_key": request.run_key}), limit=1
        ):
            raise AssertionError(f"run key {request.run_key} already ran")
        job = self.defs.resolve_job_def(request.job_name or self.sensor.job_name)
        run_config = dict(request.run_config or {})
        return job.execute_in_process(
            instance=self.instance,
            run_config={**run_config, "loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            partition_key=request.partition_key,
            tags={**request.tags, "dagster/run_key": request.run_key or ""},
            raise_on_error=False,
        )
