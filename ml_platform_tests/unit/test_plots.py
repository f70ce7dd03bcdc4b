"""Evaluation plots: pure functions rendering PNG bytes with matplotlib's Agg canvas (no Dagster,
no MLflow). Checks the data each plot draws (a constant baseline is flat at the prevalence on the
precision-recall chart, slice bars carry intervals, ...) and that the bytes are real PNGs of a sensible
size, for classification with and without a champion and for regression."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from ml_platform.ml.metrics import slice_metrics
from ml_platform.ml.plot_data import calibration_series, pr_series, roc_series, slice_series
from ml_platform.ml.plots import confusion_matrix_png, evaluation_plots, slices_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC, "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def classification_holdout(n: int = 600, seed: int = 0):  # type: ignore[no-untyped-def]
    import pandas as pd

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(float)
    challenger = np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0, 1)
    champion = np.clip(0.2 * y + rng.uniform(0, 0.8, n), 0, 1)
    frame = pd.DataFrame({"carrier": rng.choice(["AA", "B6", "UA"], n), "month": rng.choice([1, 2], n)})
    return y, {"challenger": challenger, "champion": champion, "baseline": np.full(n, y.mean())}, frame


@pytest.mark.parametrize("with_champion", [True, False])
def test_classification_plots_are_pngs(with_champion: bool) -> None:
    y, scores, frame = classification_holdout()
    if not with_champion:
        scores.pop("champion")
    slices = {
        name: slice_metrics("classification", frame, y, s, ["carrier", "month"], "roc_auc").to_dict("records")
        for name, s in scores.items()
        if name != "baseline"
    }
    plots = evaluation_plots("classification", y, scores, 0.5, slices, "roc_auc")
    assert set(plots) == {
        "roc.png",
        "precision_recall.png",
        "calibration.png",
        "confusion_matrix.png",
        "slices.png",
    }
    for name, data in plots.items():
        width, height = png_size(data)
        assert 200 <= width <= 800 and 200 <= height <= 1200, (name, width, height)
        assert 5_000 < len(data) < 150_000, (name, len(data))


def test_better_model_draws_a_different_roc_than_the_baseline() -> None:
    y, scores, _ = classification_holdout()
    only_baseline = evaluation_plots(
        "classification", y, {"challenger": scores["baseline"]}, 0.5, {}, "roc_auc"
    )
    real = evaluation_plots("classification", y, {"challenger": scores["challenger"]}, 0.5, {}, "roc_auc")
    assert only_baseline["roc.png"] != real["roc.png"]
    assert only_baseline["confusion_matrix.png"] != real["confusion_matrix.png"]


def test_regression_plots_have_no_roc() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(50, 10, 300)
    scores = {"challenger": y + rng.normal(0, 2, 300), "baseline": np.full(300, y.mean())}
    slices = {"challenger": [{"slice": "store", "value": "s1", "n": 40, "rmse": 2.0}]}
    plots = evaluation_plots("regression", y, scores, 0.5, slices, "rmse")
    assert set(plots) == {"predicted_vs_actual.png", "residuals.png", "slices.png"}
    for data in plots.values():
        png_size(data)


def test_slices_grow_with_the_number_of_values_and_handle_none() -> None:
    rows = [{"slice": "carrier", "value": f"C{i}", "n": 100, "roc_auc": 0.7} for i in range(16)]
    few = png_size(slices_png({"challenger": rows[:2]}, "roc_auc"))
    many = png_size(slices_png({"challenger": rows}, "roc_auc"))
    assert many[1] > few[1]
    png_size(slices_png({}, "roc_auc"))


def test_confusion_matrix_depends_on_threshold() -> None:
    y, scores, _ = classification_holdout()
    assert confusion_matrix_png(y, scores["challenger"], 0.3) != confusion_matrix_png(
        y, scores["challenger"], 0.7
    )


# -- the data the plots draw ------------------------------------------------------------------------


def test_constant_baseline_pr_curve_is_flat_at_the_prevalence() -> None:
    y, scores, _ = classification_holdout()
    prevalence = y.mean()
    base = pr_series(y, scores["baseline"])
    assert np.allclose(base["y"], prevalence) and base["x"].min() == 0 and base["x"].max() == 1
    assert base["ap"] == pytest.approx(prevalence)


def test_pr_curve_area_is_the_average_precision_in_the_legend() -> None:
    y, scores, _ = classification_holdout()
    for name in ("challenger", "champion", "baseline"):
        curve = pr_series(y, scores[name])
        assert np.all(np.diff(curve["x"]) >= 0), name  # recall only grows along the line
        area = float(np.sum(np.diff(curve["x"]) * curve["y"][1:]))
        assert area == pytest.approx(curve["ap"]), name
    # a model that ranks better lies above the constant on most of the recall range
    good, flat = pr_series(y, scores["challenger"]), pr_series(y, scores["baseline"])
    assert good["ap"] > flat["ap"] and np.median(good["y"]) > flat["y"][0]


def test_roc_of_a_constant_is_the_diagonal() -> None:
    y, scores, _ = classification_holdout()
    base = roc_series(y, scores["baseline"])
    assert base["auc"] == 0.5 and list(base["x"]) == list(base["y"]) == [0.0, 1.0]


def test_calibration_draws_the_constant_as_a_horizontal_line_at_the_observed_rate() -> None:
    y, scores, _ = classification_holdout()
    base = calibration_series(y, np.full(len(y), 0.3))
    assert list(base["x"]) == [0.0, 1.0] and np.allclose(base["y"], y.mean())
    assert base["point"] == (pytest.approx(0.3), pytest.approx(y.mean()))
    model = calibration_series(y, scores["challenger"], bins=10)
    assert model["point"] is None and len(model["x"]) == 10 and np.all(np.diff(model["x"]) > 0)


def test_slice_bars_have_intervals_and_an_axis_from_the_no_skill_value() -> None:
    y, scores, frame = classification_holdout(n=1200)
    slices = {
        name: slice_metrics(
            "classification", frame, y, scores[name], ["carrier", "month"], "roc_auc", samples=100
        ).to_dict("records")
        for name in ("challenger", "champion")
    }
    panels = slice_series(slices, "roc_auc")
    assert list(panels) == ["carrier", "month"]
    carrier = panels["carrier"]
    assert carrier["labels"][0].startswith("AA (n=")
    for bar in carrier["bars"].values():
        assert np.all(bar["low"] < bar["value"]) and np.all(bar["value"] < bar["high"])
    assert carrier["reference"] == 0.5 and carrier["xlim"] == (0.5, 1.0)
    # an error metric starts at 0 and is not zoomed to the bars
    rmse = slice_series({"challenger": [{"slice": "s", "value": "a", "n": 40, "rmse": 9.0}]}, "rmse")
    assert rmse["s"]["xlim"][0] == 0.0 and rmse["s"]["reference"] is None
