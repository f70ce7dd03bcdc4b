"""Spark reads and writes of the Parquet IO manager's per-day files, for the Spark engine: the same
files as the pandas path (``<asset>/<day>.parquet``, one per daily partition), so either engine
reads what the other wrote. pyspark is imported on first use.

Reading: the run's per-day files in one ``spark.read.parquet``, with a ``_rid`` row id that orders
rows as the pandas path's concatenation does (day by day in key order, then row within the file:
``_metadata.row_index``), and ``_row``, the row's position within its day's file.

Writing: into a temporary directory next to the asset's folder, one task per day
(``repartition`` on the day, rows in ``_rid`` order), ``partitionBy`` a copy of the day column so
the files keep ``_partition`` itself; then each day's single part file is renamed onto
``<day>.parquet`` (atomic per partition, as the pandas path's temp file + rename). A day without
rows gets an empty file with the same schema, as in the pandas path. Stores that are not a local
filesystem (S3) stage through a local directory: Spark reads and writes local files and the store
moves the bytes (see ``ParquetIOManager.stage_*``)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.transforms import RID

ROW_IN_DAY = "_day_row"  # position within the day's file: the row of a prediction id
_DAY_COPY = "__day"
_DAY_BITS = 32  # _rid = day index << 32 | row within the day


def is_spark_frame(obj: Any) -> bool:
    """True for a pyspark (classic or Connect) DataFrame, without importing pyspark."""
    cls = type(obj)
    return cls.__name__ == "DataFrame" and cls.__module__.startswith("pyspark.")


def read_files(session: Any, files: Mapping[str, str]) -> Any:
    """``files`` (key → local path) as one Spark DataFrame plus ``_rid`` and ``_row``."""
    from pyspark.sql import functions as F

    keys = sorted(files)
    index = {Path(files[k]).name: i for i, k in enumerate(keys)}
    if len(index) != len(keys):
        raise ValueError("read_files: two partitions share a file name")
    nanos = _nanosecond_timestamps(files[keys[0]])
    if nanos:  # pandas writes datetime64[ns]; Spark reads such columns only as long nanoseconds
        session.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    sdf = session.read.parquet(*(files[k] for k in keys))
    for column in nanos:  # back to Spark timestamps (microseconds), the instant unchanged
        sdf = sdf.withColumn(column, F.timestamp_micros(F.expr(f"`{column}` div 1000")))
    name_to_index = F.create_map(*(x for n, i in index.items() for x in (F.lit(n), F.lit(i))))
    day = F.element_at(name_to_index, F.col("_metadata.file_name")).cast("long")
    row = F.col("_metadata.row_index").cast("long")
    return sdf.select("*", (F.shiftleft(day, _DAY_BITS) + row).alias(RID), row.alias(ROW_IN_DAY))


def _nanosecond_timestamps(path: str) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return [f.name for f in pq.read_schema(path) if pa.types.is_timestamp(f.type) and f.type.unit == "ns"]


def write_days(
    sdf: Any, keys: list[str], staging_parent: Path, publish: Callable[[str, Path], None]
) -> dict[str, int]:
    """Write ``sdf`` (with ``_partition``; ordered by ``_rid`` when it has one) as one Parquet file per
    key; ``publish(key, file)`` moves each finished file into place. Returns rows per key."""
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F

    staging_parent.mkdir(parents=True, exist_ok=True)
    tmp = staging_parent / f".spark-{uuid.uuid4().hex}.tmp"
    ordered = sdf.withColumn(_DAY_COPY, F.col(PARTITION_COLUMN)).repartition(_DAY_COPY)
    if RID in sdf.columns:
        ordered = ordered.sortWithinPartitions(_DAY_COPY, RID).drop(RID)
    drop = [c for c in (ROW_IN_DAY,) if c in sdf.columns]
    try:
        ordered.drop(*drop).write.partitionBy(_DAY_COPY).parquet(str(tmp))
        written: dict[str, Path] = {}
        for folder in tmp.glob(f"{_DAY_COPY}=*"):
            key = unquote(folder.name.split("=", 1)[1])
            parts = sorted(folder.glob("part-*.parquet"))
            if len(parts) != 1:
                raise RuntimeError(f"Spark wrote {len(parts)} files for partition {key}, expected one")
            written[key] = parts[0]
        stray = sorted(set(written) - set(keys))
        if stray:
            raise ValueError(
                f"rows for partitions {stray[:5]} are not among the run's partitions {keys[0]}..{keys[-1]}"
            )
        rows = {k: pq.ParquetFile(p).metadata.num_rows for k, p in written.items()}
        empty = [k for k in keys if k not in written]
        if empty:
            schema = (
                pq.read_schema(next(iter(written.values())))
                if written
                else _arrow_schema(sdf.drop(*(c for c in (RID, ROW_IN_DAY) if c in sdf.columns)))
            )
            for key in empty:
                path = tmp / f"empty-{key}.parquet"
                pq.write_table(schema.empty_table(), path)
                written[key] = path
        for key in keys:
            publish(key, written[key])
        return {k: rows.get(k, 0) for k in keys}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _arrow_schema(sdf: Any) -> Any:
    import pyarrow as pa

    # limit(0): no rows reach the driver, only the column types, converted as the pandas path's are
    return pa.Schema.from_pandas(sdf.limit(0).toPandas(), preserve_index=False)


def replace_file(source: Path, target: Path) -> None:
    """Move ``source`` onto ``target`` atomically (same filesystem: the staging dir is a sibling)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
