"""Definitions load the way Dagster's tools load them: the real `dagster` CLI on workspace.yaml,
and a fresh interpreter importing the module (no environment reads or heavy imports at import)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from ml_platform.definitions import defs

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_definitions_resolve_every_job_sensor_and_schedule(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ML_PLATFORM_HOME", str(tmp_path))
    loaded = defs()
    assert isinstance(loaded, dg.Definitions)
    assert {j.name for j in loaded.resolve_all_job_defs()} >= {
        "flights_delay_ingest",
        "flights_delay_train",
        "flights_delay_deploy",
    }
    assert (
        loaded.resolve_sensor_def("flights_delay_deploy_sensor").default_status
        == dg.DefaultSensorStatus.RUNNING
    )
    schedules = {
        n: loaded.resolve_schedule_def(n)
        for n in ("flights_delay_weekly_retrain", "flights_delay_daily_ingest")
    }
    assert schedules["flights_delay_weekly_retrain"].cron_schedule == "0 3 * * 1"
    assert schedules["flights_delay_daily_ingest"].default_status == dg.DefaultScheduleStatus.STOPPED
    check_keys = {k.name for k in loaded.resolve_asset_graph().asset_check_keys}
    assert {"deploy_gate", "contract", "quarantine_share", "unique_key"} <= check_keys
    # local: a run's steps in its run worker (no process per step, which reloads the definitions)
    executors = {j.name: j.executor_def.name for j in loaded.resolve_all_job_defs()}
    assert executors["flights_delay_ingest_and_score"] == "in_process", executors
    assert set(executors.values()) == {"in_process"}, executors


def test_dagster_cli_validates_the_workspace(tmp_path) -> None:
    env = {**os.environ, "ML_PLATFORM_HOME": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    out = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Validation successful" in out.stdout + out.stderr


def test_import_reads_no_environment_and_loads_no_heavy_libraries(tmp_path) -> None:
    probe = (
        "import os, sys\n"
        "class Spy(dict):\n"
        "    def __getitem__(self, k):\n"
        "        if k.startswith('ML_PLATFORM'): raise SystemExit('env read at import: ' + k)\n"
        "        return super().__getitem__(k)\n"
        "    def get(self, k, d=None):\n"
        "        if k.startswith('ML_PLATFORM'): raise SystemExit('env read at import: ' + k)\n"
        "        return super().get(k, d)\n"
        "os.environ = Spy(os.environ)\n"
        "import ml_platform.definitions\n"
        "print(sorted(m for m in ('mlflow', 'sklearn', 'pandera', 'matplotlib') if m in sys.modules))\n"
        # pyspark's Python package is imported (~0.2 s, the FeatureEngine resource's field type) but
        # no JVM starts until a Spark step runs (LazyPySparkResource):
        "from pyspark import SparkContext\n"
        "assert SparkContext._active_spark_context is None, 'a SparkContext started at import'\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"  # heavy libraries load when a step runs, not at definitions load
