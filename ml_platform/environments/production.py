"""The production environment (``ML_PLATFORM_ENV=production``): the same assets on an MLflow
tracking server, Parquet/JSON on S3, Spark features and Kubernetes step pods.

Resources take their addresses and secrets as :class:`dagster.EnvVar`, resolved by Dagster in
whichever process runs the step (webserver, daemon, run pod, step pod); nothing is read at import.

==============================  ===========================================================
variable                        meaning (default)
==============================  ===========================================================
MLFLOW_TRACKING_URI             MLflow tracking server, e.g. ``http://mlflow:5000`` (required)
ML_PLATFORM_S3_BUCKET           bucket for Parquet/JSON asset storage (required)
ML_PLATFORM_S3_PREFIX           key prefix (``ml_platform/storage``)
ML_PLATFORM_S3_ENDPOINT_URL     S3 endpoint, e.g. a moto/MinIO server (AWS's default)
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN / AWS_REGION
                                credentials (else boto3's default chain, e.g. IRSA)
ML_PLATFORM_FEATURE_ENGINE      ``spark`` | ``pandas`` (``spark``); a spec's engine wins
SPARK_MASTER                    ``spark.master`` (``local[2]``); other Spark settings (e.g.
                                ``spark.driver.memory``): Spark's ``spark-defaults.conf`` in SPARK_CONF_DIR
ML_PLATFORM_SPARK_PARTITION_MIB MiB of input per shuffle partition of a Spark build (``8``; ``0``: the
                                session's ``spark.sql.shuffle.partitions``)
ML_PLATFORM_TRAIN_EXECUTOR      ``k8s`` | ``multiprocess`` | ``in_process`` (``k8s``)
ML_PLATFORM_SCHEDULES           ``on`` | ``off``: schedules start running (``on``)
ML_PLATFORM_MLFLOW_UI_URL / ML_PLATFORM_DAGSTER_UI_URL   links in metadata and MLflow tags
ML_PLATFORM_DEPLOY_LOCK_URL     SQLAlchemy URL of the deploy lock table, e.g. Dagster's Postgres
                                (required in practice: an http:// tracking server has no SQL database)
==============================  ===========================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from dagster_aws.s3 import S3Resource

from ml_platform.environments.base import Environment
from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.integrations.spark import PARTITION_MIB
from ml_platform.io.s3 import S3JsonIOManager, S3ParquetIOManager
from ml_platform.specs.models import PipelineSpec

Executor = Literal["k8s", "multiprocess", "in_process"]
REQUIRED = ("MLFLOW_TRACKING_URI", "ML_PLATFORM_S3_BUCKET")
_S3_OPTIONAL = {
    "endpoint_url": "ML_PLATFORM_S3_ENDPOINT_URL",
    "aws_access_key_id": "AWS_ACCESS_KEY_ID",
    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "aws_session_token": "AWS_SESSION_TOKEN",
    "region_name": "AWS_REGION",
}


def _value(value: str | None) -> str | None:
    return value.get_value() if isinstance(value, dg.EnvVar) else value


@dataclass(frozen=True)
class ProductionEnvironment(Environment):
    """Production resources; fields hold literals or ``dg.EnvVar``s (resolved where the step runs)."""

    tracking_uri: str = dg.EnvVar("MLFLOW_TRACKING_URI")
    s3_bucket: str = dg.EnvVar("ML_PLATFORM_S3_BUCKET")
    s3_prefix: str = "ml_platform/storage"
    s3_options: tuple[tuple[str, str], ...] = ()  # S3Resource field → EnvVar, only those set
    executor: Executor = "k8s"
    deploy_lock_url: str | None = None  # SQLAlchemy URL (EnvVar) where deploys of a model are serialized

    @property
    def mlflow_tracking_uri(self) -> str:
        return str(_value(self.tracking_uri))

    def mlflow(self) -> MlflowRegistry:
        """For use outside Dagster (status, demo): addresses resolved now."""
        return MlflowRegistry(
            tracking_uri=self.mlflow_tracking_uri,
            ui_url=self.mlflow_ui_url,
            dagster_ui_url=self.dagster_ui_url,
            lock_url=_value(self.deploy_lock_url),
        )

    def s3(self) -> S3Resource:
        return S3Resource(**dict(self.s3_options))  # type: ignore[arg-type]

    def resources(self, specs: Sequence[PipelineSpec]) -> Mapping[str, Any]:
        resources = dict(super().resources(specs))
        s3 = self.s3()
        resources.update(
            io_manager=S3ParquetIOManager(s3=s3, bucket=self.s3_bucket, prefix=self.s3_prefix),
            json_io_manager=S3JsonIOManager(s3=s3, bucket=self.s3_bucket, prefix=self.s3_prefix),
            mlflow=MlflowRegistry(
                tracking_uri=self.tracking_uri,
                ui_url=self.mlflow_ui_url,
                dagster_ui_url=self.dagster_ui_url,
                lock_url=self.deploy_lock_url,
            ),
        )
        return resources

    def run_executor(self) -> dg.ExecutorDefinition | None:
        """Dagster's default (a process per step in the run's pod): steps of a run in parallel."""
        return None

    def train_executor(self) -> dg.ExecutorDefinition | None:
        if self.executor == "k8s":
            from dagster_k8s import k8s_job_executor

            return k8s_job_executor
        if self.executor == "multiprocess":
            return dg.multiprocess_executor
        return dg.in_process_executor


def _choice(environ: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = environ.get(name, default)
    if value not in allowed:
        raise ValueError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


def _count(environ: Mapping[str, str], name: str, default: int = 0, zero: str = "the CPUs available") -> int:
    """A non-negative whole number from ``environ`` (``default`` when unset)."""
    value = environ.get(name, str(default))
    if not value.isdigit():
        raise ValueError(f"{name}={value!r}: expected a whole number (0: {zero})")
    return int(value)


def production_environment(home: str | Path, environ: Mapping[str, str]) -> ProductionEnvironment:
    """Which settings exist is decided here, once; their values stay ``EnvVar``s."""
    missing = [v for v in REQUIRED if not environ.get(v)]
    if missing:
        raise ValueError(f"ML_PLATFORM_ENV=production needs environment variables {', '.join(missing)}")
    tracking = environ["MLFLOW_TRACKING_URI"]
    s3_options = tuple((field, dg.EnvVar(var)) for field, var in _S3_OPTIONAL.items() if environ.get(var))
    return ProductionEnvironment(
        name="production",
        home=Path(home).resolve(),
        schedules_running=_choice(environ, "ML_PLATFORM_SCHEDULES", "on", ("on", "off")) == "on",
        mlflow_ui_url=environ.get("ML_PLATFORM_MLFLOW_UI_URL", tracking if "://" in tracking else ""),
        dagster_ui_url=environ.get("ML_PLATFORM_DAGSTER_UI_URL", ""),
        feature_engine=_choice(environ, "ML_PLATFORM_FEATURE_ENGINE", "spark", ("spark", "pandas")),  # type: ignore[arg-type]
        spark_master=environ.get("SPARK_MASTER", "local[2]"),
        feature_processes=_count(environ, "ML_PLATFORM_FEATURE_PROCESSES"),
        spark_partition_mib=_count(
            environ,
            "ML_PLATFORM_SPARK_PARTITION_MIB",
            PARTITION_MIB,
            "the session's spark.sql.shuffle.partitions",
        ),
        s3_prefix=dg.EnvVar("ML_PLATFORM_S3_PREFIX")
        if environ.get("ML_PLATFORM_S3_PREFIX")
        else "ml_platform/storage",
        s3_options=s3_options,
        deploy_lock_url=dg.EnvVar("ML_PLATFORM_DEPLOY_LOCK_URL")
        if environ.get("ML_PLATFORM_DEPLOY_LOCK_URL")
        else None,
        executor=_choice(environ, "ML_PLATFORM_TRAIN_EXECUTOR", "k8s", ("k8s", "multiprocess", "in_process")),  # type: ignore[arg-type]
    )
