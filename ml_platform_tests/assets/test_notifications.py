"""Notifications received by real local receivers: an HTTP server on 127.0.0.1 (Slack-compatible and
generic JSON webhooks) and an aiosmtpd SMTP server on 127.0.0.1. The pipeline runs on a Dagster test
instance with a SQLite MLflow registry; the alert sensors are evaluated as the daemon would."""

from __future__ import annotations

import os
from collections.abc import Iterator

import dagster as dg
import pytest

from ml_platform_tests.helpers import synthetic_regression_spec, write_synthetic_landing
from ml_platform_tests.receivers import HttpReceiver, SmtpReceiver
from ml_platform_tests.sensor_driver import SensorDriver

DAYS = 20


@pytest.fixture(scope="module")
def receivers() -> Iterator[tuple[HttpReceiver, SmtpReceiver]]:
    http, smtp = HttpReceiver(), SmtpReceiver()
    env = {
        "ML_PLATFORM_SLACK_WEBHOOK_URL": http.url("/slack"),
        "ML_PLATFORM_WEBHOOK_URL": http.url("/hook"),
        "ML_PLATFORM_WEBHOOK_TOKEN": "hook-secret",
        "ML_PLATFORM_SMTP_HOST": "127.0.0.1",
        "ML_PLATFORM_SMTP_PORT": str(smtp.port),
        "ML_PLATFORM_SMTP_FROM": "ml@example.org",
        "ML_PLATFORM_SMTP_TO": "team@example.org, oncall@example.org",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield http, smtp
    finally:
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        http.stop()
        smtp.stop()


@pytest.fixture(scope="module")
def world(make_world, tmp_path_factory, receivers):  # type: ignore[no-untyped-def]
    landing = tmp_path_factory.mktemp("landing")
    write_synthetic_landing(landing, days=DAYS)
    w = make_world(synthetic_regression_spec(landing, days=DAYS), "notify")
    w.landing = landing
    assert w.life.ingest("2024-01-01", "2024-01-20").success
    return w


def _received(receivers, kind: str) -> tuple[dict, dict, object]:  # type: ignore[no-untyped-def]
    """The newest message of ``kind`` on each channel: slack payload, JSON payload, email."""
    http, smtp = receivers
    hook = [r for r in http.at("/hook") if r["json"]["kind"] == kind]
    assert hook, f"no {kind} on the JSON webhook: {[r['json']['kind'] for r in http.at('/hook')]}"
    assert hook[-1]["headers"]["Authorization"] == "Bearer hook-secret"
    title = hook[-1]["json"]["title"]
    slack = [r for r in http.at("/slack") if r["json"]["blocks"][0]["text"]["text"] == title]
    mails = [m for m in smtp.messages if " ".join(str(m["Subject"]).split()) == f"[ml_platform] {title}"]
    assert slack and mails, f"'{title}' missing on slack ({len(slack)}) or email ({len(mails)})"
    assert mails[-1]["To"] == "team@example.org, oncall@example.org"
    return slack[-1]["json"], hook[-1]["json"], mails[-1]


def _links_ok(world, payload: dict, run_id: str, version: str | None) -> None:  # type: ignore[no-untyped-def]
    assert payload["links"]["dagster_run"] == f"{world.env.dagster_ui_url}/runs/{run_id}"
    if version:
        mlflow_url = f"{world.env.mlflow_ui_url}/#/models/synthetic_demand/versions/{version}?workflowType=machine_learning"
        assert payload["links"]["mlflow_model_version"] == mlflow_url


def test_new_champion_is_announced_on_every_channel(world, receivers) -> None:  # type: ignore[no-untyped-def]
    assert world.life.train(reason="test").success
    tick = world.life.tick_deploy_sensor()
    assert len(tick.run_ids) == 1
    requests, skip = SensorDriver(world.defs, "synthetic_demand_champion_alert", world.instance).tick()
    assert skip is not None and skip.startswith("1 notified") and "v1 is the new champion" in skip
    slack, hook, mail = _received(receivers, "champion_deployed")
    assert hook["fields"]["model_version"] == "1" and "v1 is the new champion" in hook["title"]
    _links_ok(world, hook, tick.run_ids[0], "1")
    assert f"{world.env.dagster_ui_url}/runs/{tick.run_ids[0]}" in slack["blocks"][-1]["elements"][0]["text"]
    assert f"/runs/{tick.run_ids[0]}" in mail.get_content() and "versions/1" in mail.get_content()


def test_gate_rejection_is_announced_with_reasons(world, receivers) -> None:  # type: ignore[no-untyped-def]
    rejected = world.life.train({"alpha": 1e6}, reason="test: hopeless model")
    gate = rejected.get_asset_check_evaluations()[0]
    assert not gate.passed
    version = str(dict(gate.metadata)["model_version"].value)
    driver = SensorDriver(world.defs, "synthetic_demand_gate_rejection_alert", world.instance)
    requests, skip = driver.tick()
    assert skip is not None and skip.startswith("1 notified")  # the earlier pass is no rejection
    slack, hook, mail = _received(receivers, "gate_rejected")
    assert hook["fields"]["model_version"] == version and "rmse" in hook["fields"]["reasons"]
    assert hook["text"].startswith("rejected")
    _links_ok(world, hook, rejected.run_id, version)
    assert "rmse" in mail.get_content()
    assert driver.tick()[1] == "no new gate rejections"
    # a rejection is a decision, not a failure: the train run succeeded, so no run-failure alert fires
    assert rejected.success
    assert not any(
        e.dagster_event and e.dagster_event.event_type_value == "PIPELINE_FAILURE"
        for e in world.instance.all_logs(rejected.run_id)
    )


def _run_failure_alert(world, run_id: str) -> None:  # type: ignore[no-untyped-def]
    run = world.instance.get_run_by_id(run_id)
    failure = next(
        e.dagster_event
        for e in world.instance.all_logs(run_id)
        if e.dagster_event and e.dagster_event.event_type_value == "PIPELINE_FAILURE"
    )
    sensor = world.defs.resolve_sensor_def("synthetic_demand_run_failure_alert")
    with dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=failure,
        dagster_instance=world.instance,
        dagster_run=run,
        resources={k: world.defs.resources[k] for k in ("notifier", "mlflow")},
    ) as context:
        sensor(context.for_run_failure())


def test_run_failure_is_announced_with_failed_asset_and_partition(world, receivers) -> None:  # type: ignore[no-untyped-def]
    (world.landing / "sales" / "2024-01-05.csv").rename(world.landing / "sales" / "held-back.csv")
    try:
        failed = world.life.ingest("2024-01-05", "2024-01-05")
    finally:
        (world.landing / "sales" / "held-back.csv").rename(world.landing / "sales" / "2024-01-05.csv")
    assert not failed.success
    _run_failure_alert(world, failed.run_id)
    slack, hook, mail = _received(receivers, "run_failure")
    assert hook["fields"]["failed_assets"] == "synthetic_demand/raw_sales"
    assert hook["fields"]["partition"] == "2024-01-05"
    assert "no delivery for table 'sales' on 2024-01-05" in hook["text"]
    _links_ok(world, hook, failed.run_id, None)
    assert "synthetic_demand/raw_sales" in slack["blocks"][1]["text"]["text"]
    assert "partition: 2024-01-05" in mail.get_content()
