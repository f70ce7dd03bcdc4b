"""Spark session settings for local and cluster runs (the session itself is created lazily by
dagster-pyspark's ``LazyPySparkResource``)."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

#: cleaned Parquet (bytes on disk) per shuffle partition when a job's partitions follow its input.
#: The flights builder's windows (as-of weather, congestion pairs) need ~0.4 M rows a task or fewer
#: on a 1 GB local driver: 100× the flights (686 MiB of cleaned files, 33.7 M rows) with 16
#: partitions (2.1 M rows a task) ran out of execution memory in a window even with a 2 GB heap
#: (docs/benchmarks.md, "100× Spark end to end"); at 8 MiB it gets 86. A year at 1× (16 MiB) keeps
#: the small-job count of two per core.
PARTITION_MIB = 8


def spark_config(master: str = "local[2]", **extra: str) -> dict[str, str]:
    """Session settings for feature builds: quiet, loopback-bound when local, Arrow transfers."""
    config = {
        "spark.master": master,
        "spark.app.name": "ml_platform_features",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",  # small jobs; a build sizes its own (size_shuffles)
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
    }
    if master.startswith("local"):
        config["spark.driver.bindAddress"] = "127.0.0.1"
        config["spark.driver.host"] = "127.0.0.1"
    return {**config, **extra}


def local_python_workers(master: str) -> None:
    """Spark's Python workers (``spark_udf`` scoring) run this interpreter, not whatever ``python3``
    is on PATH: PySpark reads only ``PYSPARK_PYTHON``, when the session starts (an explicit value wins)."""
    if master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def session_of(resource: Any, master: str) -> Any:
    """The (lazily created) session of a dagster-pyspark resource, Python workers set up first."""
    local_python_workers(master)
    return resource.spark_session


def shuffle_partitions(input_bytes: int, cores: int, per_partition_mib: int = PARTITION_MIB) -> int:
    """Shuffle partitions for a job over ``input_bytes`` of files: one per ``per_partition_mib``,
    and at least two per core (Spark's adaptive execution merges what turns out small, never
    splits what turns out big, so the count must be large enough up front)."""
    return max(2 * cores, math.ceil(input_bytes / (per_partition_mib * 2**20)))


def size_shuffles(frame: Any, per_partition_mib: int, log: Callable[[str], None]) -> int | None:
    """Sets ``spark.sql.shuffle.partitions`` of ``frame``'s session for the jobs over it, from the
    size of the files it reads (:func:`shuffle_partitions`); returns the count. ``0`` (or files
    that are not local, whose size Spark would have to list) keeps the session's setting."""
    session = frame.sparkSession
    kept = session.conf.get("spark.sql.shuffle.partitions")
    if per_partition_mib <= 0:
        log(f"Spark: {kept} shuffle partitions (the session's setting)")
        return None
    uris = [urlparse(u) for u in frame.inputFiles()]
    if any(u.scheme not in ("", "file") for u in uris):
        log(f"Spark: {kept} shuffle partitions (the session's setting: the input is not local files)")
        return None
    size = sum(os.path.getsize(unquote(u.path)) for u in uris)
    count = shuffle_partitions(size, session.sparkContext.defaultParallelism, per_partition_mib)
    session.conf.set("spark.sql.shuffle.partitions", str(count))
    log(
        f"Spark: {count} shuffle partitions for {size / 2**20:,.1f} MiB of input in {len(uris)} files "
        f"(one per {per_partition_mib} MiB, at least two per core)"
    )
    return count
