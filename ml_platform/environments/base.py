"""What an environment is: where storage, MLflow, exports and sources live, and which resources
the pipelines get. Local and production are instances of it (``local.py``, ``production.py``)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import dagster as dg

from ml_platform.features.engine import feature_engine
from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.integrations.notify import notifier_from_env
from ml_platform.integrations.spark import PARTITION_MIB
from ml_platform.io.export import LocalExportTarget
from ml_platform.io.storage import LocalJsonIOManager, LocalParquetIOManager
from ml_platform.sources.base import DataSource, build_source
from ml_platform.specs.models import PipelineSpec

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
    feature_processes: int = 0  # pandas engine; 0: the CPUs available (features/processes.py)
    spark_partition_mib: int = PARTITION_MIB  # Spark: input MiB per shuffle partition; 0: the session's

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
        """The spec's source resource, built by its registered kind (paths relative to ``home``)."""
        return build_source(spec.source, self.home)

    def resources(self, specs: Sequence[PipelineSpec]) -> Mapping[str, Any]:
        resources: dict[str, Any] = {
            "io_manager": LocalParquetIOManager(base_dir=str(self.home / "storage")),
            "json_io_manager": LocalJsonIOManager(base_dir=str(self.home / "storage")),
            "mlflow": self.mlflow(),
            "export_target": LocalExportTarget(path=str(self.home / "exports")),
            "feature_engine": feature_engine(
                self.feature_engine,
                self.spark_master,
                processes=self.feature_processes,
                spark_partition_mib=self.spark_partition_mib,
            ),
            "notifier": notifier_from_env(os.environ, self.dagster_ui_url),
        }
        for spec in specs:
            resources[f"{spec.name}_source"] = self.source(spec)
        return resources

    def train_executor(self) -> dg.ExecutorDefinition | None:
        """Executor of the training job; None: the run executor."""
        return None

    def run_executor(self) -> dg.ExecutorDefinition | None:
        """Executor of every job that names none (None: Dagster's, a process per step).

        Local: every step of a run in its run worker. On one machine a process per step costs
        more than it runs in parallel: each loads the definitions again (3-5 s here, 8 steps in
        a new day's run; docs/latency.md), and steps cannot share what the run already decoded
        (``io/table_cache.py``). A step that fails still fails its run with the step's error;
        a worker killed mid-run is failed by run monitoring as before."""
        return dg.in_process_executor
