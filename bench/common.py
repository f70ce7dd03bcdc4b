"""What the bench scripts share: reading and cleaning a spec's tables, and cutting the year into
day ranges (the Dagster path's single-run chunks)."""

from __future__ import annotations

import datetime as dt
import subprocess
from typing import TYPE_CHECKING

from ml_platform.ml.cleaning import clean_table

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from ml_platform.sources.base import DataSource
    from ml_platform.specs.models import PipelineSpec, TableSpec


def read_clean(
    spec: PipelineSpec, source: DataSource, first: dt.date, last: dt.date, tables: list[TableSpec]
) -> dict[str, pd.DataFrame]:
    """Each of ``tables`` read from ``source`` (daily tables for ``first..last``, lookups whole) and
    cleaned with the platform's own rules, by table name."""
    out = {}
    for table in tables:
        raw = (
            source.fetch_days(table.table, first, last, spec.partitioning.day_columns)
            if table.partitioned
            else source.fetch_static(table.table)
        )
        out[table.name] = clean_table(raw, table).cleaned
    return out


def day_ranges(start: dt.date, end: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """Consecutive (first, last) ranges of at most ``days`` days covering ``start..end``."""
    out = []
    while start <= end:
        last = min(end, start + dt.timedelta(days=days - 1))
        out.append((start, last))
        start = last + dt.timedelta(days=1)
    return out


def local_instance_home(home: Path, root: Path) -> Path:
    """``home/dagster_home`` with the repo's ``dagster.yaml`` + local storage, and DAGSTER_HOME /
    ML_PLATFORM_HOME set in this process to it and ``home``; returns the Dagster home."""
    import os

    dagster_home = home / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = (root / "dagster.yaml").read_text() + (root / "deploy/local/dagster_storage.yaml").read_text()
    (dagster_home / "dagster.yaml").write_text(config)
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    os.environ["ML_PLATFORM_HOME"] = str(home)
    return dagster_home


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    import signal

    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def daemon_home(home: Path, root: Path) -> dict[str, str]:
    """A local instance for a real daemon under ``home`` (DAGSTER_HOME with the repo's
    ``dagster.yaml`` + local storage, spec dir, ML_PLATFORM_HOME), set in this process too; returns
    the environment for the daemon, which imports this checkout and its flights plugin."""
    import os

    local_instance_home(home, root)
    (home / "specs").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home / "dagster_home"),
        "ML_PLATFORM_HOME": str(home),
        "ML_PLATFORM_SPEC_DIR": str(home / "specs"),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "MLFLOW_ENABLE_TELEMETRY": "false",
        "PYTHONPATH": os.pathsep.join([str(root), str(root / "datasets" / "flights_delay")]),
    }
    os.environ.update({k: env[k] for k in ("DAGSTER_HOME", "ML_PLATFORM_HOME", "ML_PLATFORM_SPEC_DIR")})
    return env
