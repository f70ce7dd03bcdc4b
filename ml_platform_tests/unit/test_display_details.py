"""What operators read, as pure functions: the training reason from a run's tags, rounded metrics,
code versions from the spec and the source, the Markdown links MLflow renders, and MLflow links that
open the classic ML view. No servers; the registry resource is built but never connects."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from ml_platform.integrations.mlflow import MlflowRegistry
from ml_platform.ml.metrics import tidy
from ml_platform.ml.model_card import model_card, model_description, model_tags, run_note
from ml_platform.pipeline.assets.run_reason import training_reason
from ml_platform.pipeline.code_versions import (
    STAGES,
    asset_code_version,
    plugin_modules,
    source_hash,
    spec_hash,
)
from ml_platform.pipeline.names import PipelineNames as Pipeline
from ml_platform_tests.helpers import short_flights_spec


@pytest.mark.parametrize(
    ("configured", "tags", "expected"),
    [
        (None, {}, "manual: launched from the UI/CLI"),
        (None, {"dagster/backfill": "xyz"}, "manual: backfill xyz launched from the UI/CLI"),
        (
            None,
            {"dagster/schedule_name": "fd_weekly_retrain"},
            "scheduled retrain (schedule fd_weekly_retrain)",
        ),
        ("3 new partitions", {"dagster/sensor_name": "fd_retrain"}, "3 new partitions (sensor fd_retrain)"),
        ("try a deeper tree", {}, "try a deeper tree"),
    ],
)
def test_training_reason_names_what_launched_the_run(configured, tags, expected) -> None:  # type: ignore[no-untyped-def]
    assert training_reason(configured, tags) == expected


def test_metrics_for_people_have_four_decimals() -> None:
    assert tidy(0.7123456789012345) == 0.7123
    assert tidy(37521.000001) == 37521.0
    assert tidy(float("nan")) != tidy(float("nan"))  # NaN stays NaN


def test_code_versions_follow_the_spec_section_and_the_source(tmp_path: Path) -> None:
    spec = short_flights_spec()
    pipeline, deeper = Pipeline(spec), Pipeline(short_flights_spec(estimator={"params": {"max_depth": 9}}))
    model, raw = pipeline.model_key, pipeline.raw_key(spec.main_table)
    assert asset_code_version(pipeline, model) != asset_code_version(deeper, model)
    assert asset_code_version(pipeline, raw) == asset_code_version(deeper, raw)  # raw reads no estimator
    assert spec_hash(spec, ["gate"]) == spec_hash(deeper.spec, ["gate"]) != spec_hash(spec)
    # the source: editing a module changes its hash
    (tmp_path / "mlp_probe_mod.py").write_text("X = 1\n")
    sys.path.insert(0, str(tmp_path))
    try:
        importlib.invalidate_caches()
        before = source_hash(["mlp_probe_mod"])
        (tmp_path / "mlp_probe_mod.py").write_text("X = 2\n")
        assert source_hash(["mlp_probe_mod"]) != before
    finally:
        sys.path.remove(str(tmp_path))


def test_every_module_named_for_code_versions_exists() -> None:
    """A renamed module would silently stop counting towards its asset's code version; the spec's
    feature builder and source kind count too, wherever a plugin registers them from."""
    for stage, (_, modules) in STAGES.items():
        for name in modules:
            assert importlib.util.find_spec(name) is not None, f"{stage}: {name} not found"
    spec = short_flights_spec()
    features, raw = plugin_modules(spec, "features"), plugin_modules(spec, "raw")
    assert features and all(importlib.util.find_spec(m) for m in features), features
    assert raw and all(importlib.util.find_spec(m) for m in raw), raw


def test_mlflow_links_open_the_classic_view() -> None:
    registry = MlflowRegistry(tracking_uri="sqlite:///unused.db", ui_url="http://h:5000/")
    assert registry.run_url("3", "r") == "http://h:5000/#/experiments/3/runs/r?workflowType=machine_learning"
    assert (
        registry.version_url("m", "2") == "http://h:5000/#/models/m/versions/2?workflowType=machine_learning"
    )
    assert registry.models_url() == "http://h:5000/#/models?workflowType=machine_learning"
    assert registry.artifact_url("3", "r", "evaluation/plots/roc.png") == (
        "http://h:5000/#/experiments/3/runs/r/artifacts/evaluation/plots/roc.png?workflowType=machine_learning"
    )
    assert MlflowRegistry(tracking_uri="sqlite:///unused.db").run_url("3", "r") is None


def test_run_note_and_model_card_links_are_markdown_links() -> None:
    note = run_note(
        "m v2", {"Dagster run that trained it": "http://d/runs/abc", "missing": None}, ["reason: x"]
    )
    assert note == "**m v2**\n\n- reason: x\n- [Dagster run that trained it](http://d/runs/abc)\n"
    spec = short_flights_spec()
    metrics = {"roc_auc": 0.71, "n": 100.0}
    report = {
        "model_name": "flights_delay",
        "challenger_version": "2",
        "holdout_window": "a..b",
        "metrics": {"challenger": metrics, "baseline": {**metrics, "roc_auc": 0.5}},
        "ci": {},
    }
    card = model_card(
        spec,
        report,
        False,
        ["does not beat champion"],
        {"Dagster run that trained it": "http://d/runs/abc"},
        ["evaluation/plots/roc.png", "evaluation/plots/slices.png"],
        {"evaluation/plots/roc.png": "http://m/#/x/artifacts/evaluation/plots/roc.png"},
    )
    assert "- [`evaluation/plots/roc.png`](http://m/#/x/artifacts/evaluation/plots/roc.png)" in card
    assert "- `evaluation/plots/slices.png`\n" in card  # no URL: no dead link
    assert "- [Dagster run that trained it](http://d/runs/abc)" in card


def test_registered_model_description_and_tags_come_from_the_spec() -> None:
    spec = short_flights_spec()
    text = model_description(spec)
    assert text.startswith(spec.description.strip()) and "Owners: team:ml-platform" in text
    tags = model_tags(spec, spec_hash(spec))
    assert tags == {
        "task": "classification",
        "target": spec.target.name,
        "owners": "team:ml-platform",
        "pipeline_spec": "flights_delay",
        "spec_hash": spec_hash(spec),
        "estimator": spec.estimator.kind,
    }


def test_boosting_fit_reports_about_ten_progress_lines_and_keeps_its_params() -> None:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from ml_platform.ml.fit_progress import fit_progress

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(500, 3)), rng.integers(0, 2, 500)
    model = HistGradientBoostingClassifier(max_iter=30, early_stopping=False)
    lines: list[str] = []
    with fit_progress(model, lines.append) as reports:
        model.fit(X, y)
    assert reports and model.get_params()["verbose"] == 0
    iterations = [m for m in lines if m.startswith("fit: iteration ")]
    assert [m.split(" (")[0] for m in iterations] == [
        f"fit: iteration {i}/30" for i in (1, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30)
    ]
    with fit_progress(object(), lines.append) as other:
        assert other is False
