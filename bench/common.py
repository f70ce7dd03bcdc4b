"""What the bench scripts share: reading and cleaning a spec's tables, and cutting the year into
day ranges (the Dagster path's single-run chunks)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ml_platform.ml.cleaning import clean_table

if TYPE_CHECKING:
    import pandas as pd

    from ml_platform.sources.base import DataSource
    from ml_platform.specs.models import PipelineSpec, TableSpec


def read_clean(
    spec: PipelineSpec, source: DataSource, first: dt.date, last: dt.date, tables: list[TableSpec]
) -> dict[str, pd.DataFrame]:
    """Each of ``tables`` read from ``source`` (daily tables for ``first..last``, lookups whole) and
    cleaned with the platform's own rules, by table name."""
    out = {}
    for table in tables:
        raw = (
            source.fetch_days(table.table, first, last, spec.partitioning.day_columns)
            if table.partitioned
            else source.fetch_static(table.table)
        )
        out[table.name] = clean_table(raw, table).cleaned
    return out


def day_ranges(start: dt.date, end: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """Consecutive (first, last) ranges of at most ``days`` days covering ``start..end``."""
    out = []
    while start <= end:
        last = min(end, start + dt.timedelta(days=days - 1))
        out.append((start, last))
        start = last + dt.timedelta(days=1)
    return out
