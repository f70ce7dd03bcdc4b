"""The production-like stack for real (`make prod-like` minus Spark, for speed): a database on the
local PostgreSQL for Dagster and one for MLflow, a moto S3 server over HTTP, `mlflow server`
(Postgres backend, S3 artifacts), `dagster-webserver` and `dagster-daemon` on the Postgres instance.
Runs are submitted over GraphQL and executed by the daemon; its deploy sensor moves `champion`.
Then the webserver, daemon and MLflow server are restarted and nothing may be lost; finally
`down` stops exactly what `up` started."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from devtools.prodlike import control, stack
from devtools.prodlike.drive import client, run_job
from devtools.prodlike.stack import BUCKET, StackState
from ml_platform_tests.services import missing_service, postgres_available

pytestmark = pytest.mark.system
MODEL = control.PIPELINE
FAST = {  # infrastructure under test, not model quality: a small model, a permissive gate
    "estimator": {"params": {"max_iter": 40, "learning_rate": 0.1, "random_state": 0}},
    "evaluation": {"bootstrap_samples": 10},
    "gate": {"min_value": 0.5, "min_improvement": 0.0},
}


@contextlib.contextmanager
def instance_of(state: StackState) -> Iterator[dg.DagsterInstance]:
    """The stack's Postgres instance, opened from its generated dagster.yaml."""
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in state.env().items() if k.startswith("DAGSTER_PG_")})
    try:
        with dg.DagsterInstance.from_config(str(state.dagster_home)) as instance:
            yield instance
    finally:
        os.environ.clear()
        os.environ.update(saved)


def snapshot(state: StackState) -> dict[str, Any]:
    from mlflow import MlflowClient

    with instance_of(state) as instance:
        runs = instance.get_runs()
        dagster = {r.run_id: (r.job_name, r.status.value, len(instance.all_logs(r.run_id))) for r in runs}
        materializations = len(
            instance.fetch_materializations(dg.AssetKey([MODEL, "features"]), limit=1000).records
        )
    registry = MlflowClient(tracking_uri=state.url("mlflow"), registry_uri=state.url("mlflow"))
    model = registry.get_registered_model(MODEL)
    versions = sorted(
        (v.version, v.run_id, v.tags.get("validation_status"))
        for v in registry.search_model_versions(f"name='{MODEL}'")
    )
    experiment = registry.get_experiment_by_name(MODEL)
    mlflow_runs = sorted(r.info.run_id for r in registry.search_runs([experiment.experiment_id]))
    return {
        "runs": dagster,
        "feature_materializations": materializations,
        "aliases": dict(model.aliases),
        "versions": versions,
        "mlflow_runs": mlflow_runs,
    }


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def prod_like(tmp_path_factory) -> Iterator[tuple[StackState, dict[str, str]]]:
    reason = postgres_available()
    if reason:
        missing_service(reason)
    directory = tmp_path_factory.mktemp("prod_like")
    try:
        state, runs = control.up(
            directory,
            "2013-01-01",
            "2013-01-21",
            engine="pandas",
            train_executor="in_process",
            overrides=FAST,
        )
        yield state, runs
    finally:
        control.down(directory)  # idempotent: the last test already took it down


def test_pipeline_runs_through_the_daemon_to_a_champion(prod_like) -> None:
    state, runs = prod_like
    assert runs["champion_version"] == "1"
    with instance_of(state) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        deadline = time.monotonic() + 60  # the deploy run ends a moment after it tags the version
        while time.monotonic() < deadline and any(not r.is_finished for r in instance.get_runs()):
            time.sleep(1)
        by_job = {r.job_name: r for r in instance.get_runs()}
        assert set(by_job) == {f"{MODEL}_{j}" for j in ("lookups", "ingest", "train", "deploy")}
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in by_job.values())
        deploy = by_job[f"{MODEL}_deploy"]
        assert deploy.tags.get("dagster/sensor_name") == f"{MODEL}_deploy_sensor"  # launched by the daemon
        assert by_job[f"{MODEL}_ingest"].tags["dagster/asset_partition_range_end"] == "2013-01-21"
    s3 = _s3(state)
    features = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"ml_platform/storage/{MODEL}/features/")
    assert features["KeyCount"] == 21
    artifacts = s3.list_objects_v2(Bucket=BUCKET, Prefix="mlartifacts/")
    assert any(o["Key"].endswith("MLmodel") for o in artifacts.get("Contents", []))


def test_the_endpoint_serves_the_champion_behind_its_token(prod_like) -> None:
    import httpx

    state, runs = prod_like
    url = state.url("serve")
    deadline, version = time.monotonic() + 120, None
    while time.monotonic() < deadline:  # it polls the registry every 2 s and loads in the background
        answer = httpx.get(f"{url}/version", headers={"Authorization": f"Bearer {state.serve_token}"})
        if answer.status_code == 200:
            version = answer.json()["version"]
            break
        time.sleep(2)
    assert version == runs["champion_version"]
    assert httpx.get(f"{url}/version").status_code == 401  # no token, no answer
    assert state.serve_token not in stack.log_file(state, "serve").read_text()


def _s3(state: StackState) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=state.url("moto"),
        aws_access_key_id=stack.AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=stack.AWS["AWS_SECRET_ACCESS_KEY"],
        region_name=stack.AWS["AWS_REGION"],
    )


def test_restarting_webserver_daemon_and_mlflow_loses_nothing(prod_like, tmp_path: Path) -> None:
    state, _ = prod_like
    before = snapshot(state)
    assert before["aliases"] == {"champion": "1", "challenger": "1"}
    old_pids = {s: int(stack.pid_file(state, s).read_text()) for s in ("webserver", "daemon", "mlflow")}
    for service in ("webserver", "daemon", "mlflow"):
        assert stack.stop(state, service)
    assert not port_open(state.ports["webserver"]) and not port_open(state.ports["mlflow"])

    for service in ("mlflow", "webserver", "daemon"):
        stack.start(state, service)
    control.wait_mlflow(state)
    stack.wait_http(f"{state.url('webserver')}/server_info", 120, "webserver", state)
    assert {s: int(stack.pid_file(state, s).read_text()) for s in old_pids} != old_pids

    after = snapshot(state)
    assert after == before
    # the restarted webserver serves the old runs, the restarted MLflow server the old model (from S3)
    for run_id in before["runs"]:
        assert client(state).get_run_status(run_id) == dg.DagsterRunStatus.SUCCESS
    from ml_platform.integrations.mlflow import MlflowRegistry

    local = MlflowRegistry(tracking_uri=state.url("mlflow")).download(
        f"models:/{MODEL}@champion", str(tmp_path)
    )
    assert (Path(local) / "MLmodel").exists()
    # and the restarted daemon still dequeues and launches new runs
    run_job(state, f"{MODEL}_lookups", run_config={"execution": {"config": {"in_process": {}}}})
    assert len(snapshot(state)["runs"]) == len(before["runs"]) + 1


def test_down_stops_what_up_started_and_nothing_else(prod_like) -> None:
    state, _ = prod_like
    bystander = subprocess.Popen(["sleep", "300"], start_new_session=True)  # not ours to stop
    try:
        pids = {s: int(stack.pid_file(state, s).read_text()) for s in stack.SERVICES}
        assert control.down(state.dir) is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(stack._group_alive(p) for p in pids.values()):
            time.sleep(0.2)
        assert not any(stack._group_alive(p) for p in pids.values())
        assert not any(port_open(p) for p in state.ports.values())
        assert not list((state.dir / "pids").glob("*.pid"))
        assert bystander.poll() is None
        from ml_platform_tests.services import pg_connect

        conn = pg_connect()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT count(*) FROM pg_database WHERE datname IN (%s, %s)",
                    (state.dagster_db, state.mlflow_db),
                )
                assert cur.fetchone()[0] == 0
        finally:
            conn.close()
    finally:
        os.kill(bystander.pid, signal.SIGTERM)
        bystander.wait()
