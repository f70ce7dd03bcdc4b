"""The Spark engine end to end on a whole year in one job: Spark reads the cleaned tables' per-day
Parquet files and writes the features one file per day (the IO manager's layout), nothing collected
to the driver. Two steps, so the peak RSS of the second is the Spark path's alone:

    python -m bench.spark_end_to_end prepare --data-dir DIR --store STORE   # cleaned files, by pandas
    python -m bench.spark_end_to_end build --store STORE [--shuffle-partitions 16] [--driver-memory 1g]

``build`` prints rows, seconds and the checksum of ``bench.features_engines`` (sum of the numeric
features with missing values as 0, and the count of missing cells), computed from the written files
day by day, so it compares with the pandas engine's figure on the same data.
``python -m bench.spark_end_to_end measure --data-dir DIR --store STORE`` runs both (build under
``bench.run.measure``: wall time and peak RSS of the process tree, the JVM included)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

from flights_delay import SPEC_DIR

from ml_platform.specs import load_spec


def _spec():  # type: ignore[no-untyped-def]
    return load_spec(SPEC_DIR / "flights_delay.yaml", {"features": {"engine": "spark"}})


def prepare(data_dir: str | None, store: Path) -> None:
    """Cleaned tables as the pipeline stores them: ``cleaned_<t>/<day>.parquet``, lookups whole."""
    from flights_delay.source import Nycflights13Source

    from bench.common import day_ranges, read_clean
    from ml_platform.io.storage import parquet_bytes, split_partitions
    from ml_platform.pipeline.names import PipelineNames

    spec = _spec()
    source = Nycflights13Source(data_dir=data_dir)
    keys = PipelineNames(spec).partition_keys
    for table in [spec.main_table, *spec.auxiliary_tables]:
        folder = store / f"cleaned_{table.name}"
        if not table.partitioned:
            frame = read_clean(spec, source, spec.partitioning.start, spec.partitioning.end, [table])
            frame[table.name].to_parquet(store / f"cleaned_{table.name}.parquet", index=False)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        for first, last in day_ranges(spec.partitioning.start, spec.partitioning.end, 31):
            frame = read_clean(spec, source, first, last, [table])[table.name]
            chunk = [k for k in keys if first.isoformat() <= k <= last.isoformat()]
            for key, part in split_partitions(frame, chunk).items():
                (folder / f"{key}.parquet").write_bytes(parquet_bytes(part))


def build(store: Path, shuffle_partitions: int, driver_memory: str) -> dict[str, float]:
    from upath import UPath

    from ml_platform.features.engine import feature_engine
    from ml_platform.features.finish_spark import spark_persisted
    from ml_platform.integrations.spark import spark_config
    from ml_platform.io.spark_parquet import replace_file, write_days
    from ml_platform.io.storage import ParquetIOManager, PartitionedParquet
    from ml_platform.pipeline.names import PipelineNames

    spec = _spec()
    keys = PipelineNames(spec).partition_keys
    io = ParquetIOManager(base_path=UPath(store))
    extra = {
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.driver.memory": driver_memory,  # local mode: the driver JVM is the executor too
        "spark.driver.extraJavaOptions": "-XX:MaxDirectMemorySize=512m",
    }
    engine = feature_engine("spark")
    engine = engine.model_copy(
        update={"spark": type(engine.spark)(spark_config=spark_config("local[2]", **extra))}
    )

    def handle(name: str, partitioned: bool) -> PartitionedParquet:
        if not partitioned:
            return PartitionedParquet(io, name, {"": UPath(store / f"{name}.parquet")})
        return PartitionedParquet(io, name, {k: UPath(store / name / f"{k}.parquet") for k in keys})

    main = handle(f"cleaned_{spec.main_table.name}", True)
    aux = {t.name: handle(f"cleaned_{t.name}", t.partitioned) for t in spec.auxiliary_tables}
    out = store / "features"
    peaks = {"python": 0, "tree": 0}
    done = threading.Event()

    def sample() -> None:  # the Python driver alone, and with the JVM it started
        from bench.run import _tree_rss_bytes

        while not done.wait(0.5):
            peaks["python"] = max(peaks["python"], _self_rss())
            peaks["tree"] = max(peaks["tree"], _tree_rss_bytes(os.getpid()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    frame = spark_persisted(engine.build_frames(spec, main, aux))
    rows = write_days(frame, keys, store, lambda k, f: replace_file(f, out / f"{k}.parquet"))
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    return {
        "rows": float(sum(rows.values())),
        "seconds_features": seconds,
        "peak_rss_python_driver_gb": peaks["python"] / 1e9,
        "peak_rss_driver_and_jvm_gb": peaks["tree"] / 1e9,
        **checksum(out, keys, spec),
    }


def _self_rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def checksum(folder: Path, keys: list[str], spec) -> dict[str, float]:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    total, missing = 0.0, 0.0
    for key in keys:
        numeric = pq.read_table(folder / f"{key}.parquet", columns=spec.features.numeric).to_pandas()
        total += float(numeric.fillna(0).to_numpy().sum())
        missing += float(numeric.isna().to_numpy().sum())
    return {"checksum": total, "missing_cells": missing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("step", choices=["prepare", "build", "measure"])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--shuffle-partitions", type=int, default=16)
    parser.add_argument("--driver-memory", default="1g")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.data_dir, args.store)
    elif args.step == "build":
        print(json.dumps(build(args.store, args.shuffle_partitions, args.driver_memory)))
    else:
        from bench.run import measure

        if not (args.store / f"cleaned_{_spec().main_table.name}").exists():
            prepare(args.data_dir, args.store)
        path = f"{Path(__file__).resolve().parents[1]}:{Path(__file__).resolve().parents[1] / 'datasets' / 'flights_delay'}"
        cmd = ["env", f"PYTHONPATH={path}", sys.executable, "-m", "bench.spark_end_to_end", "build"]
        cmd += ["--store", str(args.store)]
        cmd += ["--shuffle-partitions", str(args.shuffle_partitions), "--driver-memory", args.driver_memory]
        print(json.dumps(measure(cmd)))


if __name__ == "__main__":
    main()
