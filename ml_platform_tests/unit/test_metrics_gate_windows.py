"""Metrics, bootstrap CIs, the gate decision and time windows (pure numpy/sklearn)."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ml_platform.ml.gate import decide
from ml_platform.ml.metrics import baseline_scores, bootstrap_ci, point_metrics, slice_metrics
from ml_platform.ml.model_factory import make_pipeline, predict_scores
from ml_platform.ml.windows import split_windows
from ml_platform.specs.models import GateSpec


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 4000).astype(float)
    scores = np.clip(0.5 * y + rng.uniform(0, 0.7, len(y)), 0, 1)
    return y, scores


def test_point_metrics_match_definitions(scored) -> None:
    y, s = scored
    m = point_metrics("classification", y, s, threshold=0.5)
    assert 0.8 < m["roc_auc"] <= 1.0
    assert m["brier"] == pytest.approx(np.mean((s - y) ** 2))
    pred = s >= 0.5
    assert m["precision"] == pytest.approx((pred & (y == 1)).sum() / pred.sum())
    assert m["recall"] == pytest.approx((pred & (y == 1)).sum() / (y == 1).sum())
    assert m["n"] == len(y)


def test_point_metrics_refuse_to_hide_problems(scored) -> None:
    y, s = scored
    with pytest.raises(ValueError, match="non-finite"):
        point_metrics("classification", y, np.where(np.arange(len(s)) == 3, np.nan, s))
    with pytest.raises(ValueError, match="single class"):
        point_metrics("classification", np.ones(10), np.full(10, 0.3))
    with pytest.raises(ValueError, match="empty"):
        point_metrics("regression", np.array([]), np.array([]))


def test_bootstrap_interval_contains_point_estimate_and_narrows_with_n(scored) -> None:
    y, s = scored
    wide = bootstrap_ci("classification", y[:300], s[:300], samples=200)["roc_auc"]
    narrow = bootstrap_ci("classification", y, s, samples=200)["roc_auc"]
    point = point_metrics("classification", y, s)["roc_auc"]
    assert narrow[0] <= point <= narrow[1]
    assert (narrow[1] - narrow[0]) < (wide[1] - wide[0])


def test_bootstrap_resamples_like_draws_with_replacement(scored) -> None:
    """The Brier score is a mean of per-row losses: its percentile interval must match the normal
    one, mean ± 1.96 sd/√n, if each resample is n rows drawn with replacement."""
    y, s = scored
    losses = (s - y) ** 2
    half = 1.96 * losses.std() / np.sqrt(len(y))
    lo, hi = bootstrap_ci("classification", y, s, samples=600, seed=3)["brier"]
    assert lo < losses.mean() < hi
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.12)
    assert (lo + hi) / 2 == pytest.approx(losses.mean(), abs=0.15 * half)


def test_slices_and_baseline(scored) -> None:
    y, s = scored
    frame = pd.DataFrame({"carrier": np.where(np.arange(len(y)) % 2, "AA", "UA")})
    table = slice_metrics("classification", frame, y, s, ["carrier"], "roc_auc")
    assert set(table["value"]) == {"AA", "UA"} and table["n"].sum() == len(y)
    base = baseline_scores("classification", y, 7)
    assert base.shape == (7,) and np.allclose(base, y.mean())
    assert point_metrics("classification", y, baseline_scores("classification", y, len(y)))["roc_auc"] == 0.5


GATE = GateSpec(metric="roc_auc", min_value=0.70, min_improvement=0.01)


@pytest.mark.parametrize(
    ("challenger", "champion", "passed", "fragment"),
    [
        (0.75, None, True, "no champion yet"),
        (0.69, None, False, "below the threshold"),
        (0.75, 0.70, True, "beats champion"),
        (0.75, 0.745, False, "does not beat champion"),
        (0.65, 0.80, False, "below the threshold"),
    ],
)
def test_gate_decision(challenger, champion, passed, fragment) -> None:
    decision = decide(GATE, {"roc_auc": challenger}, None if champion is None else {"roc_auc": champion})
    assert decision.passed is passed
    assert any(fragment in r for r in decision.reasons)


def test_gate_lower_is_better_metric() -> None:
    gate = GateSpec(metric="rmse", max_value=10.0, min_improvement=0.5)
    assert decide(gate, {"rmse": 8.0}, {"rmse": 9.0}).passed
    assert not decide(gate, {"rmse": 8.8}, {"rmse": 9.0}).passed
    assert not decide(gate, {"rmse": 11.0}, None).passed


def test_windows_are_time_ordered_and_disjoint() -> None:
    keys = [(dt.date(2013, 1, 1) + dt.timedelta(days=i)).isoformat() for i in range(60)]
    w = split_windows(list(reversed(keys)), window=30, holdout=10)
    assert w.holdout == keys[-10:] and w.train == keys[20:50]
    assert max(w.train) < min(w.holdout)
    w = split_windows(keys, window=5, holdout=5, as_of=dt.date(2013, 1, 20))
    assert w.holdout == keys[15:20] and w.train == keys[10:15]
    with pytest.raises(ValueError, match="need 50 training"):
        split_windows(keys, window=50, holdout=20)


@pytest.mark.parametrize("kind", ["hist_gradient_boosting", "linear", "random_forest"])
def test_model_factory_handles_unseen_categories_and_missing_values(kind) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"c": rng.choice(["a", "b"], 500), "x": rng.normal(size=500)})
    y = ((frame.c == "a") ^ (frame.x > 0)).astype(int)
    params = {"n_estimators": 20} if kind == "random_forest" else {}
    model = make_pipeline(kind, "classification", ["c"], ["x"], params).fit(frame, y)
    test = pd.DataFrame({"c": ["a", "zzz"], "x": [0.5, np.nan]})
    scores = predict_scores(model, test, "classification")
    assert scores.shape == (2,) and np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()


def test_fast_weighted_bootstrap_metrics_equal_sklearn_on_the_expanded_sample(scored) -> None:
    from ml_platform.ml.metrics import CLASSIFICATION, _weighted_classification

    y, s = scored
    s = np.round(s, 2)  # many ties
    rng = np.random.default_rng(5)
    counts = rng.multinomial(len(y), np.full(len(y), 1 / len(y))).astype(float)
    uniq, group = np.unique(s, return_inverse=True)
    fast = _weighted_classification(y, s, group, len(uniq), counts)
    idx = np.repeat(np.arange(len(y)), counts.astype(int))
    assert fast is not None
    for name, fn in CLASSIFICATION.items():
        assert fast[name] == pytest.approx(fn(y[idx], s[idx]), rel=1e-9, abs=1e-12), name


def test_a_single_class_error_names_the_rows_scored() -> None:
    y, scores = np.zeros(10), np.linspace(0, 1, 10)
    with pytest.raises(ValueError, match="^training window sample holds a single class"):
        point_metrics("classification", y, scores, where="training window sample")
