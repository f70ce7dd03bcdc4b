"""The reproducible training sample (pure + real Parquet files through the IO manager): stratified
by day, the same rows for the same seed in any process, taken partition by partition."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from upath import UPath

from ml_platform.io.storage import ParquetIOManager, PartitionedParquet
from ml_platform.ml.sampling import day_sample


def test_each_day_gives_its_share_and_the_seed_fixes_the_rows() -> None:
    a = day_sample(1000, 0.1, seed=0, day="2013-01-02")
    assert len(a) == 100 and np.all(np.diff(a) > 0)  # sorted, no repeats
    assert np.array_equal(a, day_sample(1000, 0.1, seed=0, day="2013-01-02"))  # reproducible
    assert not np.array_equal(a, day_sample(1000, 0.1, seed=1, day="2013-01-02"))  # the seed matters
    assert not np.array_equal(a, day_sample(1000, 0.1, seed=0, day="2013-01-03"))  # and the day
    assert len(day_sample(3, 0.1, seed=0, day="2013-01-02")) == 1  # a small day keeps one row
    assert np.array_equal(day_sample(7, 1.0, seed=0, day="2013-01-02"), np.arange(7))


def test_a_partitioned_read_samples_each_partition_and_only_labelled_rows(tmp_path: Path) -> None:
    store = ParquetIOManager(base_path=UPath(tmp_path))
    paths = {}
    for i, day in enumerate(["2024-01-01", "2024-01-02"]):
        n = 200 * (i + 1)
        frame = pd.DataFrame(
            {"x": np.arange(n), "y": np.where(np.arange(n) % 10 == 0, np.nan, 1.0), "day": day}
        )
        path = tmp_path / f"{day}.parquet"
        frame.to_parquet(path, index=False)
        paths[day] = UPath(path)
    table = PartitionedParquet(store, "features", paths)
    got = table.read(list(paths), columns=["x", "y", "day"], where_present="y", sample=(0.25, 7))
    assert got.groupby("day").size().to_dict() == {"2024-01-01": 45, "2024-01-02": 90}  # 25% of labelled
    assert got["y"].notna().all()
    again = table.read(list(paths), columns=["x", "y", "day"], where_present="y", sample=(0.25, 7))
    pd.testing.assert_frame_equal(got, again)


def test_sample_rows_is_the_same_share_of_every_day_and_excludes_sample_fraction(tmp_path: Path) -> None:
    import pytest
    from pydantic import ValidationError

    from ml_platform.pipeline.assets.training import training_sample
    from ml_platform.specs.models import TrainingSpec

    store = ParquetIOManager(base_path=UPath(tmp_path))
    paths = {}
    for i, day in enumerate(["2024-01-01", "2024-01-02"]):
        n = 200 * (i + 1)  # 180 and 360 labelled rows
        frame = pd.DataFrame({"x": np.arange(n), "y": np.where(np.arange(n) % 10 == 0, np.nan, 1.0)})
        frame["day"] = day
        frame.to_parquet(tmp_path / f"{day}.parquet", index=False)
        paths[day] = UPath(tmp_path / f"{day}.parquet")
    table = PartitionedParquet(store, "features", paths)
    assert table.count(list(paths), "y") == 540
    spec = TrainingSpec(window_partitions=2, holdout_partitions=1, sample_rows=135, sample_seed=3)
    taken = training_sample(spec, table, list(paths), "y")
    assert taken == (0.25, 3)
    got = table.read(list(paths), columns=["x", "y", "day"], where_present="y", sample=taken)
    assert got.groupby("day").size().to_dict() == {"2024-01-01": 45, "2024-01-02": 90}  # 135, by day
    everything = spec.model_copy(update={"sample_rows": 10_000})
    assert training_sample(everything, table, list(paths), "y") is None  # fewer rows than asked: all
    with pytest.raises(ValidationError, match="sample_fraction or sample_rows, not both"):
        TrainingSpec(window_partitions=2, holdout_partitions=1, sample_rows=10, sample_fraction=0.5)
