"""Bring the production-like stack up (and run the pipeline through it) or down, as functions."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import yaml

from devtools.prodlike import stack
from devtools.prodlike.stack import SERVICES, StackState

PIPELINE = "flights_delay"


def write_spec(state: StackState, start: str, end: str, overrides: dict[str, Any] | None = None) -> None:
    """The bundled spec over ``start..end`` (+ overrides), where ``ML_PLATFORM_SPEC_DIR`` points."""
    from flights_delay import SPEC_DIR

    from ml_platform.ops.demo import short_range_overrides
    from ml_platform.specs import _merge, load_spec

    path = SPEC_DIR / f"{PIPELINE}.yaml"
    spec = load_spec(path, _merge(short_range_overrides(load_spec(path), start, end), overrides or {}))
    target = state.dir / "specs"
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{PIPELINE}.yaml").write_text(yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False))


def where(state: StackState) -> str:
    rows = [
        ("Dagster UI (webserver)", state.url("webserver")),
        ("Dagster daemon", f"PID file {stack.pid_file(state, 'daemon')}"),
        ("Dagster instance", f"{state.dagster_home / 'dagster.yaml'} → {state.pg_url(state.dagster_db)}"),
        ("MLflow server (UI + API)", f"{state.url('mlflow')} → {state.pg_url(state.mlflow_db)}"),
        ("MLflow artifacts", f"s3://{stack.BUCKET}/mlartifacts"),
        ("Model endpoint (champion)", f"{state.url('serve')}  (bearer token in {state.dir / 'state.json'})"),
        ("S3 (moto server)", f"{state.url('moto')}  bucket s3://{stack.BUCKET}"),
        ("Asset storage", f"s3://{stack.BUCKET}/ml_platform/storage"),
        ("Spec used", str(state.dir / "specs")),
        ("Logs / PID files", f"{state.dir / 'logs'}  /  {state.dir / 'pids'}"),
    ]
    return "\n".join(f"  {name:<26} {value}" for name, value in rows)


def start_all(state: StackState) -> None:
    """All four start at once (none needs another to boot); then each is waited for."""
    for service in SERVICES:
        stack.start(state, service)
    stack.wait_http(f"{state.url('moto')}/moto-api/", 60, "moto", state)
    stack.create_bucket(state)  # before anything writes: MLflow only touches S3 on the first upload
    wait_mlflow(state)
    stack.wait_http(f"{state.url('webserver')}/server_info", 120, "webserver", state)


def wait_mlflow(state: StackState) -> None:
    stack.wait_http(f"{state.url('mlflow')}/health", 90, "mlflow", state)


def up(
    directory: Path,
    start: str,
    end: str,
    engine: str = "spark",
    train_executor: str = "multiprocess",
    overrides: dict[str, Any] | None = None,
) -> tuple[StackState, dict[str, str]]:
    """Start everything, then lookups → ingest → train through the daemon → champion by the sensor."""
    from devtools.prodlike.drive import run_pipeline

    began = time.monotonic()
    state = StackState(state_dir=str(directory), engine=engine, train_executor=train_executor)
    state.dir.mkdir(parents=True, exist_ok=True)
    state.ports = {s: stack.free_port() for s in ("moto", "mlflow", "webserver", "serve")}
    state.serve_token = secrets.token_urlsafe(24)
    stack.create_databases(state)
    state.save()  # from here on, `down` can clean up whatever happens next
    write_spec(state, start, end, overrides)
    stack.write_instance_yaml(state)
    print(f"--> starting moto S3, MLflow server and Dagster under {state.dir}", flush=True)
    start_all(state)
    print(f"--> stack up in {time.monotonic() - began:.0f}s; running {PIPELINE} {start}..{end}", flush=True)
    runs = run_pipeline(state, PIPELINE, start, end)
    return state, runs


def down(directory: Path) -> StackState | None:
    """Stop every process `up` started (by PID file) and drop its two databases."""
    state = StackState.load(directory)
    if state is None:
        return None
    for service in reversed(SERVICES):
        began = time.monotonic()
        stopped = stack.stop(state, service)
        print(f"  {service}: {f'stopped in {time.monotonic() - began:.1f}s' if stopped else 'not running'}")
    stack.drop_databases(state)
    (state.dir / "state.json").unlink()
    print(f"  dropped databases {state.dagster_db}, {state.mlflow_db}")
    return state
