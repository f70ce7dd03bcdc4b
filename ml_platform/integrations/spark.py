"""Spark session settings for local and cluster runs (the session itself is created lazily by
dagster-pyspark's ``LazyPySparkResource``)."""

from __future__ import annotations

import os
import sys
from typing import Any


def spark_config(master: str = "local[2]", **extra: str) -> dict[str, str]:
    """Session settings for feature builds: quiet, loopback-bound when local, Arrow transfers."""
    config = {
        "spark.master": master,
        "spark.app.name": "ml_platform_features",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
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
