"""A lazy handle on the materialized partitions of a Parquet asset (what an asset gets for an input
with ``lazy: True`` metadata): read any partitions, columns, rows with a value, or a reproducible
per-partition sample, as one pandas frame, or as one Spark DataFrame read by Spark itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pandas as pd

from ml_platform.io import table_cache
from ml_platform.io.spark_parquet import read_files
from ml_platform.ml.memory import release_free_memory

if TYPE_CHECKING:
    from upath import UPath

    from ml_platform.io.storage import ParquetIOManager

#: Files read or written at once for a multi-partition input or output: Parquet (de)coding releases
#: the GIL and object stores answer in parallel, so a year of daily files is not a serial walk.
IO_THREADS = 4


class PartitionedParquet:
    """The materialized partitions of a Parquet asset, read on demand: any subset of partitions and
    columns, optionally only rows where a column is present, as one pandas frame. Filtering happens
    on the Arrow table, so rows and columns not asked for never become pandas objects."""

    def __init__(self, store: ParquetIOManager, name: str, paths: Mapping[str, UPath]) -> None:
        self.store, self.name, self.paths = store, name, dict(paths)

    def keys(self) -> list[str]:
        return sorted(self.paths)

    def spark(self, session: Any, keys: Sequence[str] | None = None) -> Any:
        """The partitions (all, or ``keys``) as one Spark DataFrame read by Spark from their files,
        plus ``_rid`` (the pandas path's row order) and ``_row`` (the row within its day's file)."""
        wanted = self.keys() if keys is None else sorted(keys)
        absent = sorted(set(wanted) - set(self.paths))
        if absent:
            raise FileNotFoundError(f"{self.name}: partitions not materialized: {absent[:5]}")
        return read_files(session, {k: self.store.readable_file(self.paths[k]) for k in wanted})

    def count(self, keys: Sequence[str], where_present: str) -> int:
        """Rows of these partitions where ``where_present`` has a value (only that column is read)."""
        import pyarrow.compute as pc

        def one(key: str) -> int:
            column = self.store.read_table(self.paths[key], [where_present])
            return int(pc.sum(pc.is_valid(column[where_present])).as_py() or 0)

        with ThreadPoolExecutor(IO_THREADS) as pool:
            return sum(pool.map(one, sorted(keys)))

    def read(
        self,
        keys: Sequence[str],
        columns: Sequence[str] | None = None,
        where_present: str | None = None,
        sample: tuple[float, int] | None = None,
    ) -> pd.DataFrame:
        """``sample=(fraction, seed)``: only that stratified, reproducible share of each partition's
        rows (``ml/sampling.py``), taken partition by partition, so the whole range is never held."""
        import pyarrow as pa
        import pyarrow.compute as pc

        absent = sorted(set(keys) - set(self.paths))
        if absent:
            raise FileNotFoundError(f"{self.name}: partitions not materialized: {absent[:5]}")
        wanted = list(columns) if columns is not None else None

        decoded: list[int] = []  # bytes of each file's table as read (and cached)

        def one(key: str) -> Any:
            table = self.store.read_table(self.paths[key], wanted)
            decoded.append(table.nbytes)
            table = table.filter(pc.is_valid(table[where_present])) if where_present else table
            if sample is not None:
                from ml_platform.ml.sampling import day_sample

                table = table.take(pa.array(day_sample(table.num_rows, sample[0], sample[1], key)))
            return table

        with ThreadPoolExecutor(IO_THREADS) as pool:
            tables = list(pool.map(one, sorted(keys)))
        if sum(decoded) > table_cache.TABLES.max_bytes:
            # a read larger than the decoded-table cache leaves it holding the read's last days,
            # which a second read (from the first day) evicts before it reaches them: of no use,
            # and memory held while the caller works on the frame (at 30x, ~0.4 GB during the fit)
            self.store.forget_decoded([self.paths[k] for k in keys])
        if not tables:
            return pd.DataFrame(columns=wanted)
        table = pa.concat_tables(tables, promote_options="permissive")
        del tables
        # one block per column and the Arrow buffers released as they convert: no second copy
        frame = table.to_pandas(split_blocks=True, self_destruct=True)
        del table
        release_free_memory()  # Arrow's pool and glibc's heap keep freed pages otherwise
        return frame
