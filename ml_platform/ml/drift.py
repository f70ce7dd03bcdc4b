"""Drift of a day's data against a reference profile of the training window: PSI per feature, with
KS (numeric) or chi-squared (categorical) from scipy. Pure functions, no Dagster, no MLflow.

A profile holds, per numeric feature, quantile bin edges with the window's share per bin (plus a
missing bin), a quantile sketch for KS, and ``natural_psi``: the largest PSI of a single day of the
window against the whole window (one day of weather is narrow next to months of it, so a daily PSI
is only news when it exceeds what the window's own days showed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

PROFILE_VERSION = 1
PROFILE_ARTIFACT = "reference_profile.json"  # on the model version's MLflow run
EPS = 1e-4
SKETCH = 1000
MISSING = "__missing__"
OTHER = "__other__"
SCORE = "score"
Floats = Sequence[float] | np.ndarray


def psi(expected: Floats, actual: Floats, eps: float = EPS) -> float:
    """Population stability index ``sum((a - e) * ln(a / e))`` over bins, shares floored at ``eps``."""
    e = np.clip(np.asarray(expected, dtype=float), eps, None)
    a = np.clip(np.asarray(actual, dtype=float), eps, None)
    e, a = e / e.sum(), a / a.sum()
    return float(((a - e) * np.log(a / e)).sum())


def _numeric_bins(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index per value: ``(-inf, e0], (e0, e1], …, (e_last, inf)``, and the last bin + 1 for NaN."""
    idx = np.searchsorted(edges, values, side="left")
    return np.where(np.isnan(values), len(edges) + 1, idx)


def numeric_shares(values: np.ndarray, edges: Floats) -> np.ndarray:
    e = np.asarray(edges, dtype=float)
    counts = np.bincount(_numeric_bins(np.asarray(values, dtype=float), e), minlength=len(e) + 2)
    return counts / max(len(values), 1)


def _categories(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), MISSING).astype(str)


def categorical_shares(values: pd.Series, categories: Sequence[str]) -> np.ndarray:
    """Share per known category, then one share for everything else (``__other__``)."""
    cats = _categories(values)
    known = list(categories)
    counts = cats.value_counts()
    shares = [float(counts.get(c, 0)) for c in known]
    shares.append(float(len(cats) - sum(shares)))
    return np.asarray(shares) / max(len(cats), 1)


def _day_shares(codes: np.ndarray, days: tuple[np.ndarray, np.ndarray], width: int) -> np.ndarray:
    """Share of each code per day (one row per day, in ``days``' order), from one pass over the rows:
    the same numbers as the shares of each day's rows on their own."""
    inverse, sizes = days
    counts = np.bincount(inverse * width + codes, minlength=len(sizes) * width).reshape(len(sizes), width)
    return counts / np.maximum(sizes, 1)[:, None]


def _numeric_profile(values: np.ndarray, days: tuple[np.ndarray, np.ndarray], bins: int) -> dict[str, Any]:
    present = values[~np.isnan(values)]
    if len(present) == 0:
        edges = np.array([], dtype=float)
        sketch: list[float] = []
    else:
        edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1]))
        levels = (np.arange(SKETCH) + 0.5) / SKETCH
        sketch = [float(f"{v:.6g}") for v in np.quantile(present, levels)]
    shares = numeric_shares(values, edges)
    daily = _day_shares(_numeric_bins(values, edges), days, len(edges) + 2)
    natural = [psi(shares, row) for row in daily]
    return {
        "kind": "numeric",
        "edges": edges.tolist(),
        "shares": shares.tolist(),
        "sketch": sketch,
        "natural_psi": float(max(natural, default=0.0)),
        "mean": float(present.mean()) if len(present) else None,
        "missing_share": float(np.isnan(values).mean()) if len(values) else 0.0,
    }


def _categorical_profile(
    values: pd.Series, days: tuple[np.ndarray, np.ndarray], max_categories: int
) -> dict[str, Any]:
    cats = _categories(values)
    top = [str(c) for c in cats.value_counts().index[:max_categories]]
    shares = categorical_shares(values, top)
    codes = pd.Categorical(cats, categories=top).codes.astype(np.int64)
    codes[codes < 0] = len(top)  # everything else: the last share, as in categorical_shares
    natural = [psi(shares, row) for row in _day_shares(codes, days, len(top) + 1)]
    return {
        "kind": "categorical",
        "categories": top,
        "shares": shares.tolist(),
        "natural_psi": float(max(natural, default=0.0)),
    }


def per_day_sample(days: Sequence[str] | np.ndarray, per_day: int | None, seed: int = 0) -> np.ndarray:
    """Row positions, in order, of at most ``per_day`` rows of each day chosen at random (seeded:
    the same rows every time); every row when ``per_day`` is None."""
    day = np.asarray(days).astype(str)
    if per_day is None:
        return np.arange(len(day))
    _, inverse = np.unique(day, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.lexsort((np.random.default_rng(seed).random(len(day)), inverse))  # by day, shuffled
    ranks = np.empty(len(day), dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(inverse[order])) + 1]
    sizes = np.diff(np.r_[starts, len(day)])
    ranks[order] = np.arange(len(day)) - np.repeat(starts, sizes)
    return np.flatnonzero(ranks < per_day)


def build_profile(
    frame: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    days: Sequence[str],
    scores: np.ndarray | None = None,
    bins: int = 10,
    max_categories: int = 30,
    score_rows: np.ndarray | None = None,
) -> dict[str, Any]:
    """The reference profile of a training window (``days`` gives each row's partition); ``scores``
    belong to the rows at ``score_rows`` (default: every row)."""
    day = np.asarray(days).astype(str)
    if len(day) != len(frame):
        raise ValueError(f"{len(day)} day labels for {len(frame)} rows")
    labels, inverse = np.unique(day, return_inverse=True)  # each row's day, found once for all columns
    groups = (inverse.reshape(-1), np.bincount(inverse.reshape(-1), minlength=len(labels)))
    features: dict[str, Any] = {}
    for column in numeric:
        features[column] = _numeric_profile(frame[column].to_numpy(dtype=float), groups, bins)
    for column in categorical:
        features[column] = _categorical_profile(frame[column].reset_index(drop=True), groups, max_categories)
    profile: dict[str, Any] = {
        "version": PROFILE_VERSION,
        "rows": len(frame),
        "window": f"{min(day)}..{max(day)}" if len(day) else "",
        "features": features,
    }
    if scores is not None:
        rows = groups[0] if score_rows is None else groups[0][score_rows]
        if len(rows) != len(scores):
            raise ValueError(f"{len(scores)} scores for {len(rows)} rows")
        by_day = (rows, np.bincount(rows, minlength=len(labels)))
        profile[SCORE] = _numeric_profile(np.asarray(scores, dtype=float), by_day, bins)
        profile["score_rows"] = len(rows)
    return profile


def ks_test(values: np.ndarray, sketch: Floats) -> tuple[float, float]:
    """Two-sample KS statistic and p-value of the day's values against the reference sketch (a
    deterministic sample of the window's quantiles: conservative, as if the reference had 1000 rows)."""
    from scipy import stats

    present = values[~np.isnan(values)]
    if len(present) == 0 or len(sketch) == 0:
        return 0.0, 1.0
    result = stats.ks_2samp(present, np.asarray(sketch, dtype=float), method="asymp")
    return float(result.statistic), float(result.pvalue)


def chi2_test(expected_shares: Floats, observed_counts: Floats) -> tuple[float, float]:
    """Chi-squared goodness of fit of the day's counts to the reference shares; categories expected
    fewer than 5 times are pooled into one cell (the test's usual validity rule)."""
    from scipy import stats

    observed = np.asarray(observed_counts, dtype=float)
    n = observed.sum()
    expected = np.clip(np.asarray(expected_shares, dtype=float), EPS, None)
    expected = expected / expected.sum() * n
    small = expected < 5
    if small.any():
        observed = np.append(observed[~small], observed[small].sum())
        expected = np.append(expected[~small], expected[small].sum())
    if len(observed) < 2 or n == 0:
        return 0.0, 1.0
    result = stats.chisquare(observed, expected)
    return float(result.statistic), float(result.pvalue)


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: str
    psi: float
    test: str
    statistic: float
    p_value: float
    natural_psi: float
    rows: int
    drifted: bool

    def summary(self) -> str:
        return (
            f"{self.feature} PSI {self.psi:.2f} (natural {self.natural_psi:.2f}, "
            f"{self.test} {self.statistic:.3g}, p={self.p_value:.2g})"
        )


def feature_drift(
    reference: Mapping[str, Any],
    values: pd.Series | np.ndarray,
    name: str,
    psi_threshold: float,
    natural_margin: float,
    p_value: float,
    min_rows: int = 1,
) -> FeatureDrift:
    """One feature (or the scores) of one day against its reference entry."""
    rows = len(values)
    if reference["kind"] == "numeric":
        arr = np.asarray(values, dtype=float)
        score = psi(reference["shares"], numeric_shares(arr, reference["edges"]))
        test, (statistic, p) = "KS", ks_test(arr, reference["sketch"])
    else:
        series = pd.Series(values).reset_index(drop=True)
        shares = categorical_shares(series, reference["categories"])
        score = psi(reference["shares"], shares)
        test, (statistic, p) = "chi2", chi2_test(reference["shares"], shares * rows)
    natural = float(reference.get("natural_psi", 0.0))
    drifted = rows >= min_rows and score >= psi_threshold and score > natural * natural_margin and p < p_value
    return FeatureDrift(name, reference["kind"], score, test, statistic, p, natural, rows, bool(drifted))


def frame_drift(
    profile: Mapping[str, Any],
    frame: pd.DataFrame,
    psi_threshold: float,
    natural_margin: float,
    p_value: float,
    min_rows: int = 1,
) -> list[FeatureDrift]:
    """Every profiled feature present in ``frame``, highest PSI first."""
    out = [
        feature_drift(ref, frame[name], name, psi_threshold, natural_margin, p_value, min_rows)
        for name, ref in profile["features"].items()
        if name in frame
    ]
    return sorted(out, key=lambda d: d.psi, reverse=True)


def as_records(drifts: Sequence[FeatureDrift]) -> list[dict[str, Any]]:
    return [asdict(d) for d in drifts]
