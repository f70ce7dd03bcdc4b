"""A loaded model's environment check (``mlflow_model.environment_warnings``): what MLflow would warn
of (requirements not met, another Python), from the model's own files, without MLflow's scan of
every installed distribution; and a real logged model loading through it with no warning."""

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from ml_platform.integrations.mlflow_model import environment_warnings
from ml_platform_tests.serving_models import MODEL_NAME

RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
ROOT = Path(__file__).resolve().parents[2]


def test_unmet_and_missing_requirements_are_named_and_the_rest_pass(tmp_path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "# written by mlflow\n"
        "-c constraints.txt\n"
        f"pandas=={version('pandas')}\n"
        "numpy==0.0.1\n"
        "scikit-learn>=1.0  # a range\n"
        "surely-not-installed-pkg==1.0\n"
        "old-only==1.0; python_version < '3'\n"
        "./local/path\n"
    )
    warnings = environment_warnings(tmp_path, f"{RUNNING}.0")
    assert warnings == [
        f"requirement numpy==0.0.1: numpy {version('numpy')} is installed",
        "requirement surely-not-installed-pkg==1.0: surely-not-installed-pkg is not installed",
    ]


def test_another_python_or_none_is_named(tmp_path) -> None:
    assert environment_warnings(tmp_path, f"{RUNNING}.99") == []  # patch releases do not count
    assert environment_warnings(tmp_path, "2.7.18") == [
        f"the model was saved with Python 2.7.18, this is Python {RUNNING}"
    ]
    assert environment_warnings(tmp_path, None) == [
        f"the model names no Python version (running Python {RUNNING})"
    ]


def test_a_logged_model_loads_without_warnings_and_without_mlflows_distribution_scan(tmp_path) -> None:
    """One process logs a model as the platform does; a fresh one loads it through
    ``load_pyfunc_checked``: no warning, it predicts, and MLflow's module→distribution map, which
    its own check builds, was never built."""
    save = (
        "import sys\n"
        "from ml_platform_tests import serving_models as sm\n"
        f"sm.register('sqlite:///{tmp_path}/mlflow.db', __import__('pathlib').Path({str(tmp_path)!r}) / 'art')\n"
    )
    done = subprocess.run([sys.executable, "-c", save], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    load = (
        "import logging, sys, mlflow\n"
        "logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format='%(name)s: %(message)s')\n"
        "from mlflow.utils import requirements_utils as r\n"
        "from ml_platform.integrations.mlflow_model import load_pyfunc_checked\n"
        "from ml_platform_tests import serving_models as sm\n"
        f"mlflow.set_tracking_uri('sqlite:///{tmp_path}/mlflow.db')\n"
        f"mlflow.set_registry_uri('sqlite:///{tmp_path}/mlflow.db')\n"
        f"local = mlflow.artifacts.download_artifacts(artifact_uri='models:/{MODEL_NAME}@champion')\n"
        "model = load_pyfunc_checked(mlflow, local)\n"
        "print('scores', model.predict(sm.training_frame().head(4)).shape)\n"
        "print('map built', r._MODULES_TO_PACKAGES is not None)\n"
    )
    done = subprocess.run([sys.executable, "-c", load], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "scores (4, 2)" in done.stdout
    assert "map built False" in done.stdout
    assert "ml_platform.models" not in done.stdout and "mismatch" not in done.stdout.lower()
