"""Features for a whole year with one engine: pandas in-process, or Spark (``local[2]``) through the
platform's FeatureEngine resource, on the bundled or scaled data. Reading and cleaning are timed
apart from the feature build; a checksum of the built columns lets the two engines be compared.
With ``--chunk-days N`` the year is read, cleaned and built N days at a time, as the Dagster path's
single-run chunks do (one Spark session for all chunks); otherwise in one piece.

    python -m bench.features_engines --engine pandas|spark [--data-dir DIR] [--driver-memory 8g]
        [--shuffle-partitions N] [--chunk-days N]
"""

from __future__ import annotations

import argparse
import json
import time

from flights_delay import SPEC_DIR
from flights_delay.source import Nycflights13Source

from bench.common import day_ranges, read_clean
from ml_platform.features.engine import feature_engine, spark_config
from ml_platform.specs import load_spec


def run(
    engine: str,
    data_dir: str | None,
    driver_memory: str,
    shuffle_partitions: int | None = None,
    chunk_days: int = 366,
) -> dict[str, float | str]:
    from dagster_pyspark import LazyPySparkResource

    spec = load_spec(SPEC_DIR / "flights_delay.yaml", {"features": {"engine": engine}})
    source = Nycflights13Source(data_dir=data_dir)
    resource = feature_engine(default_engine="pandas")
    if engine == "spark":  # the driver holds the collected result: give it room at 30×
        extra = {"spark.driver.memory": driver_memory}
        if shuffle_partitions:  # the platform's 4 suit a day; a scaled year sorts ~80 M rows
            extra["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
            extra["spark.driver.maxResultSize"] = "0"  # the year's features come back to the driver
        config = spark_config("local[2]", **extra)
        resource = resource.model_copy(update={"spark": LazyPySparkResource(spark_config=config)})
    start, end = spec.partitioning.start, spec.partitioning.end
    tables = [spec.main_table, *spec.auxiliary_tables]
    static = read_clean(spec, source, start, end, [t for t in tables if not t.partitioned])
    totals = {
        "rows": 0.0,
        "seconds_read_clean": 0.0,
        "seconds_features": 0.0,
        "checksum": 0.0,
        "missing_cells": 0.0,
    }
    for first, last in day_ranges(start, end, chunk_days):
        t0 = time.perf_counter()
        cleaned = static | read_clean(spec, source, first, last, [t for t in tables if t.partitioned])
        main = cleaned.pop(spec.main_table.name)
        t_clean = time.perf_counter()
        features = resource.build(spec, main, cleaned)
        t_features = time.perf_counter()
        numeric = features[spec.features.numeric]
        totals["rows"] += len(features)
        totals["seconds_read_clean"] += t_clean - t0
        totals["seconds_features"] += t_features - t_clean
        totals["checksum"] += float(numeric.fillna(0).to_numpy().sum())
        totals["missing_cells"] += float(numeric.isna().to_numpy().sum())
        del main, cleaned, features, numeric
    return {"engine": engine, "chunk_days": float(chunk_days), **totals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["pandas", "spark"], required=True)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--driver-memory", default="8g")
    parser.add_argument("--shuffle-partitions", type=int, default=None)
    parser.add_argument("--chunk-days", type=int, default=366)
    args = parser.parse_args()
    result = run(args.engine, args.data_dir, args.driver_memory, args.shuffle_partitions, args.chunk_days)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
