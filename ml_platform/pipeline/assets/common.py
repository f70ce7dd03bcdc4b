"""Run-time helpers shared by the asset modules: the run's partition range, code and git versions."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import dagster as dg


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


def lazy_partitions_in(key: dg.AssetKey) -> dg.AssetIn:
    """An input of every materialized partition of ``key``, read on demand (``PartitionedParquet``):
    a window's partitions, not the run's."""
    return dg.AssetIn(key, metadata={"allow_missing_partitions": True, "lazy": True})
