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


def test_logging_a_model_skips_mlflows_scan_and_keeps_its_signature_and_pins(tmp_path) -> None:
    """``MlflowRegistry.log_trained_model`` in a fresh process: the model's requirements are the
    installed versions and its inputs the training frame's columns but the target, all optional,
    with the types MLflow infers; MLflow's module→distribution map (its requirement check, as it
    saves the model and as it loads it back for the input example) was never built; the hooks are
    MLflow's own again afterwards, and a check MLflow makes later still runs."""
    log = (
        "import json, sys, mlflow.pyfunc\n"
        "from mlflow.models import Model, infer_signature\n"
        "from mlflow.utils import environment, requirements_utils as r\n"
        "from ml_platform.integrations.mlflow import MlflowRegistry\n"
        "from ml_platform_tests import serving_models as sm\n"
        "hooks = (environment.warn_dependency_requirement_mismatches,"
        " mlflow.pyfunc.warn_dependency_requirement_mismatches)\n"
        "frame = sm.training_frame().assign(late=lambda f: (f.sched_hour > 15).astype(int))\n"
        f"reg = MlflowRegistry(tracking_uri='sqlite:///{tmp_path}/mlflow.db', artifact_root='{tmp_path}/art')\n"
        "out = reg.log_trained_model(experiment='e', model_name='m', model=sm.fit(), task='classification',"
        " params={}, metrics={}, tags={}, train_frame=frame, target='late',"
        " input_example=frame.drop(columns=['late']).head(3))\n"
        "print('map built', r._MODULES_TO_PACKAGES is not None)\n"
        "print('hooks restored', hooks == (environment.warn_dependency_requirement_mismatches,"
        " mlflow.pyfunc.warn_dependency_requirement_mismatches))\n"
        "local = mlflow.artifacts.download_artifacts(artifact_uri=out['model_uri'])\n"
        "sig = Model.load(local + '/MLmodel').signature\n"
        "print('inputs', json.dumps([(c.name, str(c.type), c.required) for c in sig.inputs.inputs]))\n"
        "print('expected', json.dumps([(c.name, str(c.type), False) for c in"
        " infer_signature(frame.drop(columns=['late'])).inputs.inputs]))\n"
        "print('outputs', [str(c.type) for c in sig.outputs.inputs])\n"
        "print('requirements', json.dumps(open(local + '/requirements.txt').read().split()))\n"
        "environment.warn_dependency_requirement_mismatches(['numpy==0.0.1'])\n"
    )
    done = subprocess.run([sys.executable, "-c", log], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert lines["map"] == "built False"
    assert lines["hooks"] == "restored True"
    assert lines["inputs"] == lines["expected"]
    assert '"distance"' in lines["inputs"] and '"late"' not in lines["inputs"]
    assert lines["outputs"] == "['float64']"  # predict_proba's array, as MLflow infers it
    pins = {f"{name}=={version(name)}" for name in ("mlflow", "numpy", "pandas", "scikit-learn", "skops")}
    assert pins <= set(__import__("json").loads(lines["requirements"]))
    # MLflow's own check, called once the logging is over, runs again and names the mismatch
    assert "numpy==0.0.1" in done.stderr
