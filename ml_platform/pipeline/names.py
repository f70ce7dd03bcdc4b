"""The names Dagster knows a pipeline's parts by: asset and check keys, partitions, resource keys."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import dagster as dg

from ml_platform.specs.models import PipelineSpec, TableSpec

DEPLOY_CONCURRENCY_TAG = "ml_platform/deploy"


@dataclass(frozen=True)
class PipelineNames:
    """A spec plus the names Dagster knows its parts by (every key prefixed by the pipeline name)."""

    spec: PipelineSpec

    @property
    def name(self) -> str:
        return self.spec.name

    def key(self, *parts: str) -> dg.AssetKey:
        return dg.AssetKey([self.name, *parts])

    def raw_key(self, table: TableSpec) -> dg.AssetKey:
        return self.key(f"raw_{table.name}")

    def cleaned_key(self, table: TableSpec) -> dg.AssetKey:
        return self.key(f"cleaned_{table.name}")

    def quarantine_key(self, table: TableSpec) -> dg.AssetKey:
        return self.key(f"quarantine_{table.name}")

    @property
    def features_key(self) -> dg.AssetKey:
        return self.key("features")

    @property
    def model_key(self) -> dg.AssetKey:
        return self.key("model")

    @property
    def report_key(self) -> dg.AssetKey:
        return self.key("evaluation_report")

    @property
    def deployment_key(self) -> dg.AssetKey:
        return self.key("deployment")

    @property
    def predictions_key(self) -> dg.AssetKey:
        return self.key("predictions")

    @property
    def live_performance_key(self) -> dg.AssetKey:
        return self.key("live_performance")

    @property
    def gate_check_key(self) -> dg.AssetCheckKey:
        return dg.AssetCheckKey(self.report_key, "deploy_gate")

    @property
    def source_resource_key(self) -> str:
        return f"{self.name}_source"

    @property
    def tables(self) -> list[TableSpec]:
        return [self.spec.main_table, *self.spec.auxiliary_tables]

    @cached_property
    def partitions_def(self) -> dg.TimeWindowPartitionsDefinition:
        part = self.spec.partitioning
        end = part.end + dt.timedelta(days=1)  # end_date is exclusive
        if part.granularity == "hourly":
            # local hours of the time column's zone: a DST day has 23 or 25 (the repeated hour's
            # second pass keyed with its UTC offset, e.g. 2013-11-03-01:00-0500; ml.time.hour_keys)
            return dg.HourlyPartitionsDefinition(
                start_date=f"{part.start.isoformat()}-00:00",
                end_date=f"{end.isoformat()}-00:00",
                timezone=part.time_spec.timezone or "UTC",
            )
        if part.granularity == "weekly":  # weeks from Monday; the last one holds the end day
            first = part.start - dt.timedelta(days=part.start.weekday())
            last = part.end - dt.timedelta(days=part.end.weekday()) + dt.timedelta(days=7)
            return dg.WeeklyPartitionsDefinition(
                start_date=first.isoformat(), end_date=last.isoformat(), day_offset=1
            )
        return dg.DailyPartitionsDefinition(start_date=part.start.isoformat(), end_date=end.isoformat())

    @property
    def partition_keys(self) -> list[str]:
        return list(self.partitions_def.get_partition_keys())

    @property
    def features_label(self) -> str:
        return self.features_key.to_user_string()

    def partitions_for(self, table: TableSpec) -> dg.TimeWindowPartitionsDefinition | None:
        return self.partitions_def if table.partitioned else None

    @property
    def owners(self) -> list[str]:
        return list(self.spec.owners)
