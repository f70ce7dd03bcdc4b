"""Raw assets: each table as delivered by the pipeline's source, one daily partition at a time."""

import datetime as dt
import hashlib

import dagster as dg
import pandas as pd

from ml_platform.assets.common import Pipeline, partition_label
from ml_platform.assets.progress import Progress, chunked
from ml_platform.resources.retry import SourceError, TransientSourceError
from ml_platform.resources.sources import DataSource
from ml_platform.specs.models import TableSpec


def _content_hash(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def _table_schema(frame: pd.DataFrame) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(str(c), str(t)) for c, t in frame.dtypes.items()])


def _fetch_with_progress(
    context: dg.AssetExecutionContext,
    source: DataSource,
    table: TableSpec,
    date_columns: tuple[str, str, str],
) -> pd.DataFrame:
    """The run's partition range in about ten chunks of days, logging progress after each."""
    days = [dt.date.fromisoformat(k) for k in context.partition_keys]
    progress = Progress(context.log, f"fetch {table.name}", len(days))
    parts = []
    for chunk in chunked(days):
        part = source.fetch_days(table.table, chunk[0], chunk[-1], date_columns)
        parts.append(part)
        progress.advance(len(chunk), len(part))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def raw_asset(pipeline: Pipeline, table: TableSpec) -> dg.AssetsDefinition:
    spec = pipeline.spec
    partitions = pipeline.partitions_for(table)

    @dg.asset(
        key=pipeline.raw_key(table),
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions else None,
        group_name=pipeline.name,
        owners=pipeline.owners,
        kinds={"pandas", "parquet"},
        required_resource_keys={pipeline.source_resource_key},
        description=f"Raw `{table.name}` rows exactly as delivered by the source"
        + (", one file per day." if partitions else " (unpartitioned lookup)."),
    )
    def _raw(context: dg.AssetExecutionContext) -> dg.Output[pd.DataFrame]:
        source: DataSource = getattr(context.resources, pipeline.source_resource_key)
        label = partition_label(context) if partitions else "all"
        try:
            if partitions:
                frame = _fetch_with_progress(context, source, table, spec.partitioning.date_columns)
            else:
                frame = source.fetch_static(table.table)
        except SourceError as exc:
            raise dg.Failure(
                description=str(exc),
                metadata={
                    "source": source.uri(table.table),
                    "partitions": label,
                    "fault": "transient" if isinstance(exc, TransientSourceError) else "permanent",
                },
            ) from exc
        context.log.info(f"{table.name}: {len(frame)} rows for {label} from {source.uri(table.table)}")
        return dg.Output(
            frame,
            data_version=dg.DataVersion(_content_hash(frame)),
            metadata={
                "dagster/row_count": len(frame),
                "bytes_in_memory": int(frame.memory_usage(deep=False).sum()),
                "source_uri": dg.MetadataValue.url(source.uri(table.table))
                if source.uri(table.table).startswith("http")
                else source.uri(table.table),
                "partitions": label,
                "dagster/column_schema": _table_schema(frame),
            },
        )

    return _raw
