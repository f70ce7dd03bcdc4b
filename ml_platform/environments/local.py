"""The local environment (the default): Dagster SQLite storage, MLflow on ``sqlite:///…``, Parquet
on local disk, pandas features, everything under one home directory."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from ml_platform.environments.base import DAGSTER_UI_VAR, MLFLOW_UI_VAR, Environment


def local_environment(home: str | Path) -> Environment:
    return Environment(name="local", home=Path(home).resolve(), schedules_running=False)


def with_ui_urls(env: Environment, environ: Mapping[str, str]) -> Environment:
    """The environment with UI link bases taken from ``ML_PLATFORM_{MLFLOW,DAGSTER}_UI_URL`` if set."""
    return replace(
        env,
        mlflow_ui_url=environ.get(MLFLOW_UI_VAR) or env.mlflow_ui_url,
        dagster_ui_url=environ.get(DAGSTER_UI_VAR) or env.dagster_ui_url,
    )
