"""Drive the pipeline through the running stack: runs are submitted to the webserver's GraphQL API,
queued by the QueuedRunCoordinator and launched by the daemon; the daemon's deploy sensor then
launches the deploy run that moves the MLflow alias ``champion``."""

from __future__ import annotations

import time
from typing import Any

from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from devtools.prodlike.stack import StackState

LOCATION = "ml_platform"


def client(state: StackState) -> Any:
    from dagster_graphql import DagsterGraphQLClient

    return DagsterGraphQLClient("127.0.0.1", port_number=state.ports["webserver"], timeout=60)


def submit(
    state: StackState,
    job: str,
    tags: dict[str, str] | None = None,
    run_config: dict[str, Any] | None = None,
    timeout: float = 90,
) -> str:
    """Submit a run (retrying while the code location is still loading)."""
    from dagster_graphql import DagsterGraphQLClientError

    deadline = time.monotonic() + timeout
    while True:
        try:
            return str(
                client(state).submit_job_execution(
                    job,
                    repository_location_name=LOCATION,
                    repository_name="__repository__",
                    tags=tags,
                    run_config=run_config,
                )
            )
        except DagsterGraphQLClientError as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not submit {job}: {exc}") from exc
            time.sleep(2)


def wait_run(state: StackState, run_id: str, timeout: float = 600) -> str:
    from dagster import DagsterRunStatus

    done = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client(state).get_run_status(run_id)
        if status in done:
            return str(status.value)
        time.sleep(1)
    raise TimeoutError(f"run {run_id} not finished after {timeout:.0f}s")


def run_job(
    state: StackState, job: str, tags: dict[str, str] | None = None, run_config: dict[str, Any] | None = None
) -> str:
    began = time.monotonic()
    run_id = submit(state, job, tags, run_config)
    status = wait_run(state, run_id)
    print(f"    {job}: {status} in {time.monotonic() - began:.0f}s (run {run_id})", flush=True)
    if status != "SUCCESS":
        raise RuntimeError(f"{job} run {run_id} ended {status}: {state.url('webserver')}/runs/{run_id}")
    return run_id


def wait_champion(state: StackState, model: str, timeout: float = 180) -> str:
    """Version behind ``models:/<model>@champion`` once the deploy sensor's run has deployed it
    (alias moved, exported, smoke-tested: tagged ``validation_status=deployed``)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    registry = MlflowClient(tracking_uri=state.url("mlflow"), registry_uri=state.url("mlflow"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            version = registry.get_model_version_by_alias(model, "champion")
            if version.tags.get("validation_status") == "deployed":
                return str(version.version)
        except MlflowException:
            pass
        time.sleep(2)
    raise TimeoutError(f"no champion for {model} after {timeout:.0f}s (deploy sensor runs every 30s)")


def run_pipeline(state: StackState, pipeline: str, start: str, end: str) -> dict[str, str]:
    """lookups → ingest (one run over the range) → train + gate → (sensor) deploy → champion."""
    # steps of a run in one process when training is in-process too (a quick stack: tests)
    config: dict[str, Any] | None = (
        {"execution": {"config": {"in_process": {}}}} if state.train_executor == "in_process" else None
    )
    runs = {
        "lookups": run_job(state, f"{pipeline}_lookups", run_config=config),
        "ingest": run_job(
            state,
            f"{pipeline}_ingest",
            {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end},
            run_config=config,
        ),
        "train": run_job(state, f"{pipeline}_train"),
    }
    began = time.monotonic()
    runs["champion_version"] = wait_champion(state, pipeline)
    print(f"    deploy sensor → champion v{runs['champion_version']} in {time.monotonic() - began:.0f}s")
    return runs
