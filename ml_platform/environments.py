"""Where things live: local (embedded, the default) or production-like. Chosen once, as data,
from ``ML_PLATFORM_ENV`` when definitions load (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import dagster as dg

from ml_platform.resources.export import LocalExportTarget
from ml_platform.resources.mlflow import MlflowRegistry
from ml_platform.resources.notify import notifier_from_env
from ml_platform.resources.source_factory import retry_fields
from ml_platform.resources.sources import DataSource, LandingDirSource, Nycflights13Source
from ml_platform.resources.spark import feature_engine
from ml_platform.resources.storage import LocalJsonIOManager, LocalParquetIOManager
from ml_platform.specs.models import PipelineSpec

ENV_VAR = "ML_PLATFORM_ENV"
HOME_VAR = "ML_PLATFORM_HOME"
MLFLOW_UI_VAR = "ML_PLATFORM_MLFLOW_UI_URL"  # where links to MLflow point (e.g. `make dev` on another port)
DAGSTER_UI_VAR = "ML_PLATFORM_DAGSTER_UI_URL"  # where MLflow tags link back to


@dataclass(frozen=True)
class Environment:
    name: str
    home: Path
    schedules_running: bool
    mlflow_ui_url: str = "http://127.0.0.1:5000"
    dagster_ui_url: str = "http://127.0.0.1:3000"
    feature_engine: Literal["pandas", "spark"] = "pandas"
    spark_master: str = "local[2]"

    @property
    def mlflow_tracking_uri(self) -> str:
        return f"sqlite:///{self.home / 'mlflow.db'}"

    def mlflow(self) -> MlflowRegistry:
        return MlflowRegistry(
            tracking_uri=self.mlflow_tracking_uri,
            artifact_root=str(self.home / "mlartifacts"),
            ui_url=self.mlflow_ui_url,
            dagster_ui_url=self.dagster_ui_url,
        )

    def source(self, spec: PipelineSpec) -> DataSource:
        from ml_platform.resources.source_factory import build_source

        options = spec.source.options
        if spec.source.kind == "nycflights13":
            return Nycflights13Source(data_dir=options.get("data_dir"), cache_dir=str(self.home / "cache"))
        if spec.source.kind != "landing_dir":
            return build_source(spec.source, self.home)
        path = Path(options["path"])
        return LandingDirSource(
            path=str(path if path.is_absolute() else self.home / path), **retry_fields(spec.source.retry)
        )

    def resources(self, specs: Sequence[PipelineSpec]) -> Mapping[str, Any]:
        resources: dict[str, Any] = {
            "io_manager": LocalParquetIOManager(base_dir=str(self.home / "storage")),
            "json_io_manager": LocalJsonIOManager(base_dir=str(self.home / "storage")),
            "mlflow": self.mlflow(),
            "export_target": LocalExportTarget(path=str(self.home / "exports")),
            "feature_engine": feature_engine(self.feature_engine, self.spark_master),
            "notifier": notifier_from_env(os.environ, self.dagster_ui_url),
        }
        for spec in specs:
            resources[f"{spec.name}_source"] = self.source(spec)
        return resources

    def train_executor(self) -> dg.ExecutorDefinition | None:
        """Executor of the training job; None: Dagster's default."""
        return None


def local_environment(home: str | Path) -> Environment:
    return Environment(name="local", home=Path(home).resolve(), schedules_running=False)


def with_ui_urls(env: Environment, environ: Mapping[str, str]) -> Environment:
    """The environment with UI link bases taken from ``ML_PLATFORM_{MLFLOW,DAGSTER}_UI_URL`` if set."""
    return replace(
        env,
        mlflow_ui_url=environ.get(MLFLOW_UI_VAR) or env.mlflow_ui_url,
        dagster_ui_url=environ.get(DAGSTER_UI_VAR) or env.dagster_ui_url,
    )


def current_environment(environ: Mapping[str, str] | None = None) -> Environment:
    """The environment named by ``ML_PLATFORM_ENV`` (default ``local``)."""
    environ = os.environ if environ is None else environ
    name = environ.get(ENV_VAR, "local")
    home = Path(environ.get(HOME_VAR, ".ml_platform"))
    if name == "local":
        return with_ui_urls(local_environment(home), environ)
    if name == "production":
        from ml_platform.production import production_environment

        return production_environment(home, environ)
    raise ValueError(f"{ENV_VAR}={name!r}: unknown environment (known: local, production)")


__all__ = ["Environment", "current_environment", "local_environment"]
