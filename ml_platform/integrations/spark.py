"""Spark session settings for local and cluster runs (the session itself is created lazily by
dagster-pyspark's ``LazyPySparkResource``)."""

from __future__ import annotations


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
