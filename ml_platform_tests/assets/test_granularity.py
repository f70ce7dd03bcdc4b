"""Hourly and weekly partitions over daily deliveries: a tz-aware event table in a real landing
directory, ingested by the real ingest job on a ``dg.instance_for_test`` instance, and the new-data
sensor's requests (range runs over hour and week keys)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from ml_platform.definitions import build_definitions
from ml_platform.environments import local_environment
from ml_platform.ml.time import days_of_keys, partition_keys
from ml_platform_tests.helpers import timed_events_spec
from ml_platform_tests.instances import local_instance
from ml_platform_tests.sensor_driver import SensorDriver


def events_spec(landing: Path, granularity: str, days: int, **training: Any) -> Any:
    end = (dt.date(2024, 1, 1) + dt.timedelta(days=days - 1)).isoformat()
    window = training or {"window_partitions": 2, "holdout_partitions": 1}
    return timed_events_spec(landing, "2024-01-01", end, granularity, "Europe/Berlin", window)


def deliver(landing: Path, day: dt.date, stray: bool = False) -> None:
    """One row per local hour of ``day`` in Berlin, written as UTC timestamps (``Z``)."""
    local = pd.date_range(pd.Timestamp(day), periods=24, freq="h", tz="Europe/Berlin")
    stamps = local.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ").tolist()
    if stray:
        stamps.append("2024-03-01T12:00:00Z")  # another day's row in this day's file
    frame = pd.DataFrame(
        {"ts": stamps, "amount": range(len(stamps)), "fraud": [i % 3 == 0 for i in range(len(stamps))]}
    )
    (landing / "events").mkdir(parents=True, exist_ok=True)
    frame.to_csv(landing / "events" / f"{day.isoformat()}.csv", index=False)


def test_keys_of_times_per_granularity() -> None:
    times = pd.Series(pd.to_datetime(["2024-01-03 05:40", "2024-01-07 23:59"]))
    assert partition_keys(times, "hourly").tolist() == ["2024-01-03-05:00", "2024-01-07-23:00"]
    assert partition_keys(times, "weekly").tolist() == ["2024-01-01", "2024-01-01"]  # Monday
    assert days_of_keys(["2024-01-08"], "weekly")[-1] == dt.date(2024, 1, 14)


def test_hourly_partitions_key_rows_by_local_hour_and_keep_the_wrong_day_check(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    deliver(landing, dt.date(2024, 1, 1), stray=True)
    deliver(landing, dt.date(2024, 1, 2))
    spec = events_spec(landing, "hourly", days=2, window_partitions=30, holdout_partitions=10)
    defs = build_definitions([spec], local_environment(tmp_path / "home"))
    with local_instance() as instance:
        driver = SensorDriver(defs, "events_new_data_sensor", instance)
        (request,), _ = driver.tick()  # two days of hours: one range run over 48 hour keys
        assert request.partition_key_range == dg.PartitionKeyRange("2024-01-01-00:00", "2024-01-02-23:00")
        failed = driver.run(request)  # another day's row in Jan 1st's file: quarantined, check blocks
        assert not failed.success
        messages = " ".join(
            str(e.event_specific_data.error.message)  # type: ignore[union-attr]
            for e in failed.all_events
            if e.event_type_value == "STEP_FAILURE"
        )
        assert "2024-01-01-00:00 quarantine_share" in messages
        assert "ts: not the partition's day (Europe/Berlin)" in messages

        deliver(landing, dt.date(2024, 1, 1))  # corrected: only that day's hours run again
        (again,), _ = driver.tick()
        assert again.partition_key_range == dg.PartitionKeyRange("2024-01-01-00:00", "2024-01-01-23:00")
        assert driver.run(again).success
        cleaned = dg.AssetKey(["events", "cleaned_events"])
        assert len(instance.get_materialized_partitions(cleaned)) == 24
        value = defs.load_asset_value(cleaned, instance=instance, partition_key="2024-01-01-07:00")
        assert value["ts"].astype(str).tolist() == ["2024-01-01 07:00:00"]  # local Berlin time


def test_weekly_partitions_from_monday(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    for offset in range(14):
        deliver(landing, dt.date(2024, 1, 1) + dt.timedelta(days=offset))
    spec = events_spec(landing, "weekly", days=14, window_partitions=1, holdout_partitions=1)
    defs = build_definitions([spec], local_environment(tmp_path / "home"))
    job = defs.resolve_job_def("events_ingest")
    tags = {ASSET_PARTITION_RANGE_START_TAG: "2024-01-01", ASSET_PARTITION_RANGE_END_TAG: "2024-01-08"}
    with local_instance() as instance:
        assert job.execute_in_process(instance=instance, tags=tags).success
        features = defs.load_asset_value(
            dg.AssetKey(["events", "features"]), instance=instance, partition_key="2024-01-08"
        )
        assert len(features) == 7 * 24 and set(features["_partition"]) == {"2024-01-08"}
