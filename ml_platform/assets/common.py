"""Shared wiring for a pipeline's assets: keys, partitions, groups, tags."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import dagster as dg

from ml_platform.specs.models import PipelineSpec, TableSpec

DEPLOY_CONCURRENCY_TAG = "ml_platform/deploy"


@dataclass(frozen=True)
class Pipeline:
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
    def gate_check_key(self) -> dg.AssetCheckKey:
        return dg.AssetCheckKey(self.report_key, "deploy_gate")

    @property
    def source_resource_key(self) -> str:
        return f"{self.name}_source"

    @property
    def tables(self) -> list[TableSpec]:
        return [self.spec.main_table, *self.spec.auxiliary_tables]

    @cached_property
    def partitions_def(self) -> dg.DailyPartitionsDefinition:
        end = self.spec.partitioning.end + dt.timedelta(days=1)  # end_date is exclusive
        return dg.DailyPartitionsDefinition(
            start_date=self.spec.partitioning.start.isoformat(), end_date=end.isoformat()
        )

    def partitions_for(self, table: TableSpec) -> dg.DailyPartitionsDefinition | None:
        return self.partitions_def if table.partitioned else None

    @property
    def owners(self) -> list[str]:
        return list(self.spec.owners)


def code_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ml_platform")
    except PackageNotFoundError:
        return "0+unknown"


def git_sha() -> str:
    """The checkout's commit (``unknown`` outside git); read at run time, never at import."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def day_range(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """First and last day of the run's partition range (one day for a single partition)."""
    window = context.partition_time_window
    return window.start.date(), (window.end - dt.timedelta(days=1)).date()


def partition_label(context: dg.AssetExecutionContext) -> str:
    start, end = day_range(context)
    return start.isoformat() if start == end else f"{start.isoformat()}..{end.isoformat()}"
