"""Batch scoring, live performance, drift, the drift alert and check-triggered retraining, on real
local parts: a landing directory of synthetic daily sales, a Dagster test instance, a SQLite MLflow
registry (tracking + aliases + artifacts) and a real HTTP webhook receiver on 127.0.0.1. Sensors are
evaluated as the daemon would (cursor carried between ticks) and their requests executed."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from ml_platform.ml.metrics import bootstrap_ci, point_metrics
from ml_platform.ml.monitoring import PREDICTION_ID
from ml_platform.specs import parse_spec
from ml_platform_tests.helpers import synthetic_regression_spec, write_synthetic_landing
from ml_platform_tests.receivers import HttpReceiver
from ml_platform_tests.sensor_driver import SensorDriver

DAYS, STORES = 20, 200
NAME = "synthetic_demand"


def day(n: int) -> str:
    return (dt.date(2024, 1, 1) + dt.timedelta(days=n - 1)).isoformat()


@pytest.fixture(scope="module")
def hook() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    old = os.environ.get("ML_PLATFORM_WEBHOOK_URL")
    os.environ["ML_PLATFORM_WEBHOOK_URL"] = receiver.url("/hook")
    try:
        yield receiver
    finally:
        os.environ.pop("ML_PLATFORM_WEBHOOK_URL") if old is None else os.environ.__setitem__(
            "ML_PLATFORM_WEBHOOK_URL", old
        )
        receiver.stop()


@pytest.fixture(scope="module")
def world(make_world, tmp_path_factory, hook):  # type: ignore[no-untyped-def]
    landing = tmp_path_factory.mktemp("landing")
    write_synthetic_landing(landing, days=DAYS, stores=STORES)
    base = synthetic_regression_spec(landing, days=DAYS).model_dump(mode="json", exclude_unset=True)
    base["training"] = {"window_partitions": 9, "holdout_partitions": 5, "as_of": day(14)}
    base["monitoring"] = {"retrain_cooldown_hours": 24, "performance": {"min_rows": 50}}
    w = make_world(parse_spec(base), "monitor")
    w.landing = landing
    assert w.life.ingest(day(1), day(16)).success
    assert w.life.train(reason="test: first").success
    assert w.life.tick_deploy_sensor().run_ids
    w.score = w.defs.resolve_job_def(f"{NAME}_score")
    return w


def score(world, partition: str) -> dg.ExecuteInProcessResult:  # type: ignore[no-untyped-def]
    return world.score.execute_in_process(
        instance=world.instance,
        partition_key=partition,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        raise_on_error=False,
    )


def checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def md(evaluation_or_event) -> dict:  # type: ignore[no-untyped-def]
    metadata = getattr(evaluation_or_event, "metadata", None)
    return {k: getattr(v, "value", v) for k, v in dict(metadata).items()}


def history(world, partition: str) -> list[str]:  # type: ignore[no-untyped-def]
    records = world.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=world.pipeline.predictions_key, asset_partitions=[partition]),
        limit=20,
    ).records
    return [str(r.asset_materialization.metadata["model_version"].value) for r in records]


def test_predictions_are_scored_by_the_champion_with_stable_ids(world) -> None:  # type: ignore[no-untyped-def]
    result = score(world, day(15))
    assert result.success
    stored = pd.read_parquet(world.env.home / "storage" / NAME / "predictions" / f"{day(15)}.parquet")
    assert len(stored) == STORES and set(stored["model_version"]) == {"1"}
    assert stored[PREDICTION_ID].iloc[7] == f"{NAME}:{day(15)}:000007"
    assert stored[PREDICTION_ID].is_unique
    features = pd.read_parquet(world.env.home / "storage" / NAME / "features" / f"{day(15)}.parquet")
    model = world.registry.load_sklearn(f"models:/{NAME}/1")
    expected = model.predict(features[["store", "price", "promo"]])
    np.testing.assert_allclose(stored["score"].to_numpy(), expected)
    event = result.asset_materializations_for_node(f"{NAME}__predictions")[0]
    meta = md(event)
    assert meta["model_version"] == "1" and meta["dagster/row_count"] == STORES
    assert meta["score_p50"] == pytest.approx(float(np.median(expected)))
    assert meta["score_mean"] == pytest.approx(float(expected.mean()))
    drift = checks(result)["prediction_drift"]
    assert drift.passed and drift.partition == day(15)


def test_live_performance_equals_a_direct_computation(world) -> None:  # type: ignore[no-untyped-def]
    result = score(world, day(16))
    assert result.success
    live = pd.read_parquet(world.env.home / "storage" / NAME / "live_performance" / f"{day(16)}.parquet")
    preds = pd.read_parquet(world.env.home / "storage" / NAME / "predictions" / f"{day(16)}.parquet")
    cleaned = pd.read_parquet(world.env.home / "storage" / NAME / "cleaned_sales" / f"{day(16)}.parquet")
    y, s = cleaned["units"].to_numpy(dtype=float), preds["score"].to_numpy()
    direct = point_metrics("regression", y, s)
    assert bool(live["labels_known"].iloc[0]) and live["model_version"].iloc[0] == "1"
    assert live["rmse"].iloc[0] == pytest.approx(direct["rmse"])
    lo, hi = bootstrap_ci("regression", y, s, 200, seed=0)["rmse"]
    assert (live["rmse_lo"].iloc[0], live["rmse_hi"].iloc[0]) == pytest.approx((lo, hi))
    metrics = world.registry.run_metrics(world.registry.model_version(NAME, "1").run_id)
    assert live["holdout_rmse"].iloc[0] == pytest.approx(metrics["holdout_rmse"])
    # judged against the worst decile of the holdout's daily rmse (days 10..14), computed here again
    model = world.registry.load_sklearn(f"models:/{NAME}/1")
    daily = []
    for n in range(10, 15):
        f = pd.read_parquet(world.env.home / "storage" / NAME / "features" / f"{day(n)}.parquet")
        daily.append(
            point_metrics("regression", f["units_sold"], model.predict(f[["store", "price", "promo"]]))[
                "rmse"
            ]
        )
    assert live["reference_rmse"].iloc[0] == pytest.approx(np.quantile(daily, 0.9), abs=5e-5)  # 4 places
    decay = checks(result)["performance_decay"]
    assert decay.passed, decay.description
    assert "ok 2024-01-16 (v1): rmse" in md(decay)["reasons"]


def test_a_champion_change_is_recorded_not_silently_rewritten(world) -> None:  # type: ignore[no-untyped-def]
    assert world.life.train({"alpha": 0.5}, reason="test: second").success
    world.registry.set_alias(NAME, "champion", "2")
    try:
        assert score(world, day(15)).success
        assert history(world, day(15)) == ["2", "1"]  # newest first: both versions stay known
        assert history(world, day(16)) == ["1"]  # not rescored by the champion change
        stored = pd.read_parquet(world.env.home / "storage" / NAME / "predictions" / f"{day(15)}.parquet")
        assert set(stored["model_version"]) == {"2"}
    finally:
        world.registry.set_alias(NAME, "champion", "1")


def deliver(world, n: int, change) -> None:  # type: ignore[no-untyped-def]
    path = world.landing / "sales" / f"{day(n)}.csv"
    frame = pd.read_csv(path)
    change(frame)
    frame.to_csv(path, index=False)
    assert world.life.ingest(day(n), day(n)).success


def test_decay_check_fails_on_an_injected_label_shift(world) -> None:  # type: ignore[no-untyped-def]
    def shift(frame: pd.DataFrame) -> None:
        frame["units"] = frame["units"] + 25.0  # the world changed: demand jumps, inputs do not

    deliver(world, 17, shift)
    result = score(world, day(17))
    decay = checks(result)["performance_decay"]
    assert not decay.passed
    meta = md(decay)
    assert meta["decayed_days"] == day(17)
    assert meta["retrain_reason"].startswith("decay: rmse ") and meta["retrain_reason"].endswith(
        f"({day(17)})"
    )
    assert "DECAY 2024-01-17 (v1): rmse" in meta["reasons"] and "lower bound" in meta["reasons"]
    assert checks(result)["prediction_drift"].passed  # the inputs did not move


def automation(world, cursor=None):  # type: ignore[no-untyped-def]
    return dg.evaluate_automation_conditions(
        defs=world.defs,
        instance=world.instance,
        asset_selection=dg.AssetSelection.assets(world.pipeline.predictions_key),
        cursor=cursor,
    )


def test_feature_drift_fails_on_a_sensor_fault_and_passes_on_stable_data(world) -> None:  # type: ignore[no-untyped-def]
    before = automation(world)
    ingest = world.life.ingest(day(18), day(18))
    # declarative automation scores the day that landed, and only it (not older, unscored days)
    after = automation(world, before.cursor)
    assert after.get_requested_partitions(world.pipeline.predictions_key) == {day(18)}
    stable = checks(ingest)["feature_drift"]
    assert stable.passed, stable.description
    top = {r["feature"]: r for r in md(stable)["top_features"]}
    assert top["price"]["psi"] < 0.2 and top["store"]["psi"] < 0.2

    def fault(frame: pd.DataFrame) -> None:
        frame["price"] = frame["price"] * 3.0  # a unit change upstream

    deliver(world, 19, fault)
    ingest = world.instance.get_latest_materialization_event(world.pipeline.features_key)
    assert ingest is not None
    evaluation = world.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(world.pipeline.features_key, "feature_drift")]
    )
    record = next(iter(evaluation.values()))
    drift = record.event.dagster_event.event_specific_data
    assert not drift.passed
    meta = md(drift)
    assert meta["worst_feature"] == "price" and meta["worst_day"] == day(19)
    assert meta["drifted_days"] == f"{day(19)}: price"
    assert meta["max_psi"] > 1.0
    plotted = dict(zip(meta["plot_data"]["features"], meta["plot_data"]["psi"], strict=True))
    records = {r["feature"]: r["psi"] for r in meta["top_features"]}
    assert plotted["price"] == pytest.approx(records["price"], abs=1e-6) == pytest.approx(meta["max_psi"])
    assert meta["plot_data"]["drifted"][0] is True and meta["plot_data"]["threshold"] == 0.2
    assert "data:image/png;base64," in meta["report"]
    assert meta["retrain_reason"] == f"drift: price PSI {meta['max_psi']:.2f} ({day(19)})"


def test_drift_alert_notifies_once_with_kind_drift(world, hook) -> None:  # type: ignore[no-untyped-def]
    driver = SensorDriver(world.defs, f"{NAME}_drift_alert", world.instance)
    _, skip = driver.tick()
    assert skip is not None and skip.startswith("2 notified")  # the decay and the drift
    payloads = [r["json"] for r in hook.at("/hook")]
    drift = [p for p in payloads if p["kind"] == "drift"]
    assert len(drift) == 1 and "feature_drift failed (drift: price PSI" in drift[0]["title"]
    assert drift[0]["fields"]["days"] == f"{day(19)}: price"
    assert [p["kind"] for p in payloads].count("performance_decay") == 1
    assert driver.tick()[1] == "no new drift or decay"


def test_retrain_sensor_trains_once_for_the_failed_checks_then_cools_down(world) -> None:  # type: ignore[no-untyped-def]
    driver = SensorDriver(world.defs, f"{NAME}_retrain_sensor", world.instance)
    (request,), _ = driver.tick()
    reason = request.run_config["ops"][f"{NAME}__model"]["config"]["reason"]
    assert reason.startswith("drift: price PSI ") and "decay: rmse " in reason and day(17) in reason
    assert request.tags["ml_platform/trigger"] == "drift"
    run = driver.run(request)
    assert run.success or run.get_asset_check_evaluations()  # a gate rejection is a decision
    version = world.registry.version_by_alias(NAME, "challenger")
    tags = world.registry.client().get_run(version.run_id).data.tags
    assert tags["training_reason"] == reason
    assert world.registry.load_json(version.run_id, "reference_profile.json")["features"]["price"]
    # another drifted day inside the cooldown: noted, not trained on
    deliver(world, 20, lambda f: f.__setitem__("price", f["price"] * 3.0))
    requests, skip = driver.tick()
    assert requests == [] and skip is not None
    assert "cooldown 24 h" in skip and "drift: price PSI" in skip
    assert json.loads(driver.cursor or "{}")["last_retrain"] > 0


def test_automation_never_scores_past_a_failed_blocking_check(world) -> None:  # type: ignore[no-untyped-def]
    first = automation(world)
    assert world.life.ingest(day(16), day(16)).success  # a re-delivery that passes: rescored
    good = automation(world, first.cursor)
    assert good.get_requested_partitions(world.pipeline.predictions_key) == {day(16)}
    settled = automation(world, good.cursor)  # the tick after a request (its run would go here)
    assert settled.get_requested_partitions(world.pipeline.predictions_key) == set()
    path = world.landing / "sales" / f"{day(16)}.csv"
    frame = pd.read_csv(path)
    frame.loc[: len(frame) // 5, "price"] = -1.0  # 20% of the rows quarantined: a blocking check fails
    frame.to_csv(path, index=False)
    failed = world.life.ingest(day(16), day(16))
    assert not failed.success and not checks(failed)["quarantine_share"].passed
    bad = automation(world, settled.cursor)  # cleaned_sales updated, but its blocking check failed
    assert bad.get_requested_partitions(world.pipeline.predictions_key) == set()
