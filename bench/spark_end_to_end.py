"""The Spark engine end to end on a whole year in one job: Spark reads the cleaned tables' per-day
Parquet files and writes the features one file per day (the IO manager's layout), nothing collected
to the driver; then a champion scores those features with ``mlflow.pyfunc.spark_udf``. Steps, each
in its own process so that its peak RSS is its own:

    python -m bench.spark_end_to_end prepare --data-dir DIR --store STORE   # cleaned files, by pandas
    python -m bench.spark_end_to_end build --store STORE [--shuffle-partitions N] [--driver-memory 1g]

``prepare`` reads and cleans a calendar month at a time (the source's month filters read only that
month's row groups) and writes ``cleaned_<t>/<day>.parquet``. ``build`` prints rows, seconds and
the checksum of ``bench.features_engines`` (sum of the numeric features with missing values as 0,
and the count of missing cells), computed from the written files day by day, so it compares with
the pandas engine's figure on the same data.

``python -m bench.spark_end_to_end measure --data-dir DIR --store STORE [--score-home HOME]
[--json FILE --label NAME]`` runs the steps under ``bench.run.measure`` (wall time and peak RSS of
the process tree, the JVM included; the load average before, after and sampled during each step):
``--steps`` (default: prepare, build and, with ``--score-home``, score: the predictions of the
champion of ``bench.batch_scoring.Platform(HOME)`` (trained at 1× there if HOME has none) over
STORE's features by ``bench.batch_scoring_engines --engine spark``). ``--json`` appends the record
under ``NAME``. The 10× / 100× figures of docs/benchmarks.md ("100× Spark end to end"):

    python -m bench.scale_data --factor 100 --out /work/scratch100/data_x100
    python -m bench.spark_end_to_end measure --data-dir /work/scratch100/data_x100 \
        --store /work/scratch100/store_x100 --driver-memory 4g --shuffle-partitions 48 \
        --omp-threads 1 --score-home /work/scratch100/home --json /work/scratch100/e2e.json --label 100x

(at 100× a 2 GB heap with 16 shuffle partitions runs out of Spark execution memory in a window;
without ``--shuffle-partitions`` the build sizes them from its input as the platform does,
``integrations/spark.size_shuffles``.)
"""

from __future__ import annotations

import argparse
import datetime as dt
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


def month_ranges(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Calendar months (first, last) covering ``start..end``, cut to it."""
    out = []
    while start <= end:
        following = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        last = min(end, following - dt.timedelta(days=1))
        out.append((start, last))
        start = last + dt.timedelta(days=1)
    return out


def prepare(data_dir: str | None, store: Path) -> dict[str, float]:
    """Cleaned tables as the pipeline stores them: ``cleaned_<t>/<day>.parquet``, lookups whole."""
    import resource

    from flights_delay.source import Nycflights13Source

    from bench.common import read_clean
    from ml_platform.io.storage import parquet_bytes, split_partitions
    from ml_platform.pipeline.names import PipelineNames

    t0 = time.perf_counter()
    spec = _spec()
    source = Nycflights13Source(data_dir=data_dir)
    keys = PipelineNames(spec).partition_keys
    rows = 0
    for table in [spec.main_table, *spec.auxiliary_tables]:
        folder = store / f"cleaned_{table.name}"
        if not table.partitioned:
            frame = read_clean(spec, source, spec.partitioning.start, spec.partitioning.end, [table])
            frame[table.name].to_parquet(store / f"cleaned_{table.name}.parquet", index=False)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        for first, last in month_ranges(spec.partitioning.start, spec.partitioning.end):
            frame = read_clean(spec, source, first, last, [table])[table.name]
            rows += len(frame) if table.name == spec.main_table.name else 0
            chunk = [k for k in keys if first.isoformat() <= k <= last.isoformat()]
            for key, part in split_partitions(frame, chunk).items():
                (folder / f"{key}.parquet").write_bytes(parquet_bytes(part))
            del frame
    return {
        "rows": float(rows),  # cleaned rows of the main table
        "seconds_prepare": time.perf_counter() - t0,
        "peak_rss_python_driver_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
    }


def build(store: Path, shuffle_partitions: int, driver_memory: str) -> dict[str, object]:
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
        **({"spark.sql.shuffle.partitions": str(shuffle_partitions)} if shuffle_partitions else {}),
        "spark.driver.memory": driver_memory,  # local mode: the driver JVM is the executor too
        "spark.driver.extraJavaOptions": "-XX:MaxDirectMemorySize=512m",
    }
    engine = feature_engine("spark")
    engine = engine.model_copy(  # a count given is kept; 0: sized by the engine from the input
        update={
            "spark": type(engine.spark)(spark_config=spark_config("local[2]", **extra)),
            **({"spark_partition_mib": 0} if shuffle_partitions else {}),
        }
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
    said: list[str] = []
    frame = spark_persisted(engine.build_frames(spec, main, aux, said.append))
    rows = write_days(frame, keys, store, lambda k, f: replace_file(f, out / f"{k}.parquet"))
    seconds = time.perf_counter() - t0
    jvm_peak = _jvm_peak_bytes(frame)
    done.set()
    sampler.join()
    return {
        "rows": float(sum(rows.values())),
        "seconds_features": seconds,
        "peak_rss_python_driver_gb": peaks["python"] / 1e9,
        "peak_rss_driver_and_jvm_gb": peaks["tree"] / 1e9,
        "jvm_peak_rss_gb": jvm_peak / 1e9,  # the JVM's own VmHWM: its peak over its whole life
        "shuffle_partitions": float(frame.sparkSession.conf.get("spark.sql.shuffle.partitions")),
        "sizing": " ".join(said),
        **checksum(out, keys, spec),
    }


def _jvm_peak_bytes(frame) -> float:  # type: ignore[no-untyped-def]
    try:
        from bench.batch_scoring_engines import _hwm_bytes

        return float(_hwm_bytes(frame.sparkSession.sparkContext._gateway.proc.pid))
    except (AttributeError, OSError):  # not a local JVM this process started
        return float("nan")


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


class LoadSampler:
    """The 1-minute load average before, after, and min/max sampled every 2 s during a step."""

    def __init__(self) -> None:
        self.seen: list[float] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.wait(2.0):
            self.seen.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self.before = os.getloadavg()[0]
        self.started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()

    def record(self) -> dict[str, object]:
        seen = self.seen or [self.before]
        return {
            "started": self.started,
            "load_before": round(self.before, 2),
            "load_during": [round(min(seen), 2), round(max(seen), 2)],
            "load_after": round(os.getloadavg()[0], 2),
        }


def measure_all(args: argparse.Namespace) -> dict[str, dict]:
    """``--steps`` of prepare, build and (with ``--score-home``) the champion's scoring, each in its
    own process under ``bench.run.measure``."""
    from bench.run import measure

    me = [sys.executable, "-m", "bench.spark_end_to_end"]
    steps: dict[str, list[str]] = {}
    args.store.mkdir(parents=True, exist_ok=True)
    steps["prepare"] = [*me, "prepare", "--store", str(args.store)]
    steps["prepare"] += ["--data-dir", args.data_dir] if args.data_dir else []
    steps["build"] = [*me, "build", "--store", str(args.store), "--driver-memory", args.driver_memory]
    steps["build"] += ["--shuffle-partitions", str(args.shuffle_partitions)]
    if args.score_home:
        from bench.batch_scoring import Platform

        platform = Platform(args.score_home.resolve())  # trains a champion at 1× if it has none
        steps["score"] = [
            sys.executable, "-m", "bench.batch_scoring_engines", "--engine", "spark",
            "--data", str(args.store / "features"), "--out", str(args.store / "predictions"),
            "--model-uri", platform.model_uri, "--tracking-uri", platform.tracking_uri,
            "--driver-memory", args.driver_memory,
        ]  # fmt: skip
        steps["score"] += ["--omp-threads", str(args.omp_threads)] if args.omp_threads else []
    steps = {k: v for k, v in steps.items() if k in args.steps.split(",")}
    record: dict[str, dict] = {}
    for name, cmd in steps.items():
        with LoadSampler() as load:
            result = measure(cmd)
        record[name] = {**result, **load.record(), "command": " ".join(cmd[1:])}
        print(json.dumps({name: record[name]}), flush=True)
        if args.json:  # each step kept as soon as it is measured
            stored = json.loads(args.json.read_text()) if args.json.exists() else {}
            stored.setdefault(args.label, {})[name] = record[name]
            args.json.write_text(json.dumps(stored, indent=2) + "\n")
    return record


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=["prepare", "build", "measure"])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument(
        "--shuffle-partitions", type=int, default=0, help="0: sized from the input, as the platform does"
    )
    parser.add_argument("--driver-memory", default="1g")
    parser.add_argument("--score-home", type=Path, default=None, help="measure: score with its champion")
    parser.add_argument(
        "--omp-threads", type=int, default=None, help="measure: OMP_NUM_THREADS per UDF worker"
    )
    parser.add_argument("--steps", default="prepare,build,score", help="measure: the steps run")
    parser.add_argument("--json", type=Path, default=None, help="measure: append the steps' records here")
    parser.add_argument("--label", default="run", help="measure: the record's key in --json")
    args = parser.parse_args()
    if args.step == "prepare":
        print(json.dumps(prepare(args.data_dir, args.store)))
    elif args.step == "build":
        print(json.dumps(build(args.store, args.shuffle_partitions, args.driver_memory)))
    else:
        measure_all(args)


if __name__ == "__main__":
    main()
