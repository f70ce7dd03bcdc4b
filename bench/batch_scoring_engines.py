"""Batch scoring of a Parquet directory of features by one engine, in this process (run by
``bench.batch_scoring --engine spark``, one process per run so that peak memory is per engine):

- ``pandas``: ``pyfunc.load_model``, ``pd.read_parquet`` of the directory, one ``predict`` of all
  rows, the scores written as Parquet;
- ``pandas-files``: the same, one Parquet file of the directory at a time (at 30×: one 1× copy,
  337 k rows), the scores written one file per input file: pandas at a scale whose whole frame does
  not fit beside other work;
- ``spark``: a ``local[2]`` session with the platform's settings (``spark_config``),
  ``mlflow.pyfunc.spark_udf(spark, uri, result_type="double")`` over ``spark.read.parquet``, the
  scores written as Parquet by Spark (one job: read, score and write are one pass).

Both write ``_partition`` and the positive-class probability; a checksum of the scores (not timed)
shows that both scored the same rows the same way. Prints one JSON line.

    python -m bench.batch_scoring_engines --engine pandas|pandas-files|spark --data DIR --out DIR
        --model-uri URI --tracking-uri URI [--driver-memory 4g]

``write_features`` makes the input: the platform's stored features (one Parquet file per day) as
one file (1×), or tiled N× with jitter (copy k ≥ 1: float columns + N(0, (1% of the column's
std)²), integer and string columns as they are), one file per copy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

PARTITION = "_partition"


def write_features(features_dir: Path, out: Path, factor: int, seed: int = 0) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    if out.exists() and (out / "_rows.json").exists():
        return dict(json.loads((out / "_rows.json").read_text()))
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    files = sorted(features_dir.glob("*.parquet"))
    base = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    rng = np.random.default_rng(seed)
    floats = [c for c in base.columns if pd.api.types.is_float_dtype(base[c])]
    for k in range(factor):
        copy = base.copy() if k else base
        for c in floats if k else []:
            copy[c] = copy[c] + rng.normal(0.0, 0.01 * (base[c].std() or 1.0), len(copy))
        copy.to_parquet(out / f"part-{k:03d}.parquet", index=False)
    info = {"rows": len(base) * factor, "columns": len(base.columns), "files": factor,
            "bytes": sum(p.stat().st_size for p in out.glob("*.parquet"))}  # fmt: skip
    (out / "_rows.json").write_text(json.dumps(info))
    return info


def _hwm_bytes(pid: int) -> int:
    """Peak RSS (VmHWM) of a live process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _descendants(pid: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(entry))
    out, stack = [], [pid]
    while stack:
        for child in kids.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


def score_pandas(data: Path, out: Path, uri: str) -> dict[str, Any]:
    import mlflow
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    model = mlflow.pyfunc.load_model(uri)
    cols = list(model.metadata.get_input_schema().input_names())
    t1 = time.perf_counter()
    frame = pd.read_parquet(data, columns=[PARTITION, *cols])
    t2 = time.perf_counter()
    scores = np.asarray(model.predict(frame[cols]))[:, 1]
    t3 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({PARTITION: frame[PARTITION], "score": scores}).to_parquet(out / "scores.parquet")
    t4 = time.perf_counter()
    return {
        "rows": len(frame),
        "seconds_load_model": t1 - t0,
        "seconds_read": t2 - t1,
        "seconds_predict": t3 - t2,
        "seconds_write": t4 - t3,
        "seconds_score": t4 - t1,  # read + predict + write: what Spark's one job covers
        "checksum": float(scores.sum()),
        "driver_peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
    }


def score_pandas_files(data: Path, out: Path, uri: str) -> dict[str, Any]:
    import mlflow
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    model = mlflow.pyfunc.load_model(uri)
    cols = list(model.metadata.get_input_schema().input_names())
    t1 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    rows, checksum, seconds_predict = 0, 0.0, 0.0
    files = sorted(data.glob("*.parquet")) if data.is_dir() else [data]
    for i, path in enumerate(files):
        frame = pd.read_parquet(path, columns=[PARTITION, *cols])
        t = time.perf_counter()
        scores = np.asarray(model.predict(frame[cols]))[:, 1]
        seconds_predict += time.perf_counter() - t
        pd.DataFrame({PARTITION: frame[PARTITION], "score": scores}).to_parquet(
            out / f"scores_{i:04d}.parquet"
        )
        rows, checksum = rows + len(frame), checksum + float(scores.sum())
        del frame, scores
    t2 = time.perf_counter()
    return {
        "rows": rows,
        "files": len(files),
        "seconds_load_model": t1 - t0,
        "seconds_predict": seconds_predict,
        "seconds_score": t2 - t1,  # read + predict + write of every file
        "checksum": checksum,
        "driver_peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
    }


def score_spark(
    data: Path, out: Path, uri: str, driver_memory: str, omp_threads: int | None = None
) -> dict[str, Any]:
    import mlflow
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F  # noqa: N812

    from ml_platform.integrations.spark import spark_config

    os.environ["PYSPARK_PYTHON"] = sys.executable  # the UDF's workers run this venv, not `python3`
    t0 = time.perf_counter()
    extra = {
        "spark.driver.memory": driver_memory,
        "spark.app.name": "bench_batch_scoring",
    }
    if omp_threads:  # each UDF worker's OpenMP threads (the model's predict), default: one per core
        extra["spark.executorEnv.OMP_NUM_THREADS"] = str(omp_threads)
    config: dict[str, Any] = spark_config("local[2]", **extra)
    spark = SparkSession.builder.config(map=config).getOrCreate()
    t1 = time.perf_counter()
    cols = list(mlflow.models.get_model_info(uri).signature.inputs.input_names())
    # result_type="double" keeps the *first* column of predict_proba's output: P(class 0)
    udf = mlflow.pyfunc.spark_udf(spark, uri, result_type="double", env_manager="local")
    t2 = time.perf_counter()
    frame = spark.read.parquet(str(data))
    scored = frame.select(F.col(PARTITION), udf(*cols).alias("p_class0"))
    scored.write.mode("overwrite").parquet(str(out))
    t3 = time.perf_counter()
    written = spark.read.parquet(str(out)).agg(F.count("*"), F.sum(1.0 - F.col("p_class0"))).first()
    assert written is not None  # an aggregate has one row
    jvm = spark.sparkContext._gateway.proc.pid  # type: ignore[union-attr]
    workers = _descendants(jvm)
    result = {
        "rows": int(written[0]),
        "seconds_session": t1 - t0,
        "seconds_load_model": t2 - t1,  # spark_udf: loads the model, broadcasts it
        "seconds_score": t3 - t2,  # read + score + write, one job
        "checksum": float(written[1]),
        "driver_peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
        "jvm_peak_rss_gb": _hwm_bytes(jvm) / 1e9,
        "python_workers_peak_rss_gb": sum(_hwm_bytes(p) for p in workers) / 1e9,
        "python_workers": len(workers),
    }
    spark.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["pandas", "pandas-files", "spark"], required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model-uri", required=True)
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument(
        "--omp-threads", type=int, default=None, help="spark: OMP_NUM_THREADS of each UDF worker"
    )
    args = parser.parse_args()
    os.environ["MLFLOW_TRACKING_URI"] = args.tracking_uri
    shutil.rmtree(args.out, ignore_errors=True)
    t0 = time.perf_counter()
    if args.engine == "pandas":
        result = score_pandas(args.data, args.out, args.model_uri)
    elif args.engine == "pandas-files":
        result = score_pandas_files(args.data, args.out, args.model_uri)
    else:
        result = score_spark(args.data, args.out, args.model_uri, args.driver_memory, args.omp_threads)
    engine = args.engine + (f" (OMP_NUM_THREADS={args.omp_threads})" if args.omp_threads else "")
    print(json.dumps({"engine": engine, "seconds_in_process": time.perf_counter() - t0, **result}))


if __name__ == "__main__":
    main()
