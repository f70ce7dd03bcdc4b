"""Multiclass on the pure parts: the metrics against scikit-learn's own, the bootstrap, the gate, the
plots' numbers, predictions frames and live performance, the spec's validation of classes and metric
names, and a label outside target.classes named by column and field (or quarantined with isin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

from ml_platform.ml import metrics_multiclass as mc
from ml_platform.ml.cleaning import PARTITION_COLUMN, REASONS_COLUMN, clean_table
from ml_platform.ml.features import build_features
from ml_platform.ml.gate import decide
from ml_platform.ml.metrics import bootstrap_ci, point_metrics, slice_metrics
from ml_platform.ml.model_factory import predict_scores, top_score
from ml_platform.ml.monitoring import daily_reference, day_performance, predictions_frame, scores_of
from ml_platform.ml.plot_data import confusion_series, per_class_series, roc_ovr_series
from ml_platform.ml.plots import evaluation_plots
from ml_platform.specs import SpecError, load_spec
from ml_platform.specs.models import GateSpec
from ml_platform_tests.unit.test_spec_any_dataset import base_spec, spec_error, write

CLASSES = ["a", "b", "c"]


def sample(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels 0..2 and informative, imperfect class probabilities."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3)) + 1.5 * np.eye(3)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y.astype(float), p


# -- metrics


def test_multiclass_metrics_equal_scikit_learns() -> None:
    y, p = sample()
    got = point_metrics("multiclass", y, p)
    assert got["roc_auc_macro"] == pytest.approx(roc_auc_score(y, p, multi_class="ovr", average="macro"))
    assert got["log_loss"] == pytest.approx(log_loss(y, p, labels=[0, 1, 2]))
    assert got["accuracy"] == pytest.approx(accuracy_score(y, p.argmax(axis=1)))
    assert got["f1_macro"] == pytest.approx(f1_score(y, p.argmax(axis=1), average="macro"))
    assert got["n"] == 600


def test_macro_auc_averages_the_classes_the_rows_hold() -> None:
    y, p = sample()
    four = np.hstack([p * 0.9, np.full((len(p), 1), 0.1)])  # a 4th class that never occurs
    got = mc.multiclass_metrics(y, four)["roc_auc_macro"]
    assert got == pytest.approx(np.mean([roc_auc_score(y == c, four[:, c]) for c in range(3)]))


def test_ties_count_one_half_as_in_scikit_learn() -> None:
    y, p = sample(200)
    rounded = np.round(p, 1)  # many ties
    assert mc.multiclass_metrics(y, rounded)["roc_auc_macro"] == pytest.approx(
        np.mean([roc_auc_score(y == c, rounded[:, c]) for c in range(3)])
    )


def test_weighted_metrics_equal_the_metrics_of_the_repeated_rows() -> None:
    y, p = sample(300)
    counts = np.random.default_rng(1).multinomial(300, np.full(300, 1 / 300)).astype(float)
    idx = np.repeat(np.arange(300), counts.astype(int))
    weighted = mc.weighted_metrics(mc.prepare(y, p), counts)
    repeated = mc.multiclass_metrics(y[idx], p[idx])
    assert weighted == pytest.approx(repeated)


def test_bootstrap_interval_brackets_the_point_and_narrows_with_rows() -> None:
    y, p = sample(2000)
    point = point_metrics("multiclass", y, p)
    wide = bootstrap_ci("multiclass", y[:200], p[:200], 200)
    narrow = bootstrap_ci("multiclass", y, p, 200)
    for name in mc.NAMES:
        lo, hi = narrow[name]
        assert lo < point[name] < hi
        assert hi - lo < wide[name][1] - wide[name][0]


def test_scores_of_the_wrong_shape_or_labels_are_refused() -> None:
    y, p = sample(30)
    with pytest.raises(ValueError, match="one probability per class"):
        point_metrics("multiclass", y, p[:, 0])
    with pytest.raises(ValueError, match=r"class indices 0..2"):
        point_metrics("multiclass", np.where(y == 0, 5, y), p)
    with pytest.raises(ValueError, match="single class"):
        point_metrics("multiclass", np.zeros(30), p)


def test_per_class_records_and_slices() -> None:
    y = np.array([0, 0, 1, 1, 2, 2], dtype=float)
    p = np.array(
        [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.1, 0.6, 0.3], [0.1, 0.1, 0.8], [0.5, 0.2, 0.3]]
    )
    rows = {r["class"]: r for r in mc.per_class(y, p, CLASSES)}
    # predicted: a, b, b, b, c, a
    assert rows["a"] == {
        "class": "a",
        "support": 2,
        "predicted": 2,
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "roc_auc": pytest.approx(roc_auc_score(y == 0, p[:, 0])),
    }
    assert rows["b"]["precision"] == pytest.approx(2 / 3) and rows["b"]["recall"] == 1.0
    assert rows["c"]["predicted"] == 1 and rows["c"]["recall"] == 0.5
    frame = pd.DataFrame({"shop": ["x"] * 3 + ["y"] * 3})
    table = slice_metrics("multiclass", frame, y, p, ["shop"], "accuracy", min_rows=2)
    assert table.set_index("value")["accuracy"].to_dict() == pytest.approx({"x": 2 / 3, "y": 2 / 3})


# -- the gate


def test_gate_on_multiclass_metrics_compares_champion_and_challenger() -> None:
    gate = GateSpec(metric="roc_auc_macro", min_value=0.6, min_improvement=0.01)
    assert decide(gate, {"roc_auc_macro": 0.7}, {"roc_auc_macro": 0.68}).passed
    rejected = decide(gate, {"roc_auc_macro": 0.7}, {"roc_auc_macro": 0.695})
    assert not rejected.passed and "does not beat champion roc_auc_macro 0.6950" in rejected.reasons[-1]
    assert not decide(gate, {"roc_auc_macro": 0.55}, None).passed
    loss = GateSpec(metric="log_loss", max_value=1.0)
    assert decide(loss, {"log_loss": 0.8}, {"log_loss": 0.9}).passed  # lower is better
    assert not decide(loss, {"log_loss": 0.95}, {"log_loss": 0.9}).passed
    f1 = GateSpec(metric="f1_macro", min_value=0.3)
    assert decide(f1, {"f1_macro": 0.5}, {"f1_macro": 0.4}).passed


# -- plots: the numbers they draw


def test_confusion_series_counts_and_row_shares() -> None:
    y = np.array([0, 0, 0, 1, 1, 2], dtype=float)
    p = np.eye(3)[[0, 0, 1, 1, 2, 2]] * 0.8 + 0.2 / 3
    data = confusion_series(y, p, CLASSES)
    assert data["counts"].tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert data["shares"][0] == pytest.approx([2 / 3, 1 / 3, 0])
    assert data["classes"] == CLASSES
    absent = confusion_series(np.array([0, 1], dtype=float), np.eye(3)[[0, 1]], CLASSES)
    assert absent["shares"][2].tolist() == [0.0, 0.0, 0.0]  # a class with no rows: a row of zeros


def test_per_class_and_one_vs_rest_series() -> None:
    y, p = sample(300)
    records = {
        "challenger": mc.per_class(y, p, CLASSES),
        "champion": mc.per_class(y, p[:, [1, 0, 2]], CLASSES),
    }
    data = per_class_series(records)
    assert data["classes"] == CLASSES
    assert data["bars"]["challenger"]["f1"] == pytest.approx([r["f1"] for r in records["challenger"]])
    assert data["labels"][0] == f"a (n={int((y == 0).sum())})"
    curves = roc_ovr_series(y, p, CLASSES)
    assert {k: v["auc"] for k, v in curves.items()} == pytest.approx(
        {c: roc_auc_score(y == i, p[:, i]) for i, c in enumerate(CLASSES)}
    )
    assert "c" not in roc_ovr_series(np.array([0, 1, 0], dtype=float), p[:3], CLASSES)  # no c: no curve


def test_evaluation_plots_for_multiclass_are_pngs() -> None:
    y, p = sample(200)
    records = {"challenger": mc.per_class(y, p, CLASSES)}
    images = evaluation_plots("multiclass", y, {"challenger": p}, 0.5, {}, "roc_auc_macro", CLASSES, records)
    assert set(images) == {"confusion_matrix.png", "per_class.png", "roc_one_vs_rest.png", "slices.png"}
    assert all(data.startswith(b"\x89PNG") for data in images.values())


# -- scores, predictions, live performance


class _ThreeClassModel:
    classes_ = np.array([0.0, 2.0])  # a training window without class 1

    def predict_proba(self, frame: Any) -> np.ndarray:
        return np.tile([0.25, 0.75], (len(frame), 1))


def test_predict_scores_puts_each_column_at_its_class() -> None:
    out = predict_scores(_ThreeClassModel(), pd.DataFrame({"x": [1, 2]}), "multiclass", 3)
    assert out.tolist() == [[0.25, 0.0, 0.75], [0.25, 0.0, 0.75]]
    assert top_score(out).tolist() == [0.75, 0.75]


def test_predictions_frame_and_live_performance() -> None:
    y, p = sample(400)
    features = pd.DataFrame({PARTITION_COLUMN: ["2024-01-01"] * 200 + ["2024-01-02"] * 200})
    frame = predictions_frame("pipe", features, p, "3", CLASSES)
    assert frame["predicted_class"].tolist()[:3] == [CLASSES[i] for i in p[:3].argmax(axis=1)]
    assert frame["score"].to_numpy() == pytest.approx(p.max(axis=1))
    assert scores_of(frame, CLASSES) == pytest.approx(p)
    day = day_performance("multiclass", "2024-01-01", p[:200], y[:200], 0.5, 50, 100, 0.5)
    assert day.known and day.metrics["accuracy"] == pytest.approx(accuracy_score(y[:200], p[:200].argmax(1)))
    assert day.ci["roc_auc_macro"][0] < day.metrics["roc_auc_macro"] < day.ci["roc_auc_macro"][1]
    days = features[PARTITION_COLUMN].to_numpy()
    ref = daily_reference("multiclass", days, y, p, "f1_macro", True, 50)
    daily = [f1_score(y[days == d], p[days == d].argmax(1), average="macro") for d in np.unique(days)]
    assert ref["holdout_daily_f1_macro_median"] == pytest.approx(np.median(daily))


# -- the spec


def multiclass(**changes: Any) -> dict[str, Any]:
    return base_spec(
        **{
            "target.positive_class": None,
            "target.classes": ["yes", "no", "maybe"],
            "main_table.columns.outcome": {"dtype": "str", "isin": ["yes", "no", "maybe"]},
            "gate": {"metric": "roc_auc_macro", "min_value": 0.5},
            **changes,
        }
    )


def test_a_multiclass_spec_validates_with_multiclass_metric_names(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, multiclass()))
    assert spec.metric_task == "multiclass" and spec.class_names == ["yes", "no", "maybe"]
    binary = load_spec(write(tmp_path, base_spec(), "binary.yaml"))
    assert binary.metric_task == "classification" and binary.class_names is None


def test_binary_metric_names_on_a_multiclass_spec_and_back_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, multiclass(gate={"metric": "roc_auc", "min_value": 0.5}))
    with pytest.raises(
        SpecError,
        match=r"gate.metric 'roc_auc' does not fit task 'classification' "
        r"\(multiclass, 3 target.classes\): use one of roc_auc_macro, log_loss, accuracy, f1_macro",
    ):
        load_spec(path)
    text = spec_error(tmp_path, gate={"metric": "accuracy", "min_value": 0.5})
    assert "gate.metric 'accuracy' does not fit task 'classification' (binary): use one of roc_auc" in text
    text = spec_error(tmp_path, **{"target.positive_class": None, "target.classes": ["yes", "no", "x"]})
    assert "target.classes: ['x'] not among target.column 'outcome' (str)'s isin values" in text
    path = write(tmp_path, multiclass(gate={"metric": "f1_macro", "max_value": 0.5}))
    with pytest.raises(SpecError, match="gate.metric 'f1_macro' is higher-is-better: use min_value"):
        load_spec(path)


def test_isin_values_missing_from_the_classes_are_named_at_spec_time(tmp_path: Path) -> None:
    path = write(tmp_path, multiclass(**{"target.classes": ["yes", "no"]}))
    with pytest.raises(
        SpecError, match=r"main_table.columns.outcome.isin: \['maybe'\] not in target.classes"
    ):
        load_spec(path)


def test_int_classes_on_an_int_column(tmp_path: Path) -> None:
    changes = {
        "main_table.columns.outcome": {"dtype": "int", "nullable": True},
        "target.classes": [3, 1, 2],
    }
    spec = load_spec(write(tmp_path, multiclass(**changes)))
    main = pd.DataFrame(
        {"shop": ["a"] * 4, "flag": [0] * 4, "amount": [1.0] * 4, "outcome": [1.0, 2.0, 3.0, None]}
    ).assign(**{PARTITION_COLUMN: "2024-01-01"})  # a nullable int column reads as floats
    label = build_features(spec, main, {})["bought"]
    assert label.iloc[:3].tolist() == [1.0, 2.0, 0.0] and pd.isna(label.iloc[3])
    path = write(tmp_path, multiclass(**{**changes, "target.classes": ["1", "2", "3"]}), "text.yaml")
    with pytest.raises(
        SpecError,
        match=r"target.classes: \['1', '2', '3'\] not of the dtype of target.column 'outcome' \(int\)",
    ):
        load_spec(path)


def test_a_label_outside_the_classes_names_the_column_and_the_field(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, multiclass(**{"main_table.columns.outcome": {"dtype": "str"}})))
    main = pd.DataFrame(
        {"shop": ["a"] * 3, "flag": [0] * 3, "amount": [1.0] * 3, "outcome": ["no", "perhaps", "maybe"]}
    ).assign(**{PARTITION_COLUMN: "2024-01-01"})
    with pytest.raises(ValueError) as err:
        build_features(spec, main, {})
    assert str(err.value).startswith(
        "target.column 'outcome' has value(s) ['perhaps'] not in target.classes ['yes', 'no', 'maybe'] (1 rows)"
    )
    assert "main_table.columns.outcome.isin" in str(err.value)
    # with isin, cleaning quarantines the row, naming the column, and the rest is labelled
    spec = load_spec(write(tmp_path, multiclass(), "isin.yaml"))
    raw = main.drop(columns=[PARTITION_COLUMN]).assign(day="2024-01-01", **{PARTITION_COLUMN: "2024-01-01"})
    result = clean_table(raw, spec.main_table, time=spec.partitioning.time_spec)
    assert result.quarantine[REASONS_COLUMN].tolist() == [
        "outcome: fails isin(['yes', 'no', 'maybe']): 'perhaps'"
    ]
    assert build_features(spec, result.cleaned, {})["bought"].tolist() == [1.0, 2.0]
