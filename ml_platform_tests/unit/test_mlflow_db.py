"""A new local MLflow database from the per-machine template: real MLflow (SqlAlchemyStore on
SQLite) opens it without migrating, and an existing database is never touched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ml_platform.integrations.mlflow_db import ensure_local_db


def test_a_new_database_is_a_migrated_copy_mlflow_uses_as_its_own(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'home' / 'mlflow.db'}"
    assert ensure_local_db(uri) is True
    assert list((tmp_path / "cache" / "ml_platform").glob("mlflow-empty-*.db"))
    with sqlite3.connect(tmp_path / "home" / "mlflow.db") as conn:
        (location,) = conn.execute(
            "SELECT artifact_location FROM experiments WHERE experiment_id = 0"
        ).fetchone()
    assert location == str(tmp_path / "mlruns" / "0")

    from mlflow import MlflowClient
    from mlflow.store.db.utils import _get_latest_schema_revision, _get_schema_version
    from sqlalchemy import create_engine

    engine = create_engine(uri)
    assert _get_schema_version(engine) == _get_latest_schema_revision()  # nothing left to migrate
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    exp = client.create_experiment("e")
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "auc", 0.74)
    client.create_registered_model("m")
    assert client.get_run(run.info.run_id).data.metrics == {"auc": 0.74}
    assert [m.name for m in client.search_registered_models()] == ["m"]


def test_an_existing_database_is_never_replaced(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"someone's data")
    assert ensure_local_db(f"sqlite:///{db}") is False
    assert db.read_bytes() == b"someone's data"
    assert ensure_local_db("http://127.0.0.1:5000") is False
    assert not (tmp_path / "cache").exists()  # nothing made for a URI it does not handle


def test_no_alias_in_a_database_not_made_yet_is_known_without_mlflow(tmp_path: Path) -> None:
    import subprocess
    import sys

    db = tmp_path / "home" / "mlflow.db"
    code = (
        "import sys\n"
        "from ml_platform.integrations.mlflow import MlflowRegistry\n"
        f"registry = MlflowRegistry(tracking_uri='sqlite:///{db}')\n"
        "print(registry.version_by_alias('flights_delay', 'champion'), 'mlflow' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["None", "False"]
    assert not db.exists()  # nothing created for a question

    from ml_platform.integrations.mlflow import MlflowRegistry

    registry = MlflowRegistry(tracking_uri=f"sqlite:///{db}")
    registry.client()  # the database is made: the answer now comes from MLflow
    assert db.exists()
    assert registry.version_by_alias("flights_delay", "champion") is None


def test_warm_up_opens_a_local_store_and_leaves_a_server_uncalled(tmp_path: Path) -> None:
    import time

    from ml_platform.integrations.mlflow import MlflowRegistry

    db = tmp_path / "home" / "mlflow.db"
    local = MlflowRegistry(tracking_uri=f"sqlite:///{db}", artifact_root=str(tmp_path / "art"))
    local.warm_up("flights_delay")
    assert db.exists()
    assert local.client().get_experiment_by_name("flights_delay") is not None  # made, tags and all
    assert local.experiment_id("flights_delay") == local.experiment_id("flights_delay")

    server = MlflowRegistry(tracking_uri="http://127.0.0.1:9")  # nothing listens: a call would retry
    started = time.perf_counter()
    server.warm_up("flights_delay")
    assert time.perf_counter() - started < 5
    assert server._client is None
