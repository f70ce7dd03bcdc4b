"""Environment selection as data (no servers): ``ML_PLATFORM_ENV`` picks local or production once;
production resources carry ``dg.EnvVar``s (resolved where a step runs), not values; missing or bad
settings fail with the variable's name."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from ml_platform.environments import current_environment
from ml_platform.environments.production import ProductionEnvironment
from ml_platform.io.s3 import S3JsonIOManager, S3ParquetIOManager
from ml_platform.io.storage import LocalParquetIOManager
from ml_platform_tests.helpers import short_flights_spec

PROD = {
    "ML_PLATFORM_ENV": "production",
    "MLFLOW_TRACKING_URI": "http://mlflow:5000",
    "ML_PLATFORM_S3_BUCKET": "bucket",
    "ML_PLATFORM_S3_ENDPOINT_URL": "http://minio:9000",
    "AWS_SECRET_ACCESS_KEY": "s3cr3t",
}


def test_local_is_the_default(tmp_path: Path) -> None:
    env = current_environment({"ML_PLATFORM_HOME": str(tmp_path)})
    resources = env.resources([short_flights_spec()])
    assert env.name == "local" and env.train_executor() is None
    assert isinstance(resources["io_manager"], LocalParquetIOManager)
    assert resources["feature_engine"].default_engine == "pandas"


def test_production_resources_are_env_vars_not_values(tmp_path: Path) -> None:
    env = current_environment({**PROD, "ML_PLATFORM_HOME": str(tmp_path)})
    assert isinstance(env, ProductionEnvironment)
    resources = env.resources([short_flights_spec()])
    io = resources["io_manager"]
    assert isinstance(io, S3ParquetIOManager) and isinstance(resources["json_io_manager"], S3JsonIOManager)
    assert io.bucket == dg.EnvVar("ML_PLATFORM_S3_BUCKET")
    assert io.s3.endpoint_url == dg.EnvVar("ML_PLATFORM_S3_ENDPOINT_URL")
    assert io.s3.aws_secret_access_key == dg.EnvVar("AWS_SECRET_ACCESS_KEY")
    assert "s3cr3t" not in repr(resources)  # the secret itself never enters definitions
    assert resources["mlflow"].tracking_uri == dg.EnvVar("MLFLOW_TRACKING_URI")
    assert resources["feature_engine"].default_engine == "spark"
    assert env.train_executor() is not None and env.train_executor().name == "k8s"  # type: ignore[union-attr]
    assert env.schedules_running


def test_production_mlflow_outside_dagster_resolves_now(tmp_path: Path, monkeypatch) -> None:
    env = current_environment({**PROD, "ML_PLATFORM_HOME": str(tmp_path)})
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    assert env.mlflow().tracking_uri == "http://mlflow.example:5000"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ML_PLATFORM_S3_BUCKET": ""}, "needs environment variables ML_PLATFORM_S3_BUCKET"),
        ({"ML_PLATFORM_TRAIN_EXECUTOR": "celery"}, "ML_PLATFORM_TRAIN_EXECUTOR='celery'"),
        ({"ML_PLATFORM_FEATURE_ENGINE": "dask"}, "ML_PLATFORM_FEATURE_ENGINE='dask'"),
        ({"ML_PLATFORM_FEATURE_PROCESSES": "two"}, "ML_PLATFORM_FEATURE_PROCESSES='two': expected a whole"),
        (
            {"ML_PLATFORM_SPARK_PARTITION_MIB": "32MB"},
            "ML_PLATFORM_SPARK_PARTITION_MIB='32MB': expected a whole number \\(0: the session's",
        ),
        ({"ML_PLATFORM_ENV": "staging"}, "ML_PLATFORM_ENV='staging': unknown environment"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path: Path, change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        current_environment({**PROD, **change, "ML_PLATFORM_HOME": str(tmp_path)})


def test_feature_processes_reach_the_feature_engine(tmp_path: Path) -> None:
    env = current_environment(
        {
            **PROD,
            "ML_PLATFORM_FEATURE_ENGINE": "pandas",
            "ML_PLATFORM_FEATURE_PROCESSES": "3",
            "ML_PLATFORM_HOME": str(tmp_path),
        }
    )
    assert env.resources([])["feature_engine"].processes == 3
    unset = current_environment({**PROD, "ML_PLATFORM_HOME": str(tmp_path)})
    assert unset.resources([])["feature_engine"].processes == 0


def test_spark_partition_size_reaches_the_feature_engine(tmp_path: Path) -> None:
    def engine(**extra: str):  # noqa: ANN202
        env = current_environment({**PROD, "ML_PLATFORM_HOME": str(tmp_path), **extra})
        return env.resources([])["feature_engine"]

    assert engine(ML_PLATFORM_SPARK_PARTITION_MIB="8").spark_partition_mib == 8
    assert engine(ML_PLATFORM_SPARK_PARTITION_MIB="0").spark_partition_mib == 0
    assert engine().spark_partition_mib == 8
