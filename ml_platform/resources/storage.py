"""IO managers: Parquet for tables (one file per daily partition), JSON for small records.

Both are :class:`dagster.UPathIOManager` subclasses, so the same code writes to a local directory
or to object storage. Writes are atomic (temp file + rename). A single-run backfill hands one frame
for many partitions; it is split on ``_partition`` and written one file per day. Loading many
partitions returns one concatenated frame.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import dagster as dg
import pandas as pd
from upath import UPath

from ml_platform.ml.cleaning import PARTITION_COLUMN


def _atomic_write(path: UPath, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    tmp.rename(path)


class _BytesStore(dg.UPathIOManager):
    """Where serialized bytes go. Here: the UPath's filesystem; subclasses (e.g. S3) override."""

    def write_bytes(self, path: UPath, data: bytes) -> None:
        _atomic_write(path, data)

    def read_bytes(self, path: UPath) -> bytes:
        return path.read_bytes()

    def names_in(self, folder: UPath) -> set[str]:
        """File names directly under ``folder`` (empty if it does not exist)."""
        return {p.name for p in folder.iterdir()} if folder.exists() else set()

    def uri(self, path: UPath) -> str:
        return str(path)


class ParquetIOManager(_BytesStore):
    """DataFrames as Parquet; daily partitions as one file each."""

    extension = ".parquet"

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"{context.asset_key.to_user_string()}: expected a DataFrame, got {type(obj).__name__}"
            )
        self.write_bytes(path, obj.to_parquet(index=False))

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        columns = (context.definition_metadata or {}).get("columns")
        return pd.read_parquet(io.BytesIO(self.read_bytes(path)), columns=columns)

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if not (context.has_asset_partitions and len(context.asset_partition_keys) > 1):
            super().handle_output(context, obj)
            return
        paths = self._get_paths_for_partitions(context)
        parts = dict(tuple(obj.groupby(PARTITION_COLUMN, sort=False))) if len(obj) else {}
        for key, path in paths.items():
            part = parts.get(key, obj.iloc[0:0])
            self.dump_to_path(context, part.reset_index(drop=True), path)
        context.add_output_metadata(
            {
                "partitions_written": len(paths),
                "path": dg.MetadataValue.path(self.uri(next(iter(paths.values())).parent)),
            }
        )

    def load_partitions(self, context: dg.InputContext) -> Any:
        """Many partitions: one Arrow read per file, one concatenation, one pandas conversion."""
        if len(context.asset_partition_keys) == 1:
            return super().load_partitions(context)
        import pyarrow as pa
        import pyarrow.parquet as pq

        paths = self._get_paths_for_partitions(context)
        folder = next(iter(paths.values())).parent
        present = self.names_in(folder)
        missing = sorted(k for k, p in paths.items() if p.name not in present)
        metadata = context.definition_metadata or {}
        if missing and not metadata.get("allow_missing_partitions", False):
            raise FileNotFoundError(
                f"{context.asset_key.to_user_string()}: {len(missing)} partition(s) not materialized "
                f"under {self.uri(folder)}: {missing[:5]}{' …' if len(missing) > 5 else ''}"
            )
        columns = metadata.get("columns")
        tables = []
        for key in sorted(paths):
            if key in missing:
                continue
            tables.append(pq.read_table(io.BytesIO(self.read_bytes(paths[key])), columns=columns))
        if not tables:
            return pd.DataFrame()
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()

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
