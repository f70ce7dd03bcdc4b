"""Guards of the package layout, on the real interpreter and the installed package: every module
imports on its own (no import cycles), the core never imports a dataset plugin, and the core loads
with no plugin at all (a clear message, not a traceback). Real parts: fresh Python processes."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "ml_platform"
BIN = Path(sys.executable).parent


def _modules(package_dir: Path, package: str) -> list[str]:
    names = []
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join([package, *parts]))
    return names


# Forks one child per module from a parent that has loaded the third-party libraries but none of
# ours, so each child imports exactly one of our modules first: a cycle fails there.
_PROBE = textwrap.dedent(
    """
    import importlib, os, sys, traceback, warnings
    warnings.filterwarnings("ignore")
    import dagster, pandas, pydantic, numpy, yaml, pyarrow, requests, sqlalchemy  # third-party only
    import dagster_aws.s3, dagster_pyspark, dagster_k8s, dagster_pandera, pandera.pandas, upath
    failed = []
    for name in sys.argv[1:]:
        pid = os.fork()
        if pid == 0:
            try:
                importlib.import_module(name)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            failed.append(name)
    print("FAILED:" + ",".join(failed))
    """
)


def test_every_module_imports_on_its_own_in_a_fresh_interpreter() -> None:
    modules = [*_modules(CORE, "ml_platform"), *_modules(ROOT / "devtools", "devtools")]
    assert len(modules) > 60 and "ml_platform.pipeline.jobs" in modules
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "FAILED:", out.stderr[-4000:]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_the_core_never_imports_a_dataset_plugin_or_the_devtools() -> None:
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & {"flights_delay", "datasets"})
        for p in CORE.rglob("*.py")
        if _imports(p) & {"flights_delay", "datasets"}
    }
    assert offenders == {}
    # the CLI may start the demo feeders, lazily; nothing else in the runtime package touches them
    uses_devtools = sorted(str(p.relative_to(ROOT)) for p in CORE.rglob("*.py") if "devtools" in _imports(p))
    assert uses_devtools == ["ml_platform/ops/cli.py"]


def test_the_pipeline_package_init_is_empty_of_code() -> None:
    tree = ast.parse((CORE / "pipeline" / "__init__.py").read_text())
    assert [type(n).__name__ for n in tree.body] == ["Expr"]  # the docstring only


# Hides every ml_platform.* entry point (what an install without any dataset plugin sees).
_NO_PLUGINS = textwrap.dedent(
    """
    import importlib.metadata as md
    _real = md.entry_points
    def entry_points(**params):
        if str(params.get("group", "")).startswith("ml_platform."):
            return md.EntryPoints(())
        return _real(**params)
    md.entry_points = entry_points
    """
)


@pytest.fixture
def no_plugins(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_NO_PLUGINS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_PLATFORM")}
    return {**env, "PYTHONPATH": str(site), "ML_PLATFORM_HOME": str(tmp_path / "home")}


def test_the_core_loads_with_no_dataset_plugin(no_plugins: dict[str, str], tmp_path: Path) -> None:
    probe = (
        "from ml_platform.registry import SOURCES, FEATURE_BUILDERS, ESTIMATORS, CHANNELS\n"
        "print(SOURCES.names(), FEATURE_BUILDERS.names(), ESTIMATORS.names(), CHANNELS.names())\n"
        "from ml_platform.specs import SpecError, configured_specs\n"
        "try:\n"
        "    configured_specs()\n"
        "except SpecError as exc:\n"
        "    print('SpecError:', exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=no_plugins,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == (
        "['http', 'landing_dir', 's3', 'sql'] ['columns', 'transforms'] "
        "['hist_gradient_boosting', 'linear', 'random_forest'] ['email', 'slack', 'webhook']"
    )
    assert lines[1].startswith("SpecError: no pipeline specs: set ML_PLATFORM_SPEC_DIR")


def test_the_cli_without_specs_answers_in_one_line(no_plugins: dict[str, str], tmp_path: Path) -> None:
    out = subprocess.run(
        [str(BIN / "ml-platform"), "status"],
        cwd=tmp_path,
        env={**no_plugins, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "Traceback" not in out.stderr + out.stdout
    assert out.stderr.strip().splitlines() == [
        "ml-platform: no pipeline specs: set ML_PLATFORM_SPEC_DIR to a directory of *.yaml specs, "
        "or install a dataset plugin that ships some (see docs/extending.md)"
    ]
