"""``ml-platform status --spec NAME|PATH`` as a user runs it (the installed console script in a fresh
process, a temp project directory, no DAGSTER_HOME): by default every spec of ML_PLATFORM_SPEC_DIR,
with ``--spec`` only the one named, by name from that directory or by the path of a file outside it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ml_platform_tests.helpers import synthetic_regression_spec, write_spec

BIN = Path(sys.executable).parent


def _status(cwd: Path, *args: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ML_PLATFORM", "DAGSTER_HOME"))}
    env |= {"MLFLOW_ENABLE_TELEMETRY": "false", "ML_PLATFORM_SPEC_DIR": str(cwd / "specs")}
    out = subprocess.run(
        [str(BIN / "ml-platform"), "status", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    return [line for line in out.stdout.splitlines() if line.startswith("== ")]


def test_status_takes_a_spec_by_name_or_path_and_defaults_to_all(tmp_path: Path) -> None:
    base = synthetic_regression_spec(tmp_path / "landing")
    write_spec(base, tmp_path / "specs")
    write_spec(base.model_copy(update={"name": "other_demand"}), tmp_path / "specs")
    elsewhere = write_spec(base.model_copy(update={"name": "third_demand"}), tmp_path / "elsewhere")
    assert _status(tmp_path) == [
        "== other_demand (registered model 'other_demand')",
        "== synthetic_demand (registered model 'synthetic_demand')",
    ]
    assert _status(tmp_path, "--spec", "other_demand") == [
        "== other_demand (registered model 'other_demand')"
    ]
    assert _status(tmp_path, "--spec", str(elsewhere)) == [
        "== third_demand (registered model 'third_demand')"
    ]
