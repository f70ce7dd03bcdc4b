"""Every bad delivery of the corpus through real local Dagster materializations (landing dir, a test
instance, Parquet under tmp_path, SQLite MLflow): the run fails naming the day and the reason, the
failed blocking check is recorded, and the previously published cleaned partition is still there
with its rows; lookup re-deliveries, missing days in a range and the retrain sensor likewise."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from ml_platform.specs import parse_spec
from ml_platform_tests.bad_inputs import CORPUS
from ml_platform_tests.helpers import synthetic_regression_spec, write_synthetic_landing
from ml_platform_tests.sensor_driver import SensorDriver

HISTORY = 10  # good days before the first bad one
STORES = 20
START = dt.date(2024, 1, 1)
KIND = {case: expected.partition(": ")[0] for case, (_, expected) in CORPUS.items()}
RANGED = sorted(c for c, k in KIND.items() if k in ("quarantine", "check"))
HARMLESS = sorted(c for c, k in KIND.items() if k in ("ok", "extra", "tolerated"))
ERRORS = sorted(c for c, k in KIND.items() if k == "error")
DAY = {case: START + dt.timedelta(days=HISTORY + i) for i, case in enumerate(RANGED + HARMLESS + ERRORS)}
DAYS = HISTORY + len(DAY)


@pytest.fixture(scope="module")
def world(make_world, tmp_path_factory):  # type: ignore[no-untyped-def]
    landing = tmp_path_factory.mktemp("landing")
    write_synthetic_landing(landing, days=DAYS, stores=STORES)
    pd.DataFrame({"store": [f"s{i}" for i in range(STORES)], "size": 100}).to_csv(
        landing / "stores.csv", index=False
    )
    data = synthetic_regression_spec(landing, days=DAYS).model_dump(mode="json", exclude_unset=True)
    data["auxiliary_tables"] = [
        {
            "name": "stores",
            "table": "stores",
            "partitioned": False,
            "primary_key": ["store"],
            "columns": {"store": {"dtype": "str"}, "size": {"dtype": "int", "ge": 1}},
        }
    ]
    data["training"] = {**data["training"], "retrain_after_new_partitions": 1}
    w = make_world(parse_spec(data), "baddeliveries")
    w.landing = landing
    end = (START + dt.timedelta(days=DAYS - 1)).isoformat()
    assert w.life.ingest(START.isoformat(), end).success  # every day published once, good
    return w


def _cleaned(world, day: dt.date | str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.read_parquet(
        world.env.home / "storage" / "synthetic_demand" / "cleaned_sales" / f"{day}.parquet"
    )


def _good(world, day: dt.date) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.read_csv(world.landing / "sales" / f"{day}.csv")


def _failure(result: dg.ExecuteInProcessResult) -> str:
    return " ".join(
        str(
            e.step_failure_data.user_failure_data.description if e.step_failure_data.user_failure_data else ""
        )
        + str(e.step_failure_data.error.message if e.step_failure_data.error else "")
        for e in result.get_step_failure_events()
    )


def _break(world, cases: list[str]) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    originals = {}
    for case in cases:
        file = world.landing / "sales" / f"{DAY[case]}.csv"
        originals[case] = file.read_bytes()
        file.write_bytes(CORPUS[case][0](originals[case]))
    return originals


def _restore(world, originals: dict[str, bytes]) -> None:  # type: ignore[no-untyped-def]
    for case, data in originals.items():
        (world.landing / "sales" / f"{DAY[case]}.csv").write_bytes(data)


def _assert_good_copy_kept(world, day: dt.date) -> None:  # type: ignore[no-untyped-def]
    kept, good = _cleaned(world, day), _good(world, day)
    assert len(kept) == STORES and kept["price"].round(9).tolist() == good["price"].round(9).tolist()


def test_bad_days_in_one_range_are_each_named_and_nothing_is_published(world) -> None:  # type: ignore[no-untyped-def]
    assert len(CORPUS) >= 40
    first, last = min(DAY[c] for c in RANGED), max(DAY[c] for c in RANGED)
    originals = _break(world, RANGED)
    try:
        result = world.life.ingest(first.isoformat(), last.isoformat())
    finally:
        _restore(world, originals)
    assert not result.success
    message = _failure(result)
    assert "blocking data check(s) failed, nothing published (the last good copy is kept)" in message
    checks = {
        c.check_name: c
        for c in result.get_asset_check_evaluations()
        if c.asset_key.path[-1] == "cleaned_sales"
    }
    for case in RANGED:
        kind, _, text = CORPUS[case][1].partition(": ")
        name = "quarantine_share" if kind == "quarantine" else text
        failed = checks[name].metadata["failed_partitions"].value
        assert not checks[name].passed and str(DAY[case]) in failed, case  # type: ignore[operator]
        if kind == "quarantine":
            assert text in failed[str(DAY[case])], (case, failed[str(DAY[case])])  # type: ignore[index]
        _assert_good_copy_kept(world, DAY[case])
    assert not result.output_for_node(
        "synthetic_demand__clean_sales", "synthetic_demand__quarantine_sales"
    ).empty


def test_harmless_variations_are_published(world) -> None:  # type: ignore[no-untyped-def]
    first, last = min(DAY[c] for c in HARMLESS), max(DAY[c] for c in HARMLESS)
    originals = _break(world, HARMLESS)
    try:
        result = world.life.ingest(first.isoformat(), last.isoformat())
        assert result.success, _failure(result)
        for case in HARMLESS:
            cleaned = _cleaned(world, DAY[case])
            assert "mystery" not in cleaned
            assert len(cleaned) == STORES, case  # (the repeated header: the one row quarantined)
    finally:
        _restore(world, originals)
        assert world.life.ingest(first.isoformat(), last.isoformat()).success


@pytest.mark.parametrize("case", ERRORS)
def test_an_unreadable_delivery_fails_naming_day_and_file_and_keeps_the_good_copy(world, case: str) -> None:  # type: ignore[no-untyped-def]
    day = DAY[case]
    originals = _break(world, [case])
    try:
        result = world.life.ingest(day.isoformat(), day.isoformat())
    finally:
        _restore(world, originals)
    message = _failure(result)
    text = CORPUS[case][1].partition(": ")[2]
    assert not result.success and text in message and str(day) in message
    assert f"sales/{day}.csv" in message  # the file, also when it holds no rows
    _assert_good_copy_kept(world, day)


def test_a_whole_day_quarantined_fails_naming_day_and_reason(world) -> None:  # type: ignore[no-untyped-def]
    day = DAY["whole_day_bad"]
    originals = _break(world, ["whole_day_bad"])
    try:
        result = world.life.ingest(day.isoformat(), day.isoformat())
    finally:
        _restore(world, originals)
    message = _failure(result)
    assert (
        f"{day} quarantine_share: 20 of 20 rows quarantined (100.00%): price: not a valid float (20)"
        in message
    )
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not checks["quarantine_share"].passed and str(day) in str(checks["quarantine_share"].description)
    _assert_good_copy_kept(world, day)


def test_a_missing_day_in_a_range_names_it_and_the_ranges_to_run(world) -> None:  # type: ignore[no-untyped-def]
    missing = START + dt.timedelta(days=5)
    file = world.landing / "sales" / f"{missing}.csv"
    data = file.read_bytes()
    file.unlink()
    try:
        result = world.life.ingest(START.isoformat(), (START + dt.timedelta(days=9)).isoformat())
    finally:
        file.write_bytes(data)
    message = _failure(result)
    assert f"1 of 10 days of table 'sales' cannot be read ({missing}: " in message
    assert f"no delivery for table 'sales' on {missing}" in message
    assert "run the readable days as 2024-01-01..2024-01-05, 2024-01-07..2024-01-10" in message
    assert all(len(_cleaned(world, START + dt.timedelta(days=i))) == STORES for i in range(10))


def test_a_bad_lookup_redelivery_keeps_the_published_table_and_blocks_retraining(world) -> None:  # type: ignore[no-untyped-def]
    lookup = world.landing / "stores.csv"
    good = lookup.read_bytes()
    published = world.env.home / "storage" / "synthetic_demand" / "cleaned_stores.parquet"
    assert len(pd.read_parquet(published)) == STORES
    retrain = SensorDriver(world.defs, "synthetic_demand_retrain_sensor", world.instance)
    try:
        lookup.write_bytes(pd.read_csv(Path(lookup)).assign(size="big").to_csv(index=False).encode())
        result = world.life.ingest(START.isoformat(), START.isoformat(), refresh_lookups=True)
        assert not result.success
        assert "table 'stores'" in _failure(result) and "size: not a valid int" in _failure(result)
        assert pd.read_parquet(published)["size"].tolist() == [100] * STORES  # the last good copy
        requests, skip = retrain.tick()
        assert requests == [] and skip is not None
        assert skip.startswith("not retraining past failed blocking check(s) / ingests: all: cleaned_stores.")
    finally:
        lookup.write_bytes(good)
    assert world.life.ingest(START.isoformat(), START.isoformat(), refresh_lookups=True).success
    _, skip = retrain.tick()
    assert skip is None or "cleaned_stores" not in skip  # a good re-delivery unblocks it
