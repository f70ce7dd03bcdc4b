"""A Spark build's shuffle partitions follow its input: a real ``local[2]`` session reading real
Parquet files, the count set from their size on disk and used by the next shuffle."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml_platform.features.engine import feature_engine
from ml_platform.integrations.spark import PARTITION_MIB, shuffle_partitions
from ml_platform_tests.services import spark_session  # noqa: F401  (fixture)


def test_one_partition_per_share_of_the_input_and_two_per_core_at_least() -> None:
    mib = 2**20
    assert shuffle_partitions(16 * mib, cores=2) == 4  # a year of flights: the small-job setting
    assert shuffle_partitions(687 * mib, cores=2) == 86  # 100×: 16 ran out of memory in a window
    assert shuffle_partitions(687 * mib, cores=2, per_partition_mib=32) == 22
    assert shuffle_partitions(0, cores=8) == 16
    assert PARTITION_MIB == 8


@pytest.fixture
def session(spark_session) -> Iterator:  # noqa: F811
    kept = spark_session.conf.get("spark.sql.shuffle.partitions")
    yield spark_session
    spark_session.conf.set("spark.sql.shuffle.partitions", kept)


def _files(tmp_path: Path, n_files: int, rows: int) -> list[str]:
    """Parquet files of random doubles (incompressible: their size on disk is ~8 bytes a value)."""
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n_files):
        path = tmp_path / f"2013-01-0{i + 1}.parquet"
        pd.DataFrame({"key": rng.integers(0, 50, rows), "x": rng.random(rows)}).to_parquet(path)
        paths.append(str(path))
    return paths


def test_a_build_sets_the_sessions_shuffle_partitions_from_its_files(session, tmp_path: Path) -> None:
    paths = _files(tmp_path, 3, 215_000)
    size = sum(Path(p).stat().st_size for p in paths)
    assert 6 * 2**20 < size < 7 * 2**20
    frame = session.read.parquet(*paths)
    said: list[str] = []
    engine = feature_engine("spark", spark_partition_mib=1)
    assert engine.size_shuffles(frame, said.append) == 7
    assert session.conf.get("spark.sql.shuffle.partitions") == "7"
    assert said == [
        f"Spark: 7 shuffle partitions for {size / 2**20:.1f} MiB of input in 3 files "
        "(one per 1 MiB, at least two per core)"
    ]
    # the next shuffle over the frame uses them (adaptive execution off: it would merge small ones)
    session.conf.set("spark.sql.adaptive.enabled", "false")
    try:
        assert frame.groupBy("key").count().rdd.getNumPartitions() == 7
    finally:
        session.conf.set("spark.sql.adaptive.enabled", "true")


def test_zero_keeps_the_sessions_setting_and_says_so(session, tmp_path: Path) -> None:
    session.conf.set("spark.sql.shuffle.partitions", "9")
    frame = session.read.parquet(*_files(tmp_path, 2, 1_000))
    said: list[str] = []
    assert feature_engine("spark", spark_partition_mib=0).size_shuffles(frame, said.append) is None
    assert session.conf.get("spark.sql.shuffle.partitions") == "9"
    assert said == ["Spark: 9 shuffle partitions (the session's setting)"]
    # small input: the floor of two per core of local[2]
    assert feature_engine("spark").size_shuffles(frame) == 4
    assert session.conf.get("spark.sql.shuffle.partitions") == "4"
