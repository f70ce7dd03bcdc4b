"""New data end to end on real local parts (landing dir, Dagster test instance, SQLite MLflow):
the new-data sensor's requests run the ingest job, the retrain sensor trains once enough partitions
are in, the deploy sensor makes a champion; then every bad delivery of the corpus is re-delivered
for one day and must end in a clear error or a quarantine with reasons, block everything downstream
of that partition, stop the retrain sensor, and leave the champion alone."""

from __future__ import annotations

import datetime as dt
import io

import dagster as dg
import pandas as pd
import pytest

from ml_platform_tests.bad_inputs import CORPUS
from ml_platform_tests.helpers import synthetic_regression_spec, write_synthetic_landing
from ml_platform_tests.sensor_driver import SensorDriver
from ml_platform_tests.source_fixtures import with_source

DAYS = 12
BAD_DAY = dt.date(2024, 1, 6)


@pytest.fixture(scope="module")
def world(make_world, tmp_path_factory):  # type: ignore[no-untyped-def]
    landing = tmp_path_factory.mktemp("landing")
    write_synthetic_landing(landing, days=DAYS)
    spec = with_source(
        synthetic_regression_spec(landing, days=DAYS),
        "landing_dir",
        {"path": str(landing), "quiet_seconds": 0},
    )
    spec = spec.model_copy(
        update={"training": spec.training.model_copy(update={"retrain_after_new_partitions": 1})}
    )
    w = make_world(spec, "corpus")
    w.landing = landing
    w.new_data = SensorDriver(w.defs, "synthetic_demand_new_data_sensor", w.instance)
    w.retrain = SensorDriver(w.defs, "synthetic_demand_retrain_sensor", w.instance)
    return w


def _champion(world) -> str | None:  # type: ignore[no-untyped-def]
    mv = world.registry.version_by_alias("synthetic_demand", "champion")
    return None if mv is None else str(mv.version)


def _features_materializations(world, day: dt.date) -> int:  # type: ignore[no-untyped-def]
    records = world.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=world.pipeline.features_key, asset_partitions=[day.isoformat()]),
        limit=100,
    ).records
    return len(records)


def test_new_data_flows_to_a_champion(world) -> None:  # type: ignore[no-untyped-def]
    (request,), _ = world.new_data.tick()  # every pending day as one single-run backfill
    assert request.partition_key_range is not None
    start, end = request.partition_key_range.start, request.partition_key_range.end
    assert (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days + 1 == DAYS
    assert world.new_data.run(request).success
    assert world.new_data.tick()[0] == []
    (train,), _ = world.retrain.tick()
    assert "12 new partitions" in train.run_config["ops"]["synthetic_demand__model"]["config"]["reason"]
    assert world.retrain.run(train).success
    assert world.retrain.tick() == ([], "0 of 1 new feature partition(s) since the last retrain")
    world.life.tick_deploy_sensor()
    assert _champion(world) == "1"
    # the same bytes delivered again (new mtime): a re-delivery, ingested again, leaves one new partition
    file = world.landing / "sales" / f"{BAD_DAY}.csv"
    file.write_bytes(file.read_bytes())
    (again,), _ = world.new_data.tick()
    assert again.partition_key == BAD_DAY.isoformat() and world.new_data.run(again).success


#: through the sensors, one case of each outcome (every case runs in test_bad_deliveries.py)
SENSOR_CASES = [
    "missing_column",
    "empty_day",
    "wrong_types",
    "duplicated_rows",
    "thousand_times_the_rows",
    "extra_column",
]


@pytest.mark.parametrize("case", SENSOR_CASES)
def test_bad_redelivery_is_blocked_or_quarantined_and_never_reaches_the_champion(world, case: str) -> None:  # type: ignore[no-untyped-def]
    assert _champion(world) == "1", "needs test_new_data_flows_to_a_champion first"
    file = world.landing / "sales" / f"{BAD_DAY}.csv"
    good = file.read_bytes()
    breaker, expected = CORPUS[case]
    kind, _, text = expected.partition(": ")
    features_before = _features_materializations(world, BAD_DAY)
    try:
        file.write_bytes(breaker(good))
        (request,), _ = world.new_data.tick()  # exactly the re-delivered day
        assert (
            request.partition_key == BAD_DAY.isoformat() and request.tags["ml_platform/redelivery"] == "true"
        )
        result = world.new_data.run(request)
        if kind in ("extra", "ok", "tolerated"):  # harmless: cleaned and passed on
            assert result.success
            assert _features_materializations(world, BAD_DAY) == features_before + 1
            return
        assert not result.success
        failures = " ".join(
            str(e.step_failure_data.error.message if e.step_failure_data.error else "")
            + str(
                e.step_failure_data.user_failure_data.description
                if e.step_failure_data.user_failure_data
                else ""
            )
            for e in result.get_step_failure_events()
        )
        checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
        if kind == "error":
            assert text in failures and BAD_DAY.isoformat() in failures
        elif kind == "check":
            assert not checks[text].passed and f"{BAD_DAY} {text}: " in failures
        else:
            assert not checks["quarantine_share"].passed
            quarantine = result.output_for_node(
                "synthetic_demand__clean_sales", "synthetic_demand__quarantine_sales"
            )
            assert len(quarantine) and quarantine["_reasons"].str.contains(text, regex=False).all()
        # the good copy is still the published one, and nothing downstream of it materialized
        kept = pd.read_parquet(
            world.env.home / "storage" / "synthetic_demand" / "cleaned_sales" / f"{BAD_DAY}.parquet"
        )
        assert (
            len(kept) == 8
            and kept["price"].round(9).tolist() == pd.read_csv(io.BytesIO(good))["price"].round(9).tolist()
        )
        assert _features_materializations(world, BAD_DAY) == features_before
        retrain_requests, skip = world.retrain.tick()  # a new feature partition is pending, yet:
        assert retrain_requests == [] and skip is not None
        assert skip.startswith("not retraining past failed blocking check(s) / ingests")
        assert f"{BAD_DAY}: " in skip
        world.life.tick_deploy_sensor()
        assert _champion(world) == "1"
    finally:
        file.write_bytes(good)
        for request in world.new_data.tick()[0]:  # the corrected delivery goes through again
            assert world.new_data.run(request).success
