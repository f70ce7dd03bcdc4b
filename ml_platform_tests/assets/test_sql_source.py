"""The SQL source selecting days by a timestamp column (``time_column``), on embedded SQLite and on
the machine's PostgreSQL (own database): same rows, same delivery listing, re-delivery detected."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from ml_platform.sources.sql import SqlSource
from ml_platform_tests.source_fixtures import postgres_url  # noqa: F401

DATES = ("year", "month", "day")


def _events() -> pd.DataFrame:
    stamps = pd.to_datetime(
        ["2024-01-01 23:59:59", "2024-01-02 00:00:00", "2024-01-02 12:30:00", "2024-01-03 00:00:01"]
    )
    return pd.DataFrame({"ts": stamps, "store": ["a", "b", "c", "d"], "units": [1.0, 2.0, 3.0, 4.0]})


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_time_column_selects_a_day_and_lists_deliveries(backend: str, tmp_path: Path, request) -> None:  # type: ignore[no-untyped-def]
    url = (
        f"sqlite:///{tmp_path / 'ts.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    )
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        _events().to_sql("events", conn, if_exists="replace", index=False)
    source = SqlSource(url=url, time_column="ts", max_retries=0)
    day = source.fetch_days("events", dt.date(2024, 1, 2), dt.date(2024, 1, 2), DATES)
    assert sorted(day["store"]) == ["b", "c"] and set(day["_partition"]) == {"2024-01-02"}
    listed = source.list_deliveries("events", DATES)
    assert sorted(listed) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    with engine.begin() as conn:  # one more row on the 2nd: a re-delivery, only that day changes
        _events().iloc[[2]].assign(store="e").to_sql("events", conn, if_exists="append", index=False)
    again = source.list_deliveries("events", DATES)
    assert {d for d in listed if listed[d] != again[d]} == {"2024-01-02"}
    engine.dispose()


def test_the_spec_time_column_selects_days_without_a_source_option(tmp_path: Path) -> None:
    """``partitioning.time.column`` reaches the source as its one day column: no ``time_column``
    option needed (year/month/day unpacking used to fail on it)."""
    url = f"sqlite:///{tmp_path / 'ts.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        _events().to_sql("events", conn, if_exists="replace", index=False)
    source = SqlSource(url=url, max_retries=0)
    day = source.fetch_days("events", dt.date(2024, 1, 2), dt.date(2024, 1, 2), ("ts",))
    assert sorted(day["store"]) == ["b", "c"]
    assert sorted(source.list_deliveries("events", ("ts",))) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    engine.dispose()
