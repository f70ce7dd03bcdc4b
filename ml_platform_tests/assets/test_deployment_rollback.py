"""Deployment mechanics on a real SQLite MLflow registry, a real Dagster instance and a local export
directory: previous_champion bookkeeping, rollback when the smoke test fails, a no-op deploy that
still states the live version, and the best of two passing challengers deployed (the other
re-checked against the champion live at deploy time)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline as SkPipeline

from ml_platform_tests.helpers import synthetic_regression_spec, write_synthetic_landing

DAYS = 20


@pytest.fixture(scope="module")
def world(make_world, tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    write_synthetic_landing(landing, days=DAYS)
    w = make_world(synthetic_regression_spec(landing, days=DAYS), "synthetic")
    assert w.life.ingest("2024-01-01", "2024-01-20").success
    return w


def _deploy(world, version: str):  # type: ignore[no-untyped-def]
    return world.defs.resolve_job_def("synthetic_demand_deploy").execute_in_process(
        instance=world.instance,
        run_config={"ops": {"synthetic_demand__deployment": {"config": {"version": version}}}},
        raise_on_error=False,
    )


def _champion(world) -> str | None:  # type: ignore[no-untyped-def]
    mv = world.registry.version_by_alias("synthetic_demand", "champion")
    return None if mv is None else str(mv.version)


def test_second_spec_runs_end_to_end_to_a_champion(world) -> None:
    first = world.life.train(reason="test")
    assert first.success
    report = first.output_for_node("synthetic_demand__evaluation_report")
    # the linear model learns price/promo/store effects: far better than predicting the mean
    assert report["metrics"]["challenger"]["rmse"] < 0.5 * report["metrics"]["baseline"]["rmse"]
    assert report["metrics"]["challenger"]["r2"] > 0.8
    tick = world.life.tick_deploy_sensor()
    assert len(tick.run_ids) == 1 and _champion(world) == "1"


def test_promotion_keeps_previous_champion(world) -> None:
    second = world.life.train({"alpha": 0.5}, reason="test: second")
    # rmse equal or better by >= 0 passes (min_improvement 0 in this spec)
    gate = second.get_asset_check_evaluations()[0]
    assert gate.passed, gate.description
    world.life.tick_deploy_sensor()
    assert _champion(world) == "2"
    prev = world.registry.version_by_alias("synthetic_demand", "previous_champion")
    assert str(prev.version) == "1"
    assert (world.env.home / "exports" / "synthetic_demand" / "CURRENT").read_text().strip() == "v2"
    # the live version's description opens with a clickable link to the Dagster run that deployed it
    first_line = world.registry.model_version("synthetic_demand", "2").description.splitlines()[0]
    deploy_run = world.registry.model_version("synthetic_demand", "2").tags["deployed_by_run"]
    assert first_line.startswith("**Champion since** ")
    assert (
        f"deploy by [Dagster run {deploy_run[:8]}]({world.env.dagster_ui_url}/runs/{deploy_run})"
        in first_line
    )


def test_failed_smoke_test_rolls_back_to_the_previous_champion(world) -> None:
    # a version that cannot score the deployment sample: trained on a column the sample lacks
    frame = pd.DataFrame({"other_column": np.arange(10.0)})
    broken = SkPipeline([("model", DummyClassifier(strategy="prior"))]).fit(frame, np.arange(10) % 2)
    logged = world.registry.log_trained_model(
        experiment="synthetic_demand",
        model_name="synthetic_demand",
        model=broken,
        task="regression",
        params={},
        metrics={},
        tags={"pipeline": "synthetic_demand"},
        train_frame=frame.assign(y=np.arange(10) % 2),
        target="y",
        input_example=frame.head(2),
    )
    version = logged["version"]
    world.registry.tag_version("synthetic_demand", version, {"deploy_gate": "passed"})
    result = _deploy(world, version)
    assert not result.success
    assert _champion(world) == "2"
    tags = world.registry.model_version("synthetic_demand", version).tags
    assert tags["validation_status"] == "smoke_failed" and tags["smoke_error"]
    from ml_platform.deploys import history as hist

    last = hist.history(world.registry, "synthetic_demand")[-1]
    assert (last["event"], last["target"], last["to"]) == ("smoke_failed", version, "2")
    assert not (world.env.home / "exports" / "synthetic_demand" / f"v{version}").exists()
    assert (world.env.home / "exports" / "synthetic_demand" / "CURRENT").read_text().strip() == "v2"


def test_redeploying_the_live_version_changes_nothing(world) -> None:
    result = _deploy(world, "2")
    assert result.success
    assert result.output_for_node("synthetic_demand__deployment")["status"] == "already_champion"
    assert _champion(world) == "2"
    assert str(world.registry.version_by_alias("synthetic_demand", "previous_champion").version) == "1"
    # the no-op's materialization still says what is live (not an emptier one)
    [mat] = result.asset_materializations_for_node("synthetic_demand__deployment")
    meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    assert meta["champion_version"] == "2" and meta["previous_champion"] == "1"
    assert meta["export_path"].endswith("synthetic_demand/v2") and meta["champion_moved"] is False
    assert "/#/models/synthetic_demand/versions/2?" in meta["mlflow_model_version"]
    assert "| deploy | v1 | v2 |" in meta["champion_history"]


def test_of_two_passing_challengers_only_the_best_is_deployed_and_the_other_is_rechecked(world) -> None:
    runs = [world.life.train({"alpha": a}, reason=f"test: alpha {a}") for a in (0.5, 0.01)]
    gates = [r.get_asset_check_evaluations()[0] for r in runs]
    assert all(g.passed for g in gates), [g.description for g in gates]  # both beat (or tie) v2
    rmse = {str(g.metadata["model_version"].value): float(g.metadata["rmse"].value) for g in gates}
    best, worse = sorted(rmse, key=lambda v: rmse[v])
    assert rmse[best] < rmse[worse]
    tick = world.life.tick_deploy_sensor()
    assert len(tick.run_ids) == 1 and _champion(world) == best
    tags = world.registry.model_version("synthetic_demand", worse).tags
    assert tags["validation_status"] == "superseded"
    assert f"superseded in the same deploy-sensor tick by v{best}" in tags["superseded_reason"]
    # deploying the worse one anyway (e.g. launched by an earlier tick) re-checks it against v{best}
    result = _deploy(world, worse)
    assert result.success
    assert result.output_for_node("synthetic_demand__deployment")["status"] == "refused"
    assert _champion(world) == best
    reason = world.registry.model_version("synthetic_demand", worse).tags["superseded_reason"]
    assert f"re-checked against champion v{best} at deploy time" in reason and "does not beat" in reason
