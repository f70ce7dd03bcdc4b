"""Raw assets: each table as delivered by the pipeline's source, one daily partition at a time."""

import datetime as dt
import hashlib
from typing import Any

import dagster as dg
import pandas as pd

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.memory import spare_collector
from ml_platform.ml.time import assign_partition_keys, days_of_keys
from ml_platform.pipeline.assets.common import partition_label
from ml_platform.pipeline.assets.partition_metadata import (
    ROW_COUNT,
    RUN_PARTITIONS,
    add_partition_metadata,
    declared_schema,
    partition_counts,
)
from ml_platform.pipeline.assets.progress import Progress, chunked
from ml_platform.pipeline.names import PipelineNames
from ml_platform.pipeline.previews import deliberate_previews_accepted
from ml_platform.sources.base import SOURCE_COLUMN, DataSource
from ml_platform.sources.retry import PermanentSourceError, SourceError, TransientSourceError
from ml_platform.specs.models import PartitioningSpec, TableSpec


def _content_hash(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def _fetch_with_progress(
    context: dg.AssetExecutionContext,
    source: DataSource,
    table: TableSpec,
    date_columns: tuple[str, ...],
    allow_missing: bool = False,
    partitioning: PartitioningSpec | None = None,
) -> pd.DataFrame:
    """The run's partition range in about ten chunks of days, logging progress after each; hourly
    or weekly partitions fetch the days they cover and key each row by its own hour or week."""
    granularity = partitioning.granularity if partitioning is not None else "daily"
    days = days_of_keys(list(context.partition_keys), granularity)
    if partitioning is not None:
        days = [d for d in days if partitioning.start <= d <= partitioning.end]
    skipped: list[dt.date] = []
    if allow_missing:
        listed = set(source.list_deliveries(table.table, date_columns))
        skipped = [d for d in days if d.isoformat() not in listed]
        days = [d for d in days if d.isoformat() in listed]
        if skipped:
            context.log.warning(
                f"{table.name}: no delivery for {len(skipped)} day(s) {[d.isoformat() for d in skipped[:5]]}"
                " (partitioning.missing_days: allow): they have no rows"
            )
    progress = Progress(context.log, f"fetch {table.name}", len(days) + len(skipped))
    parts = [pd.DataFrame({c: pd.Series(dtype=object) for c in [*table.columns, PARTITION_COLUMN]})]
    for run in _consecutive(days):
        for chunk in chunked(run):
            try:
                part = source.fetch_days(table.table, chunk[0], chunk[-1], date_columns)
            except PermanentSourceError as exc:
                if len(days) == 1:
                    raise
                raise PermanentSourceError(_range_failure(source, table, days, date_columns)) from exc
            parts.append(part)
            progress.advance(len(chunk), len(part))
    # days that came back empty add no rows and, from pandas 3 on, would decide the dtypes of the
    # concatenation (an empty day's object columns turning numbers into objects): left out; the
    # first fetched part, or the empty frame, only when nothing has rows
    parts = [p for p in parts[1:] if len(p)] or parts[1:2] or parts
    frame = _storable(pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0])
    if granularity == "daily" or partitioning is None:
        if PARTITION_COLUMN in frame and len(frame):  # a day delivered as hour files is one day
            frame[PARTITION_COLUMN] = frame[PARTITION_COLUMN].astype(str).str[:10]
        return frame
    keyed = assign_partition_keys(frame, partitioning.time_spec, granularity, PARTITION_COLUMN)
    return keyed[keyed[PARTITION_COLUMN].isin(set(context.partition_keys))].reset_index(drop=True)


def _consecutive(days: list[dt.date]) -> list[list[dt.date]]:
    """Runs of consecutive days (a source fetches a range of days at once)."""
    runs: list[list[dt.date]] = []
    for day in days:
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _storable(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns whose values mix types (text in one day, numbers in another) stored as text, so the
    raw partition can be written as delivered; cleaning then quarantines what does not parse."""
    mixed = [
        c
        for c in frame.columns
        if frame[c].dtype == object
        and pd.api.types.infer_dtype(frame[c], skipna=True) not in ("string", "empty")
    ]
    if not mixed:
        return frame
    frame = frame.copy()
    for c in mixed:
        frame[c] = frame[c].where(frame[c].isna(), frame[c].astype(str))
    return frame


def _spans(days: list[dt.date]) -> list[str]:
    """Consecutive days as ``a..b`` spans."""
    return [f"{s[0]}..{s[-1]}" if len(s) > 1 else str(s[0]) for s in _consecutive(days)]


def _range_failure(
    source: DataSource, table: TableSpec, days: list[dt.date], date_columns: tuple[str, ...]
) -> str:
    """Which days of a range cannot be read, and what to run instead: a single-run backfill writes
    every day of its range or none, so the readable days are named as ranges to run on their own."""
    bad: dict[dt.date, str] = {}
    for day in days:
        try:
            source.fetch_days(table.table, day, day, date_columns)
        except PermanentSourceError as exc:
            bad[day] = str(exc)
    good = [d for d in days if d not in bad]
    listed = "; ".join(f"{d}: {text}" for d, text in list(bad.items())[:5])
    return (
        f"{len(bad)} of {len(days)} days of table '{table.name}' cannot be read ({listed}). A single-run "
        f"backfill writes all of its days or none, so {days[0]}..{days[-1]} was not ingested and every "
        "published partition is unchanged; "
        + (f"run the readable days as {', '.join(_spans(good))}" if good else "no day is readable")
        + (", and the missing day(s) once delivered." if bad else ".")
    )


def raw_asset(pipeline: PipelineNames, table: TableSpec) -> dg.AssetsDefinition:
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
        + (", one file per day." if partitions else " (unpartitioned lookup).")
        + " Columns as the spec declares them; cleaning enforces them.",
        metadata={
            "dagster/column_schema": declared_schema(table, {PARTITION_COLUMN: "str", SOURCE_COLUMN: "str"})
        },
    )
    @spare_collector
    def _raw(context: dg.AssetExecutionContext) -> dg.Output[pd.DataFrame]:
        source: DataSource = getattr(context.resources, pipeline.source_resource_key)
        label = partition_label(context) if partitions else "all"
        try:
            if partitions:
                frame = _fetch_with_progress(
                    context,
                    source,
                    table,
                    spec.partitioning.day_columns,
                    allow_missing=spec.partitioning.missing_days == "allow",
                    partitioning=spec.partitioning,
                )
            else:
                frame = source.fetch_static(table.table)
        except SourceError as exc:
            hint = (
                "; a day without a delivery fails the run (partitioning.missing_days: fail)"
                if "no delivery" in str(exc)
                else ""
            )
            raise dg.Failure(
                description=str(exc) + hint,
                metadata={
                    "source": source.uri(table.table),
                    "partitions": label,
                    "fault": "transient" if isinstance(exc, TransientSourceError) else "permanent",
                },
            ) from exc
        context.log.info(f"{table.name}: {len(frame)} rows for {label} from {source.uri(table.table)}")
        uri = source.uri(table.table)
        metadata: dict[str, Any] = {
            "source_uri": dg.MetadataValue.url(uri) if uri.startswith("http") else uri,
            RUN_PARTITIONS if partitions else "partitions": label,
        }
        if partitions:
            metadata["rows_in_run"] = len(frame)
            add_partition_metadata(context, partition_counts(frame), {ROW_COUNT: 0})
        else:
            metadata[ROW_COUNT] = len(frame)
        with deliberate_previews_accepted():  # data_version is beta in Dagster 1.13
            return dg.Output(frame, data_version=dg.DataVersion(_content_hash(frame)), metadata=metadata)

    return _raw
