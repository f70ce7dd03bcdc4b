"""Hourly partitions in a zone with DST (America/New_York, 2013): the spring-forward day has 23
local hours, the fall-back day 25, the repeated hour's second pass keyed as Dagster 1.13 keys it
(``2013-11-03-01:00-0500``); rows keyed by their local hour, the wrong-hour check, hour files of a
landing directory, and a week's rows by their local Monday."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import unquote

import dagster as dg
import pandas as pd
import pytest

from ml_platform.ml.cleaning import PARTITION_COLUMN, clean_table
from ml_platform.ml.time import assign_partition_keys, hour_keys
from ml_platform.pipeline.names import PipelineNames
from ml_platform.sources.landing_dir import LandingDirSource
from ml_platform.specs.models import TableSpec, TimeSpec
from ml_platform_tests.assets.test_dst_hours import dst_spec

NY = TimeSpec(column="ts", timezone="America/New_York")
TABLE = TableSpec.model_validate(
    {"name": "events", "table": "events", "columns": {"ts": {"dtype": "datetime"}, "x": {"dtype": "float"}}}
)


def _instants(day: str, zone: str, every: str = "20min") -> pd.DatetimeIndex:
    """Every ``every`` of the local ``day`` in ``zone``, as UTC instants."""
    start = pd.Timestamp(day).tz_localize(zone)
    end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize(zone)
    return pd.date_range(start.tz_convert("UTC"), end.tz_convert("UTC"), freq=every, inclusive="left")


@pytest.mark.parametrize(
    ("day", "zone", "n_hours", "repeated"),
    [
        ("2013-03-10", "America/New_York", 23, None),
        ("2013-11-03", "America/New_York", 25, "2013-11-03-01:00-0500"),
        ("2024-10-27", "Europe/Berlin", 25, "2024-10-27-02:00+0100"),
    ],
)
def test_hour_keys_are_the_dagster_keys_whose_window_holds_the_instant(
    day: str, zone: str, n_hours: int, repeated: str | None
) -> None:
    partitions = dg.HourlyPartitionsDefinition(
        start_date=f"{day}-00:00",
        end_date=f"{(dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()}-00:00",
        timezone=zone,
    )
    instants = _instants(day, zone)
    stamps = pd.Series(instants.strftime("%Y-%m-%dT%H:%M:%SZ"))
    keys = hour_keys(stamps, TimeSpec(column="ts", timezone=zone))
    assert sorted(set(keys)) == sorted(partitions.get_partition_keys())
    assert keys.nunique() == n_hours and keys.value_counts().eq(3).all()  # three rows in each real hour
    for instant, key in zip(instants, keys, strict=True):
        window = partitions.time_window_for_partition_key(key)
        assert window.start <= instant.to_pydatetime() < window.end
    if repeated is not None:  # both passes of the repeated hour: two partitions, 3 rows each
        assert (keys == repeated).sum() == 3 and (keys == repeated[:16]).sum() == 3


def test_partitions_of_a_dst_spec_count_local_hours(tmp_path: Path) -> None:
    spring = dst_spec(tmp_path, "2013-03-10", "2013-03-10")
    fall = dst_spec(tmp_path, "2013-11-03", "2013-11-03")
    assert len(PipelineNames(spring).partition_keys) == spring.partitioning.n_partitions == 23
    assert len(PipelineNames(fall).partition_keys) == fall.partitioning.n_partitions == 25
    assert "2013-03-10-02:00" not in PipelineNames(spring).partition_keys  # skipped by the clocks
    assert PipelineNames(fall).partition_keys[1:3] == ["2013-11-03-01:00", "2013-11-03-01:00-0500"]


def test_a_day_delivery_keys_each_row_by_its_local_hour_across_the_change() -> None:
    stamps = ["2013-11-03T05:10:00Z", "2013-11-03T06:10:00Z", "2013-11-03T01:50:00-05:00", "2013-11-03 03:00"]
    frame = pd.DataFrame({"ts": stamps, "x": 1.0, PARTITION_COLUMN: "2013-11-03"})
    keyed = assign_partition_keys(frame, NY, "hourly", PARTITION_COLUMN)
    assert keyed[PARTITION_COLUMN].tolist() == [
        "2013-11-03-01:00",  # 01:10 EDT
        "2013-11-03-01:00-0500",  # 01:10 EST, the same wall clock an hour later
        "2013-11-03-01:00-0500",
        "2013-11-03-03:00",  # naive: local already
    ]
    assert set(keyed["_day"]) == {"2013-11-03"}


def test_the_wrong_hour_check_flags_rows_in_another_hours_delivery_around_the_change() -> None:
    raw = pd.DataFrame(
        {
            "ts": [
                "2013-11-03T01:30:00-04:00",  # first pass, in the first pass's file: right
                "2013-11-03T01:30:00-04:00",  # first pass, in the second pass's file: wrong
                "2013-11-03T01:40:00-05:00",  # second pass, in the second pass's file: right
                "2013-11-03T02:30:00-05:00",  # 02:30 EST, in the second pass's file: wrong
                "2013-11-03 01:20",  # naive: which pass is unknown
                "2013-03-10 02:15",  # naive: skipped by the clocks
            ],
            "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            PARTITION_COLUMN: ["2013-11-03-01:00", *["2013-11-03-01:00-0500"] * 4, "2013-03-10-01:00"],
            "_day": [*["2013-11-03"] * 5, "2013-03-10"],
        }
    )
    result = clean_table(raw, TABLE, time=NY, granularity="hourly")
    assert result.cleaned["x"].tolist() == [1.0, 3.0]
    assert result.quarantine["_reasons"].tolist() == [
        "ts: not the partition's hour (America/New_York): 2013-11-03-01:00 in partition 2013-11-03-01:00-0500",
        "ts: not the partition's hour (America/New_York): 2013-11-03-02:00 in partition 2013-11-03-01:00-0500",
        "ts: local time 2013-11-03 01:20:00 is repeated when clocks go back (give its UTC offset) in "
        "America/New_York",
        "ts: local time 2013-03-10 02:15:00 does not exist (clocks skip it) in America/New_York",
    ]
    daily = clean_table(raw.assign(_partition=raw["_day"]), TABLE, time=NY)  # a day is unambiguous
    assert len(daily.quarantine) == 0


def _hour_file(folder: Path, key: str, stamps: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"ts": stamps, "x": range(len(stamps))}).to_csv(folder / f"{key}.csv", index=False)


def test_a_landing_directory_takes_a_day_as_hour_files_with_the_repeated_hour(tmp_path: Path) -> None:
    folder = tmp_path / "events"
    _hour_file(folder, "2013-11-03-00:00", ["2013-11-03T00:30:00-04:00"])
    _hour_file(folder, "2013-11-03-01:00", ["2013-11-03T01:30:00-04:00"])
    _hour_file(folder, "2013-11-03-01:00-0500", ["2013-11-03T01:30:00-05:00", "2013-11-03T01:45:00-05:00"])
    source = LandingDirSource(path=str(tmp_path), quiet_seconds=0)
    listed = source.list_deliveries("events", ("ts",))
    assert list(listed) == ["2013-11-03"] and source.delivery_notes("events") == []
    day = dt.date(2013, 11, 3)
    frame = source.fetch_days("events", day, day, ("ts",))
    assert frame[PARTITION_COLUMN].tolist() == [
        "2013-11-03-00:00",
        "2013-11-03-01:00",
        "2013-11-03-01:00-0500",
        "2013-11-03-01:00-0500",
    ]
    assert frame["_source"].map(unquote).str.endswith("/2013-11-03-01:00-0500.csv").sum() == 2
    _hour_file(folder, "2013-11-03-02:00", ["2013-11-03T02:30:00-05:00"])  # another hour arrives
    assert source.list_deliveries("events", ("ts",))["2013-11-03"] != listed["2013-11-03"]
    _hour_file(folder, "2013-11-03", ["2013-11-03T05:00:00-05:00"])  # and a whole-day file too
    assert source.list_deliveries("events", ("ts",)) == {}
    assert "ambiguous delivery" in source.delivery_notes("events")[0]


def test_a_weeks_rows_go_to_the_week_of_their_local_monday() -> None:
    # Monday 2024-01-08 00:30 in Berlin is still Sunday in UTC: local time decides the week
    stamps = ["2024-01-07T23:30:00Z", "2024-01-07T22:30:00Z", "2024-01-14T22:59:00Z"]
    frame = pd.DataFrame({"ts": stamps, PARTITION_COLUMN: ["2024-01-08", "2024-01-07", "2024-01-14"]})
    time = TimeSpec(column="ts", timezone="Europe/Berlin")
    keyed = assign_partition_keys(frame, time, "weekly", PARTITION_COLUMN)
    assert keyed[PARTITION_COLUMN].tolist() == ["2024-01-08", "2024-01-01", "2024-01-08"]


def test_training_windows_over_the_hours_of_a_dst_day(tmp_path: Path) -> None:
    from ml_platform.ml.windows import resolve_windows

    spec = dst_spec(tmp_path, "2013-11-02", "2013-11-03")
    keys = PipelineNames(spec).partition_keys  # 24 + 25 hours
    windows = resolve_windows(spec.training, keys, keys, None, "features")
    assert windows.holdout == keys[-4:] and windows.train == keys[-16:-4]  # up to the newest hour
    early = resolve_windows(spec.training, keys, keys, "2013-11-03-02:00", "features")
    assert early.holdout == [
        "2013-11-03-00:00",
        "2013-11-03-01:00",
        "2013-11-03-01:00-0500",
        "2013-11-03-02:00",
    ]
    by_day = resolve_windows(spec.training, keys, keys, "2013-11-02", "features")
    assert by_day.holdout[-1] == "2013-11-02-23:00"  # a day: its last hour


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%Y-%m-%d-%H:%M"])
def test_keys_formatted_once_per_distinct_time_equal_strftime(fmt: str) -> None:
    from ml_platform.ml.time_keys import formatted

    zoned = pd.to_datetime(["2013-11-03 01:30", "2013-11-03 01:30", "2013-03-10 03:00"]).tz_localize(
        "America/New_York", ambiguous=[True, False, False]
    )
    cases = [
        pd.Series(
            pd.to_datetime(["2013-01-01 00:00", "2013-01-01 05:00", None, "2014-02-03 23:59"]),
            index=[5, 3, 9, 1],
            name="t",
        ),
        pd.Series(zoned),  # the repeated local hour of DST's end: two instants, one label
        pd.Series([], dtype="datetime64[ns]"),
        pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]"),
    ]
    for times in cases:
        pd.testing.assert_series_equal(formatted(times, fmt), times.dt.strftime(fmt))
