"""Drift and live-performance arithmetic (pure: numpy, pandas, scipy, matplotlib's Agg canvas; no
Dagster, no MLflow): PSI, KS and chi-squared against hand-computed values, the reference profile's
bins and natural PSI, the drift rule, the plot's data, prediction ids and the decay decision."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml_platform.ml.drift import (
    build_profile,
    categorical_shares,
    chi2_test,
    feature_drift,
    frame_drift,
    ks_test,
    numeric_shares,
    per_day_sample,
    psi,
)
from ml_platform.ml.drift_plot import drift_plot_data, drift_png
from ml_platform.ml.monitoring import day_performance, decay_decision, score_summary, with_ids


def test_psi_matches_the_formula_by_hand() -> None:
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5)
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    # an empty bin is floored at 1e-4, not infinite
    assert psi([1.0, 0.0], [0.5, 0.5]) == pytest.approx(
        (0.5 - 0.9999) * math.log(0.5 / 0.9999) + (0.5 - 1e-4) * math.log(0.5 / 1e-4), rel=1e-3
    )


def test_ks_and_chi2_match_hand_computed_values() -> None:
    # ECDFs of [1,2,3,4] and [3,4,5,6] differ by at most 0.5 (at x = 2 and 3)
    statistic, p = ks_test(np.array([1.0, 2, 3, 4]), [3.0, 4, 5, 6])
    assert statistic == pytest.approx(0.5) and 0 < p <= 1
    statistic, p = ks_test(np.array([1.0, 2, np.nan]), [10.0, 11])  # NaN ignored, disjoint samples
    assert statistic == 1.0
    # observed 30/70 against 50/50 of 100: (20² / 50) * 2 = 16, df 1
    chi2, p = chi2_test([0.5, 0.5], [30, 70])
    assert chi2 == pytest.approx(16.0) and p == pytest.approx(6.334e-5, rel=1e-3)
    # cells expected fewer than 5 times are pooled: 2 cells of expected 2 + 2 → one of 4… with 96
    chi2, _ = chi2_test([0.96, 0.02, 0.02], [96, 4, 0])
    assert chi2 == pytest.approx(0.0)


def test_bins_put_out_of_range_values_in_an_empty_reference_bin() -> None:
    # edges (-inf, 5], (5, 10], (10, inf) + missing: a unit change 10 → 16.09 leaves (5, 10]
    shares = numeric_shares(np.array([1.0, 10.0, 16.09, np.nan]), [5.0, 10.0])
    assert shares.tolist() == [0.25, 0.25, 0.25, 0.25]
    assert categorical_shares(pd.Series(["AA", "UA", None, "ZZ"]), ["AA", "UA"]).tolist() == [0.25, 0.25, 0.5]


def _window(days: int = 30, rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * rows
    return pd.DataFrame(
        {
            "x": rng.normal(0, 1, n),
            "visib": np.where(rng.uniform(size=n) < 0.8, 10.0, rng.uniform(0, 10, n)),
            "carrier": rng.choice(["AA", "B6", "UA"], n, p=[0.5, 0.3, 0.2]),
            "_partition": np.repeat([f"2013-01-{d + 1:02d}" for d in range(days)], rows),
        }
    )


def test_profile_and_drift_rule_flag_a_unit_change_not_a_normal_day() -> None:
    window = _window()
    profile = build_profile(window, ["x", "visib"], ["carrier"], window["_partition"].to_numpy())
    assert profile["window"] == "2013-01-01..2013-01-30" and profile["rows"] == 6000
    x = profile["features"]["x"]
    assert len(x["edges"]) == 9 and sum(x["shares"]) == pytest.approx(1.0)
    assert 0 < x["natural_psi"] < 0.2  # 200 rows a day of the same distribution
    day = _window(days=1, seed=1)
    stable = {d.feature: d for d in frame_drift(profile, day, 0.2, 1.5, 0.01)}
    assert not any(d.drifted for d in stable.values())
    assert stable["x"].psi == pytest.approx(psi(x["shares"], numeric_shares(day["x"].to_numpy(), x["edges"])))
    faulty = day.assign(visib=day["visib"] * 1.609, carrier="AA")
    drifts = {d.feature: d for d in frame_drift(profile, faulty, 0.2, 1.5, 0.01)}
    assert drifts["visib"].drifted and drifts["visib"].psi > 2 and drifts["visib"].test == "KS"
    assert drifts["carrier"].drifted and drifts["carrier"].test == "chi2"
    assert not drifts["x"].drifted
    # a big PSI that the window's own days also showed is no alarm
    reference = dict(profile["features"]["visib"], natural_psi=10.0)
    assert not feature_drift(reference, faulty["visib"], "visib", 0.2, 1.5, 0.01).drifted


def test_drift_plot_shows_the_scores_it_was_given() -> None:
    window = _window()
    profile = build_profile(window, ["x", "visib"], ["carrier"], window["_partition"].to_numpy())
    day = _window(days=1, seed=1).assign(visib=lambda f: f["visib"] * 1.609)
    drifts = frame_drift(profile, day, 0.2, 1.5, 0.01)
    data = drift_plot_data(drifts, 0.2)
    assert data["features"][0] == "visib" and data["drifted"][0] is True
    assert data["psi"] == [round(d.psi, 6) for d in drifts]
    png = drift_png(data, "test")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000


def test_prediction_ids_and_score_summary() -> None:
    frame = pd.DataFrame({"_partition": ["2013-01-02", "2013-01-02", "2013-01-03"]})
    ids = with_ids("p", frame)
    assert ids["prediction_id"].tolist() == [
        "p:2013-01-02:000000",
        "p:2013-01-02:000001",
        "p:2013-01-03:000000",
    ]
    summary = score_summary(np.array([0.1, 0.4, 0.6, 0.9]), "classification", 0.5)
    assert summary["positive_share"] == 0.5 and summary["score_mean"] == pytest.approx(0.5)


def test_day_performance_waits_for_labels_and_decay_needs_the_whole_interval() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400).astype(float)
    s = np.clip(0.3 * y + rng.uniform(0, 0.7, 400), 0, 1)
    unknown = y.copy()
    unknown[:300] = np.nan
    assert not day_performance("classification", "d", s, unknown, 0.5, 100, 50, 0.5).known
    perf = day_performance("classification", "d", s, y, 0.5, 100, 50, 0.5)
    assert perf.known and perf.labelled == 400
    lo, hi = perf.ci["roc_auc"]
    assert lo < perf.metrics["roc_auc"] < hi
    assert not decay_decision("roc_auc", True, 0.7, (0.66, 0.74), 0.75, 0.02).decayed
    decayed = decay_decision("roc_auc", True, 0.6, (0.55, 0.65), 0.75, 0.02)
    assert decayed.decayed and "upper bound 0.6500 < 0.7300" in decayed.reason
    assert decay_decision("rmse", False, 9.0, (8.0, 10.0), 5.0, 1.0).decayed


def test_score_reference_from_a_per_day_sample() -> None:
    """At most N seeded rows of each day (all of a smaller day), the same rows every time; the score
    profile built from them has the whole window's bins within sampling noise and its own rows."""
    days = np.repeat([f"2013-01-{d:02d}" for d in range(1, 31)], [900] * 29 + [40])
    picked = per_day_sample(days, 300, seed=3)
    assert np.array_equal(picked, per_day_sample(days, 300, seed=3)) and np.all(np.diff(picked) > 0)
    counts = pd.Series(days[picked]).value_counts()
    assert counts.max() == 300 and counts["2013-01-30"] == 40 and len(counts) == 30
    assert not np.array_equal(picked, per_day_sample(days, 300, seed=4))
    assert np.array_equal(per_day_sample(days, None), np.arange(len(days)))
    window = pd.DataFrame({"x": np.random.default_rng(0).normal(size=len(days))})
    scores = np.random.default_rng(1).beta(2, 5, len(days))
    whole = build_profile(window, ["x"], [], days, scores=scores)
    sampled = build_profile(window, ["x"], [], days, scores=scores[picked], score_rows=picked)
    assert sampled["features"] == whole["features"] and sampled["score_rows"] == 29 * 300 + 40
    assert np.allclose(sampled["score"]["edges"], whole["score"]["edges"], atol=0.02)
    # the window's largest daily PSI is its 40-row day's, which the sample keeps whole
    assert sampled["score"]["natural_psi"] == pytest.approx(whole["score"]["natural_psi"])
    big = days != "2013-01-30"
    rows = per_day_sample(days[big], 300, seed=3)
    alone = build_profile(window[big], ["x"], [], days[big], scores=scores[big][rows], score_rows=rows)
    assert alone["score"]["natural_psi"] < 0.1  # 300 rows a day: noise far below psi_threshold 0.2
    with pytest.raises(ValueError, match="300 scores for 8740 rows"):
        build_profile(window, ["x"], [], days, scores=scores[:300], score_rows=picked)
