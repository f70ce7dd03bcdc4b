"""The ``ml-platform`` CLI as a user runs it: the installed console script in a fresh process, from a
directory with no ``DAGSTER_HOME`` exported. Real parts: the CLI, a local Dagster instance on disk,
MLflow on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ml_platform_tests.helpers import synthetic_regression_spec, write_spec

BIN = Path(sys.executable).parent


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ML_PLATFORM", "DAGSTER_HOME"))}
    return {**env, "MLFLOW_ENABLE_TELEMETRY": "false", **extra}


def test_status_finds_the_projects_local_home_without_dagster_home(tmp_path: Path) -> None:
    write_spec(synthetic_regression_spec(tmp_path / "landing"), tmp_path / "specs")
    out = subprocess.run(
        [str(BIN / "ml-platform"), "status"],
        cwd=tmp_path,
        env=_env(ML_PLATFORM_SPEC_DIR=str(tmp_path / "specs")),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert out.stdout.splitlines()[0] == "== synthetic_demand (registered model 'synthetic_demand')"
    assert "champion: none" in out.stdout
    made = tmp_path / ".ml_platform" / "dagster_home" / "dagster.yaml"
    assert made.exists() and "LocalSqliteStorage" in made.read_text()


def test_a_bad_spec_is_one_line_naming_the_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntask: classification\nsource: {kind: tsv_nowhere}\n")
    out = subprocess.run(
        [str(BIN / "ml-platform"), "status", "--spec", str(bad)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("ml-platform: invalid pipeline spec; ")
    assert f"{bad}: source: unknown source kind 'tsv_nowhere'" in line
    assert f"{bad}: partitioning: Field required" in line


def test_serve_with_several_specs_asks_which(tmp_path: Path) -> None:
    write_spec(synthetic_regression_spec(tmp_path / "landing"), tmp_path / "specs")
    other = synthetic_regression_spec(tmp_path / "landing").model_copy(update={"name": "other_demand"})
    write_spec(other, tmp_path / "specs")
    out = subprocess.run(
        [str(BIN / "ml-platform"), "serve", "--port", "0"],
        cwd=tmp_path,
        env=_env(ML_PLATFORM_SPEC_DIR=str(tmp_path / "specs")),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "ml-platform: serve: several specs are configured (other_demand, synthetic_demand): pass --spec NAME"
    ]
