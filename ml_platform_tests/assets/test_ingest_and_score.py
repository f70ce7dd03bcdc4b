"""One run per delivery: the new-data sensor's run ingests a new day and scores it with the champion
(predictions, live performance and their checks) in the same run, on real local parts (a landing
dir of synthetic sales, a Dagster test instance, SQLite MLflow). Without a champion the same run
ingests and scores nothing; ``sensors.score_in_ingest_run: false`` keeps ingest alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd

from ml_platform.specs import parse_spec
from ml_platform_tests.helpers import synthetic_regression_spec, write_synthetic_landing
from ml_platform_tests.sensor_driver import SensorDriver

NAME = "synthetic_demand"
DAYS, STORES = 16, 60


def _spec(landing: Path, **sensors: bool):  # type: ignore[no-untyped-def]
    base = synthetic_regression_spec(landing, days=DAYS).model_dump(mode="json", exclude_unset=True)
    base["training"] = {"window_partitions": 8, "holdout_partitions": 4, "as_of": "2024-01-12"}
    base["sensors"] = sensors
    base["monitoring"] = {"performance": {"min_rows": 50}}
    return parse_spec(base)


def _steps(world, run_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(
        {
            e.step_key
            for e in world.instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
            if e.step_key
        }
    )


def test_a_new_day_is_ingested_and_scored_by_the_champion_in_one_run(make_world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    archive, landing = tmp_path / "archive", tmp_path / "landing"
    write_synthetic_landing(archive, days=DAYS, stores=STORES)
    (landing / "sales").mkdir(parents=True)
    for n in range(1, 13):  # twelve days delivered before the first champion
        name = f"2024-01-{n:02d}.csv"
        shutil.copy(archive / "sales" / name, landing / "sales" / name)
    world = make_world(_spec(landing), "one_run")
    sensor = SensorDriver(world.defs, f"{NAME}_new_data_sensor", world.instance)

    (first,), _ = sensor.tick()
    assert first.job_name == f"{NAME}_ingest_and_score"
    result = sensor.run(first)
    assert result.success  # no champion yet: ingested, nothing scored, the run still succeeds
    assert world.instance.get_latest_materialization_event(world.pipeline.features_key) is not None
    assert world.instance.get_latest_materialization_event(world.pipeline.predictions_key) is None
    logs = [e.user_message for e in world.instance.all_logs(result.run_id)]
    assert any(f"{NAME} has no champion: nothing scored" in m for m in logs)

    assert world.life.train(reason="test: first").success
    assert world.life.tick_deploy_sensor().run_ids

    shutil.copy(archive / "sales" / "2024-01-13.csv", landing / "sales" / "2024-01-13.csv")
    (request,), _ = sensor.tick()
    assert request.partition_key == "2024-01-13" and request.job_name == f"{NAME}_ingest_and_score"
    before = len(world.instance.get_runs())
    result = sensor.run(request)
    assert result.success and len(world.instance.get_runs()) == before + 1
    steps = _steps(world, result.run_id)
    assert f"{NAME}__features" in steps and f"{NAME}__predictions" in steps, steps
    stored = world.env.home / "storage" / NAME / "predictions" / "2024-01-13.parquet"
    scored = pd.read_parquet(stored)
    assert len(scored) == STORES and set(scored["model_version"]) == {"1"}
    live = pd.read_parquet(world.env.home / "storage" / NAME / "live_performance" / "2024-01-13.parquet")
    assert live["model_version"].iloc[0] == "1" and bool(live["labels_known"].iloc[0])
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {"prediction_drift", "performance_decay", "feature_drift"} <= set(checks), sorted(checks)
    assert checks["prediction_drift"].partition == "2024-01-13"


def test_score_in_ingest_run_false_keeps_the_ingest_job(make_world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    write_synthetic_landing(tmp_path / "landing", days=3, stores=4)
    world = make_world(_spec(tmp_path / "landing", score_in_ingest_run=False), "ingest_only")
    sensor = SensorDriver(world.defs, f"{NAME}_new_data_sensor", world.instance)
    (request,), _ = sensor.tick()
    assert request.job_name == f"{NAME}_ingest"
    assert sensor.run(request).success
    assert world.instance.get_latest_materialization_event(world.pipeline.predictions_key) is None
