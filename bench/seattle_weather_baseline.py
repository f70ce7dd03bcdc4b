"""The plain scikit-learn baseline for the seattle_weather example: the file vega_datasets ships,
the spec's time split (train 2012–2014, holdout 2015), the spec's label (weather == "sun") and
features, no platform code. ``python -m bench.seattle_weather_baseline`` prints the holdout AUCs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

FEATURES = ["precipitation", "temp_max", "temp_min", "wind"]


def data_file() -> Path:
    found = importlib.util.find_spec("vega_datasets")
    if found is None or not found.submodule_search_locations:
        raise SystemExit("pip install vega_datasets==0.9.0 (the examples extra)")
    return Path(list(found.submodule_search_locations)[0]) / "_data" / "seattle-weather.csv"


def baselines() -> tuple[dict[str, float], tuple[int, int]]:
    """Holdout AUC per plain model, and the (train, holdout) row counts."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_csv(data_file())
    day = pd.to_datetime(frame["date"], format="%Y/%m/%d")
    train, holdout = frame[day < "2015-01-01"], frame[day >= "2015-01-01"]
    models = {
        "LogisticRegression(C=1, max_iter=1000) on scaled features": make_pipeline(
            StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)
        ),
        "LogisticRegression(C=1, max_iter=1000) on raw features": LogisticRegression(C=1.0, max_iter=1000),
        "HistGradientBoostingClassifier(random_state=0)": HistGradientBoostingClassifier(random_state=0),
    }
    out = {}
    for name, model in models.items():
        model.fit(train[FEATURES], train["weather"] == "sun")
        out[name] = float(
            roc_auc_score(holdout["weather"] == "sun", model.predict_proba(holdout[FEATURES])[:, 1])
        )
    return out, (len(train), len(holdout))


if __name__ == "__main__":
    aucs, (n_train, n_holdout) = baselines()
    print(f"rows: train {n_train}, holdout {n_holdout}")
    for name, value in aucs.items():
        print(f"holdout roc_auc, {name}: {value:.4f}")
