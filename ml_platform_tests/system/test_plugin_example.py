"""The worked plugin of docs/extending.md, installed for real (``pip install --target``, no network)
and used from a fresh interpreter: its source kind, feature builder, estimator kind and notification
channel reach the platform through entry points only, and a spec using them ingests, featurizes
and trains on a real local Dagster instance and MLflow. Real parts: pip, Python, Dagster, MLflow."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "ml_platform_tsv"

_DRIVER = textwrap.dedent(
    """
    import datetime as dt, sys, warnings
    from pathlib import Path
    warnings.filterwarnings("ignore")
    import dagster as dg
    import numpy as np, pandas as pd
    from ml_platform.definitions import build_definitions
    from ml_platform.environments import local_environment
    from ml_platform.ops.lifecycle import Lifecycle
    from ml_platform.pipeline.names import PipelineNames
    from ml_platform.registry import CHANNELS, ESTIMATORS, FEATURE_BUILDERS, SOURCES
    from ml_platform.specs import parse_spec

    home = Path(sys.argv[1])
    print("origin", SOURCES.origin("tsv_dir"), FEATURE_BUILDERS.origin("price_ratio"))
    print("names", "tree" in ESTIMATORS.names(), "logfile" in CHANNELS.names())
    landing = home / "landing" / "sales"
    landing.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for d in range(12):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=d)
        price = rng.uniform(1, 10, 20)
        frame = pd.DataFrame({"store": [f"s{i}" for i in range(20)], "year": day.year, "month": day.month,
                              "day": day.day, "price": price, "units": 60 - 4 * price})
        frame.to_csv(landing / f"{day}.tsv", sep="\\t", index=False)
    spec = parse_spec({
        "name": "tsv_demand", "task": "regression",
        "source": {"kind": "tsv_dir", "options": {"path": str(home / "landing")}},
        "partitioning": {"start": "2024-01-01", "end": "2024-01-12"},
        "main_table": {"name": "sales", "table": "sales", "primary_key": ["store", "year", "month", "day"],
                       "columns": {"store": {"dtype": "str"}, "year": {"dtype": "int"},
                                   "month": {"dtype": "int"}, "day": {"dtype": "int"},
                                   "price": {"dtype": "float"}, "units": {"dtype": "float"}}},
        "target": {"column": "units"},
        "features": {"builder": "price_ratio", "options": {"column": "price"},
                     "categorical": ["store"], "numeric": ["price", "price_ratio"]},
        "estimator": {"kind": "tree", "params": {"max_depth": 3}},
        "training": {"window_partitions": 9, "holdout_partitions": 3},
        "evaluation": {"bootstrap_samples": 0, "smoke_sample_rows": 5},
        "gate": {"metric": "rmse", "max_value": 100.0},
    })
    env = local_environment(home)
    (home / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
        defs = build_definitions([spec], env)
        life = Lifecycle(defs, instance, PipelineNames(spec), log_level="CRITICAL")
        print("ingest", life.ingest("2024-01-01", "2024-01-12").success)
        print("train", life.train(reason="plugin example").success)
    model = env.mlflow().load_sklearn("models:/tsv_demand@challenger")
    print("estimator", type(model.steps[-1][1]).__name__)
    """
)


def test_a_plugin_installed_by_pip_extends_every_registry_without_edits(tmp_path: Path) -> None:
    site = tmp_path / "site"
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), str(EXAMPLE)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr
    assert list(site.glob("ml_platform_tsv-0.1.0.dist-info/entry_points.txt"))
    env = {**os.environ, "PYTHONPATH": str(site), "MLFLOW_ENABLE_TELEMETRY": "false"}
    out = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(tmp_path / "home")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in out.stdout.strip().splitlines())
    assert lines["origin"] == (
        "entry point ml_platform_tsv.source:TsvDirSource entry point ml_platform_tsv.features:PRICE_RATIO"
    )
    assert lines["names"] == "True True"
    assert lines["ingest"] == "True" and lines["train"] == "True"
    assert lines["estimator"] == "DecisionTreeRegressor"
