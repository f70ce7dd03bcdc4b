"""Features for a whole year with one engine: pandas in-process, or Spark (``local[2]``) through the
platform's FeatureEngine resource, on the bundled or scaled data. Reading and cleaning are timed
apart from the feature build; a checksum of the built columns lets the two engines be compared.

    python -m bench.features_engines --engine pandas|spark [--data-dir DIR] [--driver-memory 8g]
        [--shuffle-partitions N]
"""

from __future__ import annotations

import argparse
import json
import time

from ml_platform.ml.cleaning import clean_table
from ml_platform.resources.sources import Nycflights13Source
from ml_platform.resources.spark import feature_engine, spark_config
from ml_platform.specs import SPEC_DIR, load_spec


def run(
    engine: str, data_dir: str | None, driver_memory: str, shuffle_partitions: int | None = None
) -> dict[str, float | str]:
    from dagster_pyspark import LazyPySparkResource

    t0 = time.perf_counter()
    spec = load_spec(SPEC_DIR / "flights_delay.yaml", {"features": {"engine": engine}})
    source = Nycflights13Source(data_dir=data_dir)
    start, end = spec.partitioning.start, spec.partitioning.end
    cleaned = {}
    for table in [spec.main_table, *spec.auxiliary_tables]:
        raw = (
            source.fetch_days(table.table, start, end, spec.partitioning.date_columns)
            if table.partitioned
            else source.fetch_static(table.table)
        )
        cleaned[table.name] = clean_table(raw, table).cleaned
    main = cleaned.pop(spec.main_table.name)
    t_clean = time.perf_counter()
    resource = feature_engine(default_engine="pandas")
    if engine == "spark":  # the driver holds the collected result: give it room at 30×
        extra = {"spark.driver.memory": driver_memory}
        if shuffle_partitions:  # the platform's 4 suit a day; a scaled year sorts ~80 M rows
            extra["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
        config = spark_config("local[2]", **extra)
        resource = resource.model_copy(update={"spark": LazyPySparkResource(spark_config=config)})
    features = resource.build(spec, main, cleaned)
    t_features = time.perf_counter()
    numeric = features[spec.features.numeric]
    return {
        "engine": engine,
        "rows": float(len(features)),
        "seconds_read_clean": t_clean - t0,
        "seconds_features": t_features - t_clean,
        "checksum": float(numeric.fillna(0).to_numpy().sum()),
        "missing_cells": float(numeric.isna().to_numpy().sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", choices=["pandas", "spark"], required=True)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--driver-memory", default="8g")
    parser.add_argument("--shuffle-partitions", type=int, default=None)
    args = parser.parse_args()
    print(json.dumps(run(args.engine, args.data_dir, args.driver_memory, args.shuffle_partitions)))


if __name__ == "__main__":
    main()
