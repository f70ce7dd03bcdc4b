"""Tiny real models for the endpoint's tests and bench: a sklearn classifier logged to a real MLflow
registry (``sqlite:///…``) with a signature like the pipelines' (some inputs optional)."""

from __future__ import annotations

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
    tracking_uri: str, name: str = MODEL_NAME, flip: bool = False, alias: str | None = "champion"
) -> str:
    """Log and register a new version of ``name`` (aliased ``alias``); its version number."""
    import mlflow
    import skops.io
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    model = fit(flip)
    example = training_frame().head(3)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature(training_frame(), model.predict_proba(example)),
            input_example=example,
            registered_model_name=name,
            pyfunc_predict_fn="predict_proba",
            serialization_format="skops",  # as the pipelines log models: no pickle
            skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(model)),
        )
    version = str(info.registered_model_version)
    if alias:
        MlflowClient(tracking_uri=tracking_uri).set_registered_model_alias(name, alias, version)
    return version


def sample_rows(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """JSON rows for the endpoint (NaN visibility → null, as a client sends a missing value)."""
    rows = training_frame(n, seed).to_dict(orient="records")
    for row in rows:
        row["distance"], row["sched_hour"] = int(row["distance"]), int(row["sched_hour"])
        if row["wx_visib"] != row["wx_visib"]:
            row["wx_visib"] = None
    return rows
