"""Tiny real models for the endpoint's tests and bench: a sklearn classifier logged to a real MLflow
registry (``sqlite:///…``) with a signature like the pipelines' (some inputs optional)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "tiny_delay"
CARRIERS = ["AA", "B6", "DL", "UA"]


def training_frame(n: int = 400, seed: int = 0) -> Any:
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "distance": rng.integers(100, 3000, n).astype("int64"),
            "sched_hour": rng.integers(5, 23, n).astype("int64"),
            "wx_visib": rng.uniform(0, 10, n),
            "carrier": rng.choice(CARRIERS, n).astype(object),
        }
    )
    frame.loc[::7, "wx_visib"] = np.nan
    return frame


def signature(frame: Any, output: Any) -> Any:
    """distance and sched_hour required; wx_visib and carrier optional (nullable)."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types import ColSpec, Schema

    inferred = infer_signature(frame, output)
    optional = {"wx_visib", "carrier"}
    inputs = Schema(
        [ColSpec(c.type, c.name, required=c.name not in optional) for c in inferred.inputs.inputs]
    )
    return ModelSignature(inputs=inputs, outputs=inferred.outputs)


def fit(flip: bool = False) -> Any:
    """A fitted pipeline; ``flip`` learns the opposite label, so its answers differ visibly."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = training_frame()
    late = (frame["sched_hour"] > 15) ^ (frame["carrier"] == "B6")
    y = (~late if flip else late).astype(int)
    prep = ColumnTransformer(
        [
            (
                "carrier",
                Pipeline(
                    [
                        ("fill", SimpleImputer(strategy="constant", fill_value="?")),
                        ("hot", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                ["carrier"],
            ),
            (
                "numeric",
                Pipeline([("fill", SimpleImputer()), ("scale", StandardScaler())]),
                ["distance", "sched_hour", "wx_visib"],
            ),
        ]
    )
    return Pipeline([("prep", prep), ("model", LogisticRegression())]).fit(frame, y)


def register(
    tracking_uri: str,
    artifact_root: Path,
    name: str = MODEL_NAME,
    flip: bool = False,
    alias: str | None = "champion",
) -> str:
    """Log and register a new version of ``name`` (aliased ``alias``, artifacts under
    ``artifact_root``); its version number."""
    from importlib.metadata import version as version_of

    import mlflow
    import skops.io
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name("serving")
    experiment_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment("serving", artifact_location=artifact_root.resolve().as_uri())
    )
    model = fit(flip)
    example = training_frame().head(3)
    with mlflow.start_run(experiment_id=experiment_id):
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature(training_frame(), model.predict_proba(example)),
            input_example=example,
            registered_model_name=name,
            pyfunc_predict_fn="predict_proba",
            pip_requirements=[f"{p}=={version_of(p)}" for p in ("mlflow", "scikit-learn", "skops")],
            serialization_format="skops",  # as the pipelines log models: no pickle
            skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(model)),
        )
    version = str(info.registered_model_version)
    if alias:
        client.set_registered_model_alias(name, alias, version)
    return version


def sample_rows(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """JSON rows for the endpoint (NaN visibility → null, as a client sends a missing value)."""
    rows = training_frame(n, seed).to_dict(orient="records")
    for row in rows:
        row["distance"], row["sched_hour"] = int(row["distance"]), int(row["sched_hour"])
        if row["wx_visib"] != row["wx_visib"]:
            row["wx_visib"] = None
    return rows


@contextlib.contextmanager
def running(
    command: list[str],
    url: str,
    log_path: Path,
    env: dict[str, str] | None = None,
    timeout: float = 90.0,
    while_starting: Callable[[], Any] | None = None,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command`` (SIGINT/SIGTERM restored to their defaults in the child), run
    ``while_starting`` as it boots, wait until ``url`` answers 200, yield the process; stop it by
    its PID afterwards (TERM, then KILL)."""
    import httpx

    def default_signals() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    full_env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "MLFLOW_ENABLE_TELEMETRY": "false",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        **(env or {}),
    }
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=cwd, preexec_fn=default_signals
        )
    try:
        if while_starting is not None:
            while_starting()
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{command[:4]} exited with {proc.returncode}: {log_path.read_text()[-2000:]}"
                )
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} not healthy after {timeout:.0f} s: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def endpoint_command(tracking_uri: str, log_dir: Path, port: int, *extra: str) -> list[str]:
    """``python -m ml_platform.serving.server`` for the tiny model on 127.0.0.1:``port``."""
    return [
        sys.executable,
        "-m",
        "ml_platform.serving.server",
        "--model-name",
        MODEL_NAME,
        "--tracking-uri",
        tracking_uri,
        "--log-dir",
        str(log_dir),
        "--port",
        str(port),
        *extra,
    ]
