"""Parquet/JSON IO managers on a real local directory (tmp_path): single-run multi-partition writes,
batched multi-partition loads, missing partitions named clearly, atomic files."""

import dagster as dg
import pandas as pd
import pytest

from ml_platform.io.storage import LocalJsonIOManager, LocalParquetIOManager
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform_tests.instances import local_instance

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-08")


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def days(context: dg.AssetExecutionContext) -> pd.DataFrame:
    keys = context.partition_keys
    return pd.DataFrame({PARTITION_COLUMN: [k for k in keys for _ in range(3)], "v": range(3 * len(keys))})


@dg.asset(
    io_manager_key="json_io_manager",
    ins={"days": dg.AssetIn(metadata={"allow_missing_partitions": True, "columns": ["v", PARTITION_COLUMN]})},
)
def total(days: pd.DataFrame) -> dict:
    return {
        "rows": len(days),
        "sum": int(days["v"].sum()),
        "partitions": sorted(days[PARTITION_COLUMN].unique()),
    }


@dg.asset(io_manager_key="json_io_manager", ins={"days": dg.AssetIn()})
def strict_total(days: pd.DataFrame) -> dict:
    return {"rows": len(days)}


def _resources(tmp_path) -> dict:
    return {
        "io_manager": LocalParquetIOManager(base_dir=str(tmp_path / "s")),
        "json_io_manager": LocalJsonIOManager(base_dir=str(tmp_path / "s")),
    }


def _range(start: str, end: str) -> dict:
    return {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}


def test_range_output_is_split_one_file_per_day_and_loaded_back(tmp_path) -> None:
    with local_instance() as instance:
        assert dg.materialize(
            [days], instance=instance, resources=_resources(tmp_path), tags=_range("2024-01-01", "2024-01-04")
        ).success
        files = sorted(p.name for p in (tmp_path / "s" / "days").iterdir())
        assert files == [f"2024-01-0{i}.parquet" for i in range(1, 5)]
        assert not [p for p in (tmp_path / "s" / "days").iterdir() if p.name.startswith(".")]
        one = pd.read_parquet(tmp_path / "s" / "days" / "2024-01-03.parquet")
        assert list(one["v"]) == [6, 7, 8]
        result = dg.materialize(
            [days, total], selection=[total], instance=instance, resources=_resources(tmp_path)
        )
        out = result.output_for_node("total")
        assert out == {
            "rows": 12,
            "sum": sum(range(12)),
            "partitions": ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"],
        }


def test_missing_partitions_are_named_when_not_allowed(tmp_path) -> None:
    with local_instance() as instance:
        dg.materialize(
            [days], instance=instance, resources=_resources(tmp_path), tags=_range("2024-01-01", "2024-01-02")
        )
        with pytest.raises(Exception, match=r"5 partition\(s\) not materialized.*2024-01-03"):
            dg.materialize(
                [days, strict_total],
                selection=[strict_total],
                instance=instance,
                resources=_resources(tmp_path),
            )


def test_split_partitions_matches_one_to_parquet_per_day() -> None:
    import io

    from ml_platform.io.storage import parquet_bytes, split_partitions

    frame = pd.DataFrame(
        {
            PARTITION_COLUMN: ["2024-01-02", "2024-01-01", "2024-01-02", "2024-01-01"],  # unsorted
            "carrier": ["AA", None, "UA", "DL"],
            "delay": [1.5, None, 3.0, -2.0],
            "n": [1, 2, 3, 4],
        }
    )
    files = {
        k: parquet_bytes(t)
        for k, t in split_partitions(frame, ["2024-01-01", "2024-01-02", "2024-01-03"]).items()
    }
    for day in ("2024-01-01", "2024-01-02"):
        expected = frame[frame[PARTITION_COLUMN] == day].reset_index(drop=True)
        pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(files[day])), expected)
        assert pd.read_parquet(io.BytesIO(files[day])).equals(
            pd.read_parquet(io.BytesIO(expected.to_parquet(index=False)))
        )
    empty = pd.read_parquet(io.BytesIO(files["2024-01-03"]))
    assert len(empty) == 0 and list(empty.columns) == list(frame.columns)
    with pytest.raises(ValueError, match=r"2024-01-02.*not among the run's partitions"):
        split_partitions(frame, ["2024-01-01"])


def test_split_partitions_of_an_empty_frame_writes_empty_days() -> None:
    import io

    from ml_platform.io.storage import parquet_bytes, split_partitions

    frame = pd.DataFrame({PARTITION_COLUMN: pd.Series([], dtype=str), "v": pd.Series([], dtype="int64")})
    files = {k: parquet_bytes(t) for k, t in split_partitions(frame, ["2024-01-01", "2024-01-02"]).items()}
    assert sorted(files) == ["2024-01-01", "2024-01-02"]
    assert all(len(pd.read_parquet(io.BytesIO(b))) == 0 for b in files.values())


def test_an_empty_day_is_encoded_once_per_schema_with_the_same_bytes() -> None:
    """Empty slices reuse one encoding per schema: the same bytes as encoding the slice itself,
    its metadata (categories' order, time zone, the frame's source attrs) kept, other schemas apart."""
    import numpy as np

    from ml_platform.io import storage

    n = 6
    frame = pd.DataFrame(
        {
            PARTITION_COLUMN: ["2024-01-01"] * 3 + ["2024-01-03"] * 3,
            "carrier": pd.Categorical(["AA", "UA"] * 3, categories=["UA", "AA", "DL"], ordered=True),
            "at": pd.date_range("2024-01-01", periods=n, freq="h", tz="America/New_York"),
            "n": pd.array(np.arange(n), dtype="Int64"),
        }
    )
    frame.attrs["_source"] = "landing/flights"
    days = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    storage._empty_parquet.cache_clear()
    slices = storage.split_partitions(frame, days)
    for day in ("2024-01-02", "2024-01-04"):
        assert storage.parquet_bytes(slices[day]) == storage._encode(slices[day])
    assert storage._empty_parquet.cache_info().misses == 1  # two empty days, one encoding
    import io

    empty = pd.read_parquet(io.BytesIO(storage.parquet_bytes(slices["2024-01-02"])))
    assert empty.attrs == {"_source": "landing/flights"} and str(empty["at"].dtype).endswith("New_York]")
    other = frame.assign(n=frame["n"].astype("float64")).iloc[:0]
    other_bytes = storage.parquet_bytes(storage.split_partitions(other, days[:1])[days[0]])
    assert pd.read_parquet(io.BytesIO(other_bytes))["n"].dtype == "float64"
    assert storage._empty_parquet.cache_info().misses == 2


@dg.asset(
    io_manager_key="json_io_manager",
    ins={"days": dg.AssetIn(metadata={"allow_missing_partitions": True, "lazy": True})},
)
def window(days) -> dict:  # a PartitionedParquet handle
    frame = days.read(["2024-01-02", "2024-01-03"], columns=["v", "label"], where_present="label")
    return {"keys": days.keys(), "columns": list(frame.columns), "v": frame["v"].tolist()}


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run(), name="days")
def labelled_days(context: dg.AssetExecutionContext) -> pd.DataFrame:
    keys = context.partition_keys
    values = list(range(3 * len(keys)))
    return pd.DataFrame(
        {
            PARTITION_COLUMN: [k for k in keys for _ in range(3)],
            "v": values,
            "label": [None if v % 3 == 0 else float(v % 2) for v in values],
            "unused": "x",
        }
    )


def test_lazy_input_reads_only_the_partitions_columns_and_rows_asked_for(tmp_path) -> None:
    with local_instance() as instance:
        resources = _resources(tmp_path)
        assert dg.materialize(
            [labelled_days], instance=instance, resources=resources, tags=_range("2024-01-01", "2024-01-04")
        ).success
        result = dg.materialize(
            [labelled_days, window], selection=[window], instance=instance, resources=resources
        )
        out = result.output_for_node("window")
        assert out["keys"] == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
        assert out["columns"] == ["v", "label"]
        assert out["v"] == [4, 5, 7, 8]  # days 2 and 3 (v 3..8), rows without a label dropped


def test_lazy_handle_names_partitions_that_are_not_materialized(tmp_path) -> None:
    from ml_platform.io.storage import ParquetIOManager, PartitionedParquet

    handle = PartitionedParquet(ParquetIOManager(), "flights_delay/features", {})
    with pytest.raises(FileNotFoundError, match=r"flights_delay/features.*2024-01-09"):
        handle.read(["2024-01-09"])
