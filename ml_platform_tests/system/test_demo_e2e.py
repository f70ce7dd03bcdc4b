"""Whole system, as a user runs it: the `ml-platform demo` console script over a short date range on
the embedded default (SQLite Dagster instance in a temp DAGSTER_HOME, SQLite MLflow, local Parquet),
then `ml-platform status --json` reading the same instance and registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "ml-platform")


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("demo")
    (home / "dagster_home").mkdir()
    (home / "dagster_home" / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    env = {**os.environ, "ML_PLATFORM_HOME": str(home), "DAGSTER_HOME": str(home / "dagster_home")}
    out = subprocess.run(
        [CLI, "demo", "--start", "2013-01-01", "--end", "2013-02-28"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    env["DEMO_STDOUT"] = out.stdout
    env["DEMO_STDERR"] = out.stderr
    return env


def test_demo_deploys_a_champion_and_rejects_the_weakened_challenger(demo_home) -> None:
    text = demo_home["DEMO_STDOUT"]
    assert "champion: v1 deployed" in text
    assert "latest challenger: v2 gate=rejected status=rejected" in text
    assert "does not beat champion" in text
    assert "    deploy sensor: 1 deploy run(s)\n" in text  # the first passes: one deploy run, no reason
    assert "    deploy sensor: 0 deploy run(s); v2 rejected: " in text and "rejected: rejected" not in text
    assert "http://127.0.0.1:3000" in text and "http://127.0.0.1:5000" in text
    # Dagster's preview/beta warnings for what the platform uses by design are not shown to the user
    errors = demo_home["DEMO_STDERR"]
    assert "Created version '2' of model 'flights_delay'." in errors  # MLflow's own lines stay
    assert "BetaWarning" not in errors and "PreviewWarning" not in errors, errors[-2000:]


def test_status_json_reads_the_same_instance_and_registry(demo_home) -> None:
    out = subprocess.run(
        [CLI, "status", "--json"], cwd=ROOT, env=demo_home, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    (status,) = json.loads(out.stdout)
    assert status["champion"]["version"] == "1"
    assert status["champion"]["holdout_metrics"]["roc_auc"] > 0.7
    assert status["champion"]["deployed_at"]
    challenger = status["latest_challenger"]
    assert challenger["version"] == "2" and challenger["validation_status"] == "rejected"
    assert any(
        "below the threshold" in r or "does not beat" in r for r in challenger["gate_reasons"].split(" | ")
    )
    assets = status["assets"]
    assert assets["flights_delay/features"]["partition"] == "2013-02-28"
    assert assets["flights_delay/deployment"] is not None
