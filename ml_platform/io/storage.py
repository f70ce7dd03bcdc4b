"""IO managers: Parquet for tables (one file per daily partition), JSON for small records.

Both are :class:`dagster.UPathIOManager` subclasses, so the same code writes to a local directory
or to object storage. Writes are atomic (temp file + rename). A single-run backfill hands one frame
for many partitions; it is split on ``_partition`` and written one file per day. Loading many
partitions returns one concatenated frame.
"""

from __future__ import annotations

import atexit
import functools
import io
import json
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from upath import UPath

from ml_platform.integrations.spark_progress import spark_progress
from ml_platform.io import table_cache
from ml_platform.io.partitioned import IO_THREADS, PartitionedParquet
from ml_platform.io.spark_parquet import is_spark_frame, replace_file, write_days
from ml_platform.io.table_cache import read_local_table, write_local_file
from ml_platform.ml.cleaning import PARTITION_COLUMN

UNPARTITIONED = ""  # the key of a non-partitioned asset's one file in a PartitionedParquet


@functools.cache
def _staging_dir() -> Path:
    """A process-wide local directory for remote files Spark reads, removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="ml_platform_spark_"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _atomic_write(path: UPath, data: bytes) -> None:
    """Temp file + rename on a non-local fsspec filesystem (local files: ``write_local_file``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    tmp.rename(path)


def split_partitions(frame: pd.DataFrame, keys: list[str]) -> dict[str, Any]:
    """One Arrow table per key from a frame holding many partitions (``_partition``), each equal to
    ``frame[frame._partition == key]`` as ``to_parquet(index=False)`` would store it; a key without
    rows gets an empty table with the same schema. The frame is converted to Arrow once and cut
    into zero-copy slices: converting hundreds of small frames costs more than writing them."""
    import numpy as np
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    labels = frame[PARTITION_COLUMN].astype(str).to_numpy() if len(frame) else np.array([], dtype=str)
    # the labels as integer codes in label order: a stable sort of the codes is the stable sort of
    # the labels (sorting 10 M strings took 15 s at 30x; hashing them once and sorting ints, ~1 s)
    codes, uniques = pd.factorize(labels, sort=True)
    order = np.argsort(codes, kind="stable")
    if len(order) and (order != np.arange(len(order))).any():
        table = table.take(order)
    counts = np.bincount(codes, minlength=len(uniques))
    stops = np.cumsum(counts)
    bounds = {
        str(key): (int(stop - count), int(stop))
        for key, count, stop in zip(uniques.tolist(), counts.tolist(), stops.tolist(), strict=True)
    }
    stray = sorted(set(bounds) - set(keys))
    if stray:  # rows would be dropped silently
        raise ValueError(
            f"rows for partitions {stray[:5]} are not among the run's partitions {keys[0]}..{keys[-1]}"
        )
    return {
        key: table.slice(start, stop - start)
        for key, (start, stop) in ((k, bounds.get(k, (0, 0))) for k in keys)
    }


def parquet_bytes(table: Any) -> bytes:
    """``table`` as a Parquet file. A table without rows is encoded once per schema (its metadata
    included): a year's quarantine of a clean delivery is 365 empty files, ~0.8 ms each to encode."""
    if table.num_rows == 0:
        return _empty_parquet(table.schema.serialize().to_pybytes())
    return _encode(table)


def _encode(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


@functools.lru_cache(maxsize=64)
def _empty_parquet(schema: bytes) -> bytes:
    import pyarrow as pa

    return _encode(pa.ipc.read_schema(pa.py_buffer(schema)).empty_table())


class _BytesStore(dg.UPathIOManager):
    """Where serialized bytes go. Here: the UPath's filesystem; subclasses (e.g. S3) override."""

    def write_bytes(self, path: UPath, data: bytes) -> None:
        local = self.local_path(path)
        if local is not None:
            write_local_file(local, data)
        else:
            _atomic_write(path, data)

    def read_bytes(self, path: UPath) -> bytes:
        return path.read_bytes()

    def write_table(self, path: UPath, table: Any) -> None:
        """An Arrow table as a Parquet file; a local file's table stays decoded (``table_cache``)."""
        local = self.local_path(path)
        if local is not None:
            write_local_file(local, parquet_bytes(table), table)  # the one temp file + rename
        else:
            self.write_bytes(path, parquet_bytes(table))

    def read_table(self, path: UPath, columns: Any = None) -> Any:
        """``columns`` (all if None) of a Parquet file as an Arrow table; local files through the
        decoded-table cache, so a file this process wrote or read is not decoded again."""
        local = self.local_path(path)
        if local is not None:
            return read_local_table(local, columns)
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(self.read_bytes(path)), columns=columns)

    def forget_decoded(self, paths: Sequence[UPath]) -> None:
        """Drop these files' decoded tables from this process's cache (local files only)."""
        local = [p for p in map(self.local_path, paths) if p is not None]
        if local:
            table_cache.TABLES.discard(local)

    def names_in(self, folder: UPath) -> set[str]:
        """File names directly under ``folder`` (empty if it does not exist)."""
        return {p.name for p in folder.iterdir()} if folder.exists() else set()

    def uri(self, path: UPath) -> str:
        return str(path)

    def local_path(self, path: UPath) -> Path | None:
        """``path`` on the local filesystem, where Spark can read and write it; None elsewhere."""
        protocol = getattr(path, "protocol", "file")
        return Path(path.path) if protocol in ("", "file", "local") else None

    def publish_file(self, path: UPath, file: Path) -> None:
        """Move a finished local file (Spark's output) to ``path``: a rename locally, else its bytes."""
        local = self.local_path(path)
        if local is not None:
            replace_file(file, local)
        else:
            self.write_bytes(path, file.read_bytes())

    def readable_file(self, path: UPath) -> str:
        """A local path Spark can read ``path`` from (a staged copy when the store is remote)."""
        local = self.local_path(path)
        if local is not None:
            return str(local)
        staged = _staging_dir() / uuid.uuid4().hex / path.name
        staged.parent.mkdir(parents=True)
        staged.write_bytes(self.read_bytes(path))
        return str(staged)


class ParquetIOManager(_BytesStore):
    """DataFrames as Parquet; daily partitions as one file each."""

    extension = ".parquet"

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"{context.asset_key.to_user_string()}: expected a DataFrame, got {type(obj).__name__}"
            )
        self.write_bytes(path, obj.to_parquet(index=False))

    def load_from_path(self, context: dg.InputContext, path: UPath) -> Any:
        metadata = context.definition_metadata or {}
        if metadata.get("lazy") and not context.has_asset_partitions:
            return PartitionedParquet(self, context.asset_key.to_user_string(), {UNPARTITIONED: path})
        return pd.read_parquet(io.BytesIO(self.read_bytes(path)), columns=metadata.get("columns"))

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if is_spark_frame(obj):
            self.store_spark(context, obj)
            return
        if not (context.has_asset_partitions and len(context.asset_partition_keys) > 1):
            super().handle_output(context, obj)
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"{context.asset_key.to_user_string()}: expected a DataFrame, got {type(obj).__name__}"
            )
        paths = self._get_paths_for_partitions(context)
        slices = split_partitions(obj, list(paths))

        def write(key: str) -> None:
            self.write_table(paths[key], slices[key])

        with ThreadPoolExecutor(IO_THREADS) as pool:
            list(pool.map(write, paths))
        context.add_output_metadata(
            {
                "partitions_written_in_run": len(paths),
                "path": dg.MetadataValue.path(self.uri(next(iter(paths.values())).parent)),
            }
        )

    def store_spark(self, context: dg.OutputContext, obj: Any) -> None:
        """A Spark DataFrame of the run's partitions, written by Spark: one file per partition, each
        renamed into place (``io/spark_parquet.py``); nothing is collected to the driver."""
        if not context.has_asset_partitions:
            raise TypeError(f"{context.asset_key.to_user_string()}: Spark output needs daily partitions")
        paths = self._get_paths_for_partitions(context)
        folder = next(iter(paths.values())).parent
        local = self.local_path(folder)
        staging = local.parent if local is not None else _staging_dir()
        what = f"{context.asset_key.to_user_string()}: writing {len(paths)} partitions"
        try:
            with spark_progress(obj.sparkSession, what, context.log.info):
                rows = write_days(obj, list(paths), staging, lambda k, f: self.publish_file(paths[k], f))
        finally:
            obj.unpersist()
        context.add_output_metadata(
            {
                "partitions_written_in_run": len(paths),
                "rows_written_by_spark": sum(rows.values()),
                "path": dg.MetadataValue.path(self.uri(folder)),
            }
        )

    def load_partitions(self, context: dg.InputContext) -> Any:
        """Many partitions: one Arrow read per file (threaded), one concatenation, one pandas
        conversion. With input metadata ``lazy: True``, a :class:`PartitionedParquet` handle instead,
        so the asset reads only the partitions, columns and rows it needs."""
        metadata = context.definition_metadata or {}
        if len(context.asset_partition_keys) == 1 and not metadata.get("lazy"):
            return super().load_partitions(context)
        paths = self._get_paths_for_partitions(context)
        folder = next(iter(paths.values())).parent
        present = self.names_in(folder)
        missing = sorted(k for k, p in paths.items() if p.name not in present)
        if missing and not metadata.get("allow_missing_partitions", False):
            raise FileNotFoundError(
                f"{context.asset_key.to_user_string()}: {len(missing)} partition(s) not materialized "
                f"under {self.uri(folder)}: {missing[:5]}{' …' if len(missing) > 5 else ''}"
            )
        handle = PartitionedParquet(
            self, context.asset_key.to_user_string(), {k: p for k, p in paths.items() if k not in missing}
        )
        if metadata.get("lazy"):
            return handle
        return handle.read(handle.keys(), columns=metadata.get("columns"))

    def load_input(self, context: dg.InputContext) -> Any:
        loaded = super().load_input(context)
        if isinstance(loaded, dict):
            frames = [loaded[k] for k in sorted(loaded)]
            if not frames:
                return pd.DataFrame()
            return pd.concat(frames, ignore_index=True)
        return loaded


class JsonIOManager(_BytesStore):
    """Small JSON-serializable records (model lineage, evaluation reports)."""

    extension = ".json"

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: UPath) -> None:
        self.write_bytes(path, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())

    def load_from_path(self, context: dg.InputContext, path: UPath) -> Any:
        return json.loads(self.read_bytes(path))


class LocalParquetIOManager(dg.ConfigurableIOManagerFactory):
    """Parquet tables under a local directory."""

    base_dir: str

    def create_io_manager(self, context: dg.InitResourceContext) -> ParquetIOManager:
        return ParquetIOManager(base_path=UPath(self.base_dir))


class LocalJsonIOManager(dg.ConfigurableIOManagerFactory):
    """JSON records under a local directory."""

    base_dir: str

    def create_io_manager(self, context: dg.InitResourceContext) -> JsonIOManager:
        return JsonIOManager(base_path=UPath(self.base_dir))
