"""The decoded-table cache behind the Parquet IO manager, on real files in tmp_path: what a reader
gets from the cache equals decoding the file (every dtype the platform stores), a file changed by
anyone else is read again, a removed file is not served, and memory stays within the budget."""

import os

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ml_platform.io.storage import LocalParquetIOManager
from ml_platform.io.table_cache import TABLES, FileIdentity, TableCache
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform_tests.instances import local_instance

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-08")
KEYS = ["2024-01-01", "2024-01-02", "2024-01-03"]


def _mixed(keys: list[str]) -> pd.DataFrame:
    rows = 4 * len(keys)
    return pd.DataFrame(
        {
            PARTITION_COLUMN: [k for k in keys for _ in range(4)],
            "i": np.arange(rows, dtype="int64"),
            "f": [np.nan if n % 3 == 0 else n / 7 for n in range(rows)],
            "s": [None if n % 5 == 0 else f"v{n % 3}" for n in range(rows)],
            "b": [n % 2 == 0 for n in range(rows)],
            "cat": pd.Categorical([["z", "a", "m"][n % 3] for n in range(rows)], categories=["z", "m", "a"]),
            "when": pd.date_range("2024-01-01 05:00", periods=rows, freq="7h", tz="America/New_York"),
            "n": pd.array([None if n % 4 == 0 else n for n in range(rows)], dtype="Int64"),
            "empty": [None] * rows,
        }
    ).sample(frac=1.0, random_state=3)  # rows not in day order: the writer sorts them by day


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def mixed(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return _mixed(list(context.partition_keys))


@pytest.fixture
def written(tmp_path):
    TABLES.clear()
    with local_instance() as instance:
        tags = {"dagster/asset_partition_range_start": KEYS[0], "dagster/asset_partition_range_end": KEYS[-1]}
        resources = {"io_manager": LocalParquetIOManager(base_dir=str(tmp_path / "s"))}
        assert dg.materialize([mixed], instance=instance, resources=resources, tags=tags).success
    yield tmp_path / "s" / "mixed"
    TABLES.clear()


def _handle(folder):  # type: ignore[no-untyped-def]
    from upath import UPath

    from ml_platform.io.partitioned import PartitionedParquet
    from ml_platform.io.storage import ParquetIOManager

    store = ParquetIOManager(base_path=UPath(folder.parent))
    return PartitionedParquet(store, "mixed", {k: UPath(folder / f"{k}.parquet") for k in KEYS})


def test_a_cached_read_equals_decoding_the_files(written) -> None:
    assert len(TABLES) == len(KEYS)  # the writer kept what it wrote
    handle = _handle(written)
    cached = handle.read(KEYS)
    sub = handle.read(KEYS, columns=["i", "cat", "when", "f"], where_present="f")
    TABLES.clear()
    decoded = handle.read(KEYS)
    pd.testing.assert_frame_equal(cached, decoded)
    pd.testing.assert_frame_equal(
        sub, handle.read(KEYS, columns=["i", "cat", "when", "f"], where_present="f")
    )
    assert list(decoded[PARTITION_COLUMN].unique()) == KEYS and len(decoded) == 12
    assert decoded["when"].dt.tz is not None and str(decoded["n"].dtype) == "Int64"
    assert list(decoded["cat"].cat.categories) == ["z", "m", "a"]


def test_a_hit_does_not_decode_the_file_and_a_changed_file_is_read_again(written) -> None:
    path = written / f"{KEYS[1]}.parquet"
    handle = _handle(written)
    before = handle.read([KEYS[1]])
    # same inode, size and modification time, other bytes: only a cache hit can still read it
    stat = os.stat(path)
    with open(path, "r+b") as fh:
        fh.write(b"\0" * stat.st_size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    pd.testing.assert_frame_equal(handle.read([KEYS[1]]), before)
    # another writer's file (temp file + rename: a new inode) is decoded, not served from memory
    replacement = _mixed([KEYS[1]]).assign(i=99)
    tmp = path.with_name("other.tmp")
    replacement.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    assert set(handle.read([KEYS[1]])["i"]) == {99}
    path.unlink()
    with pytest.raises(FileNotFoundError):
        handle.read([KEYS[1]])


def test_a_column_subset_in_memory_does_not_answer_for_more_columns(written) -> None:
    TABLES.clear()
    handle = _handle(written)
    assert list(handle.read([KEYS[0]], columns=["i"]).columns) == ["i"]
    both = handle.read([KEYS[0]], columns=["i", "s"])
    assert list(both.columns) == ["i", "s"] and both["s"].notna().sum() == 3


def test_the_budget_evicts_least_recently_used_tables(tmp_path) -> None:
    cache = TableCache(max_bytes=3 * 8 * 1000)
    tables = {n: pa.table({"x": np.arange(1000, dtype="int64") + n}) for n in range(5)}
    for n, table in tables.items():
        file = tmp_path / f"{n}.bin"
        file.write_bytes(b"x")
        cache.put(file, FileIdentity.of(os.stat(file)), table)
        if n == 2:
            assert cache.get(tmp_path / "0.bin") is not None  # 0 used again: 1 goes first
    assert cache.held_bytes <= cache.max_bytes and len(cache) == 3
    assert cache.get(tmp_path / "1.bin") is None and cache.get(tmp_path / "2.bin") is None
    assert cache.get(tmp_path / "0.bin").column("x")[0].as_py() == 0  # type: ignore[union-attr]
    big = pa.table({"x": np.arange(10_000, dtype="int64")})
    cache.put(tmp_path / "0.bin", FileIdentity.of(os.stat(tmp_path / "0.bin")), big)
    assert cache.get(tmp_path / "0.bin").num_rows == 1000  # type: ignore[union-attr]  # too big: not kept


def test_a_read_larger_than_the_cache_leaves_none_of_its_files_in_it(written, monkeypatch) -> None:
    """Read again from its first day, a read larger than the cache would find only its last days
    held, each evicted before it is reached: such a read forgets what it decoded (the memory is the
    caller's again), while a read that fits stays cached, and both give the files' rows."""
    from ml_platform.io import table_cache

    expected = _handle(written).read(KEYS)
    one_file = table_cache.TABLES.get(written / f"{KEYS[0]}.parquet")
    assert one_file is not None
    small = TableCache(max_bytes=int(one_file.nbytes * 2.5))  # two of the three files
    monkeypatch.setattr(table_cache, "TABLES", small)
    big_read = _handle(written).read(KEYS)
    assert len(small) == 0 and small.held_bytes == 0
    pd.testing.assert_frame_equal(big_read, expected)
    fits = _handle(written).read(KEYS[:2])
    assert len(small) == 2 and all(small.get(written / f"{k}.parquet") is not None for k in KEYS[:2])
    pd.testing.assert_frame_equal(
        fits, expected[expected[PARTITION_COLUMN].isin(KEYS[:2])].reset_index(drop=True)
    )


def test_a_write_makes_its_folder_when_missing_even_after_a_removal(tmp_path) -> None:
    import shutil

    from ml_platform.io.table_cache import write_local_file

    target = tmp_path / "a" / "b" / "2024-01-01.parquet"
    write_local_file(target, b"one")
    write_local_file(target, b"two")  # the folder exists: replaced in place
    assert target.read_bytes() == b"two"
    shutil.rmtree(tmp_path / "a")  # e.g. a wipe between two runs
    write_local_file(target, b"three")
    assert target.read_bytes() == b"three"
    assert [p.name for p in target.parent.iterdir()] == ["2024-01-01.parquet"]  # no temp file left
