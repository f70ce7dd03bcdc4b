"""Operator commands on a user's own spec, as a user runs them: the real `ml-platform` console
script in subprocesses (validate, init, replay --from a file the vega_datasets package ships, demo
to a deployed champion, status) on a temp ML_PLATFORM_HOME with its own SQLite Dagster instance
and MLflow; errors are one line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "ml-platform")
WEATHER = ROOT / "datasets" / "seattle_weather" / "seattle_weather.yaml"
VEGA_FILE = "vega_datasets:_data/seattle-weather.csv"


def run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ML_PLATFORM_HOME": str(home),
        "DAGSTER_HOME": "",
        "MLFLOW_ENABLE_TELEMETRY": "false",
        **env,
    }
    full_env.pop("DAGSTER_HOME")
    return subprocess.run(
        [CLI, *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=600, check=False
    )


def test_validate_by_name_from_the_spec_dir_and_errors_name_file_and_field(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "seattle_weather.yaml").write_text(WEATHER.read_text())
    good = run(["validate", "--spec", "seattle_weather"], tmp_path, ML_PLATFORM_SPEC_DIR=str(specs))
    assert good.returncode == 0, good.stderr
    assert "ok: seattle_weather: classification, target 'weather', 4 features" in good.stdout
    assert good.stderr == ""  # no preview/beta warnings of what the platform uses by design

    spec = yaml.safe_load(WEATHER.read_text())
    spec["estimator"]["params"] = {"C": 1.0, "max_iters": 5}
    bad = tmp_path / "typo.yaml"
    bad.write_text(yaml.safe_dump(spec))
    out = run(["validate", str(bad)], tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert f"{bad}: estimator.params.max_iters: not a parameter of" in out.stderr
    assert "(did you mean 'max_iter'?)" in out.stderr


def test_replay_an_unknown_spec_is_one_line_not_a_stop_iteration(tmp_path: Path) -> None:
    out = run(["replay", "--to", "file", "--days", "1", "--spec", "nope"], tmp_path)
    assert out.returncode == 2, out.stderr
    assert "StopIteration" not in out.stderr and "Traceback" not in out.stderr
    assert "no spec named 'nope' in the installed plugins (known: flights_delay)" in out.stderr


def test_init_scaffolds_a_spec_that_validates_as_written(tmp_path: Path) -> None:
    sample = tmp_path / "shop_sales.csv"
    days = pd.date_range("2024-03-01", periods=30, freq="D")
    pd.DataFrame(
        {
            "when": days.strftime("%d/%m/%Y"),
            "store": [f"s{i % 3}" for i in range(30)],
            "promo": [i % 2 for i in range(30)],
            "price": [1.5 + i / 10 for i in range(30)],
            "units": [float(10 + i) if i != 7 else None for i in range(30)],
        }
    ).to_csv(sample, index=False)
    out = run(
        ["init", "--from", str(sample), "--name", "shop_sales", "--out", str(tmp_path / "shop.yaml")],
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    spec = yaml.safe_load((tmp_path / "shop.yaml").read_text())
    assert spec["partitioning"]["time"] == {"column": "when", "format": "%d/%m/%Y"}
    assert spec["partitioning"]["start"] == "2024-03-01" and spec["partitioning"]["end"] == "2024-03-30"
    columns = spec["main_table"]["columns"]
    assert columns["when"] == {"dtype": "date"}
    assert columns["promo"] == {"dtype": "int", "ge": 0, "le": 1}
    assert columns["units"]["nullable"] is True and columns["store"]["isin"] == ["s0", "s1", "s2"]
    assert spec["target"]["column"] == "units" and "REVIEW the target" in (tmp_path / "shop.yaml").read_text()
    checked = run(["validate", str(tmp_path / "shop.yaml")], tmp_path)
    assert checked.returncode == 0, checked.stderr


def test_second_dataset_from_spec_and_package_file_to_a_deployed_champion(tmp_path: Path) -> None:
    """seattle_weather, no Python: replay --from the package's CSV into the spec's landing dir, then
    `demo --spec PATH` over Jan–Apr 2015 (a time split: the last 30 days held out) deploys a champion."""
    published = run(
        [
            "replay",
            "--spec",
            str(WEATHER),
            "--from",
            VEGA_FILE,
            "--to",
            "file",
            "--start",
            "2015-01-01",
            "--days",
            "120",
        ],
        tmp_path,
    )
    assert published.returncode == 0, published.stderr
    landing = tmp_path / "landing" / "seattle_weather" / "weather"
    assert len(list(landing.glob("*.csv"))) == 120
    assert (landing / "2015-02-01.csv").read_text().splitlines()[1].startswith("2015/02/01,")

    demo = run(["demo", "--spec", str(WEATHER), "--start", "2015-01-01", "--end", "2015-04-30"], tmp_path)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "champion: v1 deployed" in demo.stdout, demo.stdout[-3000:]
    assert "gate rejected it" in demo.stdout  # the crippled LogisticRegression(C=1e-4, max_iter=3)
