"""The new-data sensor against every source kind: a landing dir (CSV), the local JSON API (real HTTP
on 127.0.0.1), SQLite, the machine's PostgreSQL (own database) and a moto S3 server over HTTP. It
is evaluated with ``dg.build_sensor_context`` on a ``dg.instance_for_test`` instance: new days and
corrected re-deliveries are requested exactly once each, with clear skip reasons otherwise."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from devtools.http_api import LandingApiServer
from devtools.publish import FilePublisher, Publisher, S3Publisher, SqlPublisher
from ml_platform.definitions import build_definitions
from ml_platform.environments import local_environment
from ml_platform_tests.helpers import synthetic_regression_spec
from ml_platform_tests.instances import local_instance
from ml_platform_tests.sensor_driver import SensorDriver
from ml_platform_tests.source_fixtures import (  # noqa: F401
    moto_endpoint,
    postgres_url,
    s3_client,
    with_source,
)

START = dt.date(2024, 1, 1)


def sales_day(day: dt.date, units: float = 10.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "store": ["s0", "s1"],
            "year": day.year,
            "month": day.month,
            "day": day.day,
            "price": [1.0, 2.0],
            "promo": [0, 1],
            "units": [units, units + 1],
        }
    )


@pytest.fixture(params=["landing_dir", "http", "sql_sqlite", "sql_postgres", "s3"])
def kind_setup(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    moto_endpoint: str,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> Iterator[tuple[str, dict[str, Any], Publisher]]:
    label = request.param
    if label in ("landing_dir", "http"):
        publisher: Publisher = FilePublisher(tmp_path / "landing")
        if label == "http":
            with LandingApiServer(tmp_path / "landing") as api:
                yield "http", {"base_url": api.url}, publisher
            return
        yield "landing_dir", {"path": str(tmp_path / "landing"), "quiet_seconds": 0}, publisher
    elif label.startswith("sql"):
        url = f"sqlite:///{tmp_path / 'src.db'}" if label == "sql_sqlite" else postgres_url
        sql = SqlPublisher(url)
        if label == "sql_postgres":
            with sql.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS sales")
        yield "sql", {"url": url, "version_column": "_loaded_at"}, sql
        sql.close()
    else:
        bucket = f"sensor-{tmp_path.name.lower().replace('_', '-')[-40:]}"
        client = s3_client(moto_endpoint)
        client.create_bucket(Bucket=bucket)
        yield (
            "s3",
            {"bucket": bucket, "prefix": "in", "endpoint_url": moto_endpoint},
            S3Publisher(client, bucket, "in"),
        )


def driver_for(spec: Any, home: Path, instance: dg.DagsterInstance) -> SensorDriver:
    env = local_environment(home)
    return SensorDriver(build_definitions([spec], env), f"{spec.name}_new_data_sensor", instance)


def test_sensor_requests_new_days_and_redeliveries_exactly_once(kind_setup, tmp_path: Path) -> None:
    kind, options, publisher = kind_setup
    spec = with_source(synthetic_regression_spec(tmp_path / "unused", days=20), kind, options)
    with local_instance() as instance:
        driver = driver_for(spec, tmp_path / "home", instance)
        requests, skip = driver.tick()
        assert requests == [] and skip and "no complete day delivered yet" in skip

        for offset in range(3):
            day = START + dt.timedelta(days=offset)
            publisher.publish_day("sales", day, sales_day(day))
        requests, _ = driver.tick()  # three new days: one single-run backfill over their range
        assert [days_of(r) for r in requests] == [("2024-01-01", "2024-01-03")]
        assert requests[0].partition_key is None and requests[0].tags["ml_platform/days"] == "3"
        assert all(r.job_name == "synthetic_demand_ingest_and_score" for r in requests)
        first_key = requests[0].run_key

        requests, skip = driver.tick()  # nothing changed: the same delivery never runs twice
        assert requests == [] and skip and "3 day(s) delivered" in skip and "none new" in skip

        for day, units in (
            (dt.date(2024, 1, 2), 99.0),
            (dt.date(2024, 1, 4), 10.0),
            (dt.date(2030, 1, 1), 1.0),
        ):
            publisher.publish_day("sales", day, sales_day(day, units))  # corrected, new, out of range
        requests, _ = driver.tick()  # the re-delivery re-runs only its own day
        assert [r.partition_key for r in requests] == ["2024-01-02", "2024-01-04"]
        assert requests[0].run_key != first_key
        assert requests[0].tags["ml_platform/redelivery"] == "true"

        requests, skip = driver.tick()
        assert requests == [] and skip and "outside the partitions ignored" in skip


def days_of(request: dg.RunRequest) -> tuple[str, str]:
    """First and last day a request covers (one partition or a partition range)."""
    if request.partition_key:
        return request.partition_key, request.partition_key
    assert request.partition_key_range is not None
    return request.partition_key_range.start, request.partition_key_range.end


def test_sensor_spreads_a_backlog_over_ticks(tmp_path: Path) -> None:
    publisher = FilePublisher(tmp_path / "landing")
    for offset in range(7):
        day = START + dt.timedelta(days=offset)
        publisher.publish_day("sales", day, sales_day(day))
    spec = with_source(
        synthetic_regression_spec(tmp_path, days=20),
        "landing_dir",
        {"path": str(tmp_path / "landing"), "quiet_seconds": 0},
        sensor={"max_runs_per_tick": 1, "max_days_per_run": 3},
    )
    with local_instance() as instance:
        driver = driver_for(spec, tmp_path / "home", instance)
        batches = [[days_of(r) for r in driver.tick()[0]] for _ in range(4)]
    assert batches == [
        [("2024-01-01", "2024-01-03")],
        [("2024-01-04", "2024-01-06")],
        [("2024-01-07", "2024-01-07")],
        [],
    ]


def test_history_is_one_single_run_backfill_and_a_redelivery_reruns_its_day(tmp_path: Path) -> None:
    """A month of history through the sensor is ONE run over the range; the materialized partitions
    are every day; a corrected day afterwards runs alone."""
    publisher = FilePublisher(tmp_path / "landing")
    for offset in range(20):
        day = START + dt.timedelta(days=offset)
        publisher.publish_day("sales", day, sales_day(day))
    spec = with_source(
        synthetic_regression_spec(tmp_path, days=20),
        "landing_dir",
        {"path": str(tmp_path / "landing"), "quiet_seconds": 0},
    )
    with local_instance() as instance:
        driver = driver_for(spec, tmp_path / "home", instance)
        (request,), _ = driver.tick()
        assert days_of(request) == ("2024-01-01", "2024-01-20")
        assert driver.run(request).success
        runs = instance.get_runs()
        assert len(runs) == 1
        key = dg.AssetKey(["synthetic_demand", "cleaned_sales"])
        assert len(instance.get_materialized_partitions(key)) == 20
        fifth = START + dt.timedelta(days=4)
        publisher.publish_day("sales", fifth, sales_day(fifth, 50.0))
        (again,), _ = driver.tick()
        assert again.partition_key == "2024-01-05" and again.tags["ml_platform/redelivery"] == "true"
        assert driver.run(again).success
