"""Multiclass end to end on a real public dataset: the seattle_weather_multiclass spec (YAML only, five
classes of vega_datasets' seattle-weather.csv) through the platform's Dagster assets, a Dagster test
instance and a SQLite MLflow registry: ingest 2012–2015, train, evaluate, gate, deploy, score a day,
serve. The champion's holdout metrics equal plain scikit-learn's on the same time split
(bench/seattle_weather_multiclass_baseline.py), so the platform's macro AUC is scikit-learn's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from bench.seattle_weather_baseline import data_file
from bench.seattle_weather_multiclass_baseline import CLASSES, baselines
from ml_platform.specs import parse_spec

SPEC = (
    Path(__file__).resolve().parents[2] / "datasets" / "seattle_weather" / "seattle_weather_multiclass.yaml"
)
NAME = "seattle_weather_multiclass"
PLAIN = "LogisticRegression(C=1, max_iter=1000) on scaled features"


def publish(landing: Path) -> None:
    """The package's file as the spec's landing layout: one CSV per day, values as written."""
    lines = data_file().read_text().splitlines()
    folder = landing / "weather"
    folder.mkdir(parents=True)
    for line in lines[1:]:
        day = line.split(",", 1)[0].replace("/", "-")
        (folder / f"{day}.csv").write_text(f"{lines[0]}\n{line}\n")


@pytest.fixture(scope="module")
def world(make_world, tmp_path_factory):  # type: ignore[no-untyped-def]
    landing = tmp_path_factory.mktemp("landing")
    publish(landing)
    raw = yaml.safe_load(SPEC.read_text())
    raw["source"]["options"]["path"] = str(landing)
    w = make_world(parse_spec(raw), "multiclass")
    assert w.life.ingest("2012-01-01", "2015-12-31").success
    trained = w.life.train(reason="test: first")
    assert trained.success
    assert w.life.tick_deploy_sensor().run_ids  # passed the gate: deployed
    return w


def stored(world, *parts: str) -> Path:  # type: ignore[no-untyped-def]
    return Path(world.env.home, "storage", NAME, *parts)


def report(world) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(stored(world, "evaluation_report.json").read_text())


def test_champion_matches_plain_sklearn_on_the_same_time_split(world) -> None:  # type: ignore[no-untyped-def]
    champion = world.registry.version_by_alias(NAME, "champion")
    assert champion is not None and str(champion.version) == "1"
    plain, (n_train, n_holdout) = baselines()
    got = report(world)
    challenger = got["metrics"]["challenger"]
    assert challenger["n"] == n_holdout and got["train_rows"] == n_train
    for metric, value in plain[PLAIN].items():
        assert challenger[metric] == pytest.approx(value, abs=1e-6), metric
    # the naive baseline is the training window's class shares, scored the same way
    naive = plain["class shares of the training window (the platform's naive baseline)"]
    for metric, value in naive.items():
        assert got["metrics"]["baseline"][metric] == pytest.approx(value, abs=1e-9), metric
    lo, hi = got["ci"]["challenger"]["roc_auc_macro"]
    assert lo < challenger["roc_auc_macro"] < hi
    assert got["gate"]["decision"] == "passed"
    metrics = world.registry.run_metrics(champion.run_id)
    assert metrics["holdout_roc_auc_macro"] == pytest.approx(plain[PLAIN]["roc_auc_macro"], abs=5e-5)


def test_report_has_per_class_metrics_and_multiclass_plots(world) -> None:  # type: ignore[no-untyped-def]
    got = report(world)
    rows = {r["class"]: r for r in got["per_class"]["challenger"]}
    assert list(rows) == CLASSES
    frame = pd.read_csv(data_file())
    holdout = frame[frame["date"] >= "2015"]
    for name, row in rows.items():
        assert row["support"] == int((holdout["weather"] == name).sum())
    assert rows["snow"]["support"] == 0 and rows["snow"]["roc_auc"] is None  # no snow in 2015
    assert sum(r["predicted"] for r in rows.values()) == len(holdout)
    assert {p.rsplit("/", 1)[-1] for p in got["plots"]} == {
        "confusion_matrix.png",
        "per_class.png",
        "roc_one_vs_rest.png",
        "slices.png",
    }
    run = world.registry.version_by_alias(NAME, "champion").run_id
    card = world.registry.model_version(NAME, "1").description
    assert "| sun | 180 |" in card  # the model card's per-class table
    assert world.registry.load_json(run, "evaluation/per_class.json")["challenger"][0]["class"] == "sun"


def test_a_scored_day_records_the_predicted_class_and_every_probability(world) -> None:  # type: ignore[no-untyped-def]
    job = world.defs.resolve_job_def(f"{NAME}_score")
    result = job.execute_in_process(instance=world.instance, partition_key="2015-06-01", raise_on_error=False)
    assert result.success
    preds = pd.read_parquet(stored(world, "predictions", "2015-06-01.parquet"))
    proba = preds[[f"proba_{c}" for c in CLASSES]].to_numpy()
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert preds["predicted_class"].tolist() == [CLASSES[int(np.argmax(proba[0]))]]
    assert preds["score"].iloc[0] == pytest.approx(proba[0].max())
    features = pd.read_parquet(stored(world, "features", "2015-06-01.parquet"))
    model = world.registry.load_sklearn(f"models:/{NAME}/1")
    cols = ["precipitation", "temp_max", "temp_min", "wind"]
    assert proba == pytest.approx(model.predict_proba(features[cols]))


def test_served_model_answers_per_class_probabilities_named_by_class(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from ml_platform.serving.app import create_app
    from ml_platform.serving.holder import ModelHolder
    from ml_platform.serving.prediction_log import PredictionLog

    holder = ModelHolder(world.registry.tracking_uri, NAME)
    assert holder.refresh() is True
    rows = [
        {"precipitation": 0.0, "temp_max": 28.0, "temp_min": 15.0, "wind": 2.0},
        {"precipitation": 20.0, "temp_max": 8.0, "temp_min": 4.0, "wind": 6.0},
    ]
    try:
        with TestClient(create_app(holder, PredictionLog(tmp_path))) as client:
            answer = client.post("/predict", json={"rows": rows})
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["classes"] == CLASSES
            assert [len(p) for p in body["predictions"]] == [5, 5]
            assert np.allclose([sum(p) for p in body["predictions"]], 1.0)
            assert body["predicted_classes"][0] == "sun" and body["predicted_classes"][1] == "rain"
            assert client.get("/version").json()["classes"] == CLASSES
    finally:
        holder.stop()


def test_live_performance_of_a_scored_week_records_each_day_against_the_champion(world) -> None:  # type: ignore[no-untyped-def]
    """A week scored as one run: ``live_performance`` joins each day's class probabilities to its
    outcome and reads the champion's macro-AUC references from MLflow. A Seattle day is one row,
    fewer than ``monitoring.performance.min_rows``: every day is counted, none judged."""
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from ml_platform.ml.monitoring import daily_worst_key

    days = [f"2015-07-{d:02d}" for d in range(6, 13)]
    result = world.defs.resolve_job_def(f"{NAME}_score").execute_in_process(
        instance=world.instance,
        tags={ASSET_PARTITION_RANGE_START_TAG: days[0], ASSET_PARTITION_RANGE_END_TAG: days[-1]},
        raise_on_error=False,
    )
    assert result.success
    assert world.spec.monitoring.performance.min_rows > 1
    metrics = world.registry.run_metrics(world.registry.version_by_alias(NAME, "champion").run_id)
    pooled = metrics["holdout_roc_auc_macro"]
    reference = metrics.get(daily_worst_key("roc_auc_macro"), pooled)
    frame = pd.read_csv(data_file())
    for day in days:
        preds = pd.read_parquet(stored(world, "predictions", f"{day}.parquet"))
        assert len(preds) == 1 and preds["predicted_class"].iloc[0] in CLASSES
        live = pd.read_parquet(stored(world, "live_performance", f"{day}.parquet")).iloc[0]
        assert (live["rows"], live["labelled"], bool(live["labels_known"])) == (1, 1, False)
        assert live["model_version"] == "1" and "roc_auc_macro" not in live.index
        assert np.isnan(live["roc_auc_macro_lo"]) and np.isnan(live["roc_auc_macro_hi"])
        assert live["holdout_roc_auc_macro"] == pytest.approx(pooled)
        assert live["reference_roc_auc_macro"] == pytest.approx(reference)
        assert int((frame["date"] == day.replace("-", "/")).sum()) == 1  # the day's one row, labelled
    events = result.asset_materializations_for_node(f"{NAME}__live_performance")
    assert sorted(e.partition for e in events) == days
    assert all(e.metadata["labelled"].value == 1 for e in events)
    decay = [e for e in result.get_asset_check_evaluations() if e.check_name == "performance_decay"]
    assert len(decay) == 1 and decay[0].passed
    assert decay[0].description == "not judged: no labels known yet"
    assert decay[0].metadata["days_judged"].value == 0
