"""Metadata for each partition of a multi-partition output, and column schemas for definitions.

A single-run backfill returns one frame for many days. Metadata on its ``Output`` is copied onto
every partition's materialization, so a run-wide row count would show on each day. Counts are
therefore added per partition (``context.add_asset_metadata(..., partition_key=...)``), and the
column schema, which does not change between days, lives on the asset definition instead of on
hundreds of events.

Entries that describe the whole run (its range, its total rows) are copied onto every partition too,
so their names say so: ``run_partitions`` and ``rows_in_run`` beside the partition's own
``dagster/row_count``.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import pandas as pd

from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.specs.models import TableSpec

ROW_COUNT = "dagster/row_count"
#: the partition range of the run that wrote a partition (every partition of a range run shows it)
RUN_PARTITIONS = "run_partitions"


def partition_counts(
    frame: pd.DataFrame, counts: Mapping[str, pd.Series] | None = None
) -> dict[str, dict[str, int | float]]:
    """Per partition key: ``dagster/row_count`` and the sum of each ``counts`` column (booleans or
    integers aligned with ``frame``)."""
    columns = {ROW_COUNT: pd.Series(1, index=frame.index), **(counts or {})}
    if not len(frame) or PARTITION_COLUMN not in frame:
        return {}
    table = pd.DataFrame({n: s.to_numpy() for n, s in columns.items()}, index=frame.index)
    sums = table.astype("int64").groupby(frame[PARTITION_COLUMN].to_numpy()).sum()
    return {
        str(k): {n: int(v) for n, v in row.items()}
        for k, row in zip(sums.index, sums.to_dict("records"), strict=True)
    }


def add_partition_metadata(
    context: dg.AssetExecutionContext,
    per_key: Mapping[str, Mapping[str, int | float]],
    defaults: Mapping[str, int | float],
    asset_key: dg.AssetKey | None = None,
) -> None:
    """Each partition of the run gets its own entries; one without rows gets ``defaults``."""
    for key in context.partition_keys:
        context.add_asset_metadata(
            {**defaults, **per_key.get(key, {})}, asset_key=asset_key, partition_key=key
        )


def declared_schema(table: TableSpec, extra: Mapping[str, str] | None = None) -> dg.TableSchema:
    """The spec's columns and dtypes (plus ``extra``), without constraints."""
    columns = {**{name: col.dtype for name, col in table.columns.items()}, **(extra or {})}
    return dg.TableSchema(columns=[dg.TableColumn(name, dtype) for name, dtype in columns.items()])
