"""Hourly partitions over the DST days of America/New_York in 2013, through the real new-data
sensor and ingest job (raw → cleaned + quarantine) on a ``dg.instance_for_test`` instance: the
spring-forward day as one day file of UTC stamps (23 partitions), the fall-back day as hour files
named by their partition keys, the repeated hour twice (25 partitions), one row in the wrong one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from ml_platform.definitions import build_definitions
from ml_platform.environments import local_environment
from ml_platform_tests.helpers import timed_events_spec
from ml_platform_tests.instances import local_instance
from ml_platform_tests.sensor_driver import SensorDriver

ZONE = "America/New_York"
CLEANED = dg.AssetKey(["events", "cleaned_events"])
QUARANTINE = dg.AssetKey(["events", "quarantine_events"])


def dst_spec(landing: Path, start: str, end: str, window: int = 12) -> Any:
    return timed_events_spec(
        landing,
        start,
        end,
        "hourly",
        ZONE,
        {"window_partitions": window, "holdout_partitions": 4},
        checks={"max_quarantine_share": 1.0},  # the misplaced row is kept in quarantine
    )


def _rows(instants: pd.DatetimeIndex) -> pd.DataFrame:
    local = instants.tz_convert(ZONE)
    return pd.DataFrame(
        {
            "ts": local.strftime("%Y-%m-%dT%H:%M:%S%z"),  # with the offset: unambiguous
            "amount": range(len(local)),
            "fraud": [i % 3 == 0 for i in range(len(local))],
        }
    )


def _day(day: str) -> pd.DatetimeIndex:
    """Every 20 minutes of the local day, as UTC instants."""
    start = pd.Timestamp(day).tz_localize(ZONE).tz_convert("UTC")
    end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(ZONE).tz_convert("UTC")
    return pd.date_range(start, end, freq="20min", inclusive="left")


def test_the_spring_forward_day_is_23_hourly_partitions_of_its_local_hours(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "events").mkdir(parents=True)
    frame = _rows(_day("2013-03-10"))
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")  # as UTC
    frame.to_csv(landing / "events" / "2013-03-10.csv", index=False)
    defs = build_definitions(
        [dst_spec(landing, "2013-03-10", "2013-03-10")], local_environment(tmp_path / "h")
    )
    with local_instance() as instance:
        driver = SensorDriver(defs, "events_new_data_sensor", instance)
        (request,), _ = driver.tick()
        assert request.partition_key_range == dg.PartitionKeyRange("2013-03-10-00:00", "2013-03-10-23:00")
        assert driver.run(request).success
        done = instance.get_materialized_partitions(CLEANED)
        assert len(done) == 23 and "2013-03-10-02:00" not in done
        after = defs.load_asset_value(CLEANED, instance=instance, partition_key="2013-03-10-03:00")
        assert after["ts"].astype(str).tolist() == [  # 03:00 EDT is 07:00 UTC, an hour after 01:00 EST
            "2013-03-10 03:00:00",
            "2013-03-10 03:20:00",
            "2013-03-10 03:40:00",
        ]


def test_the_fall_back_day_is_25_partitions_and_hour_files_are_checked(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    folder = landing / "events"
    folder.mkdir(parents=True)
    frame = _rows(_day("2013-11-03"))
    keys = pd.Series(
        [
            f"{t.strftime('%Y-%m-%d-%H:00')}{'-0500' if t.hour == 1 and t.utcoffset() == pd.Timedelta(hours=-5) else ''}"
            for t in _day("2013-11-03").tz_convert(ZONE)
        ]
    )
    misplaced = frame.iloc[[4]].assign(amount=999.0)  # 01:20 EDT (first pass) ...
    for key, rows in frame.groupby(keys, sort=False):
        if key == "2013-11-03-01:00-0500":  # ... delivered in the second pass's file
            rows = pd.concat([rows, misplaced])
        rows.to_csv(folder / f"{key}.csv", index=False)
    defs = build_definitions(
        [dst_spec(landing, "2013-11-03", "2013-11-03")], local_environment(tmp_path / "h")
    )
    with local_instance() as instance:
        driver = SensorDriver(defs, "events_new_data_sensor", instance)
        (request,), _ = driver.tick()
        assert request.partition_key_range == dg.PartitionKeyRange("2013-11-03-00:00", "2013-11-03-23:00")
        assert driver.run(request).success
        assert len(instance.get_materialized_partitions(CLEANED)) == 25
        first, second = (
            defs.load_asset_value(CLEANED, instance=instance, partition_key=k)
            for k in ("2013-11-03-01:00", "2013-11-03-01:00-0500")
        )
        assert first["amount"].tolist() == [3.0, 4.0, 5.0] and second["amount"].tolist() == [6.0, 7.0, 8.0]
        assert first["ts"].astype(str).tolist() == second["ts"].astype(str).tolist()  # same wall clock
        quarantined = defs.load_asset_value(
            QUARANTINE, instance=instance, partition_key="2013-11-03-01:00-0500"
        )
        assert quarantined["amount"].tolist() == [999.0]
        assert quarantined["_reasons"].tolist() == [
            "ts: not the partition's hour (America/New_York): 2013-11-03-01:00 in partition 2013-11-03-01:00-0500"
        ]


def test_a_model_trains_on_hours_across_the_fall_back_day(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "events").mkdir(parents=True)
    for day in ("2013-11-02", "2013-11-03"):
        _rows(_day(day)).to_csv(landing / "events" / f"{day}.csv", index=False)
    spec = dst_spec(landing, "2013-11-02", "2013-11-03", window=40)  # 40 + 4 of the 49 hours
    defs = build_definitions([spec], local_environment(tmp_path / "h"))
    with local_instance() as instance:
        driver = SensorDriver(defs, "events_new_data_sensor", instance)
        (request,), _ = driver.tick()
        assert driver.run(request).success
        train = defs.resolve_job_def("events_train").execute_in_process(instance=instance)
        report = train.output_for_node("events__evaluation_report")
        assert report["holdout_window"] == "2013-11-03-20:00..2013-11-03-23:00"
        assert report["train_window"] == "2013-11-02-05:00..2013-11-03-19:00"  # both 01:00s inside
